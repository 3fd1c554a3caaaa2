/* libcurl transfers for the hub client (see hub_http.h). libcurl's global
 * initialisation is done once, lazily and thread-safely, by curl_easy_init
 * itself in the libcurl versions Debian ships (7.84+). */
#include "hub/hub_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

/* ---------------------------------------------------------------- headers */

typedef struct {
    lk_http_result *res;
    int responses; /* status lines seen so far: 1 for the first response */
} header_state;

static bool is_hex64(const char *s, size_t len) {
    if (len != 64) return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

/* A header value without surrounding blanks, quotes and a weak "W/" mark. */
static void header_value(const char *v, size_t len, const char **out, size_t *out_len) {
    while (len && (*v == ' ' || *v == '\t')) v++, len--;
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ')) len--;
    if (len >= 2 && v[0] == 'W' && v[1] == '/') v += 2, len -= 2;
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') v++, len -= 2;
    *out = v, *out_len = len;
}

static void store_sha(char dst[65], const char *v, size_t len) {
    if (!is_hex64(v, len)) return;
    for (size_t i = 0; i < 64; i++) dst[i] = (char)(v[i] | 0x20); /* lower-case */
    dst[64] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nitems, void *user) {
    header_state *hs = user;
    size_t len = size * nitems;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        hs->responses++;
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon) return len;
    size_t name_len = (size_t)(colon - line);
    const char *v;
    size_t vlen;
    header_value(colon + 1, len - name_len - 1, &v, &vlen);
#define HEADER_IS(name) (name_len == sizeof name - 1 && strncasecmp(line, name, name_len) == 0)
    if (HEADER_IS("x-linked-etag")) {
        store_sha(hs->res->sha256, v, vlen);
    } else if (HEADER_IS("etag") && hs->responses == 1 && !hs->res->sha256[0]) {
        /* Only the hub's own ETag names the content; a CDN's is its own business. */
        store_sha(hs->res->sha256, v, vlen);
    } else if (HEADER_IS("x-linked-size")) {
        char num[32];
        if (vlen > 0 && vlen < sizeof num) {
            memcpy(num, v, vlen);
            num[vlen] = '\0';
            char *end;
            unsigned long long s = strtoull(num, &end, 10);
            if (*end == '\0') hs->res->size = s;
        }
    } else if (HEADER_IS("x-repo-commit") && vlen < sizeof hs->res->commit) {
        memcpy(hs->res->commit, v, vlen);
        hs->res->commit[vlen] = '\0';
    }
#undef HEADER_IS
    return len;
}

/* ---------------------------------------------------------------- common set-up */

static CURL *new_handle(const char *url, const char *token, struct curl_slist **headers,
                        header_state *hs, char *errbuf, lk_error *err) {
    CURL *c = curl_easy_init();
    if (!c) {
        lk_error_set(err, LK_ERR_NOMEM, "cannot start libcurl");
        return NULL;
    }
    *headers = NULL;
    if (token && *token) {
        char auth[1024];
        if ((size_t)snprintf(auth, sizeof auth, "Authorization: Bearer %s", token) >= sizeof auth) {
            curl_easy_cleanup(c);
            lk_error_set(err, LK_ERR_ARG, "the hub token is too long");
            return NULL;
        }
        *headers = curl_slist_append(NULL, auth);
    }
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "llmkit/" LK_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled transfer (under 1 byte/s for a minute) counts as a network failure. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hs);
    return c;
}

/* Fills res from a finished transfer; true when a response arrived whole. */
static bool finish(CURL *c, CURLcode rc, const char *errbuf, lk_http_result *res) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    if (rc == CURLE_OK || rc == CURLE_HTTP_RETURNED_ERROR) return true;
    res->network_error = true;
    snprintf(res->error, sizeof res->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    res->error[strcspn(res->error, "\n")] = '\0';
    for (size_t n = strlen(res->error); n > 0 && res->error[n - 1] == '.';) res->error[--n] = '\0';
    return false;
}

/* ---------------------------------------------------------------- GET into memory */

typedef struct {
    char *data;
    size_t len, cap, max;
} mem_sink;

static size_t on_body(char *p, size_t size, size_t nmemb, void *user) {
    mem_sink *m = user;
    size_t n = size * nmemb;
    if (n > m->max - m->len) return 0; /* too large: abort the transfer */
    if (m->len + n + 1 > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + n + 1) cap *= 2;
        char *grown = realloc(m->data, cap);
        if (!grown) return 0;
        m->data = grown, m->cap = cap;
    }
    memcpy(m->data + m->len, p, n);
    m->len += n;
    m->data[m->len] = '\0';
    return n;
}

lk_status lk_http_get(const char *url, const char *token, size_t max_bytes, char **body,
                      size_t *len, lk_http_result *res, lk_error *err) {
    memset(res, 0, sizeof *res);
    *body = NULL;
    *len = 0;
    header_state hs = {res, 0};
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    CURL *c = new_handle(url, token, &headers, &hs, errbuf, err);
    if (!c) return err ? err->code : LK_ERR_NOMEM;
    mem_sink m = {NULL, 0, 0, max_bytes};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
    CURLcode rc = curl_easy_perform(c);
    bool whole = finish(c, rc, errbuf, res);
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    if (rc == CURLE_WRITE_ERROR) {
        free(m.data);
        return lk_error_set(err, LK_ERR_RANGE, "%s: the answer is larger than %zu bytes", url,
                            max_bytes);
    }
    if (!whole) {
        free(m.data);
        return lk_error_set(err, LK_ERR_IO, "%s: %s", url, res->error);
    }
    if (!m.data) m.data = calloc(1, 1);
    if (!m.data) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", url);
    *body = m.data;
    *len = m.len;
    return LK_OK;
}

