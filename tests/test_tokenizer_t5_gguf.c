/* GGUF vocabularies with tokenizer.ggml.model "t5" (Unigram). No such file
 * is in the fixtures, so the test writes one the way llama.cpp's
 * convert_hf_to_gguf.py (T5Model.set_vocab) does, from t5-small's
 * tokenizer.json: the SentencePiece pieces, scores and types (<pad> and
 * </s> CONTROL, <unk> UNKNOWN), the <extra_id_N> tokens as USER_DEFINED
 * with score -1000 (the converter's added_tokens.json branch), "[PADn]"
 * UNUSED pieces with score -10000 up to the model's vocab_size (32128),
 * add_space_prefix / remove_extra_whitespaces from the normalizer spec, the
 * precompiled charsmap as a UINT8 array (gguf-py writes a bytes value that
 * way), and the special-token ids and add_bos/add_eos flags gguf-py's
 * SpecialVocab takes from T5's post-processor (text </s>). Then, loaded
 * through the GGUF path, it must give transformers' ids on the
 * swift-transformers t5 vectors, the same ids as the tokenizer.json path
 * on those and on corpus text, and decode as transformers does. Malformed
 * charsmaps fail with an error naming the key. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mmap.h"
#include "format/gguf.h"
#include "test.h"

#define T5_JSON "tokenizers/t5-small/tokenizer.json"
#define ST "tokenizer-tests/swift-transformers/"
#define T5_VOCAB_SIZE 32128 /* t5-small config.json vocab_size: the converter pads to it */

static cJSON *load_json(const char *rel) {
    const char *path = lk_test_fixture(rel);
    if (!path) return NULL;
    char *s;
    size_t n;
    lk_error err;
    if (lk_read_file(path, 64 << 20, &s, &n, &err) != LK_OK) return NULL;
    cJSON *j = cJSON_ParseWithLength(s, n);
    free(s);
    return j;
}

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64; NULL on a bad character. */
static uint8_t *b64_decode(const char *s, size_t *out_len) {
    size_t n = strlen(s);
    uint8_t *out = malloc(n / 4 * 3 + 3);
    if (!out) return NULL;
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64_value(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[k++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = k;
    return out;
}

/* What the converter reads from the SentencePiece model and the HF files. */
typedef struct {
    char **tokens;
    float *scores;
    int32_t *types;
    uint8_t *charsmap;
    size_t charsmap_len;
    bool add_prefix, remove_ws;
} t5_vocab;

static void t5_vocab_free(t5_vocab *v) {
    for (int i = 0; v->tokens && i < T5_VOCAB_SIZE; i++) free(v->tokens[i]);
    free(v->tokens);
    free(v->scores);
    free(v->types);
    free(v->charsmap);
}

static bool t5_vocab_from_json(const cJSON *root, t5_vocab *v) {
    memset(v, 0, sizeof *v);
    v->tokens = calloc(T5_VOCAB_SIZE, sizeof *v->tokens);
    v->scores = malloc(T5_VOCAB_SIZE * sizeof *v->scores);
    v->types = malloc(T5_VOCAB_SIZE * sizeof *v->types);
    if (!v->tokens || !v->scores || !v->types) return false;
    /* the converter starts from "[PADi]" UNUSED -10000 for every id */
    for (int i = 0; i < T5_VOCAB_SIZE; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "[PAD%d]", i);
        v->tokens[i] = strdup(buf);
        v->scores[i] = -10000.0f;
        v->types[i] = LK_TOKEN_UNUSED;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    int unk_id = cJSON_GetObjectItemCaseSensitive(model, "unk_id")->valueint;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    int n_model = cJSON_GetArraySize(vocab);
    if (n_model <= 0 || n_model > T5_VOCAB_SIZE) return false;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        free(v->tokens[i]);
        v->tokens[i] = strdup(cJSON_GetArrayItem(e, 0)->valuestring);
        v->scores[i] = (float)cJSON_GetArrayItem(e, 1)->valuedouble; /* SentencePiece stores floats */
        v->types[i] = LK_TOKEN_NORMAL;
        i++;
    }
    cJSON_ArrayForEach(e, added) {
        int id = cJSON_GetObjectItemCaseSensitive(e, "id")->valueint;
        if (id < 0 || id >= T5_VOCAB_SIZE) return false;
        if (id <= 2) { /* T5's SentencePiece specials: <pad>, </s> control, <unk> unknown */
            v->types[id] = id == unk_id ? LK_TOKEN_UNKNOWN : LK_TOKEN_CONTROL;
        } else { /* added_tokens.json */
            free(v->tokens[id]);
            v->tokens[id] = strdup(cJSON_GetObjectItemCaseSensitive(e, "content")->valuestring);
            v->scores[id] = -1000.0f;
            v->types[id] = LK_TOKEN_USER_DEFINED;
        }
    }
    /* normalizer_spec: the charsmap HF copied (base64) from it; the dummy
     * prefix and whitespace removal HF turned into Metaspace and
     * WhitespaceSplit */
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(norm, "precompiled_charsmap");
    if (!cJSON_IsString(b64)) return false;
    v->charsmap = b64_decode(b64->valuestring, &v->charsmap_len);
    if (!v->charsmap) return false;
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"),
                                                        "pretokenizers");
    cJSON_ArrayForEach(e, pre) {
        const char *type = cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring;
        if (strcmp(type, "WhitespaceSplit") == 0) v->remove_ws = true;
        if (strcmp(type, "Metaspace") == 0)
            v->add_prefix = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "add_prefix_space"));
    }
    return true;
}

