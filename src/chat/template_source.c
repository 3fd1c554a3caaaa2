/* Finding a chat template and its special tokens on disk (see template_source.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/mmap.h"
#include "chat/template_source.h"
#include "format/gguf.h"

#define MAX_TEMPLATE_FILE ((size_t)64 << 20)

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static cJSON *read_json(const char *path, lk_error *err) {
    char *text;
    size_t n;
    if (lk_read_file(path, MAX_TEMPLATE_FILE, &text, &n, err) != LK_OK) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, n);
    free(text);
    if (!j) lk_error_set(err, LK_ERR_FORMAT, "%s: not valid JSON", path);
    return j;
}

/* The special tokens of a tokenizer_config.json: plain strings or
 * AddedToken objects {"content": ...}. */
static void add_special_tokens(cJSON *dst, const cJSON *cfg) {
    static const char *const keys[] = {"bos_token", "eos_token", "unk_token", "pad_token", NULL};
    for (int i = 0; keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, keys[i]);
        if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (cJSON_IsString(v) && !cJSON_GetObjectItemCaseSensitive(dst, keys[i]))
            cJSON_AddStringToObject(dst, keys[i], v->valuestring);
    }
}

static lk_status pick_template(const char *path, const cJSON *ct, const char *variant, bool want_tools, char **out,
                               lk_error *err) {
    if (cJSON_IsString(ct)) {
        *out = strdup(ct->valuestring);
        return *out ? LK_OK : lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    }
    if (!cJSON_IsArray(ct))
        return lk_error_set(err, LK_ERR_NOT_FOUND, "%s: no chat_template in this file", path);
    const char *want = variant ? variant : "default";
    const cJSON *found = NULL, *it;
    char names[512] = "";
    cJSON_ArrayForEach(it, ct) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *tt = cJSON_GetObjectItemCaseSensitive(it, "template");
        if (!cJSON_IsString(nm) || !cJSON_IsString(tt)) continue;
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "", nm->valuestring);
        if (!variant && want_tools && strcmp(nm->valuestring, "tool_use") == 0) found = tt;
        if (!found && strcmp(nm->valuestring, want) == 0) found = tt;
    }
    if (!found)
        return lk_error_set(err, LK_ERR_NOT_FOUND, "%s: no chat template named '%s' (it has: %s)", path, want, names);
    *out = strdup(found->valuestring);
    return *out ? LK_OK : lk_error_set(err, LK_ERR_NOMEM, "out of memory");
}

static lk_status load_json_template(const char *path, const char *variant, bool want_tools, lk_template_source *s,
                                    lk_error *err) {
    cJSON *j = read_json(path, err);
    if (!j) return err ? err->code : LK_ERR_FORMAT;
    lk_status st = pick_template(path, cJSON_GetObjectItemCaseSensitive(j, "chat_template"), variant, want_tools,
                                 &s->text, err);
    if (st == LK_OK) add_special_tokens(s->special_tokens, j);
    cJSON_Delete(j);
    return st;
}

static char *gguf_strdup(lk_gguf_str str) {
    char *d = malloc(str.len + 1);
    if (!d) return NULL;
    memcpy(d, str.ptr, str.len);
    d[str.len] = '\0';
    return d;
}

/* The text of token id `key` (tokenizer.ggml.bos_token_id, ...) as the
 * special token string the template sees. */
static void gguf_special_token(cJSON *dst, const lk_gguf *g, const char *key, const char *name) {
    uint32_t id;
    const lk_gguf_value *tokens;
    uint64_t n;
    if (!lk_gguf_get_u32(g, key, &id) || !lk_gguf_get_str_array(g, "tokenizer.ggml.tokens", &tokens, &n) || id >= n)
        return;
    char *text = gguf_strdup(tokens[id].str);
    if (text) cJSON_AddStringToObject(dst, name, text);
    free(text);
}

/* A GGUF model: tokenizer.chat_template, or tokenizer.chat_template.<name>
 * for named variants, as llama.cpp's converter writes them. */
