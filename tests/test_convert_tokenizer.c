/* Tokenizer metadata of `llmkit convert`: a byte-level BPE tokenizer.json
 * written as tokenizer.ggml.* must tokenize exactly as the tokenizer.json
 * does (llmkit's tokenizers follow HF tokenizers and llama.cpp, each checked
 * against them elsewhere). The tokenizer.json is made at test time from the
 * GPT-2 fixture (vocab.json + merges.txt); tokenizer_config.json gives a
 * chat template.
 *
 * SentencePiece-style vocabularies (tokenizer.ggml.model "llama"): Llama 2's
 * tokenizer.json (BPE with byte_fallback) written as GGUF metadata must
 * tokenize llama.cpp's test inputs to llama.cpp's own ids (the
 * ggml-vocab-llama-spm test vectors, made with HF transformers from the
 * same vocabulary); a llama2.c tok512.bin written as metadata must equal the
 * tokens, scores and types llama.cpp's converter wrote in stories260K.gguf. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/mmap.h"
#include "format/gguf.h"
#include "format/gguf_meta_write.h"
#include "format/safetensors.h"
#include "quantize/quantize.h"
#include "test.h"
#include "tokenizer/tokenizer.h"

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* tokenizer.json for GPT-2 from vocab.json and merges.txt. */
static bool make_dir(const char *fx_dir, const char *dir) {
    char path[4096];
    lk_error err;
    char *vocab = NULL, *merges = NULL;
    size_t vl, ml;
    snprintf(path, sizeof path, "%s/vocab.json", fx_dir);
    if (lk_read_file(path, 1 << 26, &vocab, &vl, &err) != LK_OK) return false;
    snprintf(path, sizeof path, "%s/merges.txt", fx_dir);
    if (lk_read_file(path, 1 << 26, &merges, &ml, &err) != LK_OK) {
        free(vocab);
        return false;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddItemToObject(model, "vocab", cJSON_Parse(vocab));
    cJSON *m = cJSON_AddArrayToObject(model, "merges");
    for (char *line = strtok(merges, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "#version", 8) != 0 && strchr(line, ' '))
            cJSON_AddItemToArray(m, cJSON_CreateString(line));
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "ByteLevel");
    cJSON_AddFalseToObject(pre, "add_prefix_space");
    cJSON_AddTrueToObject(pre, "use_regex");
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    cJSON *eot = cJSON_CreateObject();
    cJSON_AddNumberToObject(eot, "id", 50256);
    cJSON_AddStringToObject(eot, "content", "<|endoftext|>");
    cJSON_AddTrueToObject(eot, "special");
    cJSON_AddItemToArray(added, eot);
    char *json = cJSON_PrintUnformatted(root);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    write_text(path, json);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_text(path, "{\"add_bos_token\": false, \"chat_template\": \"{% for m in messages %}{{ m.content }}{% endfor %}\"}");
    free(json);
    cJSON_Delete(root);
    free(vocab);
    free(merges);
    return true;
}

/* Writes the SentencePiece metadata of a tokenizer source to out.gguf. */
static bool write_spm_gguf(const char *src, bool hf_dir, int32_t n_vocab, const char *out) {
    lk_error err;
    lk_gguf_writer *w = lk_gguf_writer_new(3, 0);
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "general.architecture", "llama"), LK_OK);
    lk_status st = hf_dir ? lk_gguf_meta_write_hf_tokenizer(w, src, n_vocab, &err)
                          : lk_gguf_meta_write_tokenizer_file(w, src, n_vocab, &err);
    CHECK_OK(st, &err);
    if (st == LK_OK) CHECK_OK(st = lk_gguf_writer_write(w, out, &err), &err);
    lk_gguf_writer_free(w);
    return st == LK_OK;
}

#define SEP "\n__ggml_vocab_test__\n"

/* Every test input of llama.cpp's ggml-vocab-<name> vectors encodes (no
 * BOS) to llama.cpp's ids through the vocabulary in gguf. */
