/* llama2.c tokenizer files (tok512.bin, tokenizer.bin).
 *
 * Layout (little-endian): int32 max_token_length, then for each token:
 * float32 score, int32 byte length, the bytes. The token count is not
 * stored; the file simply ends. Token types are not stored either; they
 * follow Llama-2's SentencePiece vocabulary: 0 <unk>, 1 <s>, 2 </s>, the
 * 256 <0xNN> byte tokens, the rest normal pieces. Encoding is llama.cpp's
 * SPM with BOS and the dummy prefix.
 *
 * llama2.c's exporter wrote U+2581 as a plain space and BOS/EOS as
 * "\n<s>\n" / "\n</s>\n"; spaces stay (the encoder then works on raw
 * spaces), BOS/EOS get their SentencePiece names back. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool is_byte_piece(const char *p, size_t n) {
    return n == 6 && memcmp(p, "<0x", 3) == 0 && p[5] == '>';
}

lk_status lk_tokenizer_from_llama2c(const void *data, size_t size, const char *name,
                                    lk_tokenizer **out, lk_error *err) {
    *out = NULL;
    const uint8_t *p = data;
    if (size < 4) return lk_error_set(err, LK_ERR_FORMAT, "%s: too short for a llama2.c tokenizer", name);
    int32_t max_len = (int32_t)rd32(p);
    if (max_len <= 0 || max_len > 1 << 20)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: max_token_length %d is not plausible (is this a llama2.c tokenizer file?)",
                            name, max_len);
    lk_tokenizer *t = lk_tok_new(LK_TOKMODEL_SPM);
    if (!t) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", name);
    size_t off = 4;
    while (off < size) {
        if (size - off < 8) {
            lk_error_set(err, LK_ERR_FORMAT, "%s: token %d is cut off at byte %zu", name, t->n_vocab,
                         off);
            lk_tokenizer_free(t);
            return LK_ERR_FORMAT;
        }
        float score;
        uint32_t bits = rd32(p + off);
        memcpy(&score, &bits, sizeof score);
        uint32_t len = rd32(p + off + 4);
        off += 8;
        if (len > size - off || len > (uint32_t)max_len) {
            int32_t id = t->n_vocab;
            lk_tokenizer_free(t);
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: token %d claims %u bytes at offset %zu (file has %zu, max %d)",
                                name, id, len, off, size, max_len);
        }
        const char *s = (const char *)p + off;
        int32_t id = t->n_vocab;
        lk_token_type ty = LK_TOKEN_NORMAL;
        if (id == 0) ty = LK_TOKEN_UNKNOWN;
        else if (id == 1 || id == 2) ty = LK_TOKEN_CONTROL;
        else if (is_byte_piece(s, len)) ty = LK_TOKEN_BYTE;
        const char *piece = s;
        size_t plen = len;
        if (ty == LK_TOKEN_CONTROL && plen >= 2 && s[0] == '\n' && s[plen - 1] == '\n') piece++, plen -= 2;
        if (lk_tok_add_piece(t, piece, plen, score, ty) < 0) {
            lk_tokenizer_free(t);
            return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", name);
        }
        off += len;
    }
    if (t->n_vocab < 3) {
        lk_error_set(err, LK_ERR_FORMAT, "%s: only %d tokens", name, t->n_vocab);
        lk_tokenizer_free(t);
        return LK_ERR_FORMAT;
    }
    t->unk = 0;
    t->bos = 1;
    t->eos = 2;
    t->prefix[t->n_prefix++] = 1;
    t->add_space_prefix = true;
    t->spm_raw_spaces = true;
    t->dec = LK_DEC_BYTE_FALLBACK | LK_DEC_STRIP_ONE;
    lk_status st = lk_tok_build_index(t, err);
    lk_tok_check_split(t, " ");
    if (st == LK_OK) st = lk_tok_add_specials_from_types(t, err);
    if (st != LK_OK) {
        lk_tokenizer_free(t);
        return st;
    }
    *out = t;
    return LK_OK;
}
