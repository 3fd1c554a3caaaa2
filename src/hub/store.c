/* The local model store: name validation, paths, resolution of MODEL
 * arguments, listing and removal. See store.h for the layout. Everything
 * that turns a name into a path goes through the validators first; removal
 * walks the tree without following symbolic links. */
#include "hub/store.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

/* ---------------------------------------------------------------- validation */

static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* One part of a repo id: owner or name. */
static lk_status check_repo_part(const char *repo, const char *p, size_t len, const char *what,
                                 lk_error *err) {
    if (len == 0 || len > 96)
        return lk_error_set(err, LK_ERR_ARG, "repo id '%s': the %s must be 1 to 96 characters",
                            repo, what);
    if (p[0] == '.' || p[0] == '-')
        return lk_error_set(err, LK_ERR_ARG, "repo id '%s': the %s may not start with '%c'", repo,
                            what, p[0]);
    for (size_t i = 0; i < len; i++) {
        if (!name_char(p[i]))
            return lk_error_set(err, LK_ERR_ARG,
                                "repo id '%s': character %zu of the %s is not allowed "
                                "(use letters, digits, '.', '_', '-')",
                                repo, i + 1, what);
        if (p[i] == '.' && i + 1 < len && p[i + 1] == '.')
            return lk_error_set(err, LK_ERR_ARG, "repo id '%s': '..' is not allowed", repo);
    }
    return LK_OK;
}

lk_status lk_hub_check_repo_id(const char *repo, lk_error *err) {
    if (!repo || !*repo) return lk_error_set(err, LK_ERR_ARG, "empty repo id (expected owner/name)");
    size_t len = strnlen(repo, LK_REPO_ID_MAX + 2);
    const char *slash = strchr(repo, '/');
    if (len > LK_REPO_ID_MAX || !slash || strchr(slash + 1, '/'))
        return lk_error_set(err, LK_ERR_ARG,
                            "repo id '%.200s' must be owner/name, e.g. Qwen/Qwen2.5-0.5B-Instruct",
                            repo);
    lk_status st = check_repo_part(repo, repo, (size_t)(slash - repo), "owner", err);
    if (st != LK_OK) return st;
    return check_repo_part(repo, slash + 1, strlen(slash + 1), "name", err);
}

lk_status lk_hub_check_revision(const char *rev, lk_error *err) {
    if (!rev || !*rev) return lk_error_set(err, LK_ERR_ARG, "empty revision");
    size_t len = strnlen(rev, LK_REVISION_MAX + 1);
    if (len > LK_REVISION_MAX)
        return lk_error_set(err, LK_ERR_ARG, "revision '%.40s...' is longer than %d characters",
                            rev, LK_REVISION_MAX);
    for (size_t i = 0; i < len; i++) {
        char c = rev[i];
        bool part_start = i == 0 || rev[i - 1] == '/';
        if (!name_char(c) && c != '/')
            return lk_error_set(err, LK_ERR_ARG,
                                "revision '%s': character %zu is not allowed (a branch, tag or "
                                "commit uses letters, digits, '.', '_', '-', '/')",
                                rev, i + 1);
        if (part_start && (c == '/' || c == '.' || c == '-'))
            return lk_error_set(err, LK_ERR_ARG,
                                "revision '%s': a part may not be empty or start with '%c'", rev,
                                c);
    }
    if (rev[len - 1] == '/')
        return lk_error_set(err, LK_ERR_ARG, "revision '%s' may not end with '/'", rev);
    if (strstr(rev, ".."))
        return lk_error_set(err, LK_ERR_ARG, "revision '%s': '..' is not allowed", rev);
    return LK_OK;
}

