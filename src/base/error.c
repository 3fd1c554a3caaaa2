#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

lk_status lk_error_set(lk_error *e, lk_status code, const char *fmt, ...) {
    if (e) {
        e->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

lk_status lk_error_wrap(lk_error *e, const char *fmt, ...) {
    if (!e) return LK_ERR_INTERNAL;
    char prefix[sizeof e->msg];
    char old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old);
    return e->code;
}

void lk_error_clear(lk_error *e) {
    if (e) {
        e->code = LK_OK;
        e->msg[0] = '\0';
    }
}

const char *lk_status_name(lk_status s) {
    switch (s) {
    case LK_OK: return "ok";
    case LK_ERR_IO: return "I/O error";
    case LK_ERR_FORMAT: return "bad file format";
    case LK_ERR_NOMEM: return "out of memory";
    case LK_ERR_UNSUPPORTED: return "unsupported";
    case LK_ERR_ARG: return "invalid argument";
    case LK_ERR_NOT_FOUND: return "not found";
    case LK_ERR_RANGE: return "out of range";
    case LK_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}
