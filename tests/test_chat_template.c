/* Chat templates render byte-identically to Hugging Face transformers.
 *
 * tests/chat/golden/ holds renderings made by tests/chat/make_golden.py with
 * Python's jinja2 configured as transformers configures it, for every
 * template in the fixtures (llama.cpp's, chujiezheng's, ollama's Qwen3 and
 * each tokenizer_config.json's) and a battery of conversations. Each case is
 * rendered here and must match to the byte; cases the template rejects
 * (raise_exception, or a Python error) must fail here too, with the same
 * message for raise_exception. A second part checks ollama's expected
 * renderings for the templates that ollama says reproduce an HF template. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "chat/chat_template.h"
#include "test.h"

static char *read_text(const char *path) {
    char *s = NULL;
    size_t n;
    lk_error err;
    if (lk_read_file(path, (size_t)64 << 20, &s, &n, &err) != LK_OK) return NULL;
    return s;
}

static cJSON *read_json(const char *path) {
    char *s = read_text(path);
    if (!s) return NULL;
    cJSON *j = cJSON_Parse(s);
    free(s);
    return j;
}

/* The template text a golden file names: a .jinja file, or the chat_template
 * of a tokenizer_config.json / chat_template.json (string, or list of
 * {name, template} picked by key). Caller frees. */
static char *load_template(const char *path, const char *key) {
    size_t n = strlen(path);
    if (n > 6 && strcmp(path + n - 6, ".jinja") == 0) return read_text(path);
    cJSON *j = read_json(path);
    if (!j) return NULL;
    cJSON *ct = cJSON_GetObjectItemCaseSensitive(j, "chat_template");
    char *out = NULL;
    if (cJSON_IsString(ct)) out = strdup(ct->valuestring);
    else if (cJSON_IsArray(ct) && key) {
        cJSON *it;
        cJSON_ArrayForEach(it, ct) {
            cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
            cJSON *tt = cJSON_GetObjectItemCaseSensitive(it, "template");
            if (cJSON_IsString(nm) && strcmp(nm->valuestring, key) == 0 && cJSON_IsString(tt))
                out = strdup(tt->valuestring);
        }
    }
    cJSON_Delete(j);
    return out;
}

/* Prints where two renderings first differ, with some context. */
static void show_diff(const char *what, const char *want, const char *got) {
    size_t i = 0;
    while (want[i] && want[i] == got[i]) i++;
    size_t from = i > 60 ? i - 60 : 0;
    fprintf(stderr, "  %s: first difference at byte %zu (expected %zu bytes, got %zu)\n", what, i, strlen(want),
            strlen(got));
    fprintf(stderr, "    expected: ...%.*s[[%.60s]]\n", (int)(i - from), want + from, want + i);
    fprintf(stderr, "    got:      ...%.*s[[%.60s]]\n", (int)(i - from), got + from, got + i);
}

typedef struct {
    char family[64];
    int pass, total;
} family_count;

static family_count g_families[16];
static int g_nfamilies;

static family_count *family_of(const char *file) {
    char fam[64];
    const char *sep = strstr(file, "__");
    size_t n = sep ? (size_t)(sep - file) : strlen(file);
    if (n >= sizeof fam) n = sizeof fam - 1;
    memcpy(fam, file, n);
    fam[n] = '\0';
    for (int i = 0; i < g_nfamilies; i++)
        if (strcmp(g_families[i].family, fam) == 0) return &g_families[i];
    family_count *f = &g_families[g_nfamilies < 15 ? g_nfamilies++ : 15];
    snprintf(f->family, sizeof f->family, "%s", fam);
    return f;
}

static cJSON *find_conversation(cJSON *convs, const char *name) {
    cJSON *c;
    cJSON_ArrayForEach(c, convs) {
        cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0)
            return cJSON_GetObjectItemCaseSensitive(c, "context");
    }
    return NULL;
}

