/* lk_tokenizer_load: finds what a path holds and calls the right loader.
 * A directory is an HF model folder: tokenizer.json (+ tokenizer_config.json),
 * or the older vocab.json + merges.txt (GPT-2) or vocab.txt (BERT). A file
 * is told apart by its name and first bytes: "GGUF", vocab.json (with
 * merges.txt beside it), vocab.txt, '{' (tokenizer.json), else a llama2.c
 * tokenizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/mmap.h"
#include "tokenizer/tokenizer.h"

#define MAX_JSON (512u << 20)

/* Loads dir/tokenizer.json and, when present, dir/tokenizer_config.json. */
static lk_status load_hf_files(const char *json_path, const char *config_path, lk_tokenizer **out,
                               lk_error *err) {
    char *json = NULL, *config = NULL;
    size_t json_len = 0, config_len = 0;
    lk_status st = lk_read_file(json_path, MAX_JSON, &json, &json_len, err);
    if (st != LK_OK) return st;
    if (config_path) {
        lk_error cerr;
        if (lk_read_file(config_path, 64u << 20, &config, &config_len, &cerr) != LK_OK) config = NULL;
    }
    st = lk_tokenizer_from_hf_json(json, json_len, config, config_len, json_path, out, err);
    free(json);
    free(config);
    return st;
}

static lk_status load_gpt2(const char *vocab_path, const char *merges_path, lk_tokenizer **out,
                           lk_error *err) {
    char *v = NULL, *m = NULL;
    size_t vl, ml;
    lk_status st = lk_read_file(vocab_path, MAX_JSON, &v, &vl, err);
    if (st == LK_OK) st = lk_read_file(merges_path, MAX_JSON, &m, &ml, err);
    if (st == LK_OK) st = lk_tokenizer_from_gpt2_files(v, vl, m, ml, vocab_path, out, err);
    free(v);
    free(m);
    return st;
}

static lk_status load_bert(const char *vocab_path, const char *config_path, lk_tokenizer **out,
                           lk_error *err) {
    bool lower = true;
    char *cfg = NULL;
    size_t cl;
    lk_error cerr;
    if (config_path && lk_read_file(config_path, 1 << 20, &cfg, &cl, &cerr) == LK_OK) {
        /* "do_lower_case": false is the only setting that matters here */
        const char *k = strstr(cfg, "\"do_lower_case\"");
        if (k && strstr(k, "false") && (!strstr(k, "true") || strstr(k, "false") < strstr(k, "true")))
            lower = false;
        free(cfg);
    }
    char *v = NULL;
    size_t vl;
    lk_status st = lk_read_file(vocab_path, MAX_JSON, &v, &vl, err);
    if (st == LK_OK) st = lk_tokenizer_from_bert_vocab(v, vl, lower, vocab_path, out, err);
    free(v);
    return st;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0 && (n == k || s[n - k - 1] == '/');
}

lk_status lk_tokenizer_load(const char *path, lk_tokenizer **out, lk_error *err) {
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return lk_error_set(err, LK_ERR_NOT_FOUND, "%s: no such file or directory", path);
    char a[4096], b[4096];
    if (S_ISDIR(sb.st_mode)) {
        snprintf(a, sizeof a, "%s/tokenizer.json", path);
        snprintf(b, sizeof b, "%s/tokenizer_config.json", path);
        if (stat(a, &sb) == 0) return load_hf_files(a, stat(b, &sb) == 0 ? b : NULL, out, err);
        char v[4096], m[4096];
        snprintf(v, sizeof v, "%s/vocab.json", path);
        snprintf(m, sizeof m, "%s/merges.txt", path);
        if (stat(v, &sb) == 0 && stat(m, &sb) == 0) return load_gpt2(v, m, out, err);
        snprintf(v, sizeof v, "%s/vocab.txt", path);
        if (stat(v, &sb) == 0) return load_bert(v, stat(b, &sb) == 0 ? b : NULL, out, err);
        return lk_error_set(err, LK_ERR_NOT_FOUND,
                            "%s: no tokenizer.json (nor vocab.json + merges.txt, nor vocab.txt) in "
                            "this directory", path);
    }
    lk_mmap m;
    lk_status st = lk_mmap_open(path, &m, err);
    if (st != LK_OK) return st;
    const char *d = m.data;
    if (m.size >= 4 && memcmp(d, "GGUF", 4) == 0) {
        lk_mmap_close(&m);
        return lk_tokenizer_from_gguf_file(path, out, err);
    }
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) : 1;
    const char *dir = slash ? path : ".";
    snprintf(b, sizeof b, "%.*s/tokenizer_config.json", dir_len, dir);
    if (ends_with(path, "vocab.json")) {
        snprintf(a, sizeof a, "%.*s/merges.txt", dir_len, dir);
        if (stat(a, &sb) == 0) {
            lk_mmap_close(&m);
            return load_gpt2(path, a, out, err);
        }
    }
    if (ends_with(path, "vocab.txt")) {
        lk_mmap_close(&m);
        return load_bert(path, stat(b, &sb) == 0 ? b : NULL, out, err);
    }
    size_t i = 0;
    while (i < m.size && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t')) i++;
    if (i < m.size && d[i] == '{') {
        lk_mmap_close(&m);
        return load_hf_files(path, stat(b, &sb) == 0 ? b : NULL, out, err);
    }
    st = lk_tokenizer_from_llama2c(m.data, m.size, path, out, err);
    lk_mmap_close(&m);
    return st;
}
