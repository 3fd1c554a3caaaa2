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
#include "test.h"

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

/* Every llama-spm test input encodes (no BOS) to llama.cpp's ids. */
static void check_llama_spm_vectors(const char *gguf) {
    const char *inp_fx = lk_test_fixture("llamacpp-vocab/ggml-vocab-llama-spm.gguf.inp");
    char inp_path[4096];
    snprintf(inp_path, sizeof inp_path, "%s", inp_fx ? inp_fx : "");
    const char *out_path = lk_test_fixture("llamacpp-vocab/ggml-vocab-llama-spm.gguf.out");
    if (!inp_fx || !out_path) {
        printf("SKIP llama-spm test vectors (not in the fixtures)\n");
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
            printf("  llama-spm case %d differs: %.*s\n", cases, (int)(sep - p), p);
        free(ids);
        cases++;
        p = sep + strlen(SEP);
        line = eol + 1;
    }
    printf("llama-spm test vectors through the converted vocabulary: %d/%d\n", pass, cases);
    CHECK(cases >= 40);
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
    check_llama_spm_vectors(out);
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

int main(void) {
    test_hf_spm();
    test_llama2c_spm();
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