static void check_golden_file(const char *dir, const char *file, cJSON *convs, int64_t now) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    cJSON *g = read_json(path);
    CHECK_MSG(g != NULL, "cannot read %s", path);
    if (!g) return;
    cJSON *relj = cJSON_GetObjectItemCaseSensitive(g, "template");
    CHECK_MSG(cJSON_IsString(relj), "%s: no \"template\" member", path);
    if (!cJSON_IsString(relj)) {
        cJSON_Delete(g);
        return;
    }
    const char *rel = relj->valuestring;
    cJSON *key = cJSON_GetObjectItemCaseSensitive(g, "key");
    const char *tpath = lk_test_fixture(rel);
    family_count *fam = family_of(file);
    char *text = tpath ? load_template(tpath, cJSON_IsString(key) ? key->valuestring : NULL) : NULL;
    if (!text) {
        fprintf(stderr, "%s: template %s not found in the fixtures; skipped\n", file, rel);
        cJSON_Delete(g);
        return;
    }
    lk_error err;
    lk_chat_template *t = NULL;
    lk_status st = lk_chat_template_parse(text, strlen(text), rel, &t, &err);
    free(text);
    cJSON *cases = cJSON_GetObjectItemCaseSensitive(g, "cases"), *cs;
    cJSON *toks = cJSON_GetObjectItemCaseSensitive(g, "special_tokens");
    cJSON_ArrayForEach(cs, cases) {
        const char *name = cJSON_GetObjectItemCaseSensitive(cs, "name")->valuestring;
        cJSON *want = cJSON_GetObjectItemCaseSensitive(cs, "output");
        cJSON *want_err = cJSON_GetObjectItemCaseSensitive(cs, "error");
        cJSON *want_msg = cJSON_GetObjectItemCaseSensitive(cs, "message");
        fam->total++;
        if (st != LK_OK) {
            fprintf(stderr, "FAIL %s [%s]: parse error: %s\n", file, name, err.msg);
            lk_test_checks++, lk_test_failures++;
            continue;
        }
        /* the context as make_golden.py builds it: special tokens, the
         * conversation, then tools/documents = None when absent */
        cJSON *ctx = cJSON_Duplicate(toks, 1);
        cJSON *conv = find_conversation(convs, name), *it;
        cJSON_ArrayForEach(it, conv) cJSON_AddItemToObject(ctx, it->string, cJSON_Duplicate(it, 1));
        if (!cJSON_GetObjectItemCaseSensitive(ctx, "tools")) cJSON_AddNullToObject(ctx, "tools");
        if (!cJSON_GetObjectItemCaseSensitive(ctx, "documents")) cJSON_AddNullToObject(ctx, "documents");
        lk_chat_template_options opt = {.now = now};
        char *out = NULL;
        lk_status rs = lk_chat_template_render_cjson(t, ctx, &opt, &out, NULL, &err);
        cJSON_Delete(ctx);
        bool ok;
        if (cJSON_IsString(want)) {
            ok = rs == LK_OK && strcmp(out, want->valuestring) == 0;
            if (!ok) {
                fprintf(stderr, "FAIL %s [%s]\n", file, name);
                if (rs != LK_OK) fprintf(stderr, "  error: %s\n", err.msg);
                else show_diff("output", want->valuestring, out);
            }
        } else {
            bool is_raise = cJSON_IsString(want_err) && strcmp(want_err->valuestring, "TemplateError") == 0;
            ok = rs != LK_OK && (!is_raise || (strstr(err.msg, "raise_exception: ") &&
                                               strstr(err.msg, want_msg->valuestring)));
            if (!ok)
                fprintf(stderr, "FAIL %s [%s]: expected %s (%s), got %s\n", file, name, want_err->valuestring,
                        want_msg->valuestring, rs == LK_OK ? "success" : err.msg);
        }
        free(out);
        lk_test_checks++;
        if (ok) fam->pass++;
        else lk_test_failures++;
    }
    lk_chat_template_free(t);
    cJSON_Delete(g);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_goldens(void) {
    if (!lk_test_fixtures()) lk_test_skip("fixtures not found (chat templates are read from there)");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/chat/golden", lk_test_source_dir());
    char cpath[1100];
    snprintf(cpath, sizeof cpath, "%s/conversations.json", dir);
    cJSON *convs_file = read_json(cpath);
    CHECK_MSG(convs_file != NULL, "cannot read %s", cpath);
    if (!convs_file) return;
    cJSON *convs = cJSON_GetObjectItemCaseSensitive(convs_file, "conversations");
    int64_t now = (int64_t)cJSON_GetObjectItemCaseSensitive(convs_file, "fixed_epoch")->valuedouble;
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) return;
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0 && strcmp(e->d_name, "conversations.json") != 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        check_golden_file(dir, names[i], convs, now);
        free(names[i]);
    }
    int pass = 0, total = 0;
    for (int i = 0; i < g_nfamilies; i++) {
        printf("golden %-12s %4d / %4d cases identical\n", g_families[i].family, g_families[i].pass,
               g_families[i].total);
        pass += g_families[i].pass;
        total += g_families[i].total;
    }
    printf("golden %-12s %4d / %4d cases identical (%zu templates)\n", "all", pass, total, n);
    cJSON_Delete(convs_file);
}

