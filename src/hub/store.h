/* The local model store: where `llmkit pull` puts models and where a MODEL
 * argument that is not a path is looked up.
 *
 * Root: $LLMKIT_HOME, else $XDG_CACHE_HOME/llmkit, else ~/.cache/llmkit.
 * Layout, one folder per repo and revision:
 *
 *   <root>/models/<owner>/<name>/snapshots/<revision>/<files...>
 *   <root>/models/<owner>/<name>/refs/<revision>      commit sha, written last
 *
 * A revision's snapshot counts as complete only once its refs file exists;
 * until then `list` shows it as partial and resolution ignores it. A '/' in a
 * revision ("refs/pr/1") becomes '+' on disk ('+' is not allowed in
 * revisions, so the mapping is one to one).
 *
 * Every name that reaches the file system (repo id, revision, file names
 * from the hub's listing) passes the strict validators below first, so
 * nothing is ever written outside the store. */
#ifndef LK_HUB_STORE_H
#define LK_HUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

#define LK_REPO_ID_MAX 192  /* "owner/name", each part at most 96 bytes */
#define LK_REVISION_MAX 128
#define LK_HUB_FILE_MAX 512 /* a file path inside a repo */
#define LK_STORE_PATH_MAX 4096

/* The small instruct model used when chat/serve get no MODEL. */
#define LK_DEFAULT_MODEL "Qwen/Qwen2.5-0.5B-Instruct"

/* Validators: LK_OK, or LK_ERR_ARG with a message that says what is wrong.
 * Repo id: "owner/name", each part 1..96 bytes of [A-Za-z0-9._-], not
 * starting with '.' or '-', no "..". Revision: 1..128 bytes of
 * [A-Za-z0-9._/-], no "..", no part empty or starting with '.' or '-'.
 * File: a relative path of 1..512 bytes, parts separated by '/', none empty,
 * "." or ".."; no backslash, ':' or control characters. */
lk_status lk_hub_check_repo_id(const char *repo, lk_error *err);
lk_status lk_hub_check_revision(const char *rev, lk_error *err);
lk_status lk_hub_check_filename(const char *name, lk_error *err);

/* Splits "owner/name[@rev]" into repo and revision (default "main"), both
 * validated. */
lk_status lk_hub_parse_ref(const char *arg, char repo[LK_REPO_ID_MAX + 1],
                           char rev[LK_REVISION_MAX + 1], bool *rev_given, lk_error *err);

/* The store's root folder (not created). */
lk_status lk_store_root(char *out, size_t n, lk_error *err);

/* <root>/models/<owner>/<name>[/snapshots/<rev>] for a validated repo/rev;
 * rev NULL gives the repo folder. */
lk_status lk_store_repo_path(const char *repo, const char *rev, char *out, size_t n,
                             lk_error *err);
/* <root>/models/<owner>/<name>/refs/<rev>. */
lk_status lk_store_ref_path(const char *repo, const char *rev, char *out, size_t n,
                            lk_error *err);

/* Resolves a MODEL argument: an existing path wins (copied as is); else
 * "owner/name[@rev]" pulled completely into the store gives its snapshot
 * folder, or its .gguf file when the snapshot holds GGUF (the first shard,
 * by name, of a split model). Without @rev, "main" is preferred, else the
 * only complete revision. LK_ERR_NOT_FOUND with a hint to pull otherwise. */
lk_status lk_store_resolve(const char *arg, char *out, size_t n, lk_error *err);

/* One stored revision, for `llmkit list`. */
typedef struct {
    char repo[LK_REPO_ID_MAX + 1];
    char revision[LK_REVISION_MAX + 1];
    char commit[64];     /* from the refs file; "" when partial */
    uint64_t bytes;      /* all files in the snapshot */
    bool complete;
    bool gguf;           /* holds a .gguf (else an HF folder) */
} lk_store_entry;

/* Lists stored revisions sorted by repo then revision. *out is malloc'd
 * (free it); an absent store gives zero entries. */
lk_status lk_store_list(lk_store_entry **out, size_t *count, lk_error *err);

/* Removes one revision (rev non-NULL) or the whole repo from the store.
 * LK_ERR_NOT_FOUND when it is not there. */
lk_status lk_store_remove(const char *repo, const char *rev, lk_error *err);

/* Creates every missing folder of `path` below `base` (which must exist or
 * be creatable). Used for the snapshot and nested repo files. */
lk_status lk_store_mkdirs(const char *path, lk_error *err);

#endif