static void check_vectors(const char *name, const char *gguf) {
    char rel[256], inp_path[4096], out_path[4096];
    snprintf(rel, sizeof rel, "llamacpp-vocab/ggml-vocab-%s.gguf.inp", name);
    const char *fx = lk_test_fixture(rel);
    snprintf(inp_path, sizeof inp_path, "%s", fx ? fx : "");
    snprintf(rel, sizeof rel, "llamacpp-vocab/ggml-vocab-%s.gguf.out", name);
    const char *fo = lk_test_fixture(rel);
    snprintf(out_path, sizeof out_path, "%s", fo ? fo : "");
    if (!fx || !fo) {
        printf("SKIP %s test vectors (not in the fixtures)\n", name);
        return;
    }
    lk_error err;
    lk_tokenizer *tok = NULL;
    char *inp = NULL, *outs = NULL;
    size_t inp_len, outs_len;
    CHECK_OK(lk_tokenizer_load(gguf, &tok, &err), &err);
    CHECK_OK(lk_read_file(inp_path, 1 << 20, &inp, &inp_len, &err), &err);
    CHECK_OK(lk_read_file(out_path, 1 << 20, &outs, &outs_len, &err), &err);
    int cases = 0, pass = 0;
    for (char *p = inp, *line = outs; tok && inp && outs;) {
        char *sep = strstr(p, SEP), *eol = strchr(line, '\n');
        if (!sep || !eol) break;
        *eol = '\0';
        int32_t want[512];
        int nw = 0;
        for (char *q = line; nw < 512;) {
            char *end;
            long v = strtol(q, &end, 10);
            if (end == q) break;
            want[nw++] = (int32_t)v;
            q = end;
        }
        int32_t *ids = NULL;
        size_t n = 0;
        if (lk_tokenizer_encode(tok, p, (size_t)(sep - p), false, false, &ids, &n, &err) == LK_OK &&
            n == (size_t)nw && memcmp(ids, want, n * sizeof *ids) == 0)
            pass++;
        else
            printf("  %s case %d differs: %.*s\n", name, cases, (int)(sep - p), p);
        free(ids);
        cases++;
        p = sep + strlen(SEP);
        line = eol + 1;
    }
    printf("%s test vectors through the converted vocabulary: %d/%d\n", name, pass, cases);
    CHECK(cases >= 30);
    CHECK_EQ_INT(pass, cases);
    lk_tokenizer_free(tok);
    free(inp);
    free(outs);
}

static void test_hf_spm(void) {
    const char *fx = lk_test_fixture("tokenizers/llama2-hf");
    if (!fx) {
        printf("SKIP tokenizers/llama2-hf not found\n");
        return;
    }
    char dir[4096], out[4200];
    snprintf(dir, sizeof dir, "%s", fx);
    snprintf(out, sizeof out, "%s/llama2-vocab.gguf", lk_test_tmpdir());
    if (!write_spm_gguf(dir, true, 32000, out)) return;
    lk_error err;
    lk_gguf *g = NULL;
    CHECK_OK(lk_gguf_open(out, &g, &err), &err);
    if (g) {
        lk_gguf_str s;
        CHECK(lk_gguf_get_str(g, "tokenizer.ggml.model", &s) && s.len == 5 && !memcmp(s.ptr, "llama", 5));
        bool b = false;
        CHECK(lk_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &b) && b);
        CHECK(lk_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b) && b);
        uint32_t id = 99;
        CHECK(lk_gguf_get_u32(g, "tokenizer.ggml.unknown_token_id", &id) && id == 0);
        const void *types, *scores;
        uint64_t n = 0, ns = 0;
        CHECK(lk_gguf_get_num_array(g, "tokenizer.ggml.token_type", LK_GGUF_INT32, &types, &n) && n == 32000);
        CHECK(lk_gguf_get_num_array(g, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, &scores, &ns) && ns == 32000);
        if (n == 32000) {
            const int32_t *t = types;
            CHECK_EQ_INT(t[0], LK_TOKEN_UNKNOWN);
            CHECK_EQ_INT(t[1], LK_TOKEN_CONTROL);
            CHECK_EQ_INT(t[3], LK_TOKEN_BYTE);   /* <0x00> */
            CHECK_EQ_INT(t[258], LK_TOKEN_BYTE); /* <0xFF> */
            CHECK_EQ_INT(t[259], LK_TOKEN_NORMAL);
        }
        lk_gguf_close(g);
    }
    check_vectors("llama-spm", out);
}

/* tok512.bin as metadata == what llama.cpp's converter wrote in stories260K.gguf. */
static void test_llama2c_spm(void) {
    const char *fx = lk_test_fixture("llama2c/tok512.bin");
    char tok[4096], ref[4096], out[4200];
    snprintf(tok, sizeof tok, "%s", fx ? fx : "");
    const char *rf = lk_test_fixture("gguf/stories260K.gguf");
    if (!fx || !rf) {
        printf("SKIP llama2c/tok512.bin or gguf/stories260K.gguf not found\n");
        return;
    }
    snprintf(ref, sizeof ref, "%s", rf);
    snprintf(out, sizeof out, "%s/tok512-vocab.gguf", lk_test_tmpdir());
    if (!write_spm_gguf(tok, false, 512, out)) return;
    lk_error err;
    lk_gguf *a = NULL, *b = NULL;
    CHECK_OK(lk_gguf_open(out, &a, &err), &err);
    CHECK_OK(lk_gguf_open(ref, &b, &err), &err);
    if (a && b) {
        const lk_gguf_value *ta = lk_gguf_get(a, "tokenizer.ggml.tokens");
        const lk_gguf_value *tb = lk_gguf_get(b, "tokenizer.ggml.tokens");
        CHECK(ta && tb && ta->arr.n == 512 && tb->arr.n == 512);
        int same = 0;
        for (uint64_t i = 0; ta && tb && i < 512 && i < ta->arr.n && i < tb->arr.n; i++) {
            const lk_gguf_str *x = &ta->arr.items[i].str, *y = &tb->arr.items[i].str;
            same += x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0;
        }
        CHECK_EQ_INT(same, 512);
        static const struct {
            const char *key;
            lk_gguf_type t;
            size_t size;
        } arrays[] = {{"tokenizer.ggml.scores", LK_GGUF_FLOAT32, 4}, {"tokenizer.ggml.token_type", LK_GGUF_INT32, 4}};
        for (size_t k = 0; k < 2; k++) {
            const void *x, *y;
            uint64_t nx = 0, ny = 0;
            CHECK(lk_gguf_get_num_array(a, arrays[k].key, arrays[k].t, &x, &nx));
            CHECK(lk_gguf_get_num_array(b, arrays[k].key, arrays[k].t, &y, &ny));
            CHECK_MSG(nx == 512 && ny == 512 && memcmp(x, y, 512 * arrays[k].size) == 0,
                      "%s differs from llama.cpp's", arrays[k].key);
        }
    }
    lk_gguf_close(a);
    lk_gguf_close(b);
}

