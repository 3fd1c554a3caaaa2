/* lk_tokenizer_load: finds what a path holds and calls the right loader.
 * A directory is an HF model folder (tokenizer.json + tokenizer_config.json);
 * a file is told apart by its first bytes: "GGUF", '{' (tokenizer.json),
 * else a llama2.c tokenizer. */
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

lk_status lk_tokenizer_load(const char *path, lk_tokenizer **out, lk_error *err) {
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return lk_error_set(err, LK_ERR_NOT_FOUND, "%s: no such file or directory", path);
    char a[4096], b[4096];
    if (S_ISDIR(sb.st_mode)) {
        snprintf(a, sizeof a, "%s/tokenizer.json", path);
        snprintf(b, sizeof b, "%s/tokenizer_config.json", path);
        if (stat(a, &sb) != 0)
            return lk_error_set(err, LK_ERR_NOT_FOUND,
                                "%s: no tokenizer.json in this directory (llmkit reads HF tokenizers "
                                "from tokenizer.json)", path);
        return load_hf_files(a, stat(b, &sb) == 0 ? b : NULL, out, err);
    }
    lk_mmap m;
    lk_status st = lk_mmap_open(path, &m, err);
    if (st != LK_OK) return st;
    const char *d = m.data;
    if (m.size >= 4 && memcmp(d, "GGUF", 4) == 0) {
        lk_mmap_close(&m);
        return lk_tokenizer_from_gguf_file(path, out, err);
    }
    size_t i = 0;
    while (i < m.size && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t')) i++;
    if (i < m.size && d[i] == '{') {
        lk_mmap_close(&m);
        /* tokenizer_config.json beside it, if any */
        const char *slash = strrchr(path, '/');
        int dir_len = slash ? (int)(slash - path) : 1;
        snprintf(b, sizeof b, "%.*s/tokenizer_config.json", dir_len, slash ? path : ".");
        return load_hf_files(path, stat(b, &sb) == 0 ? b : NULL, out, err);
    }
    st = lk_tokenizer_from_llama2c(m.data, m.size, path, out, err);
    lk_mmap_close(&m);
    return st;
}