typedef enum { CHARSMAP_OK, CHARSMAP_INT32, CHARSMAP_TRUNCATED, CHARSMAP_ABSENT } charsmap_mode;

static lk_status write_t5_gguf(const t5_vocab *v, const char *path, charsmap_mode mode, lk_error *err) {
    lk_gguf_writer *w = lk_gguf_writer_new(3, 0);
    if (!w) return LK_ERR_NOMEM;
    lk_status st = lk_gguf_writer_set_str(w, "general.architecture", "t5");
    if (st == LK_OK) st = lk_gguf_writer_set_str(w, "tokenizer.ggml.model", "t5");
    if (st == LK_OK) st = lk_gguf_writer_set_str(w, "tokenizer.ggml.pre", "default");
    if (st == LK_OK)
        st = lk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)v->tokens, T5_VOCAB_SIZE);
    if (st == LK_OK) st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, v->scores, T5_VOCAB_SIZE);
    if (st == LK_OK) st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.token_type", LK_GGUF_INT32, v->types, T5_VOCAB_SIZE);
    if (st == LK_OK) st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", v->add_prefix);
    if (st == LK_OK) st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.remove_extra_whitespaces", v->remove_ws);
    if (st == LK_OK && mode == CHARSMAP_OK)
        st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.precompiled_charsmap", LK_GGUF_UINT8, v->charsmap,
                                          v->charsmap_len);
    if (st == LK_OK && mode == CHARSMAP_INT32)
        st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.precompiled_charsmap", LK_GGUF_INT32, v->charsmap,
                                          v->charsmap_len / 4);
    if (st == LK_OK && mode == CHARSMAP_TRUNCATED) /* the trie size says more than is there */
        st = lk_gguf_writer_set_num_array(w, "tokenizer.ggml.precompiled_charsmap", LK_GGUF_UINT8, v->charsmap, 64);
    /* gguf-py SpecialVocab: T5's special_tokens_map + post-processor "$A </s>" */
    if (st == LK_OK) st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 1);
    if (st == LK_OK) st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 2);
    if (st == LK_OK) st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", 0);
    if (st == LK_OK) st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", false);
    if (st == LK_OK) st = lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", true);
    if (st == LK_OK) st = lk_gguf_writer_write(w, path, err);
    lk_gguf_writer_free(w);
    return st;
}

static bool ids_equal(const int32_t *ids, size_t n, const cJSON *want) {
    if (!cJSON_IsArray(want) || (size_t)cJSON_GetArraySize(want) != n) return false;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, want) if (!cJSON_IsNumber(e) || e->valueint != ids[i++]) return false;
    return true;
}

typedef struct {
    int cases, hf_pass, json_pass, decode_cases, decode_pass, decode_exact;
} tally;

/* transformers' clean_up_tokenization: " ." -> "." and the like. llama.cpp
 * has no such step for UGM vocabularies (its clean_spaces is only set for
 * some BPE presets), so the GGUF decode is compared after applying it. */
