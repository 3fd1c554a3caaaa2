/* `llmkit pull`: fetch a model repo (or the files of it llmkit needs) from
 * the Hugging Face hub, or a mirror of it, into the local store (store.h).
 *
 * The hub's public HTTP layout:
 *   {endpoint}/api/models/{repo}/revision/{rev}  JSON: "sha" (the commit) and
 *                                                "siblings": [{"rfilename"}]
 *   {endpoint}/{repo}/resolve/{rev}/{file}       the file; LFS files answer with
 *                                                a redirect to a CDN carrying
 *                                                X-Linked-Etag (sha256) and
 *                                                X-Linked-Size
 * Each file goes to "<file>.part", resumes from there with a Range request
 * after an interruption, is checked against its sha256 when the hub gives
 * one, and is renamed into place only then. The revision's refs file is
 * written last: a pull that stops half way leaves a partial snapshot that the
 * next pull completes. */
#ifndef LK_HUB_PULL_H
#define LK_HUB_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "llmkit.h"

#define LK_HUB_DEFAULT_ENDPOINT "https://huggingface.co"

typedef struct {
    const char *endpoint;         /* NULL: $HF_ENDPOINT, else the official hub */
    const char *token;            /* NULL: $HF_TOKEN; sent as Authorization: Bearer */
    const char *const *include;   /* globs (fnmatch) replacing the default selection */
    size_t n_include;
    const char *file;             /* one chosen file (a .gguf: instead of safetensors) */
    int retries;                  /* further attempts per request after a network
                                     error or a 5xx/429; < 0: 5 */
    int backoff_ms;               /* first wait, doubled each retry; <= 0: 1000 */
    FILE *progress;               /* progress bars drawn here when a terminal; NULL: none */
    /* Called with one-line messages ("fetching x", "retrying in 2 s ...");
     * NULL: silent. The library itself never prints. */
    void (*notice)(void *user, const char *msg);
    void *user;
} lk_pull_options;

/* Pulls "owner/name[@rev]" and writes the model's resolved path (as
 * lk_store_resolve gives it) to out. Errors name what could not be fetched
 * and what to do: 401/403 -> gated or private (set HF_TOKEN / --token);
 * 404 -> no such repo, revision or file; no network -> HF_ENDPOINT or a
 * local path; checksum mismatch -> the file is removed. */
lk_status lk_pull(const char *ref, const lk_pull_options *opt, char *out, size_t n,
                  lk_error *err);

/* A revision's file list, from the model-info API's JSON. */
typedef struct {
    char **names;    /* siblings[].rfilename, each valid (lk_hub_check_filename) */
    size_t count;
    char commit[64]; /* "sha" when it is a plain commit-like name; else "" */
} lk_hub_listing;

/* Parses the API answer; `name` names it in messages. One file name that
 * fails validation refuses the whole listing (LK_ERR_FORMAT). Free with
 * lk_hub_listing_free. */
lk_status lk_hub_parse_listing(const char *body, size_t len, const char *name,
                               lk_hub_listing *out, lk_error *err);
void lk_hub_listing_free(lk_hub_listing *l);

/* The default selection: is this repo file one llmkit needs? `gguf_chosen`
 * drops safetensors weights (a .gguf was chosen instead). */
bool lk_pull_default_file(const char *name, bool gguf_chosen);

/* The default model (LK_DEFAULT_MODEL, Qwen/Qwen2.5-0.5B-Instruct) for
 * chat/serve when no MODEL is given: its path in the store. When it is
 * missing: LK_ERR_NOT_FOUND if !pull_if_missing (the caller can then say
 * that it will pull and call again with true), else it is pulled first
 * (silently; use lk_store_default_model_ex for progress and notices). */
lk_status lk_store_default_model(char *out, size_t n, bool pull_if_missing, lk_error *err);
/* The same with pull options (opt NULL: pull_if_missing false). */
lk_status lk_store_default_model_ex(char *out, size_t n, const lk_pull_options *opt,
                                    lk_error *err);

#endif