lk_status lk_hub_check_filename(const char *name, lk_error *err) {
    if (!name || !*name) return lk_error_set(err, LK_ERR_FORMAT, "an empty file name");
    size_t len = strnlen(name, LK_HUB_FILE_MAX + 1);
    if (len > LK_HUB_FILE_MAX)
        return lk_error_set(err, LK_ERR_FORMAT, "file name '%.60s...' is longer than %d bytes",
                            name, LK_HUB_FILE_MAX);
    if (name[0] == '/')
        return lk_error_set(err, LK_ERR_FORMAT, "file name '%s' is an absolute path", name);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return lk_error_set(err, LK_ERR_FORMAT,
                                "file name '%.*s...' holds a control character", (int)i, name);
        if (c == '\\' || c == ':')
            return lk_error_set(err, LK_ERR_FORMAT, "file name '%s' holds a '%c'", name, c);
    }
    /* Parts: none empty, "." or "..". */
    const char *p = name;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        if (plen == 0 || plen > 255 || (plen == 1 && p[0] == '.') ||
            (plen == 2 && p[0] == '.' && p[1] == '.'))
            return lk_error_set(err, LK_ERR_FORMAT,
                                "file name '%s' has an empty, '.', '..' or over-long part", name);
        if (!end) break;
        p = end + 1;
    }
    return LK_OK;
}

lk_status lk_hub_parse_ref(const char *arg, char repo[LK_REPO_ID_MAX + 1],
                           char rev[LK_REVISION_MAX + 1], bool *rev_given, lk_error *err) {
    const char *at = strchr(arg, '@');
    size_t rlen = at ? (size_t)(at - arg) : strlen(arg);
    if (rlen > LK_REPO_ID_MAX)
        return lk_error_set(err, LK_ERR_ARG, "repo id '%.60s...' is too long", arg);
    memcpy(repo, arg, rlen);
    repo[rlen] = '\0';
    lk_status st = lk_hub_check_repo_id(repo, err);
    if (st != LK_OK) return st;
    if (rev_given) *rev_given = at != NULL;
    const char *r = at ? at + 1 : "main";
    if ((st = lk_hub_check_revision(r, err)) != LK_OK) return st;
    snprintf(rev, LK_REVISION_MAX + 1, "%s", r);
    return LK_OK;
}

/* ---------------------------------------------------------------- paths */

lk_status lk_store_root(char *out, size_t n, lk_error *err) {
    const char *home = getenv("LLMKIT_HOME");
    int len;
    if (home && *home) len = snprintf(out, n, "%s", home);
    else if (getenv("XDG_CACHE_HOME") && getenv("XDG_CACHE_HOME")[0] == '/')
        len = snprintf(out, n, "%s/llmkit", getenv("XDG_CACHE_HOME"));
    else if (getenv("HOME") && *getenv("HOME"))
        len = snprintf(out, n, "%s/.cache/llmkit", getenv("HOME"));
    else
        return lk_error_set(err, LK_ERR_ARG,
                            "no model store: set LLMKIT_HOME (or HOME) to a writable folder");
    if (len < 0 || (size_t)len >= n)
        return lk_error_set(err, LK_ERR_RANGE, "the model store path is too long");
    while (len > 1 && out[len - 1] == '/') out[--len] = '\0';
    return LK_OK;
}

/* The on-disk name of a revision: '/' becomes '+'. */
static void revision_dirname(const char *rev, char out[LK_REVISION_MAX + 1]) {
    size_t i = 0;
    for (; rev[i] && i < LK_REVISION_MAX; i++) out[i] = rev[i] == '/' ? '+' : rev[i];
    out[i] = '\0';
}

static void revision_from_dirname(const char *dir, char out[LK_REVISION_MAX + 1]) {
    size_t i = 0;
    for (; dir[i] && i < LK_REVISION_MAX; i++) out[i] = dir[i] == '+' ? '/' : dir[i];
    out[i] = '\0';
}

static lk_status repo_subpath(const char *repo, const char *sub, const char *rev, char *out,
                              size_t n, lk_error *err) {
    lk_status st = lk_hub_check_repo_id(repo, err);
    if (st == LK_OK && rev) st = lk_hub_check_revision(rev, err);
    if (st != LK_OK) return st;
    char root[LK_STORE_PATH_MAX];
    if ((st = lk_store_root(root, sizeof root, err)) != LK_OK) return st;
    char rdir[LK_REVISION_MAX + 1] = "";
    if (rev) revision_dirname(rev, rdir);
    int len = rev ? snprintf(out, n, "%s/models/%s/%s/%s", root, repo, sub, rdir)
                  : snprintf(out, n, "%s/models/%s", root, repo);
    if (len < 0 || (size_t)len >= n)
        return lk_error_set(err, LK_ERR_RANGE, "store path for %s is too long", repo);
    return LK_OK;
}