static lk_status load_gguf_template(const char *path, const char *variant, bool want_tools, lk_template_source *s,
                                    lk_error *err) {
    lk_gguf *g;
    lk_status st = lk_gguf_open(path, &g, err);
    if (st != LK_OK) return st;
    char key[256];
    lk_gguf_str str;
    bool found = false;
    if (!variant && want_tools) found = lk_gguf_get_str(g, "tokenizer.chat_template.tool_use", &str);
    if (!found && variant && strcmp(variant, "default") != 0) {
        snprintf(key, sizeof key, "tokenizer.chat_template.%s", variant);
        found = lk_gguf_get_str(g, key, &str);
        if (!found) {
            lk_gguf_close(g);
            return lk_error_set(err, LK_ERR_NOT_FOUND, "%s: no chat template named '%s' (no %s)", path, variant, key);
        }
    }
    if (!found) found = lk_gguf_get_str(g, "tokenizer.chat_template", &str);
    if (!found) {
        lk_gguf_close(g);
        return lk_error_set(err, LK_ERR_NOT_FOUND,
                            "%s: the model has no chat template (tokenizer.chat_template); give one with a .jinja "
                            "file or tokenizer_config.json",
                            path);
    }
    s->text = gguf_strdup(str);
    gguf_special_token(s->special_tokens, g, "tokenizer.ggml.bos_token_id", "bos_token");
    gguf_special_token(s->special_tokens, g, "tokenizer.ggml.eos_token_id", "eos_token");
    gguf_special_token(s->special_tokens, g, "tokenizer.ggml.unknown_token_id", "unk_token");
    gguf_special_token(s->special_tokens, g, "tokenizer.ggml.padding_token_id", "pad_token");
    lk_gguf_close(g);
    return s->text ? LK_OK : lk_error_set(err, LK_ERR_NOMEM, "out of memory");
}

static bool is_gguf(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "GGUF", 4) == 0;
}

lk_status lk_template_source_load(const char *path, const char *variant, bool want_tools, lk_template_source *s,
                                  lk_error *err) {
    memset(s, 0, sizeof *s);
    s->special_tokens = cJSON_CreateObject();
    if (!s->special_tokens) return lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    struct stat st;
    if (stat(path, &st) != 0) {
        lk_template_source_free(s);
        return lk_error_set(err, LK_ERR_IO, "%s: no such file or directory", path);
    }
    char dir[1024];
    lk_status rc;
    if (S_ISDIR(st.st_mode)) {
        /* An HF model directory: tokenizer_config.json's template, else
         * chat_template.jinja, else chat_template.json (newer exports). */
        snprintf(dir, sizeof dir, "%s", path);
        char p[1100];
        snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
        rc = LK_ERR_NOT_FOUND;
        if (is_file(p)) {
            snprintf(s->path, sizeof s->path, "%s", p);
            rc = load_json_template(p, variant, want_tools, s, err);
        }
        if (rc == LK_ERR_NOT_FOUND) {
            snprintf(p, sizeof p, "%s/chat_template.jinja", dir);
            if (is_file(p)) {
                snprintf(s->path, sizeof s->path, "%s", p);
                size_t n;
                rc = lk_read_file(p, MAX_TEMPLATE_FILE, &s->text, &n, err);
            }
        }
        if (rc == LK_ERR_NOT_FOUND) {
            snprintf(p, sizeof p, "%s/chat_template.json", dir);
            if (is_file(p)) {
                snprintf(s->path, sizeof s->path, "%s", p);
                rc = load_json_template(p, variant, want_tools, s, err);
            }
        }
        if (rc == LK_ERR_NOT_FOUND)
            lk_error_set(err, rc, "%s: no chat template found (looked for tokenizer_config.json, "
                                  "chat_template.jinja, chat_template.json)", path);
    } else {
        snprintf(s->path, sizeof s->path, "%s", path);
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else snprintf(dir, sizeof dir, ".");
        if (ends_with(path, ".json")) {
            rc = load_json_template(path, variant, want_tools, s, err);
        } else if (is_gguf(path)) {
            rc = load_gguf_template(path, variant, want_tools, s, err);
            if (rc != LK_OK) lk_template_source_free(s);
            return rc; /* the special tokens come from the GGUF itself */
        } else {
            size_t n;
            rc = lk_read_file(path, MAX_TEMPLATE_FILE, &s->text, &n, err);
        }
    }
    if (rc == LK_OK) {
        /* special tokens from the tokenizer_config.json beside the template */
        char p[1100];
        snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
        if (is_file(p)) {
            lk_error ignored;
            cJSON *cfg = read_json(p, &ignored);
            if (cfg) add_special_tokens(s->special_tokens, cfg);
            cJSON_Delete(cfg);
        }
    } else {
        lk_template_source_free(s);
    }
    return rc;
}

void lk_template_source_free(lk_template_source *s) {
    free(s->text);
    cJSON_Delete(s->special_tokens);
    s->text = NULL;
    s->special_tokens = NULL;
}