/* ollama's expected renderings (fixtures/chat-templates/ollama/rendered) for
 * the HF templates listed in its index.json: every pair that jinja2
 * reproduces (tests/chat/ollama_matches.json, written by make_golden.py)
 * llmkit must reproduce too. */
static void test_ollama(void) {
    const char *index_path = lk_test_fixture("chat-templates/ollama/index.json");
    if (!index_path) {
        printf("ollama: fixtures absent; skipped\n");
        return;
    }
    cJSON *index = read_json(index_path);
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/chat/ollama_matches.json", lk_test_source_dir());
    cJSON *m = read_json(path);
    CHECK(index && m);
    if (!index || !m) {
        cJSON_Delete(index);
        cJSON_Delete(m);
        return;
    }
    cJSON *cases = cJSON_GetObjectItemCaseSensitive(m, "cases"), *it;
    int pass = 0, total = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m, "matches")) {
        int i = cJSON_GetObjectItemCaseSensitive(it, "index")->valueint;
        const char *name = cJSON_GetObjectItemCaseSensitive(it, "name")->valuestring;
        const char *cname = cJSON_GetObjectItemCaseSensitive(it, "case")->valuestring;
        bool strip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "strip_trailing_space"));
        cJSON *entry = cJSON_GetArrayItem(index, i);
        char rel[512];
        snprintf(rel, sizeof rel, "chat-templates/ollama/rendered/%s.gotmpl/%s", name, cname);
        const char *wpath = lk_test_fixture(rel);
        char *want = wpath ? read_text(wpath) : NULL;
        const char *text = entry ? cJSON_GetObjectItemCaseSensitive(entry, "template")->valuestring : NULL;
        total++;
        if (!want || !text) {
            CHECK_MSG(false, "ollama %s/%s: fixture missing", name, cname);
            free(want);
            continue;
        }
        cJSON *ctx = cJSON_CreateObject();
        cJSON_AddItemToObject(ctx, "messages", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cases, cname), 1));
        cJSON_AddTrueToObject(ctx, "add_generation_prompt");
        cJSON_AddStringToObject(ctx, "bos_token", cJSON_GetObjectItemCaseSensitive(it, "bos_token")->valuestring);
        cJSON_AddStringToObject(ctx, "eos_token", cJSON_GetObjectItemCaseSensitive(it, "eos_token")->valuestring);
        cJSON_AddNullToObject(ctx, "tools");
        cJSON_AddNullToObject(ctx, "documents");
        lk_error err;
        lk_chat_template *t;
        char *out = NULL;
        lk_status st = lk_chat_template_parse(text, strlen(text), name, &t, &err);
        if (st == LK_OK) {
            st = lk_chat_template_render_cjson(t, ctx, NULL, &out, NULL, &err);
            lk_chat_template_free(t);
        }
        cJSON_Delete(ctx);
        if (st == LK_OK && strip && out[0] && out[strlen(out) - 1] == ' ') out[strlen(out) - 1] = '\0';
        bool ok = st == LK_OK && strcmp(out, want) == 0;
        if (!ok) {
            fprintf(stderr, "FAIL ollama index %d (%s) [%s]\n", i, name, cname);
            if (st != LK_OK) fprintf(stderr, "  error: %s\n", err.msg);
            else show_diff("output", want, out);
        }
        lk_test_checks++;
        lk_test_failures += !ok;
        pass += ok;
        free(out);
        free(want);
    }
    printf("ollama: %d / %d renderings identical (of %d in the fixtures; jinja2 itself reproduces only these)\n",
           pass, total, cJSON_GetObjectItemCaseSensitive(m, "total")->valueint);
    cJSON_Delete(index);
    cJSON_Delete(m);
}

int main(void) {
    test_goldens();
    test_ollama();
    return lk_test_finish("chat_template");
}
