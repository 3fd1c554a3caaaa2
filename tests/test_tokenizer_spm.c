/* SentencePiece-style BPE from llama2.c tokenizer files: stories260K's
 * tok512.bin and Llama-2's tokenizer.bin. Reference ids come from
 * llama.cpp's test vectors (the Llama-2 vocabulary of ggml-vocab-llama-spm)
 * and the published greedy continuation of stories260K (PROVENANCE.md). */
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "test.h"
#include "tokenizer/tokenizer.h"

static bool valid_utf8(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = u[i] < 0x80 ? 1 : (u[i] >> 5) == 6 ? 2 : (u[i] >> 4) == 14 ? 3 : (u[i] >> 3) == 30 ? 4 : 0;
        if (k == 0 || i + k > n) return false;
        for (size_t j = 1; j < k; j++)
            if ((u[i + j] & 0xC0) != 0x80) return false;
        i += k;
    }
    return true;
}

static void check_roundtrip(lk_tokenizer *tok, const char *text, size_t len) {
    lk_error err;
    int32_t *ids;
    size_t n;
    CHECK_OK(lk_tokenizer_encode(tok, text, len, true, false, &ids, &n, &err), &err);
    char *back;
    size_t bl;
    CHECK_OK(lk_tokenizer_decode(tok, ids, n, true, &back, &bl, &err), &err);
    CHECK_MSG(bl == len && memcmp(back, text, len) == 0, "round trip of \"%.*s\" gave \"%s\"", (int)len, text, back);
    /* The streaming decoder gives the same text in whole characters. */
    lk_detokenizer *d = lk_detokenizer_new(tok, true);
    char acc[4096];
    size_t al = 0;
    bool chunks_valid = true;
    for (size_t i = 0; i < n; i++) {
        size_t cl;
        const char *c = lk_detokenizer_push(d, ids[i], &cl);
        if (!valid_utf8(c, cl)) chunks_valid = false;
        if (al + cl < sizeof acc) memcpy(acc + al, c, cl), al += cl;
    }
    size_t cl;
    const char *c = lk_detokenizer_flush(d, &cl);
    if (al + cl < sizeof acc) memcpy(acc + al, c, cl), al += cl;
    if (valid_utf8(text, len)) {
        CHECK(chunks_valid);
        CHECK_MSG(al == len && memcmp(acc, text, len) == 0, "stream of \"%.*s\" gave \"%.*s\"", (int)len, text, (int)al, acc);
    }
    lk_detokenizer_free(d);
    free(back);
    free(ids);
}