static char *hf_cleanup(const char *s) {
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", "'s", "'ve", "'re"};
    char *cur = strdup(s);
    for (size_t r = 0; cur && r < sizeof from / sizeof from[0]; r++) {
        size_t fl = strlen(from[r]), tl = strlen(to[r]), n = strlen(cur);
        char *out = malloc(n + 1);
        if (!out) break;
        size_t k = 0;
        for (size_t i = 0; i < n;) {
            if (strncmp(cur + i, from[r], fl) == 0) {
                memcpy(out + k, to[r], tl);
                k += tl;
                i += fl;
            } else {
                out[k++] = cur[i++];
            }
        }
        out[k] = '\0';
        free(cur);
        cur = out;
    }
    return cur;
}

/* One text through both tokenizers: the GGUF's ids must equal the
 * tokenizer.json's and, when given, transformers'; decodes likewise. */
static void check_text(lk_tokenizer *gguf, lk_tokenizer *json, const char *what, const char *text, size_t len,
                       const cJSON *want, const char *dec_with, const char *dec_without, tally *t) {
    lk_error err;
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    t->cases++;
    CHECK_OK(lk_tokenizer_encode(gguf, text, len, true, false, &a, &na, &err), &err);
    CHECK_OK(lk_tokenizer_encode(json, text, len, true, false, &b, &nb, &err), &err);
    if (!a || !b) goto done;
    if (na == nb && memcmp(a, b, na * sizeof *a) == 0) t->json_pass++;
    else fprintf(stderr, "%s: GGUF and tokenizer.json differ on \"%.80s\"\n", what, text);
    if (want) {
        if (ids_equal(a, na, want)) t->hf_pass++;
        else {
            char *w = cJSON_PrintUnformatted(want);
            fprintf(stderr, "%s: \"%.80s\"\n  want %.300s\n  got  [", what, text, w ? w : "?");
            for (size_t i = 0; i < na && i < 60; i++) fprintf(stderr, "%s%d", i ? "," : "", a[i]);
            fprintf(stderr, "]\n");
            free(w);
        }
    }
    const char *decs[2] = {dec_with, dec_without};
    for (int k = 0; k < 2; k++) {
        if (!decs[k]) continue;
        char *out;
        size_t ol;
        t->decode_cases++;
        CHECK_OK(lk_tokenizer_decode(gguf, a, na, k == 1, &out, &ol, &err), &err);
        char *clean = hf_cleanup(out);
        t->decode_exact += strcmp(out, decs[k]) == 0;
        if (clean && strcmp(clean, decs[k]) == 0) t->decode_pass++;
        else fprintf(stderr, "%s decode(skip_special=%d):\n  want \"%s\"\n  got  \"%s\"\n", what, k, decs[k], out);
        free(clean);
        free(out);
    }
done:
    free(a);
    free(b);
}

/* transformers' t5 vectors (tokenizer_tests.json "t5-base", t5_base_encoded,
 * the t5-small multilingual baseline). */
static void check_transformers(lk_tokenizer *gguf, lk_tokenizer *json) {
    tally t = {0};
    int hf_cases = 0;
    cJSON *all = load_json(ST "tokenizer_tests.json");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(all, "t5-base")) {
        const char *in = cJSON_GetObjectItemCaseSensitive(e, "input")->valuestring;
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "encoded"), "input_ids");
        const cJSON *dw = cJSON_GetObjectItemCaseSensitive(e, "decoded_with_special");
        const cJSON *dwo = cJSON_GetObjectItemCaseSensitive(e, "decoded_without_special");
        check_text(gguf, json, "t5-base", in, strlen(in), want, cJSON_IsString(dw) ? dw->valuestring : NULL,
                   cJSON_IsString(dwo) ? dwo->valuestring : NULL, &t);
        hf_cases++;
    }
    cJSON_Delete(all);
    cJSON *enc = load_json(ST "t5_base_encoded.json");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(enc, "text");
    if (cJSON_IsString(text)) {
        check_text(gguf, json, "t5_base_encoded", text->valuestring, strlen(text->valuestring),
                   cJSON_GetObjectItemCaseSensitive(enc, "token_ids"), NULL, NULL, &t);
        hf_cases++;
    }
    cJSON_Delete(enc);
    cJSON *inputs = load_json(ST "MultilingualConformance/inputs.json");
    cJSON *base = load_json(ST "MultilingualConformance/baselines/t5_small_multilingual.json");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(base, "entries")) {
        const char *id = cJSON_GetObjectItemCaseSensitive(e, "id")->valuestring;
        const cJSON *in;
        cJSON_ArrayForEach(in, inputs) {
            if (strcmp(cJSON_GetObjectItemCaseSensitive(in, "id")->valuestring, id) != 0) continue;
            const char *s = cJSON_GetObjectItemCaseSensitive(in, "text")->valuestring;
            check_text(gguf, json, id, s, strlen(s), cJSON_GetObjectItemCaseSensitive(e, "input_ids"), NULL, NULL, &t);
            hf_cases++;
        }
    }
    cJSON_Delete(inputs);
    cJSON_Delete(base);
    printf("t5 GGUF vs transformers: ids %d/%d, decode %d/%d (%d without clean_up_tokenization_spaces); "
           "vs tokenizer.json %d/%d\n",
           t.hf_pass, hf_cases, t.decode_pass, t.decode_cases, t.decode_exact, t.json_pass, t.cases);
    CHECK(hf_cases > 100);
    CHECK_EQ_INT(t.hf_pass, hf_cases);
    CHECK_EQ_INT(t.decode_pass, t.decode_cases);
    CHECK_EQ_INT(t.json_pass, t.cases);
}

