/* HTTP for the hub client, over libcurl: one GET into memory (the model-info
 * API) and one resumable download into a ".part" file. Each call makes one
 * attempt and reports what happened; retry policy lives in pull.c.
 *
 * Redirects are followed (the hub answers /resolve/ for LFS files with a 302
 * to its CDN); the Authorization header is not forwarded to another host
 * (libcurl's rule). The headers of every response in the chain are seen, so
 * the hub's X-Linked-Etag / X-Linked-Size on the redirect are kept even
 * though the body comes from the CDN. */
#ifndef LK_HUB_HTTP_H
#define LK_HUB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/progress.h"
#include "llmkit.h"

typedef struct {
    long status;          /* HTTP status of the last response; 0: none (network failure) */
    bool network_error;   /* no complete response: connection refused, dropped, timed out */
    char error[256];      /* libcurl's message when network_error */
    char sha256[65];      /* from X-Linked-Etag, or the first response's ETag, when it
                             is 64 hex digits (an LFS file's sha256); else "" */
    uint64_t size;        /* X-Linked-Size, else the full length; 0: unknown */
    char commit[64];      /* X-Repo-Commit; "" when absent */
    bool range_honoured;  /* the server answered a resume with 206 */
    bool local_error;     /* the part file could not be opened, locked or written */
} lk_http_result;

/* GETs url into *body (malloc'd, NUL-terminated; free it) of at most
 * max_bytes. LK_OK whenever a response came (check res->status); LK_ERR_IO
 * only when res->network_error. token may be NULL. */
lk_status lk_http_get(const char *url, const char *token, size_t max_bytes, char **body,
                      size_t *len, lk_http_result *res, lk_error *err);

/* Downloads url, appending to part_path (created if absent) from its current
 * size with an HTTP Range request; when the server ignores the range (200)
 * the file restarts from zero. Progress (may be NULL) is advanced as bytes
 * arrive. LK_OK when the transfer finished with a 2xx status; LK_ERR_IO on a
 * network failure or a write failure (err says which); otherwise LK_OK is
 * not returned and res->status tells the HTTP error. */
lk_status lk_http_download(const char *url, const char *token, const char *part_path,
                           lk_progress *progress, lk_http_result *res, lk_error *err);

/* Percent-encodes a repo file path or revision for a URL, keeping '/' when
 * keep_slash (file paths) and encoding it otherwise (revisions). */
lk_status lk_http_escape_path(const char *in, bool keep_slash, char *out, size_t n,
                              lk_error *err);

#endif