/* Texts through both tokenizers (with and without special tokens) must
 * give the same ids. */
static void check_same_ids(const char *what, const char *json_src, const char *gguf) {
    static const char *const texts[] = {
        "Hello world! It's 2024, isn't it?", "  leading spaces\n\nand\ttabs   and   runs  ",
        "中文也要一样：你好，世界。", "numbers 1234567 and émigré café", "MiXeD CaSe ÀÉÎÕÜ àéîõü ß",
        "ﬁ ligature, ①, ㎏, Å, e\xcc\x81", "no\xc2\xa0\x62reak\xe2\x80\x8bzero\xe2\x80\x83wide", "a  b\t\tc\n\nd",
        "x = [i**2 for i in range(10)]  # comment", "emoji 👍🏽 and 日本語のテキスト、한국어",
        "supercalifragilisticexpialidocious antidisestablishmentarianism", "", " ", "</s> [SEP] <unk> as text"};
    lk_error err;
    lk_tokenizer *a = NULL, *b = NULL;
    CHECK_OK(lk_tokenizer_load(json_src, &a, &err), &err);
    CHECK_OK(lk_tokenizer_load(gguf, &b, &err), &err);
    int cases = 0, same = 0;
    for (size_t i = 0; a && b && i < sizeof texts / sizeof texts[0]; i++) {
        for (int special = 0; special < 2; special++) {
            int32_t *x = NULL, *y = NULL;
            size_t nx = 0, ny = 0;
            CHECK_OK(lk_tokenizer_encode(a, texts[i], strlen(texts[i]), special, false, &x, &nx, &err), &err);
            CHECK_OK(lk_tokenizer_encode(b, texts[i], strlen(texts[i]), special, false, &y, &ny, &err), &err);
            cases++;
            if (nx == ny && memcmp(x, y, nx * sizeof *x) == 0) same++;
            else printf("  %s: \"%s\" (add_special %d): tokenizer.json and GGUF differ\n", what, texts[i], special);
            free(x);
            free(y);
        }
    }
    printf("%s: tokenizer.json and converted GGUF agree on %d/%d texts\n", what, same, cases);
    CHECK_EQ_INT(same, cases);
    CHECK(cases > 20);
    lk_tokenizer_free(a);
    lk_tokenizer_free(b);
}

