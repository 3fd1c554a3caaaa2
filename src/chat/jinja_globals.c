/* The global functions a template can call: jinja2's range(), namespace()
 * and dict(), plus the two transformers adds: raise_exception(msg), which
 * aborts rendering with the template's own message, and strftime_now(fmt),
 * which formats the render clock (pinned by the caller in tests). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chat/jinja.h"

static jv *g_range(jctx *c, const jnode *at, jv *self, jv **args, size_t nargs, const char **kwnames,
                   jv **kwvals, size_t nkw) {
    int64_t a[3];
    if (nargs < 1 || nargs > 3) jinja_fail(c, at, LK_ERR_ARG, "TypeError: range expected 1 to 3 arguments");
    for (size_t i = 0; i < nargs; i++) {
        if (args[i]->kind == JV_INT) a[i] = args[i]->i;
        else if (args[i]->kind == JV_BOOL) a[i] = args[i]->b;
        else jinja_fail(c, at, LK_ERR_ARG, "TypeError: '%s' object cannot be interpreted as an integer", jv_type_name(args[i]));
    }
    int64_t start = nargs > 1 ? a[0] : 0, stop = nargs > 1 ? a[1] : a[0], st = nargs > 2 ? a[2] : 1;
    if (st == 0) jinja_fail(c, at, LK_ERR_ARG, "ValueError: range() arg 3 must not be zero");
    /* jinja2's sandbox caps ranges at 100000 items (MAX_RANGE). */
    double count = st > 0 ? ((double)stop - (double)start) / (double)st : ((double)start - (double)stop) / (double)-st;
    if (count > 100000) jinja_fail(c, at, LK_ERR_RANGE, "OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    jv *l = jv_list(c, count > 0 ? (size_t)count + 1 : 0);
    for (int64_t i = start; st > 0 ? i < stop : i > stop; i += st) jv_list_push(c, l, jv_int(c, i));
    return l;
}

static jv *kw_dict(jctx *c, const jnode *at, jv_kind kind, jv **args, size_t nargs, const char **kwnames, jv **kwvals, size_t nkw) {
    jv *d = jv_dict(c, nkw);
    d->kind = kind;
    if (nargs > 1) jinja_fail(c, at, LK_ERR_ARG, "TypeError: expected at most 1 positional argument, got %zu", nargs);
    if (nargs == 1 && args[0]->kind == JV_UNDEF) jinja_undef_fail(c, at, args[0]);
    if (nargs == 1 && args[0]->kind != JV_DICT && args[0]->kind != JV_NS)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: '%s' object is not a mapping", jv_type_name(args[0]));
    if (nargs == 1)
        for (size_t i = 0; i < args[0]->dict.n; i++) jv_dict_set(c, d, args[0]->dict.k[i], args[0]->dict.v[i]);
    for (size_t i = 0; i < nkw; i++) jv_dict_set(c, d, jv_cstr(c, kwnames[i]), kwvals[i]);
    return d;
}

static jv *g_namespace(jctx *c, const jnode *at, jv *self, jv **args, size_t nargs, const char **kwnames,
                       jv **kwvals, size_t nkw) {
    return kw_dict(c, at, JV_NS, args, nargs, kwnames, kwvals, nkw);
}

static jv *g_dict(jctx *c, const jnode *at, jv *self, jv **args, size_t nargs, const char **kwnames, jv **kwvals,
                  size_t nkw) {
    return kw_dict(c, at, JV_DICT, args, nargs, kwnames, kwvals, nkw);
}

static jv *g_raise_exception(jctx *c, const jnode *at, jv *self, jv **args, size_t nargs, const char **kwnames,
                             jv **kwvals, size_t nkw) {
    jv *msg = nargs ? jv_to_str(c, args[0]) : jv_cstr(c, "");
    jinja_fail(c, at, LK_ERR_ARG, "raise_exception: %.*s", (int)(msg->str.n > 600 ? 600 : msg->str.n), msg->str.s);
}

static jv *g_strftime_now(jctx *c, const jnode *at, jv *self, jv **args, size_t nargs, const char **kwnames,
                          jv **kwvals, size_t nkw) {
    if (nargs < 1 || args[0]->kind != JV_STR) jinja_fail(c, at, LK_ERR_ARG, "strftime_now needs a format string");
    time_t t = (time_t)c->now;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[512];
    size_t n = args[0]->str.n ? strftime(buf, sizeof buf, args[0]->str.s, &tm) : 0;
    return jv_str(c, buf, n);
}

void jinja_add_globals(jctx *c, jscope *s) {
    static const struct {
        const char *name;
        jbuiltin fn;
    } k[] = {{"range", g_range}, {"namespace", g_namespace}, {"dict", g_dict},
             {"raise_exception", g_raise_exception}, {"strftime_now", g_strftime_now}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        jv_dict_set(c, s->vars, jv_cstr(c, k[i].name), jv_func(c, k[i].name, k[i].fn, NULL));
}