lk_status lk_store_repo_path(const char *repo, const char *rev, char *out, size_t n,
                             lk_error *err) {
    return repo_subpath(repo, "snapshots", rev, out, n, err);
}

lk_status lk_store_ref_path(const char *repo, const char *rev, char *out, size_t n,
                            lk_error *err) {
    if (!rev) return lk_error_set(err, LK_ERR_ARG, "a ref path needs a revision");
    return repo_subpath(repo, "refs", rev, out, n, err);
}

lk_status lk_store_mkdirs(const char *path, lk_error *err) {
    char buf[LK_STORE_PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf) return lk_error_set(err, LK_ERR_RANGE, "%s: path too long", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return lk_error_set(err, LK_ERR_IO, "%s: cannot create folder: %s", buf,
                                strerror(errno));
        buf[i] = saved;
    }
    return LK_OK;
}

/* ---------------------------------------------------------------- contents */

static bool has_suffix(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

typedef struct {
    uint64_t bytes;
    bool gguf;
    char first_gguf[LK_STORE_PATH_MAX];
} snapshot_scan;

/* Sums file sizes below dir (not following links) and finds the first .gguf
 * by path. Depth is bounded: repo files nest a few folders at most. */
static void scan_snapshot(const char *dir, int depth, snapshot_scan *s) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[LK_STORE_PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) continue;
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode) && depth < 8) scan_snapshot(path, depth + 1, s);
        else if (S_ISREG(st.st_mode)) {
            s->bytes += (uint64_t)st.st_size;
            if (has_suffix(e->d_name, ".gguf") &&
                (!s->gguf || strcmp(path, s->first_gguf) < 0)) {
                s->gguf = true;
                snprintf(s->first_gguf, sizeof s->first_gguf, "%s", path);
            }
        }
    }
    closedir(d);
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_complete(const char *repo, const char *rev) {
    char ref[LK_STORE_PATH_MAX];
    struct stat st;
    return lk_store_ref_path(repo, rev, ref, sizeof ref, NULL) == LK_OK && stat(ref, &st) == 0 &&
           S_ISREG(st.st_mode);
}