static bool str_is(const lk_gguf *g, const char *key, const char *want) {
    lk_gguf_str s;
    return lk_gguf_get_str(g, key, &s) && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static int64_t u32_of(const lk_gguf *g, const char *key) {
    uint32_t v;
    return lk_gguf_get_u32(g, key, &v) ? (int64_t)v : -1;
}

static int bool_of(const lk_gguf *g, const char *key) {
    bool b;
    return lk_gguf_get_bool(g, key, &b) ? b : -1;
}

/* A BERT-style tokenizer.json (what transformers' BertTokenizerFast saves)
 * around bert-base-uncased's vocab.txt; lowercase false makes a cased one. */
static bool make_bert_dir(const char *vocab_txt, const char *dir, bool lowercase) {
    char *text = NULL;
    size_t len = 0;
    lk_error err;
    if (lk_read_file(vocab_txt, 1 << 24, &text, &len, &err) != LK_OK) return false;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    cJSON *norm = cJSON_AddObjectToObject(root, "normalizer");
    cJSON_AddStringToObject(norm, "type", "BertNormalizer");
    cJSON_AddTrueToObject(norm, "clean_text");
    cJSON_AddTrueToObject(norm, "handle_chinese_chars");
    cJSON_AddNullToObject(norm, "strip_accents");
    cJSON_AddBoolToObject(norm, "lowercase", lowercase);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "pre_tokenizer"), "type", "BertPreTokenizer");
    cJSON *post = cJSON_Parse(
        "{\"type\":\"TemplateProcessing\","
        "\"single\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
        "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}}],"
        "\"pair\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
        "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},"
        "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":1}}],"
        "\"special_tokens\":{\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[101],\"tokens\":[\"[CLS]\"]},"
        "\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[102],\"tokens\":[\"[SEP]\"]}}}");
    cJSON_AddItemToObject(root, "post_processor", post);
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "WordPiece");
    cJSON_AddStringToObject(dec, "prefix", "##");
    cJSON_AddTrueToObject(dec, "cleanup");
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "WordPiece");
    cJSON_AddStringToObject(model, "unk_token", "[UNK]");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "##");
    cJSON_AddNumberToObject(model, "max_input_chars_per_word", 100);
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    int id = 0;
    for (char *line = text, *end; line < text + len; line = end + 1, id++) {
        end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end) end = text + len;
        *end = '\0';
        if (end > line && end[-1] == '\r') end[-1] = '\0';
        cJSON_AddNumberToObject(vocab, line, id);
        if (!strcmp(line, "[PAD]") || !strcmp(line, "[UNK]") || !strcmp(line, "[CLS]") || !strcmp(line, "[SEP]") ||
            !strcmp(line, "[MASK]")) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddNumberToObject(a, "id", id);
            cJSON_AddStringToObject(a, "content", line);
            cJSON_AddFalseToObject(a, "single_word");
            cJSON_AddFalseToObject(a, "lstrip");
            cJSON_AddFalseToObject(a, "rstrip");
            cJSON_AddFalseToObject(a, "normalized");
            cJSON_AddTrueToObject(a, "special");
            cJSON_AddItemToArray(added, a);
        }
    }
    char *json = cJSON_PrintUnformatted(root);
    char path[4200];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    write_text(path, json);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_text(path, lowercase ? "{\"do_lower_case\": true, \"cls_token\": \"[CLS]\", \"sep_token\": \"[SEP]\", "
                                 "\"unk_token\": \"[UNK]\", \"pad_token\": \"[PAD]\", \"mask_token\": \"[MASK]\"}"
                               : "{\"do_lower_case\": false, \"cls_token\": \"[CLS]\", \"sep_token\": \"[SEP]\"}");
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, "{\"model_type\": \"bert\", \"type_vocab_size\": 2, \"pad_token_id\": 0, \"vocab_size\": 30522}");
    free(json);
    cJSON_Delete(root);
    free(text);
    return true;
}

/* Every tokenizer.* key llama.cpp's converter wrote in ref is in g, with
 * the same type (and element type). */
static void check_keys_like(const lk_gguf *g, const lk_gguf *ref, const char *what) {
    int n = 0;
    for (size_t i = 0; i < lk_gguf_kv_count(ref); i++) {
        const char *key = lk_gguf_kv_key(ref, i);
        if (strncmp(key, "tokenizer.", 10) != 0) continue;
        const lk_gguf_value *a = lk_gguf_get(g, key), *b = lk_gguf_kv_value(ref, i);
        CHECK_MSG(a != NULL, "%s: %s is missing", what, key);
        if (!a) continue;
        CHECK_MSG(a->type == b->type, "%s: %s is %s, llama.cpp's is %s", what, key, lk_gguf_type_name(a->type),
                  lk_gguf_type_name(b->type));
        if (a->type == LK_GGUF_ARRAY && b->type == LK_GGUF_ARRAY)
            CHECK_MSG(a->arr.elem_type == b->arr.elem_type && a->arr.n == b->arr.n, "%s: %s array differs", what, key);
        n++;
    }
    printf("%s: %d tokenizer keys of llama.cpp's file present with their types\n", what, n);
    CHECK(n >= 8);
}

/* WordPiece -> "bert": llama.cpp's own bert-bge file (bert-base-uncased's
 * vocabulary) is the reference for keys, ids, types and pieces; its test
 * vectors must pass through the converted file; the converted file must
 * tokenize as the tokenizer.json. A cased WordPiece is refused. */