/* ---------------------------------------------------------------- download to a file */

typedef struct {
    int fd;
    CURL *curl;
    uint64_t offset;   /* bytes already in the file when this attempt began */
    bool started;      /* the first body byte of the final response arrived */
    int write_errno;   /* why a write failed (ENOSPC: disk full) */
    lk_progress *progress;
    lk_http_result *res;
} file_sink;

static size_t on_file_body(char *p, size_t size, size_t nmemb, void *user) {
    file_sink *f = user;
    size_t n = size * nmemb;
    if (!f->started) {
        f->started = true;
        long code = 0;
        curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
        if (f->offset > 0 && code == 206) {
            f->res->range_honoured = true;
        } else if (f->offset > 0) {
            /* The server sent the whole file: start the part file over. */
            if (ftruncate(f->fd, 0) != 0) {
                f->write_errno = errno;
                return 0;
            }
            f->offset = 0;
        }
        if (f->progress) {
            if (f->progress->total == 0) f->progress->total = f->res->size;
            lk_progress_update(f->progress, f->offset);
        }
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(f->fd, p + done, n - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            f->write_errno = errno;
            return 0;
        }
        done += (size_t)w;
    }
    if (f->progress) lk_progress_add(f->progress, n);
    return n;
}

static int on_xfer(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow) {
    (void)dlnow, (void)ultotal, (void)ulnow;
    file_sink *f = user;
    if (f->progress && f->progress->total == 0 && dltotal > 0 && f->started)
        f->progress->total = f->res->size ? f->res->size : f->offset + (uint64_t)dltotal;
    return 0;
}

lk_status lk_http_download(const char *url, const char *token, const char *part_path,
                           lk_progress *progress, lk_http_result *res, lk_error *err) {
    memset(res, 0, sizeof *res);
    res->local_error = true; /* until the transfer starts */
    int fd = open(part_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return lk_error_set(err, LK_ERR_IO, "%s: cannot open for writing: %s", part_path,
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lk_error_set(err, LK_ERR_IO, "%s: not a regular file", part_path);
    }
    /* Two pulls appending to one part file would interleave their bytes. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return lk_error_set(err, LK_ERR_IO,
                            "%s: another llmkit pull is writing this file; wait for it to finish",
                            part_path);
    }
    header_state hs = {res, 0};
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    CURL *c = new_handle(url, token, &headers, &hs, errbuf, err);
    if (!c) {
        close(fd);
        return err ? err->code : LK_ERR_NOMEM;
    }
    res->local_error = false;
    file_sink f = {fd, c, (uint64_t)st.st_size, false, 0, progress, res};
    /* CURLOPT_RANGE rather than RESUME_FROM: libcurl then lets a 200 (a server
     * that ignores ranges) through, and on_file_body starts the file over. */
    char range[32];
    snprintf(range, sizeof range, "%llu-", (unsigned long long)f.offset);
    if (f.offset > 0) curl_easy_setopt(c, CURLOPT_RANGE, range);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &f);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    CURLcode rc = curl_easy_perform(c);
    bool whole = finish(c, rc, errbuf, res);
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    int close_failed = close(fd) != 0 ? errno : 0;
    if (rc == CURLE_WRITE_ERROR || close_failed) {
        int e = f.write_errno ? f.write_errno : close_failed;
        res->network_error = false;
        res->local_error = true;
        return lk_error_set(err, LK_ERR_IO, "%s: write failed: %s%s", part_path, strerror(e),
                            e == ENOSPC ? " (free some space, or move the store with LLMKIT_HOME)"
                                        : "");
    }
    if (!whole) return lk_error_set(err, LK_ERR_IO, "%s: %s", url, res->error);
    if (res->status < 200 || res->status >= 300)
        return lk_error_set(err, LK_ERR_IO, "%s: HTTP %ld", url, res->status);
    if (res->status == 200 && f.offset > 0 && !f.started) {
        /* An empty 200 answer to a resume: the file is empty. */
        if (truncate(part_path, 0) != 0)
            return lk_error_set(err, LK_ERR_IO, "%s: %s", part_path, strerror(errno));
    }
    return LK_OK;
}

lk_status lk_http_escape_path(const char *in, bool keep_slash, char *out, size_t n,
                              lk_error *err) {
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
                     *p == '~' || (keep_slash && *p == '/');
        if (j + (plain ? 1 : 3) >= n)
            return lk_error_set(err, LK_ERR_RANGE, "URL for '%s' is too long", in);
        if (plain) {
            out[j++] = (char)*p;
        } else {
            out[j++] = '%';
            out[j++] = hex[*p >> 4];
            out[j++] = hex[*p & 15];
        }
    }
    out[j] = '\0';
    return LK_OK;
}