lk_status lk_store_resolve(const char *arg, char *out, size_t n, lk_error *err) {
    struct stat st;
    if (!arg || !*arg) return lk_error_set(err, LK_ERR_ARG, "no MODEL given");
    if (stat(arg, &st) == 0) {
        if ((size_t)snprintf(out, n, "%s", arg) >= n)
            return lk_error_set(err, LK_ERR_RANGE, "%s: path too long", arg);
        return LK_OK;
    }
    char repo[LK_REPO_ID_MAX + 1], rev[LK_REVISION_MAX + 1];
    bool rev_given;
    lk_error perr;
    int stat_errno = errno;
    if (lk_hub_parse_ref(arg, repo, rev, &rev_given, &perr) != LK_OK) {
        /* Only an argument shaped like owner/name gets the repo-id story. */
        const char *slash = strchr(arg, '/');
        bool id_like = slash && arg[0] != '/' && arg[0] != '.' && !strchr(slash + 1, '/');
        return lk_error_set(err, LK_ERR_NOT_FOUND, "%s: %s%s%s%s", arg, strerror(stat_errno),
                            id_like ? " (and not a valid repo id: " : "", id_like ? perr.msg : "",
                            id_like ? ")" : "");
    }
    if (!rev_given && !is_complete(repo, rev)) {
        /* No "main": take the only complete revision, if there is one. */
        lk_store_entry *list;
        size_t count, found = 0;
        if (lk_store_list(&list, &count, err) != LK_OK) return err ? err->code : LK_ERR_IO;
        for (size_t i = 0; i < count; i++)
            if (strcmp(list[i].repo, repo) == 0 && list[i].complete) {
                if (found++ == 0) snprintf(rev, LK_REVISION_MAX + 1, "%s", list[i].revision);
            }
        free(list);
        if (found > 1)
            return lk_error_set(err, LK_ERR_ARG,
                                "%s: the store holds %zu revisions and none is 'main': name one "
                                "as %s@REVISION (see llmkit list)",
                                repo, found, repo);
    }
    char dir[LK_STORE_PATH_MAX];
    lk_status s = lk_store_repo_path(repo, rev, dir, sizeof dir, err);
    if (s != LK_OK) return s;
    if (!is_dir(dir) || !is_complete(repo, rev))
        return lk_error_set(err, LK_ERR_NOT_FOUND,
                            "%s: no such file, and %s@%s is not in the model store%s (pull it "
                            "with `llmkit pull %s`, or pass a path)",
                            arg, repo, rev, is_dir(dir) ? " completely" : "", arg);
    snapshot_scan scan = {0};
    scan_snapshot(dir, 0, &scan);
    const char *pick = scan.gguf ? scan.first_gguf : dir;
    if ((size_t)snprintf(out, n, "%s", pick) >= n)
        return lk_error_set(err, LK_ERR_RANGE, "%s: path too long", pick);
    return LK_OK;
}

/* ---------------------------------------------------------------- list */

static int entry_cmp(const void *a, const void *b) {
    const lk_store_entry *x = a, *y = b;
    int c = strcmp(x->repo, y->repo);
    return c ? c : strcmp(x->revision, y->revision);
}

static lk_status push_entry(lk_store_entry **list, size_t *count, size_t *cap,
                            const lk_store_entry *e, lk_error *err) {
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        lk_store_entry *grown = realloc(*list, ncap * sizeof *grown);
        if (!grown) return lk_error_set(err, LK_ERR_NOMEM, "listing the model store");
        *list = grown, *cap = ncap;
    }
    (*list)[(*count)++] = *e;
    return LK_OK;
}

/* Reads the commit recorded in a refs file ("" when absent). */
static void read_ref(const char *path, char commit[64]) {
    commit[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(commit, 64, f)) commit[0] = '\0';
    fclose(f);
    commit[strcspn(commit, "\r\n")] = '\0';
}

/* Appends every revision of one repo folder. */
static lk_status list_repo(const char *repo, lk_store_entry **list, size_t *count, size_t *cap,
                           lk_error *err) {
    char repo_dir[LK_STORE_PATH_MAX], snaps[LK_STORE_PATH_MAX];
    lk_status st = lk_store_repo_path(repo, NULL, repo_dir, sizeof repo_dir, err);
    if (st != LK_OK) return st;
    snprintf(snaps, sizeof snaps, "%s/snapshots", repo_dir);
    DIR *d = opendir(snaps);
    if (!d) return LK_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        lk_store_entry ent = {0};
        revision_from_dirname(e->d_name, ent.revision);
        if (e->d_name[0] == '.' || lk_hub_check_revision(ent.revision, NULL) != LK_OK) continue;
        snprintf(ent.repo, sizeof ent.repo, "%s", repo);
        char dir[LK_STORE_PATH_MAX], ref[LK_STORE_PATH_MAX];
        if (lk_store_repo_path(repo, ent.revision, dir, sizeof dir, NULL) != LK_OK ||
            lk_store_ref_path(repo, ent.revision, ref, sizeof ref, NULL) != LK_OK ||
            !is_dir(dir))
            continue;
        snapshot_scan scan = {0};
        scan_snapshot(dir, 0, &scan);
        ent.bytes = scan.bytes;
        ent.gguf = scan.gguf;
        ent.complete = is_complete(repo, ent.revision);
        if (ent.complete) read_ref(ref, ent.commit);
        if ((st = push_entry(list, count, cap, &ent, err)) != LK_OK) break;
    }
    closedir(d);
    return st;
}

