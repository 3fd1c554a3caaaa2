/* Fuzz target: encode arbitrary bytes with three small built-in
 * tokenizers (SentencePiece BPE with byte fallback, byte-level BPE with
 * the Llama-3 pre-tokenizer regex and added tokens, WordPiece), then
 * decode. The first input byte picks the tokenizer and the flags.
 * Invariants: no crash; for the two lossless tokenizers decode(encode(x))
 * == x (except around the added token that strips spaces); the streaming
 * decoder only ever emits valid UTF-8. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmkit.h"
#include "tokenizer/tokenizer.h"

static lk_tokenizer *g_tok[3];

static void put_u32(uint8_t **p, uint32_t v) {
    memcpy(*p, &v, 4);
    *p += 4;
}

static lk_tokenizer *make_spm(void) {
    static const char *const pieces[] = {" ", "e", "t", "h", "a", "n", " t", "th", "he", " th", "the",
                                         " the", "an", " a", "你", "好", "你好", "\xe2\x96\x81"};
    static uint8_t buf[16384];
    uint8_t *p = buf;
    put_u32(&p, 16);
    const char *head[] = {"<unk>", "\n<s>\n", "\n</s>\n"};
    float score = 0;
    for (int i = 0; i < 3; i++) {
        memcpy(p, &score, 4), p += 4;
        put_u32(&p, (uint32_t)strlen(head[i]));
        memcpy(p, head[i], strlen(head[i])), p += strlen(head[i]);
    }
    for (int b = 0; b < 256; b++) {
        char s[8];
        snprintf(s, sizeof s, "<0x%02X>", b);
        memcpy(p, &score, 4), p += 4;
        put_u32(&p, 6);
        memcpy(p, s, 6), p += 6;
    }
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        float sc = -(float)i;
        memcpy(p, &sc, 4), p += 4;
        put_u32(&p, (uint32_t)strlen(pieces[i]));
        memcpy(p, pieces[i], strlen(pieces[i])), p += strlen(pieces[i]);
    }
    lk_tokenizer *t;
    lk_error err;
    return lk_tokenizer_from_llama2c(buf, (size_t)(p - buf), "fuzz-spm", &t, &err) == LK_OK ? t : NULL;
}

static void json_char(char **o, uint32_t cp) {
    if (cp == '"' || cp == '\\') *(*o)++ = '\\';
    *o += lk_utf8_encode(cp, *o);
}

static lk_tokenizer *make_bpe(void) {
    static char json[65536];
    char *o = json;
    o += sprintf(o, "{\"added_tokens\":[{\"id\":256,\"content\":\"<|endoftext|>\",\"special\":true},"
                    "{\"id\":257,\"content\":\"<tool>\",\"special\":false,\"lstrip\":true,\"rstrip\":true}],"
                    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\","
                    "\"pattern\":{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|"
                    "\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"
                    "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"use_regex\":false}]},"
                    "\"decoder\":{\"type\":\"ByteLevel\"},"
                    "\"model\":{\"type\":\"BPE\",\"ignore_merges\":true,\"vocab\":{");
    for (int b = 0; b < 256; b++) {
        *o++ = '"';
        json_char(&o, lk_byte_to_unicode((uint8_t)b));
        o += sprintf(o, "\":%d,", b);
    }
    o += sprintf(o, "\"<|endoftext|>\":256,\"<tool>\":257,\"\xc4\xa0t\":258,\"he\":259,\"\xc4\xa0the\":260,"
                    "\"\xe4\xbd\xa0\xe5\xa5\xbd\":261,\"\xc3\xa4\xc2\xbd\":262},\"merges\":[\"\xc4\xa0 t\",\"h e\","
                    "[\"\xc4\xa0t\",\"he\"],\"\xc3\xa4 \xc2\xbd\"]}}");
    lk_tokenizer *t;
    lk_error err;
    if (lk_tokenizer_from_hf_json(json, (size_t)(o - json), NULL, 0, "fuzz-bpe", &t, &err) != LK_OK) {
        fprintf(stderr, "fuzz_tokenize: %s\n", err.msg);
        abort();
    }
    return t;
}

static lk_tokenizer *make_wpm(void) {
    static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n##ing\nplay\n,\n!\n你\n好\na\nb\n##a\n##b\n";
    lk_tokenizer *t;
    lk_error err;
    return lk_tokenizer_from_bert_vocab(vocab, sizeof vocab - 1, true, "fuzz-wpm", &t, &err) == LK_OK ? t : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    g_tok[0] = make_spm();
    g_tok[1] = make_bpe();
    g_tok[2] = make_wpm();
    if (!g_tok[0] || !g_tok[2]) abort();
    return 0;
}

static bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = lk_tok_utf8_next(s + i, n - i, &cp);
        if (cp == 0xFFFD && k == 1) return false;
        i += k;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    int which = data[0] % 3;
    bool add_special = data[0] & 4, parse_special = data[0] & 8;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    lk_tokenizer *tok = g_tok[which];
    int32_t *ids;
    size_t n;
    lk_error err;
    if (data[0] & 16) { /* the rest is a sequence of 16-bit ids: decode them */
        n = len / 2;
        ids = malloc((n + 1) * sizeof *ids);
        for (size_t i = 0; i < n; i++)
            ids[i] = (int32_t)(((uint32_t)(uint8_t)text[2 * i] | (uint32_t)(uint8_t)text[2 * i + 1] << 8) %
                               (uint32_t)lk_tokenizer_n_vocab(tok));
        char *out;
        size_t olen;
        if (lk_tokenizer_decode(tok, ids, n, data[0] & 32, &out, &olen, &err) != LK_OK) abort();
        free(out);
        lk_detokenizer *d = lk_detokenizer_new(tok, data[0] & 32);
        for (size_t i = 0; i < n; i++) {
            const char *s = lk_detokenizer_push(d, ids[i], &olen);
            if (!valid_utf8(s, olen)) abort();
        }
        const char *s = lk_detokenizer_flush(d, &olen);
        if (!valid_utf8(s, olen)) abort();
        lk_detokenizer_free(d);
        free(ids);
        return 0;
    }
    if (lk_tokenizer_encode(tok, text, len, add_special, parse_special, &ids, &n, &err) != LK_OK) abort();
    char *out;
    size_t olen;
    if (lk_tokenizer_decode(tok, ids, n, true, &out, &olen, &err) != LK_OK) abort();
    /* <tool> strips the spaces around it (lstrip/rstrip), as HF does. */
    bool lossless = which != 2 && !parse_special && !memmem(text, len, "<tool>", 6);
    if (lossless && (olen != len || memcmp(out, text, len) != 0)) {
        fprintf(stderr, "round trip failed (tokenizer %d): %zu bytes in, %zu out\n", which, len, olen);
        abort();
    }
    free(out);
    lk_detokenizer *d = lk_detokenizer_new(tok, true);
    for (size_t i = 0; i < n; i++) {
        const char *s = lk_detokenizer_push(d, ids[i], &olen);
        if (!valid_utf8(s, olen)) abort();
    }
    const char *s = lk_detokenizer_flush(d, &olen);
    if (!valid_utf8(s, olen)) abort();
    lk_detokenizer_free(d);
    free(ids);
    return 0;
}