static void test_wordpiece(void) {
    const char *fx = lk_test_fixture("tokenizers/bert-base-uncased/vocab.txt");
    char vocab[4096], ref[4096], dir[4096], out[4200];
    snprintf(vocab, sizeof vocab, "%s", fx ? fx : "");
    const char *rf = lk_test_fixture("llamacpp-vocab/ggml-vocab-bert-bge.gguf");
    if (!fx || !rf) {
        printf("SKIP WordPiece: bert-base-uncased/vocab.txt or ggml-vocab-bert-bge.gguf not in the fixtures\n");
        return;
    }
    snprintf(ref, sizeof ref, "%s", rf);
    snprintf(dir, sizeof dir, "%s/bert-hf", lk_test_tmpdir());
    snprintf(out, sizeof out, "%s/bert-vocab.gguf", lk_test_tmpdir());
    if (!make_bert_dir(vocab, dir, true) || !write_spm_gguf(dir, true, 30522, out)) {
        CHECK(false);
        return;
    }
    lk_error err;
    lk_gguf *g = NULL, *r = NULL;
    CHECK_OK(lk_gguf_open(out, &g, &err), &err);
    CHECK_OK(lk_gguf_open(ref, &r, &err), &err);
    if (g && r) {
        check_keys_like(g, r, "bert");
        CHECK(str_is(g, "tokenizer.ggml.model", "bert"));
        static const char *const ids[] = {"tokenizer.ggml.unknown_token_id", "tokenizer.ggml.seperator_token_id",
                                          "tokenizer.ggml.padding_token_id", "tokenizer.ggml.cls_token_id",
                                          "tokenizer.ggml.mask_token_id", "tokenizer.ggml.token_type_count"};
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
            CHECK_MSG(u32_of(g, ids[i]) >= 0 && u32_of(g, ids[i]) == u32_of(r, ids[i]), "%s: %lld, llama.cpp's %lld",
                      ids[i], (long long)u32_of(g, ids[i]), (long long)u32_of(r, ids[i]));
        /* newer gguf-py: bos/eos are [CLS]/[SEP], added by the post-processor */
        CHECK_EQ_INT(u32_of(g, "tokenizer.ggml.bos_token_id"), 101);
        CHECK_EQ_INT(u32_of(g, "tokenizer.ggml.eos_token_id"), 102);
        CHECK_EQ_INT(bool_of(g, "tokenizer.ggml.add_bos_token"), 1);
        CHECK_EQ_INT(bool_of(g, "tokenizer.ggml.add_eos_token"), 1);
        CHECK_EQ_INT(bool_of(g, "tokenizer.ggml.add_sep_token"), 0);
        CHECK_EQ_INT(bool_of(g, "tokenizer.ggml.normalizer.lowercase"), 1);
        const void *ta = NULL, *tb = NULL;
        uint64_t na = 0, nb = 0;
        CHECK(lk_gguf_get_num_array(g, "tokenizer.ggml.token_type", LK_GGUF_INT32, &ta, &na));
        CHECK(lk_gguf_get_num_array(r, "tokenizer.ggml.token_type", LK_GGUF_INT32, &tb, &nb));
        CHECK(na == nb && na == 30522 && memcmp(ta, tb, na * 4) == 0);
        /* pieces: llama.cpp's, except that older converters (which wrote
         * the fixture) kept every "[...]" piece bare; newer ones keep only
         * CONTROL pieces bare, so "[unused0]" is "\u2581[unused0]" */
        const lk_gguf_value *pa = lk_gguf_get(g, "tokenizer.ggml.tokens"), *pb = lk_gguf_get(r, "tokenizer.ggml.tokens");
        int same = 0, bracket = 0;
        for (uint64_t i = 0; pa && pb && i < pa->arr.n && i < pb->arr.n; i++) {
            const lk_gguf_str *x = &pa->arr.items[i].str, *y = &pb->arr.items[i].str;
            if (x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0) same++;
            else if (x->len == y->len + 3 && memcmp(x->ptr, "\xe2\x96\x81", 3) == 0 && y->len > 2 &&
                     y->ptr[0] == '[' && y->ptr[y->len - 1] == ']' && memcmp(x->ptr + 3, y->ptr, y->len) == 0)
                bracket++;
            else
                printf("  piece %llu: \"%.*s\", llama.cpp's \"%.*s\"\n", (unsigned long long)i, (int)x->len, x->ptr,
                       (int)y->len, y->ptr);
        }
        printf("bert pieces: %d as llama.cpp's, %d bracketed unused pieces with U+2581\n", same, bracket);
        CHECK_EQ_INT(same + bracket, 30522);
        CHECK(bracket == 994); /* [unused0] .. [unused993] */
    }
    lk_gguf_close(g);
    lk_gguf_close(r);
    check_vectors("bert-bge", out);
    check_same_ids("bert", dir, out);

    /* cased: llama.cpp would lower-case anyway, so no GGUF form */
    snprintf(dir, sizeof dir, "%s/bert-cased-hf", lk_test_tmpdir());
    CHECK(make_bert_dir(vocab, dir, false));
    lk_gguf_writer *w = lk_gguf_writer_new(3, 0);
    lk_status st = lk_gguf_meta_write_hf_tokenizer(w, dir, 30522, &err);
    CHECK_EQ_INT(st, LK_ERR_UNSUPPORTED);
    CHECK(st != LK_OK && strstr(err.msg, "keeps case") != NULL);
    lk_gguf_writer_free(w);
}

/* Unigram -> "t5" from t5-small's tokenizer.json: transformers' ids on the
 * swift-transformers t5 vectors through the converted file, the same ids
 * as the tokenizer.json on mixed texts, and the keys load_gguf.c's
 * setup_unigram reads. */