lk_status lk_store_list(lk_store_entry **out, size_t *count, lk_error *err) {
    *out = NULL;
    *count = 0;
    char root[LK_STORE_PATH_MAX], models[LK_STORE_PATH_MAX];
    lk_status st = lk_store_root(root, sizeof root, err);
    if (st != LK_OK) return st;
    snprintf(models, sizeof models, "%s/models", root);
    DIR *owners = opendir(models);
    if (!owners) return LK_OK;
    size_t cap = 0;
    struct dirent *o;
    while (st == LK_OK && (o = readdir(owners))) {
        if (o->d_name[0] == '.') continue;
        char owner_dir[LK_STORE_PATH_MAX];
        snprintf(owner_dir, sizeof owner_dir, "%s/%s", models, o->d_name);
        DIR *names = opendir(owner_dir);
        if (!names) continue;
        struct dirent *m;
        while (st == LK_OK && (m = readdir(names))) {
            char repo[LK_REPO_ID_MAX + 2];
            if (m->d_name[0] == '.' ||
                (size_t)snprintf(repo, sizeof repo, "%s/%s", o->d_name, m->d_name) >= sizeof repo ||
                lk_hub_check_repo_id(repo, NULL) != LK_OK)
                continue;
            st = list_repo(repo, out, count, &cap, err);
        }
        closedir(names);
    }
    closedir(owners);
    if (st != LK_OK) {
        free(*out);
        *out = NULL;
        *count = 0;
        return st;
    }
    if (*count) qsort(*out, *count, sizeof **out, entry_cmp);
    return LK_OK;
}

/* ---------------------------------------------------------------- remove */

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Deletes a tree depth-first; FTW_PHYS: a symbolic link is removed, never
 * followed, so nothing outside the store is touched. */
static lk_status remove_tree(const char *path, lk_error *err) {
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        return lk_error_set(err, LK_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    return LK_OK;
}

lk_status lk_store_remove(const char *repo, const char *rev, lk_error *err) {
    char repo_dir[LK_STORE_PATH_MAX];
    lk_status st = lk_store_repo_path(repo, NULL, repo_dir, sizeof repo_dir, err);
    if (st != LK_OK) return st;
    if (!is_dir(repo_dir))
        return lk_error_set(err, LK_ERR_NOT_FOUND, "%s is not in the model store (see llmkit list)",
                            repo);
    if (!rev) {
        if ((st = remove_tree(repo_dir, err)) != LK_OK) return st;
    } else {
        char snap[LK_STORE_PATH_MAX], ref[LK_STORE_PATH_MAX];
        if ((st = lk_store_repo_path(repo, rev, snap, sizeof snap, err)) != LK_OK ||
            (st = lk_store_ref_path(repo, rev, ref, sizeof ref, err)) != LK_OK)
            return st;
        if (!is_dir(snap))
            return lk_error_set(err, LK_ERR_NOT_FOUND,
                                "%s@%s is not in the model store (see llmkit list)", repo, rev);
        char pending[LK_STORE_PATH_MAX + 16];
        snprintf(pending, sizeof pending, "%s@pulling", ref);
        if ((st = remove_tree(ref, err)) != LK_OK || (st = remove_tree(pending, err)) != LK_OK ||
            (st = remove_tree(snap, err)) != LK_OK)
            return st;
        /* Drop the repo folder once its last revision is gone. */
        lk_store_entry *list;
        size_t count, left = 0;
        if (lk_store_list(&list, &count, NULL) == LK_OK) {
            for (size_t i = 0; i < count; i++) left += strcmp(list[i].repo, repo) == 0;
            free(list);
            if (left == 0 && (st = remove_tree(repo_dir, err)) != LK_OK) return st;
        }
    }
    /* The owner folder goes too when it is now empty (rmdir fails otherwise). */
    char *slash = strrchr(repo_dir, '/');
    if (slash) {
        *slash = '\0';
        rmdir(repo_dir);
    }
    return LK_OK;
}
