/* Agreement with Hugging Face's JavaScript tokenizers (@huggingface/tokenizers
 * 0.2.0) on every tokenizer.json of the fixtures, over a corpus that mixes
 * English, Chinese, Japanese, Korean, code, emoji, runs of spaces, tabs and
 * newlines, digits, and paragraphs of the fixture corpora.
 *
 * tests/tokenizer_js/make_golden.mjs ran the JS library and wrote
 * golden.json: for each (tokenizer, text) the number of ids and their FNV-1a
 * hash, with add_special_tokens on and special tokens matched in the text
 * (HF's defaults, hence parse_special here). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "test.h"

static uint32_t fnv_ids(const int32_t *ids, size_t n) {
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 4; b++) h = (h ^ (((uint32_t)ids[i] >> (8 * b)) & 0xFF)) * 0x01000193u;
    return h;
}

/* The text of entry e: inline, or a slice of a fixture corpus. Caller frees. */
static char *entry_text(const cJSON *e, size_t *len) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "text");
    if (cJSON_IsString(t)) {
        *len = strlen(t->valuestring);
        return strdup(t->valuestring);
    }
    const char *rel = cJSON_GetObjectItemCaseSensitive(e, "file")->valuestring;
    size_t off = (size_t)cJSON_GetObjectItemCaseSensitive(e, "offset")->valuedouble;
    size_t n = (size_t)cJSON_GetObjectItemCaseSensitive(e, "length")->valuedouble;
    const char *path = lk_test_fixture(rel);
    char *all;
    size_t size;
    lk_error err;
    if (!path || lk_read_file(path, 64 << 20, &all, &size, &err) != LK_OK) return NULL;
    if (off + n > size) {
        free(all);
        return NULL;
    }
    char *s = malloc(n + 1);
    memcpy(s, all + off, n);
    s[n] = '\0';
    free(all);
    *len = n;
    return s;
}

int main(void) {
    if (!lk_test_fixtures()) lk_test_skip("fixtures folder not found");
    char gpath[4096];
    snprintf(gpath, sizeof gpath, "%s/tests/tokenizer_js/golden.json", lk_test_source_dir());
    char *g;
    size_t glen;
    lk_error err;
    CHECK_OK(lk_read_file(gpath, 16 << 20, &g, &glen, &err), &err);
    cJSON *golden = cJSON_ParseWithLength(g, glen);
    free(g);
    CHECK(golden != NULL);
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(golden, "texts");
    int n_texts = cJSON_GetArraySize(texts);
    const cJSON *res;
    cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(golden, "results")) {
        const char *rel = cJSON_GetObjectItemCaseSensitive(res, "tokenizer")->valuestring;
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(res, "rows");
        const char *path = lk_test_fixture(rel);
        if (!path || !rows) {
            printf("SKIP %s (%s)\n", rel, path ? "the JS library could not load it" : "absent");
            continue;
        }
        lk_tokenizer *tok;
        CHECK_OK(lk_tokenizer_load(path, &tok, &err), &err);
        if (!tok) continue;
        int pass = 0, total = 0, i = 0;
        const cJSON *row;
        cJSON_ArrayForEach(row, rows) {
            if (i >= n_texts) break;
            size_t len;
            char *text = entry_text(cJSON_GetArrayItem(texts, i), &len);
            i++;
            if (!text) continue;
            total++;
            int32_t *ids;
            size_t n;
            CHECK_OK(lk_tokenizer_encode(tok, text, len, true, true, &ids, &n, &err), &err);
            long want_n = (long)cJSON_GetArrayItem(row, 0)->valuedouble;
            uint32_t want_h = (uint32_t)cJSON_GetArrayItem(row, 1)->valuedouble;
            if ((long)n == want_n && fnv_ids(ids, n) == want_h) pass++;
            else fprintf(stderr, "%s: text %d \"%.60s\": %zu ids, JS %ld (hash differs)\n", rel, i - 1, text, n, want_n);
            free(ids);
            free(text);
        }
        printf("%-52s %d/%d texts agree with @huggingface/tokenizers\n", rel, pass, total);
        CHECK_EQ_INT(pass, total);
        lk_tokenizer_free(tok);
    }
    cJSON_Delete(golden);
    return lk_test_finish("tokenizer_js");
}