static void test_tok512(void) {
    const char *path = lk_test_fixture("llama2c/tok512.bin");
    if (!path) {
        printf("skip tok512: llama2c/tok512.bin absent\n");
        return;
    }
    lk_error err;
    lk_tokenizer *tok;
    CHECK_OK(lk_tokenizer_load(path, &tok, &err), &err);
    CHECK_EQ_INT(lk_tokenizer_n_vocab(tok), 512);
    CHECK_EQ_INT(lk_tokenizer_bos(tok), 1);
    CHECK_EQ_INT(lk_tokenizer_eos(tok), 2);
    CHECK_EQ_STR(lk_tokenizer_kind(tok), "spm");
    CHECK_EQ_INT(lk_tokenizer_token_type(tok, 3), LK_TOKEN_BYTE);
    CHECK_EQ_INT(lk_tokenizer_find(tok, "<0x0A>", 6), 13);

    /* stories260K's greedy output (PROVENANCE.md) decodes to its text. */
    static const int32_t greedy[] = {1,   403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421,
                                     395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292};
    char *text;
    size_t len;
    CHECK_OK(lk_tokenizer_decode(tok, greedy, sizeof greedy / sizeof greedy[0], true, &text, &len, &err), &err);
    CHECK_MSG(strncmp(text, "Once upon a time, there was a little girl named Lily.", 53) == 0, "got \"%s\"", text);
    /* ... and encoding that text gives those ids back (SentencePiece's
     * segmentation of its own training distribution). */
    int32_t *ids;
    size_t n;
    CHECK_OK(lk_tokenizer_encode(tok, text, len, true, false, &ids, &n, &err), &err);
    CHECK_EQ_INT(n, sizeof greedy / sizeof greedy[0]);
    CHECK(n == sizeof greedy / sizeof greedy[0] && memcmp(ids, greedy, sizeof greedy) == 0);
    free(ids);
    free(text);

    /* Empty text: only BOS with add_special, nothing without. */
    CHECK_OK(lk_tokenizer_encode(tok, "", 0, true, false, &ids, &n, &err), &err);
    CHECK(n == 1 && ids[0] == 1);
    free(ids);
    CHECK_OK(lk_tokenizer_encode(tok, "", 0, false, false, &ids, &n, &err), &err);
    CHECK_EQ_INT(n, 0);
    free(ids);

    /* Chinese is not in this 512-piece vocabulary: byte fallback, exact round trip. */
    const char *zh = "从前有一个小女孩，她叫莉莉。";
    CHECK_OK(lk_tokenizer_encode(tok, zh, strlen(zh), false, false, &ids, &n, &err), &err);
    CHECK(n >= strlen(zh)); /* one <0xNN> per byte, plus the dummy prefix */
    free(ids);
    check_roundtrip(tok, zh, strlen(zh));
    check_roundtrip(tok, "Lily saw a big, red ball.\nShe said: \"hi\"  twice.", 48);
    check_roundtrip(tok, "  leading spaces and\ttabs\n\n", 27);

    /* Special-token text is plain text unless parse_special is set. */
    CHECK_OK(lk_tokenizer_encode(tok, "a</s>b", 6, false, false, &ids, &n, &err), &err);
    bool has_eos = false;
    for (size_t i = 0; i < n; i++) has_eos |= ids[i] == 2;
    CHECK(!has_eos);
    free(ids);
    CHECK_OK(lk_tokenizer_encode(tok, "a</s>b", 6, false, true, &ids, &n, &err), &err);
    has_eos = false;
    for (size_t i = 0; i < n; i++) has_eos |= ids[i] == 2;
    CHECK(has_eos);
    free(ids);

    /* Invalid UTF-8 never fails: its bytes fall back to byte tokens. */
    const char bad[] = "ok\xff\xfe\x80\xe4\xbd";
    CHECK_OK(lk_tokenizer_encode(tok, bad, sizeof bad - 1, false, false, &ids, &n, &err), &err);
    char *back;
    size_t bl;
    CHECK_OK(lk_tokenizer_decode(tok, ids, n, true, &back, &bl, &err), &err);
    CHECK(bl == sizeof bad - 1 && memcmp(back, bad, bl) == 0);
    free(back);
    /* The stream replaces what can never be a character with U+FFFD. */
    lk_detokenizer *d = lk_detokenizer_new(tok, true);
    char acc[256];
    size_t al = 0, cl;
    for (size_t i = 0; i < n; i++) {
        const char *c = lk_detokenizer_push(d, ids[i], &cl);
        CHECK(valid_utf8(c, cl));
        memcpy(acc + al, c, cl), al += cl;
    }
    const char *c = lk_detokenizer_flush(d, &cl);
    memcpy(acc + al, c, cl), al += cl;
    CHECK(valid_utf8(acc, al));
    CHECK(al == 2 + 4 * 3 && memcmp(acc, "ok\xef\xbf\xbd", 5) == 0);
    lk_detokenizer_free(d);
    free(ids);

    /* Ids outside the vocabulary are an error, not a crash. */
    int32_t wild[] = {5, 512};
    CHECK(lk_tokenizer_decode(tok, wild, 2, true, &back, &bl, &err) == LK_ERR_RANGE);
    lk_tokenizer_free(tok);
}

/* A split Chinese character comes out of the stream once, whole. */
static void test_stream_split_char(void) {
    const char *path = lk_test_fixture("llama2c/tok512.bin");
    if (!path) return;
    lk_error err;
    lk_tokenizer *tok;
    CHECK_OK(lk_tokenizer_load(path, &tok, &err), &err);
    int32_t b0 = lk_tokenizer_find(tok, "<0xE4>", 6), b1 = lk_tokenizer_find(tok, "<0xBD>", 6),
            b2 = lk_tokenizer_find(tok, "<0xA0>", 6); /* 你 = E4 BD A0 */
    lk_detokenizer *d = lk_detokenizer_new(tok, true);
    size_t n0, n1, n2;
    lk_detokenizer_push(d, b0, &n0);
    lk_detokenizer_push(d, b1, &n1);
    const char *s = lk_detokenizer_push(d, b2, &n2);
    CHECK_EQ_INT(n0, 0);
    CHECK_EQ_INT(n1, 0);
    CHECK(n2 == 3 && memcmp(s, "你", 3) == 0);
    lk_detokenizer_free(d);
    lk_tokenizer_free(tok);
}

