/* GPT-2's byte-to-unicode alphabet.
 *
 * Byte-level BPE vocabularies store bytes as printable code points: the 188
 * printable Latin-1 bytes map to themselves, the other 68 bytes (controls,
 * space, 0x7F-0xA0, 0xAD) to U+0100.. in byte order. "Ġ" (U+0120) is space. */
#include "tokenizer/tokenizer.h"

static bool gpt2_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t lk_byte_to_unicode(uint8_t b) {
    if (gpt2_printable(b)) return b;
    /* The n-th non-printable byte (in byte order) maps to U+0100 + n. */
    uint32_t n = 0;
    for (unsigned x = 0; x < b; x++)
        if (!gpt2_printable(x)) n++;
    return 0x100 + n;
}

int lk_unicode_to_byte(uint32_t cp) {
    if (cp < 0x100) return gpt2_printable(cp) ? (int)cp : -1;
    if (cp >= 0x100 + 68) return -1;
    uint32_t n = cp - 0x100;
    for (unsigned x = 0; x < 256; x++)
        if (!gpt2_printable(x) && n-- == 0) return (int)x;
    return -1;
}
