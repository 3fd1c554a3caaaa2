/* `llmkit pull`: list a repo revision through the hub API, choose the files
 * llmkit needs, download each with resume, retries and verification, then
 * mark the snapshot complete. See pull.h for the protocol. */
#include "hub/pull.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/json.h"
#include "base/progress.h"
#include "base/sha256.h"
#include "hub/hub_http.h"
#include "hub/store.h"

#define URL_MAX 4096
#define LISTING_MAX ((size_t)64 << 20)

typedef struct {
    const lk_pull_options *opt;
    char repo[LK_REPO_ID_MAX + 1];
    char rev[LK_REVISION_MAX + 1];
    char endpoint[1024];
    const char *token;
    int retries, backoff_ms;
} pull_ctx;

static void notice(const pull_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(const pull_ctx *c, const char *fmt, ...) {
    if (!c->opt || !c->opt->notice) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->opt->notice(c->opt->user, msg);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Worth another attempt: the network failed, or the server had a problem. */
static bool transient(const lk_http_result *r) {
    return r->network_error || r->status >= 500 || r->status == 429 || r->status == 408;
}

/* The error for an HTTP status or network failure while fetching `what`. */
static lk_status fetch_error(const pull_ctx *c, const lk_http_result *r, const char *what,
                             const char *url, lk_error *err) {
    if (r->network_error)
        return lk_error_set(err, LK_ERR_IO,
                            "cannot fetch %s from %s: %s. Offline or blocked? Point HF_ENDPOINT "
                            "at a mirror (e.g. HF_ENDPOINT=https://hf-mirror.com) or pass a local "
                            "model path instead",
                            what, c->endpoint, r->error);
    if (r->status == 401 || r->status == 403)
        return lk_error_set(err, LK_ERR_ARG,
                            "%s: HTTP %ld: gated or private repo: set HF_TOKEN or pass --token "
                            "(accept the model's licence on the hub first; the hub also answers "
                            "401 for repos that do not exist)",
                            what, r->status);
    if (r->status == 404)
        return lk_error_set(err, LK_ERR_NOT_FOUND,
                            "%s: HTTP 404: no such repo/revision/file at %s (check the spelling "
                            "of %s@%s)",
                            what, c->endpoint, c->repo, c->rev);
    return lk_error_set(err, LK_ERR_IO, "%s: HTTP %ld from %s", what, r->status, url);
}

/* ---------------------------------------------------------------- listing */

void lk_hub_listing_free(lk_hub_listing *l) {
    for (size_t i = 0; i < l->count; i++) free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->count = 0;
}

lk_status lk_hub_parse_listing(const char *body, size_t len, const char *name,
                               lk_hub_listing *out, lk_error *err) {
    memset(out, 0, sizeof *out);
    cJSON *root;
    lk_json_obj obj;
    const cJSON *siblings;
    const char *sha;
    lk_status st = lk_json_parse(body, len, name, &root, err);
    if (st != LK_OK) return st;
    if ((st = lk_json_root(root, name, &obj, err)) != LK_OK ||
        (st = lk_json_get_array(&obj, "siblings", &siblings, err)) != LK_OK ||
        (st = lk_json_opt_string(&obj, "sha", "", &sha, err)) != LK_OK) {
        cJSON_Delete(root);
        return st;
    }
    /* The commit names a file (refs/<rev>): keep it only if it is plain. */
    if (lk_hub_check_revision(sha, NULL) == LK_OK && strlen(sha) < sizeof out->commit)
        snprintf(out->commit, sizeof out->commit, "%s", sha);
    size_t n = (size_t)cJSON_GetArraySize(siblings);
    out->names = calloc(n ? n : 1, sizeof *out->names);
    if (!out->names) {
        cJSON_Delete(root);
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", name);
    }
    size_t i = 0;
    for (const cJSON *s = siblings->child; s; s = s->next, i++) {
        const char *fname;
        char path[32];
        snprintf(path, sizeof path, "siblings[%zu].rfilename", i);
        const cJSON *v = cJSON_IsObject(s) ? cJSON_GetObjectItemCaseSensitive(s, "rfilename") : NULL;
        if ((st = lk_json_value_string(v, name, path, &fname, err)) != LK_OK) break;
        /* A name that could leave the snapshot folder refuses the whole pull:
         * a listing that holds one is not to be trusted. */
        if ((st = lk_hub_check_filename(fname, err)) != LK_OK) {
            lk_error_wrap(err, "%s lists a file that would escape the model store; refusing", name);
            st = LK_ERR_FORMAT;
            break;
        }
        if (!(out->names[out->count] = strdup(fname))) {
            st = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", name);
            break;
        }
        out->count++;
    }
    cJSON_Delete(root);
    if (st != LK_OK) lk_hub_listing_free(out);
    return st;
}

static lk_status fetch_listing(const pull_ctx *c, lk_hub_listing *out, lk_error *err) {
    char url[URL_MAX], rev_esc[3 * LK_REVISION_MAX + 1];
    lk_status st = lk_http_escape_path(c->rev, false, rev_esc, sizeof rev_esc, err);
    if (st != LK_OK) return st;
    snprintf(url, sizeof url, "%s/api/models/%s/revision/%s", c->endpoint, c->repo, rev_esc);
    char what[512];
    snprintf(what, sizeof what, "the file list of %s@%s", c->repo, c->rev);
    for (int attempt = 0;; attempt++) {
        lk_http_result r;
        char *body;
        size_t len;
        st = lk_http_get(url, c->token, LISTING_MAX, &body, &len, &r, err);
        if (st != LK_OK && !r.network_error) return st;
        if (st == LK_OK && r.status == 200) {
            char name[LK_REPO_ID_MAX + LK_REVISION_MAX + 32];
            snprintf(name, sizeof name, "model info of %s@%s", c->repo, c->rev);
            st = lk_hub_parse_listing(body, len, name, out, err);
            if (st == LK_OK && !out->commit[0] && r.commit[0] &&
                lk_hub_check_revision(r.commit, NULL) == LK_OK)
                snprintf(out->commit, sizeof out->commit, "%s", r.commit);
            free(body);
            return st;
        }
        free(body);
        if (!transient(&r) || attempt >= c->retries) return fetch_error(c, &r, what, url, err);
        int wait = c->backoff_ms << (attempt < 10 ? attempt : 10);
        notice(c, "%s: %s; retrying in %.1f s", what,
               r.network_error ? r.error : "server error", wait / 1000.0);
        sleep_ms(wait);
    }
}

/* ---------------------------------------------------------------- selection */

bool lk_pull_default_file(const char *name, bool gguf_chosen) {
    static const char *const always[] = {
        "config.json",          "generation_config.json", "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
        "tokenizer.model",      "vocab.json",             "merges.txt",
    };
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (strcmp(name, always[i]) == 0) return true;
    if (gguf_chosen) return false;
    return fnmatch("*.safetensors", name, FNM_PATHNAME) == 0 ||
           strcmp(name, "model.safetensors.index.json") == 0;
}

static bool has_suffix(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Marks the files to fetch in `chosen` (one flag per listing entry). */
static lk_status select_files(const pull_ctx *c, const lk_hub_listing *l, bool *chosen, size_t *count,
                              lk_error *err) {
    const lk_pull_options *o = c->opt;
    const char *file = o ? o->file : NULL;
    bool gguf_chosen = file && has_suffix(file, ".gguf");
    bool file_found = false;
    *count = 0;
    for (size_t i = 0; i < l->count; i++) {
        const char *name = l->names[i];
        bool pick = false;
        if (o && o->n_include > 0) {
            for (size_t k = 0; k < o->n_include && !pick; k++)
                pick = fnmatch(o->include[k], name, 0) == 0;
        } else {
            pick = lk_pull_default_file(name, gguf_chosen);
        }
        if (file && strcmp(name, file) == 0) pick = file_found = true;
        chosen[i] = pick;
        *count += pick;
    }
    if (file && !file_found) {
        char ggufs[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < l->count && used < sizeof ggufs - 1; i++)
            if (has_suffix(l->names[i], ".gguf"))
                used += (size_t)snprintf(ggufs + used, sizeof ggufs - used, "%s%s",
                                         used ? ", " : "", l->names[i]);
        return lk_error_set(err, LK_ERR_NOT_FOUND, "%s@%s has no file '%s'%s%s", c->repo, c->rev,
                            file, used ? "; its .gguf files: " : " (and no .gguf files)", ggufs);
    }
    if (*count == 0)
        return lk_error_set(err, LK_ERR_NOT_FOUND,
                            "%s@%s: no file matches what llmkit needs (%zu files listed); choose "
                            "with --include GLOB or --file NAME",
                            c->repo, c->rev, l->count);
    return LK_OK;
}

/* ---------------------------------------------------------------- one file */

static lk_status verify(const char *part, const lk_http_result *r, const char *name,
                        lk_error *err) {
    struct stat st;
    if (stat(part, &st) != 0)
        return lk_error_set(err, LK_ERR_IO, "%s: %s", part, strerror(errno));
    if (r->size && (uint64_t)st.st_size != r->size) {
        unlink(part);
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: size mismatch: got %lld bytes, the hub says %llu; the file was "
                            "removed, pull again",
                            name, (long long)st.st_size, (unsigned long long)r->size);
    }
    if (!r->sha256[0]) return LK_OK;
    char got[65];
    lk_status s = lk_sha256_file(part, got, err);
    if (s != LK_OK) return s;
    if (strcmp(got, r->sha256) != 0) {
        unlink(part);
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: checksum mismatch: sha256 %s, the hub says %s; the corrupt file "
                            "was removed (pull again; if it repeats, the mirror serves a bad copy)",
                            name, got, r->sha256);
    }
    return LK_OK;
}

static lk_status fetch_file(const pull_ctx *c, const char *snap, const char *name,
                            lk_error *err) {
    char dest[LK_STORE_PATH_MAX], part[LK_STORE_PATH_MAX + 8], url[URL_MAX];
    char name_esc[3 * LK_HUB_FILE_MAX + 1], rev_esc[3 * LK_REVISION_MAX + 1];
    if ((size_t)snprintf(dest, sizeof dest, "%s/%s", snap, name) >= sizeof dest)
        return lk_error_set(err, LK_ERR_RANGE, "%s: path too long", name);
    struct stat st;
    if (lstat(dest, &st) == 0 && S_ISREG(st.st_mode)) {
        notice(c, "%s: already here", name);
        return LK_OK;
    }
    lk_status s;
    /* Nested repo files ("onnx/model.onnx"): create their folders. */
    const char *slash = strrchr(name, '/');
    if (slash) {
        char dir[LK_STORE_PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%.*s", snap, (int)(slash - name), name);
        if ((s = lk_store_mkdirs(dir, err)) != LK_OK) return s;
    }
    snprintf(part, sizeof part, "%s.part", dest);
    if ((s = lk_http_escape_path(name, true, name_esc, sizeof name_esc, err)) != LK_OK ||
        (s = lk_http_escape_path(c->rev, false, rev_esc, sizeof rev_esc, err)) != LK_OK)
        return s;
    snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", c->endpoint, c->repo, rev_esc, name_esc);
    for (int attempt = 0;; attempt++) {
        lk_http_result r;
        lk_progress bar;
        lk_progress_begin(&bar, c->opt ? c->opt->progress : NULL, name, 0);
        lk_error derr;
        s = lk_http_download(url, c->token, part, &bar, &r, &derr);
        lk_progress_end(&bar);
        if (s == LK_OK) {
            if ((s = verify(part, &r, name, err)) != LK_OK) return s;
            if (rename(part, dest) != 0)
                return lk_error_set(err, LK_ERR_IO, "%s: cannot rename to %s: %s", part, dest,
                                    strerror(errno));
            return LK_OK;
        }
        if (r.local_error) { /* the disk, not the network: retrying will not help */
            if (err) *err = derr;
            return s;
        }
        if (r.status == 416) unlink(part); /* the part is longer than the file: start over */
        else if (!transient(&r) || attempt >= c->retries) {
            char what[LK_HUB_FILE_MAX + 64];
            snprintf(what, sizeof what, "%s (%s)", name, url);
            return fetch_error(c, &r, what, url, err);
        }
        if (attempt >= c->retries)
            return lk_error_set(err, LK_ERR_IO, "%s: the server keeps refusing the resume range",
                                name);
        int wait = c->backoff_ms << (attempt < 10 ? attempt : 10);
        notice(c, "%s: %s; retrying in %.1f s (resuming)", name,
               r.network_error ? r.error : "server error", wait / 1000.0);
        sleep_ms(wait);
    }
}

/* ---------------------------------------------------------------- the whole pull */

/* The commit in a refs file; "" when absent. */
static void read_commit(const char *path, char commit[64]) {
    commit[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(commit, 64, f)) commit[0] = '\0';
    fclose(f);
    commit[strcspn(commit, "\r\n")] = '\0';
}

/* Writes `commit` to the revision's refs file, or with `pending` to its
 * "<rev>@pulling" twin ('@' never occurs in a revision), which records what a
 * pull in progress is fetching. */
static lk_status write_ref(const pull_ctx *c, const char *commit, bool pending, lk_error *err) {
    char ref[LK_STORE_PATH_MAX], tmp[LK_STORE_PATH_MAX + 16];
    lk_status s = lk_store_ref_path(c->repo, c->rev, ref, sizeof ref, err);
    if (s != LK_OK) return s;
    if (pending) strncat(ref, "@pulling", sizeof ref - strlen(ref) - 1);
    char dir[LK_STORE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", ref);
    *strrchr(dir, '/') = '\0';
    if ((s = lk_store_mkdirs(dir, err)) != LK_OK) return s;
    snprintf(tmp, sizeof tmp, "%s@tmp", ref); /* '@': no revision's name */
    FILE *f = fopen(tmp, "w");
    if (!f) return lk_error_set(err, LK_ERR_IO, "%s: %s", tmp, strerror(errno));
    fprintf(f, "%s\n", commit);
    if (fclose(f) != 0 || rename(tmp, ref) != 0) {
        unlink(tmp);
        return lk_error_set(err, LK_ERR_IO, "%s: %s", ref, strerror(errno));
    }
    return LK_OK;
}

/* Before fetching: when the store holds (or was filling) this revision at
 * another commit (a branch moved), its files are stale: drop the snapshot and
 * start over. Then record the commit this pull fetches. */
static lk_status start_snapshot(const pull_ctx *c, const char *commit, lk_error *err) {
    char ref[LK_STORE_PATH_MAX + 16], old[64];
    lk_status s = lk_store_ref_path(c->repo, c->rev, ref, sizeof ref - 8, err);
    if (s != LK_OK) return s;
    read_commit(ref, old);
    if (!old[0]) {
        strcat(ref, "@pulling");
        read_commit(ref, old);
    }
    if (old[0] && strcmp(old, commit) != 0) {
        notice(c, "%s@%s moved from %.12s to %.12s: replacing the stored copy", c->repo, c->rev,
               old, commit);
        s = lk_store_remove(c->repo, c->rev, err);
        if (s != LK_OK && s != LK_ERR_NOT_FOUND) return s;
    }
    return write_ref(c, commit, true, err);
}

lk_status lk_pull(const char *ref, const lk_pull_options *opt, char *out, size_t n,
                  lk_error *err) {
    pull_ctx c = {.opt = opt};
    lk_status s = lk_hub_parse_ref(ref, c.repo, c.rev, NULL, err);
    if (s != LK_OK) return s;
    const char *ep = opt && opt->endpoint ? opt->endpoint : getenv("HF_ENDPOINT");
    if (!ep || !*ep) ep = LK_HUB_DEFAULT_ENDPOINT;
    if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)
        return lk_error_set(err, LK_ERR_ARG, "HF_ENDPOINT '%s' must start with http:// or https://",
                            ep);
    if ((size_t)snprintf(c.endpoint, sizeof c.endpoint, "%s", ep) >= sizeof c.endpoint)
        return lk_error_set(err, LK_ERR_ARG, "HF_ENDPOINT is too long");
    for (size_t len = strlen(c.endpoint); len > 0 && c.endpoint[len - 1] == '/';)
        c.endpoint[--len] = '\0';
    c.token = opt && opt->token ? opt->token : getenv("HF_TOKEN");
    c.retries = opt && opt->retries >= 0 ? opt->retries : 5;
    c.backoff_ms = opt && opt->backoff_ms > 0 ? opt->backoff_ms : 1000;

    lk_hub_listing l = {0};
    if ((s = fetch_listing(&c, &l, err)) != LK_OK) return s;
    bool *chosen = calloc(l.count ? l.count : 1, sizeof *chosen);
    size_t count = 0;
    char snap[LK_STORE_PATH_MAX];
    if (!chosen) s = lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    if (s == LK_OK) s = select_files(&c, &l, chosen, &count, err);
    const char *commit = l.commit[0] ? l.commit : c.rev;
    if (s == LK_OK) s = start_snapshot(&c, commit, err);
    if (s == LK_OK) s = lk_store_repo_path(c.repo, c.rev, snap, sizeof snap, err);
    if (s == LK_OK) s = lk_store_mkdirs(snap, err);
    size_t done = 0;
    for (size_t i = 0; s == LK_OK && i < l.count; i++) {
        if (!chosen[i]) continue;
        notice(&c, "[%zu/%zu] %s", ++done, count, l.names[i]);
        s = fetch_file(&c, snap, l.names[i], err);
    }
    if (s == LK_OK) s = write_ref(&c, commit, false, err);
    if (s == LK_OK) {
        char pending[LK_STORE_PATH_MAX + 16];
        lk_store_ref_path(c.repo, c.rev, pending, sizeof pending - 8, NULL);
        strcat(pending, "@pulling");
        unlink(pending);
    }
    free(chosen);
    lk_hub_listing_free(&l);
    if (s != LK_OK) return s;
    char arg[LK_REPO_ID_MAX + LK_REVISION_MAX + 2];
    snprintf(arg, sizeof arg, "%s@%s", c.repo, c.rev);
    return lk_store_resolve(arg, out, n, err);
}