static void test_unigram(void) {
    const char *fx = lk_test_fixture("tokenizers/t5-small/tokenizer.json");
    if (!fx) {
        printf("SKIP Unigram: tokenizers/t5-small not in the fixtures\n");
        return;
    }
    char dir[4096], out[4200];
    snprintf(dir, sizeof dir, "%s", fx);
    *strrchr(dir, '/') = '\0';
    snprintf(out, sizeof out, "%s/t5-vocab.gguf", lk_test_tmpdir());
    if (!write_spm_gguf(dir, true, 32128, out)) return; /* t5-small's config.json vocab_size */
    lk_error err;
    lk_gguf *g = NULL;
    CHECK_OK(lk_gguf_open(out, &g, &err), &err);
    lk_tokenizer *json = NULL;
    CHECK_OK(lk_tokenizer_load(dir, &json, &err), &err);
    if (g && json) {
        CHECK(str_is(g, "tokenizer.ggml.model", "t5"));
        CHECK(str_is(g, "tokenizer.ggml.pre", "default"));
        CHECK_EQ_INT(bool_of(g, "tokenizer.ggml.add_space_prefix"), 1);
        CHECK_EQ_INT(bool_of(g, "tokenizer.ggml.remove_extra_whitespaces"), 1);
        CHECK_EQ_INT(bool_of(g, "tokenizer.ggml.add_eos_token"), 1);
        CHECK(bool_of(g, "tokenizer.ggml.add_bos_token") != 1);
        CHECK_EQ_INT(u32_of(g, "tokenizer.ggml.eos_token_id"), 1);
        CHECK_EQ_INT(u32_of(g, "tokenizer.ggml.unknown_token_id"), 2);
        CHECK_EQ_INT(u32_of(g, "tokenizer.ggml.padding_token_id"), 0);
        const lk_gguf_value *cm = lk_gguf_get(g, "tokenizer.ggml.precompiled_charsmap");
        const lk_norm_step *want = NULL;
        for (int i = 0; i < json->n_norm; i++)
            if (json->norm[i].kind == LK_NORM_PRECOMPILED) want = &json->norm[i];
        CHECK(cm && want && cm->type == LK_GGUF_ARRAY && cm->arr.elem_type == LK_GGUF_UINT8);
        if (cm && want && cm->type == LK_GGUF_ARRAY)
            CHECK(cm->arr.n == want->content_len && memcmp(cm->arr.data, want->content, want->content_len) == 0);
        const lk_gguf_value *toks = lk_gguf_get(g, "tokenizer.ggml.tokens");
        const void *types = NULL, *scores = NULL;
        uint64_t nt = 0, ns = 0;
        CHECK(lk_gguf_get_num_array(g, "tokenizer.ggml.token_type", LK_GGUF_INT32, &types, &nt) && nt == 32128);
        CHECK(lk_gguf_get_num_array(g, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, &scores, &ns) && ns == 32128);
        if (toks && nt == 32128 && ns == 32128 && toks->arr.n == 32128) {
            const int32_t *ty = types;
            const float *sc = scores;
            CHECK_EQ_INT(ty[0], LK_TOKEN_CONTROL); /* <pad> */
            CHECK_EQ_INT(ty[1], LK_TOKEN_CONTROL); /* </s> */
            CHECK_EQ_INT(ty[2], LK_TOKEN_UNKNOWN); /* <unk> */
            CHECK_EQ_INT(ty[3], LK_TOKEN_NORMAL);
            CHECK_EQ_INT(ty[32099], LK_TOKEN_CONTROL); /* <extra_id_0>, special in tokenizer.json */
            CHECK_EQ_INT(ty[32100], LK_TOKEN_UNUSED);
            CHECK(sc[32100] == -10000.0f);
            CHECK(toks->arr.items[32100].str.len == 10 && !memcmp(toks->arr.items[32100].str.ptr, "[PAD32100]", 10));
            int same = 0;
            for (int32_t i = 0; i < json->n_vocab; i++)
                same += sc[i] == json->score[i] && toks->arr.items[i].str.len == json->len[i] &&
                        !memcmp(toks->arr.items[i].str.ptr, json->text + json->off[i], json->len[i]);
            CHECK_EQ_INT(same, json->n_vocab);
        }
    }
    lk_gguf_close(g);
    lk_tokenizer_free(json);

    /* transformers' ids (swift-transformers' tokenizer_tests.json "t5-base": the same vocabulary) */
    const char *tt = lk_test_fixture("tokenizer-tests/swift-transformers/tokenizer_tests.json");
    char *s = NULL;
    size_t n = 0;
    if (tt && lk_read_file(tt, 64 << 20, &s, &n, &err) == LK_OK) {
        cJSON *all = cJSON_ParseWithLength(s, n);
        lk_tokenizer *tok = NULL;
        CHECK_OK(lk_tokenizer_load(out, &tok, &err), &err);
        int cases = 0, pass = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(all, "t5-base")) {
            const char *in = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "input"));
            const cJSON *want =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "encoded"), "input_ids");
            if (!in || !cJSON_IsArray(want) || !tok) continue;
            int32_t *ids = NULL;
            size_t ni = 0;
            cases++;
            if (lk_tokenizer_encode(tok, in, strlen(in), true, false, &ids, &ni, &err) == LK_OK &&
                ni == (size_t)cJSON_GetArraySize(want)) {
                size_t k = 0;
                const cJSON *v;
                cJSON_ArrayForEach(v, want) k += cJSON_IsNumber(v) && v->valueint == ids[k] ? 1 : 0;
                pass += k == ni;
            }
            free(ids);
        }
        printf("t5 transformers vectors through the converted vocabulary: %d/%d\n", pass, cases);
        CHECK(cases >= 5);
        CHECK_EQ_INT(pass, cases);
        lk_tokenizer_free(tok);
        cJSON_Delete(all);
        free(s);
    } else {
        printf("SKIP t5 transformers vectors (tokenizer-tests not in the fixtures)\n");
    }
    check_same_ids("t5", dir, out);
}