static void test_bad_files(void) {
    lk_error err;
    lk_tokenizer *tok;
    const unsigned char cut[] = {16, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 'a'};
    CHECK(lk_tokenizer_from_llama2c(cut, sizeof cut, "cut.bin", &tok, &err) == LK_ERR_FORMAT);
    CHECK(strstr(err.msg, "cut.bin") != NULL);
    CHECK(tok == NULL);
    const unsigned char neg[] = {0xff, 0xff, 0xff, 0xff};
    CHECK(lk_tokenizer_from_llama2c(neg, sizeof neg, "neg.bin", &tok, &err) == LK_ERR_FORMAT);
    CHECK(lk_tokenizer_load("/nonexistent/tok.bin", &tok, &err) == LK_ERR_NOT_FOUND);
    /* Found by fuzz_tokenizer_vocab: the error message read the freed
     * tokenizer (a whole token, then 4 bytes cut off; and too few tokens). */
    const unsigned char cut_after_one[] = {7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4,
                                           0, 0, 0, 0, 0, 0, 0, 0xfd, 0, 0, 0, 0, 1, 0, 0};
    CHECK(lk_tokenizer_from_llama2c(cut_after_one, sizeof cut_after_one, "c1.bin", &tok, &err) ==
          LK_ERR_FORMAT);
    CHECK(strstr(err.msg, "c1.bin") != NULL);
    const unsigned char two[] = {4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0, 1, 0, 0, 0, 'b'};
    CHECK(lk_tokenizer_from_llama2c(two, sizeof two, "two.bin", &tok, &err) == LK_ERR_FORMAT);
    CHECK(strstr(err.msg, "only 2 tokens") != NULL);
}

/* Encoding word by word (split_safe) gives exactly the ids of encoding the
 * text whole, as llama.cpp does, on English and Chinese corpora. */
static void test_word_split_equivalence(void) {
    static const char *const vocabs[] = {"llamacpp-vocab/ggml-vocab-llama-spm.gguf", "llama2c/tokenizer.bin",
                                         "tokenizers/llama2-hf/tokenizer.json"};
    static const char *const texts[] = {"corpora/war-and-peace.txt", "corpora/llm-dev_medical_qa_zh.txt"};
    for (size_t v = 0; v < 3; v++) {
        const char *vp = lk_test_fixture(vocabs[v]);
        if (!vp) continue;
        lk_error err;
        lk_tokenizer *tok;
        CHECK_OK(lk_tokenizer_load(vp, &tok, &err), &err);
        if (!tok) continue;
        CHECK(tok->split_safe);
        for (size_t k = 0; k < 2; k++) {
            const char *tp = lk_test_fixture(texts[k]);
            char *s;
            size_t n;
            if (!tp || lk_read_file(tp, 64 << 20, &s, &n, &err) != LK_OK) continue;
            if (n > 40000) n = 40000; /* whole-text encoding is the slow path */
            while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
            int32_t *a, *b;
            size_t na, nb;
            tok->split_safe = true;
            CHECK_OK(lk_tokenizer_encode(tok, s, n, true, false, &a, &na, &err), &err);
            tok->split_safe = false;
            CHECK_OK(lk_tokenizer_encode(tok, s, n, true, false, &b, &nb, &err), &err);
            tok->split_safe = true;
            CHECK_MSG(na == nb && memcmp(a, b, na * sizeof *a) == 0, "%s on %s: word-by-word differs", vocabs[v], texts[k]);
            free(a);
            free(b);
            free(s);
        }
        lk_tokenizer_free(tok);
    }
}

int main(void) {
    test_word_split_equivalence();
    test_tok512();
    test_stream_split_char();
    test_bad_files();
    return lk_test_finish("tokenizer_spm");
}