/* Hand-written edge cases and the first lines of each fixture corpus. */
static void check_corpora(lk_tokenizer *gguf, lk_tokenizer *json) {
    static const char *const texts[] = {
        "", " ", "   ", "\t", "\n\n", "a  b\t\tc\n\nd", "  leading and trailing  ",
        "Ｆｕｌｌ－ｗｉｄｔｈ　ｓｐａｃｅ", "ﬁ ligature, ①, ㎏, Å, é vs e\xcc\x81", "no\xc2\xa0\x62reak\xe2\x80\x8bzero" /* NBSP, ZWSP */,
        "emoji 👍🏽 👨‍👩‍👧 🇫🇷", "中文，日本語のテキスト、한국어", "invalid \xff\xfe bytes \xc3", "</s> <pad> <unk> as text",
        "x = [i**2 for i in range(10)]  # comment", "123456789 3.14159 1e-9", "ÀÉÎÕÜ àéîõü ß ẞ",
    };
    tally t = {0};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        check_text(gguf, json, "edge", texts[i], strlen(texts[i]), NULL, NULL, NULL, &t);
    static const char *const corpora[] = {"corpora/war-and-peace.txt", "corpora/botchan.txt",
                                          "corpora/wagahaiwa_nekodearu.txt", "corpora/llm-dev_medical_qa_zh.txt",
                                          "corpora/tinyshakespeare/input.txt"};
    int lines = 0;
    for (size_t c = 0; c < sizeof corpora / sizeof corpora[0]; c++) {
        const char *path = lk_test_fixture(corpora[c]);
        if (!path) {
            printf("SKIP %s (absent)\n", corpora[c]);
            continue;
        }
        char *s;
        size_t n;
        lk_error err;
        CHECK_OK(lk_read_file(path, 8 << 20, &s, &n, &err), &err);
        if (n > 48 * 1024) n = 48 * 1024; /* keeps the test (and ASan) fast */
        for (size_t at = 0; at < n;) {
            const char *nl = memchr(s + at, '\n', n - at);
            size_t end = nl ? (size_t)(nl - s) + 1 : n;
            check_text(gguf, json, corpora[c], s + at, end - at, NULL, NULL, NULL, &t);
            lines++;
            at = end;
        }
        /* one long text too: the whole slice in one call */
        check_text(gguf, json, corpora[c], s, n, NULL, NULL, NULL, &t);
        free(s);
    }
    printf("t5 GGUF vs tokenizer.json: %d/%d texts (edge cases + %d corpus lines)\n", t.json_pass, t.cases, lines);
    CHECK_EQ_INT(t.json_pass, t.cases);
}