/* A one-layer llama with random weights and n_vocab rows in dir (its
 * config.json replaces one there). */
static bool make_llama_dir(const char *dir, int64_t n_vocab) {
    enum { DIM = 8, FFN = 16 };
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":%d,"
             "\"intermediate_size\":%d,\"num_attention_heads\":2,\"num_key_value_heads\":2,\"num_hidden_layers\":1,"
             "\"vocab_size\":%lld,\"rms_norm_eps\":1e-5,\"max_position_embeddings\":64,\"tie_word_embeddings\":true}",
             DIM, FFN, (long long)n_vocab);
    write_text(path, cfg);
    float *buf = malloc((size_t)n_vocab * DIM * sizeof *buf);
    if (!buf) return false;
    uint32_t x = 12345;
    for (int64_t i = 0; i < n_vocab * DIM; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (float)((int32_t)(x >> 8) % 1000) / 10000.0f;
    }
    static const struct {
        const char *name;
        int64_t rows, cols; /* cols 0: 1-D */
    } k[] = {{"model.layers.0.input_layernorm.weight", DIM, 0}, {"model.layers.0.post_attention_layernorm.weight", DIM, 0},
             {"model.layers.0.self_attn.q_proj.weight", DIM, DIM}, {"model.layers.0.self_attn.k_proj.weight", DIM, DIM},
             {"model.layers.0.self_attn.v_proj.weight", DIM, DIM}, {"model.layers.0.self_attn.o_proj.weight", DIM, DIM},
             {"model.layers.0.mlp.gate_proj.weight", FFN, DIM},    {"model.layers.0.mlp.up_proj.weight", FFN, DIM},
             {"model.layers.0.mlp.down_proj.weight", DIM, FFN},    {"model.norm.weight", DIM, 0}};
    lk_safetensors_writer *w = lk_safetensors_writer_new();
    lk_error err;
    int64_t emb[2] = {n_vocab, DIM};
    lk_status st = lk_safetensors_writer_add_tensor(w, "model.embed_tokens.weight", LK_DTYPE_F32, 2, emb, buf,
                                                    (size_t)n_vocab * DIM * sizeof *buf, &err);
    for (size_t i = 0; st == LK_OK && i < sizeof k / sizeof k[0]; i++) {
        int64_t shape[2] = {k[i].rows, k[i].cols};
        size_t n = (size_t)(k[i].rows * (k[i].cols ? k[i].cols : 1));
        st = lk_safetensors_writer_add_tensor(w, k[i].name, LK_DTYPE_F32, k[i].cols ? 2 : 1, shape, buf,
                                              n * sizeof *buf, &err);
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (st == LK_OK) st = lk_safetensors_writer_write(w, path, &err);
    CHECK_OK(st, &err);
    lk_safetensors_writer_free(w);
    free(buf);
    return st == LK_OK;
}

static bool copy_file(const char *from, const char *to) {
    char *s = NULL;
    size_t n = 0;
    lk_error err;
    if (lk_read_file(from, 1 << 26, &s, &n, &err) != LK_OK) return false;
    FILE *f = fopen(to, "wb");
    bool ok = f && fwrite(s, 1, n, f) == n;
    if (f) ok = fclose(f) == 0 && ok;
    free(s);
    return ok;
}

/* `llmkit convert`'s path end to end: a random-weight llama folder whose
 * tokenizer.json is WordPiece, then Unigram, converted to GGUF; the GGUF
 * alone must tokenize as the folder does. */
