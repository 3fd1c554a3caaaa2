/* Tokenizer metadata of `llmkit convert`: a byte-level BPE tokenizer.json
 * written as tokenizer.ggml.* must tokenize exactly as the tokenizer.json
 * does (llmkit's tokenizers follow HF tokenizers and llama.cpp, each checked
 * against them elsewhere). The tokenizer.json is made at test time from the
 * GPT-2 fixture (vocab.json + merges.txt); tokenizer_config.json gives a
 * chat template. */
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

int main(void) {
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