static void check_bad_charsmaps(const t5_vocab *v, const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/t5-bad.gguf", dir);
    static const charsmap_mode modes[] = {CHARSMAP_INT32, CHARSMAP_TRUNCATED};
    for (size_t i = 0; i < 2; i++) {
        lk_error err;
        CHECK_OK(write_t5_gguf(v, path, modes[i], &err), &err);
        lk_tokenizer *tok = NULL;
        lk_status st = lk_tokenizer_load(path, &tok, &err);
        CHECK_EQ_INT(st, LK_ERR_FORMAT);
        CHECK(tok == NULL);
        CHECK(st != LK_OK && strstr(err.msg, "tokenizer.ggml.precompiled_charsmap") != NULL);
        lk_tokenizer_free(tok);
    }
    /* no charsmap: no normalization, still a working Unigram tokenizer */
    lk_error err;
    CHECK_OK(write_t5_gguf(v, path, CHARSMAP_ABSENT, &err), &err);
    lk_tokenizer *tok = NULL;
    CHECK_OK(lk_tokenizer_load(path, &tok, &err), &err);
    if (tok) {
        int32_t *ids;
        size_t n;
        CHECK_OK(lk_tokenizer_encode(tok, "Hello world", 11, true, false, &ids, &n, &err), &err);
        CHECK_EQ_INT(n, 3);
        if (n == 3) {
            CHECK_EQ_INT(ids[0], 8774); /* ▁Hello */
            CHECK_EQ_INT(ids[1], 296);  /* ▁world */
            CHECK_EQ_INT(ids[2], 1);    /* </s> */
        }
        free(ids);
        lk_tokenizer_free(tok);
    }
    remove(path);
}

int main(void) {
    if (!lk_test_fixtures()) lk_test_skip("fixtures folder not found");
    if (!lk_test_fixture(T5_JSON)) lk_test_skip(T5_JSON " absent from the fixtures");
    if (!lk_test_fixture(ST "tokenizer_tests.json")) lk_test_skip("tokenizer-tests absent from the fixtures");
    cJSON *root = load_json(T5_JSON);
    CHECK(root != NULL);
    t5_vocab v;
    bool ok = root && t5_vocab_from_json(root, &v);
    CHECK(ok);
    cJSON_Delete(root);
    if (!ok) {
        t5_vocab_free(&v);
        return lk_test_finish("tokenizer_t5_gguf");
    }
    CHECK(v.add_prefix);
    CHECK(v.remove_ws);

    const char *dir = lk_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/t5-vocab.gguf", dir);
    lk_error err;
    CHECK_OK(write_t5_gguf(&v, path, CHARSMAP_OK, &err), &err);

    lk_tokenizer *gguf = NULL, *json = NULL;
    CHECK_OK(lk_tokenizer_load(path, &gguf, &err), &err);
    CHECK_OK(lk_tokenizer_load(lk_test_fixture(T5_JSON), &json, &err), &err);
    if (gguf && json) {
        CHECK_EQ_STR(lk_tokenizer_kind(gguf), "unigram");
        CHECK_EQ_INT(lk_tokenizer_n_vocab(gguf), T5_VOCAB_SIZE);
        CHECK_EQ_INT(lk_tokenizer_bos(gguf), -1);
        CHECK_EQ_INT(lk_tokenizer_eos(gguf), 1);
        CHECK_EQ_INT(lk_tokenizer_unk(gguf), 2);
        CHECK_EQ_INT(lk_tokenizer_pad(gguf), 0);
        CHECK(lk_tokenizer_is_special(gguf, 1));
        CHECK_EQ_INT(lk_tokenizer_token_type(gguf, 32099), LK_TOKEN_USER_DEFINED);
        /* USER_DEFINED pieces are matched in any text, as llama.cpp does */
        int32_t *ids;
        size_t n;
        CHECK_OK(lk_tokenizer_encode(gguf, "Hello<extra_id_0>", 17, true, false, &ids, &n, &err), &err);
        CHECK_EQ_INT(n, 3);
        if (n == 3) {
            CHECK_EQ_INT(ids[0], 8774);  /* ▁Hello */
            CHECK_EQ_INT(ids[1], 32099); /* <extra_id_0> */
            CHECK_EQ_INT(ids[2], 1);     /* </s> */
        }
        free(ids);
        check_transformers(gguf, json);
        check_corpora(gguf, json);
    }
    lk_tokenizer_free(gguf);
    lk_tokenizer_free(json);
    remove(path);
    check_bad_charsmaps(&v, dir);
    t5_vocab_free(&v);
    rmdir(dir);
    return lk_test_finish("tokenizer_t5_gguf");
}