static void test_convert_folders(void) {
    const char *bert = lk_test_fixture("tokenizers/bert-base-uncased/vocab.txt");
    char vocab[4096], dir[4096], out[4200], path[4200];
    snprintf(vocab, sizeof vocab, "%s", bert ? bert : "");
    lk_quantize_params p = {.ftype = LK_FTYPE_ALL_F32, .n_threads = 1};
    lk_error err;
    if (bert) {
        snprintf(dir, sizeof dir, "%s/llama-wordpiece", lk_test_tmpdir());
        snprintf(out, sizeof out, "%s/llama-wordpiece.gguf", lk_test_tmpdir());
        if (make_bert_dir(vocab, dir, true) && make_llama_dir(dir, 30522)) {
            CHECK_OK(lk_quantize_model(dir, out, &p, NULL, &err), &err);
            check_same_ids("llama folder, WordPiece", dir, out);
        }
    } else {
        printf("SKIP convert with a WordPiece tokenizer (bert-base-uncased not in the fixtures)\n");
    }
    const char *t5 = lk_test_fixture("tokenizers/t5-small/tokenizer.json");
    if (!t5) {
        printf("SKIP convert with a Unigram tokenizer (t5-small not in the fixtures)\n");
        return;
    }
    char src[4096];
    snprintf(src, sizeof src, "%s", t5);
    snprintf(dir, sizeof dir, "%s/llama-unigram", lk_test_tmpdir());
    snprintf(out, sizeof out, "%s/llama-unigram.gguf", lk_test_tmpdir());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK(copy_file(src, path));
    *strrchr(src, '/') = '\0';
    strncat(src, "/tokenizer_config.json", sizeof src - strlen(src) - 1);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    CHECK(copy_file(src, path));
    if (make_llama_dir(dir, 32128)) {
        CHECK_OK(lk_quantize_model(dir, out, &p, NULL, &err), &err);
        check_same_ids("llama folder, Unigram", dir, out);
    }
}

int main(void) {
    test_hf_spm();
    test_llama2c_spm();
    test_wordpiece();
    test_unigram();
    test_convert_folders();
    const char *fx = lk_test_fixture("tokenizers/gpt2");
    if (!fx) lk_test_skip("fixture tokenizers/gpt2 not found");
    char dir[4096], out[4200];
    snprintf(dir, sizeof dir, "%s/gpt2-hf", lk_test_tmpdir());
    snprintf(out, sizeof out, "%s/gpt2-vocab.gguf", lk_test_tmpdir());
    CHECK(make_dir(fx, dir));
    lk_error err;
    lk_gguf_writer *w = lk_gguf_writer_new(3, 0);
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "general.architecture", "gpt2"), LK_OK);
    CHECK_OK(lk_gguf_meta_write_hf_tokenizer(w, dir, 50257, &err), &err);
    CHECK_OK(lk_gguf_writer_write(w, out, &err), &err);
    lk_gguf_writer_free(w);

    lk_gguf *g = NULL;
    CHECK_OK(lk_gguf_open(out, &g, &err), &err);
    if (g) {
        lk_gguf_str s;
        CHECK(lk_gguf_get_str(g, "tokenizer.ggml.pre", &s) && s.len == 5 && !memcmp(s.ptr, "gpt-2", 5));
        CHECK(lk_gguf_get_str(g, "tokenizer.chat_template", &s) && s.len > 10);
        bool b = true;
        CHECK(lk_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b) && !b);
        const void *types;
        uint64_t n;
        CHECK(lk_gguf_get_num_array(g, "tokenizer.ggml.token_type", LK_GGUF_INT32, &types, &n) && n == 50257);
        if (n == 50257) CHECK_EQ_INT(((const int32_t *)types)[50256], LK_TOKEN_CONTROL);
        lk_gguf_close(g);
    }

    lk_tokenizer *a = NULL, *b = NULL;
    CHECK_OK(lk_tokenizer_load(dir, &a, &err), &err);
    CHECK_OK(lk_tokenizer_load(out, &b, &err), &err);
    static const char *const texts[] = {
        "Hello world! It's 2024, isn't it?", "  leading spaces\n\nand\ttabs",
        "中文也要一样：你好，世界。", "numbers 1234567 and émigré café", "<|endoftext|> after"};
    for (size_t i = 0; a && b && i < sizeof texts / sizeof texts[0]; i++) {
        int32_t *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;
        CHECK_OK(lk_tokenizer_encode(a, texts[i], strlen(texts[i]), true, true, &x, &nx, &err), &err);
        CHECK_OK(lk_tokenizer_encode(b, texts[i], strlen(texts[i]), true, true, &y, &ny, &err), &err);
        CHECK_MSG(nx == ny && nx > 0 && memcmp(x, y, nx * sizeof *x) == 0,
                  "text %zu: tokenizer.json and GGUF vocabularies tokenize differently", i);
        free(x);
        free(y);
    }
    lk_tokenizer_free(a);
    lk_tokenizer_free(b);
    return lk_test_finish("test_convert_tokenizer");
}
