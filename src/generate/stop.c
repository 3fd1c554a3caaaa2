/* Stop-string matching over a growing text (see stop.h). The pending buffer
 * holds only the tail that might still become a stop string, so each push
 * costs O(pending + chunk) x number of stop strings. */
#include "generate/stop.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

struct lk_stop_matcher {
    char **stops;
    size_t *lens;
    size_t n;
    char *buf;      /* pending text, then the text handed out */
    size_t len, cap;
    size_t emitted; /* bytes at the front of buf already handed out by the last call */
    bool stopped;
};

lk_status lk_stop_matcher_new(const char *const *stops, size_t n, lk_stop_matcher **out,
                              lk_error *err) {
    *out = NULL;
    lk_stop_matcher *m = calloc(1, sizeof *m);
    if (!m) return lk_error_set(err, LK_ERR_NOMEM, "stop strings: out of memory");
    m->stops = calloc(n ? n : 1, sizeof *m->stops);
    m->lens = calloc(n ? n : 1, sizeof *m->lens);
    if (!m->stops || !m->lens) {
        lk_stop_matcher_free(m);
        return lk_error_set(err, LK_ERR_NOMEM, "stop strings: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (!stops[i] || !stops[i][0]) continue;
        m->stops[m->n] = strdup(stops[i]);
        if (!m->stops[m->n]) {
            lk_stop_matcher_free(m);
            return lk_error_set(err, LK_ERR_NOMEM, "stop strings: out of memory");
        }
        m->lens[m->n] = strlen(stops[i]);
        m->n++;
    }
    *out = m;
    return LK_OK;
}

void lk_stop_matcher_free(lk_stop_matcher *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->stops[i]);
    free(m->stops);
    free(m->lens);
    free(m->buf);
    free(m);
}

/* Length of the longest tail of s[0..len) that is a proper prefix of a stop string. */
static size_t held_tail(const lk_stop_matcher *m, const char *s, size_t len) {
    size_t best = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t max = m->lens[i] - 1 < len ? m->lens[i] - 1 : len;
        for (size_t k = max; k > best; k--)
            if (memcmp(s + len - k, m->stops[i], k) == 0) {
                best = k;
                break;
            }
    }
    return best;
}

lk_status lk_stop_matcher_push(lk_stop_matcher *m, const char *text, size_t len, const char **out,
                               size_t *out_len, bool *stopped, lk_error *err) {
    /* Drop what the previous call handed out. */
    if (m->emitted) {
        memmove(m->buf, m->buf + m->emitted, m->len - m->emitted);
        m->len -= m->emitted;
        m->emitted = 0;
    }
    *out = "";
    *out_len = 0;
    *stopped = m->stopped;
    if (m->stopped) return LK_OK;
    if (m->len + len + 1 > m->cap) {
        size_t cap = (m->len + len + 1) * 2;
        char *b = realloc(m->buf, cap);
        if (!b) return lk_error_set(err, LK_ERR_NOMEM, "stop strings: out of memory");
        m->buf = b;
        m->cap = cap;
    }
    if (len) memcpy(m->buf + m->len, text, len);
    m->len += len;
    m->buf[m->len] = '\0';
    /* The earliest complete stop string, if any. */
    size_t cut = m->len;
    for (size_t i = 0; i < m->n; i++) {
        const char *hit = memmem(m->buf, m->len, m->stops[i], m->lens[i]);
        if (hit && (size_t)(hit - m->buf) < cut) cut = (size_t)(hit - m->buf);
    }
    if (cut < m->len) {
        m->stopped = true;
        *stopped = true;
        m->emitted = m->len; /* nothing is left to flush */
        *out = m->buf;
        *out_len = cut;
        return LK_OK;
    }
    size_t keep = held_tail(m, m->buf, m->len);
    *out = m->buf;
    *out_len = m->len - keep;
    m->emitted = m->len - keep;
    return LK_OK;
}

const char *lk_stop_matcher_flush(lk_stop_matcher *m, size_t *out_len) {
    if (m->stopped || !m->buf) {
        *out_len = 0;
        return "";
    }
    const char *p = m->buf + m->emitted;
    *out_len = m->len - m->emitted;
    m->emitted = m->len;
    return p;
}
