/* jinja2's built-in filters and tests, as far as chat templates use them,
 * each behaving like its Python original (names and arguments included).
 * tojson is transformers' own: json.dumps with ensure_ascii=False. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "chat/jinja.h"

#define FILTER(name) \
    static jv *f_##name(jctx *c, const jnode *at, jv *v, jv **args, size_t nargs, const char **kwnames, \
                        jv **kwvals, size_t nkw)
#define ARG(pos, name) jinja_arg(args, nargs, kwnames, kwvals, nkw, pos, name)


static jv *need_str(jctx *c, jv *v) { return jv_to_str(c, v); }

static jv *generator(jctx *c, jv *l) {
    l->is_gen = true;
    return l;
}

/* jinja2's make_attrgetter: "a.b.0" walks keys/attributes, digit parts are
 * list indices, and stepping into an undefined value is an error. */
static jv *attr_get(jctx *c, const jnode *at, jv *item, jv *attr) {
    if (attr->kind != JV_STR) return jinja_getitem(c, at, item, attr);
    const char *p = attr->str.s, *e = p + attr->str.n;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(e - p));
        size_t len = dot ? (size_t)(dot - p) : (size_t)(e - p);
        bool digits = len > 0;
        int64_t idx = 0;
        for (size_t i = 0; i < len && digits; i++) {
            digits = p[i] >= '0' && p[i] <= '9' && idx < 100000000000LL;
            idx = idx * 10 + (p[i] - '0');
        }
        item = jinja_getitem(c, at, item, digits ? jv_int(c, idx) : jv_str(c, p, len));
        if (!dot) return item;
        p = dot + 1;
    }
}

FILTER(trim) { return jstr_strip(c, need_str(c, v), ARG(0, "chars"), true, true); }
FILTER(upper) { return jstr_case(c, need_str(c, v), 0); }
FILTER(lower) { return jstr_case(c, need_str(c, v), 1); }
FILTER(capitalize) { return jstr_case(c, need_str(c, v), 2); }
FILTER(title) { return jstr_case(c, need_str(c, v), 4); }
FILTER(safe) {
    if (v->kind == JV_STR && v->is_safe) return v;
    jv *s = jv_to_str(c, v);
    jv *r = jv_str_nocopy(c, s->str.s, s->str.n);
    r->is_safe = true;
    return r;
}
FILTER(string) { return need_str(c, v); }

FILTER(replace) {
    jv *old = ARG(0, "old"), *new_ = ARG(1, "new");
    if (!old || !new_) jinja_fail(c, at, LK_ERR_ARG, "replace() needs old and new");
    return jstr_replace(c, at, need_str(c, v), need_str(c, old), need_str(c, new_), ARG(2, "count"));
}

FILTER(tojson) {
    /* transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False) */
    jv *ea = ARG(0, "ensure_ascii"), *ind = ARG(1, "indent"), *seps = ARG(2, "separators"), *sk = ARG(3, "sort_keys");
    char indent_buf[64];
    const char *indent = NULL;
    if (ind && ind->kind == JV_INT) {
        int64_t k = ind->i < 0 ? 0 : ind->i > 60 ? 60 : ind->i;
        memset(indent_buf, ' ', (size_t)k);
        indent_buf[k] = '\0';
        indent = indent_buf;
    } else if (ind && ind->kind == JV_STR) {
        indent = jarena_strndup(&c->arena, ind->str.s, ind->str.n);
    }
    const char *item_sep = indent ? "," : ", ", *key_sep = ": ";
    if (seps && seps->kind == JV_LIST && seps->list.n == 2 && seps->list.v[0]->kind == JV_STR &&
        seps->list.v[1]->kind == JV_STR) {
        item_sep = jarena_strndup(&c->arena, seps->list.v[0]->str.s, seps->list.v[0]->str.n);
        key_sep = jarena_strndup(&c->arena, seps->list.v[1]->str.s, seps->list.v[1]->str.n);
    }
    jbuf b;
    jbuf_init(&b, c);
    jinja_tojson(c, at, &b, v, indent, item_sep, key_sep, sk && jv_truthy(sk), 0);
    if (ea && jv_truthy(ea)) {
        /* ensure_ascii: every non-ASCII code point as \uXXXX (surrogate pairs above U+FFFF);
         * only string contents can hold them, so escaping the whole text is the same */
        jbuf a;
        jbuf_init(&a, c);
        for (size_t i = 0; i < b.n;) {
            uint32_t cp;
            size_t len = jutf8_decode(b.s + i, b.n - i, &cp);
            if (cp < 0x80) jbuf_put(&a, b.s + i, len);
            else if (cp < 0x10000) jbuf_printf(&a, "\\u%04x", cp);
            else {
                cp -= 0x10000;
                jbuf_printf(&a, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
            }
            i += len;
        }
        return jv_str_nocopy(c, a.s, a.n);
    }
    return jv_str_nocopy(c, b.s, b.n);
}

FILTER(length) {
    int64_t n = jv_len(v);
    if (n < 0) {
        if (v->kind == JV_NS) return jv_int(c, (int64_t)v->dict.n);
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: object of type '%s' has no len()", jv_type_name(v));
    }
    return jv_int(c, n);
}

FILTER(list) {
    jv *items = jinja_iter_list(c, at, v);
    jv *l = jv_list(c, items->list.n);
    for (size_t i = 0; i < items->list.n; i++) jv_list_push(c, l, items->list.v[i]);
    return l;
}

FILTER(first) {
    jv *items = jinja_iter_list(c, at, v);
    return items->list.n ? items->list.v[0] : jv_undef(c, "No first item, sequence was empty.");
}

FILTER(last) {
    if (v->kind == JV_LIST && v->is_gen) jinja_fail(c, at, LK_ERR_ARG, "TypeError: 'generator' object is not reversible");
    jv *items = jinja_iter_list(c, at, v);
    return items->list.n ? items->list.v[items->list.n - 1] : jv_undef(c, "No last item, sequence was empty.");
}

FILTER(default) {
    jv *d = ARG(0, "default_value"), *boolean = ARG(1, "boolean");
    if (!d) d = jv_cstr(c, "");
    if (v->kind == JV_UNDEF || (boolean && jv_truthy(boolean) && !jv_truthy(v))) return d;
    return v;
}

FILTER(items) {
    if (v->kind == JV_UNDEF) return jv_list(c, 0);
    if (v->kind != JV_DICT) jinja_fail(c, at, LK_ERR_ARG, "TypeError: can only get item pairs from a mapping.");
    jv *l = jv_list(c, v->dict.n);
    for (size_t i = 0; i < v->dict.n; i++) {
        jv *t = jv_list(c, 2);
        t->is_tuple = true;
        jv_list_push(c, t, v->dict.k[i]);
        jv_list_push(c, t, v->dict.v[i]);
        jv_list_push(c, l, t);
    }
    return generator(c, l);
}

FILTER(join) {
    jv *sep = ARG(0, "d"), *attr = ARG(1, "attribute");
    jv *items = jinja_iter_list(c, at, v);
    jbuf b;
    jbuf_init(&b, c);
    for (size_t i = 0; i < items->list.n; i++) {
        if (i && sep) jv_write_str(&b, sep);
        jv *it = items->list.v[i];
        if (attr) it = attr_get(c, at, it, attr);
        jv_write_str(&b, it);
    }
    return jv_str_nocopy(c, b.s, b.n);
}

static int64_t parse_int_prefix(const char *s, size_t n, bool *ok) {
    char tmp[64];
    if (n >= sizeof tmp) {
        *ok = false;
        return 0;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    const char *p = tmp;
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    long long r = strtoll(p, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\n') end++;
    *ok = end != p && *end == '\0';
    return r;
}

FILTER(int) {
    jv *d = ARG(0, "default");
    jv *dv = d ? d : jv_int(c, 0); /* returned as is when conversion fails */
    if (v->kind == JV_UNDEF) jinja_undef_fail(c, at, v); /* int(Undefined) raises in jinja2 */
    switch (v->kind) {
    case JV_INT: return v;
    case JV_BOOL: return jv_int(c, v->b);
    case JV_FLOAT: return isfinite(v->f) && fabs(v->f) < 9.2e18 ? jv_int(c, (int64_t)v->f) : dv;
    case JV_STR: {
        bool ok;
        int64_t r = parse_int_prefix(v->str.s, v->str.n, &ok);
        if (ok) return jv_int(c, r);
        char tmp[64];
        if (v->str.n < sizeof tmp) {
            memcpy(tmp, v->str.s, v->str.n);
            tmp[v->str.n] = '\0';
            char *end;
            double f = strtod(tmp, &end);
            if (end != tmp && *end == '\0' && isfinite(f) && fabs(f) < 9.2e18) return jv_int(c, (int64_t)f);
        }
        return dv;
    }
    default: return dv;
    }
}

FILTER(float) {
    jv *d = ARG(0, "default");
    jv *dv = d ? d : jv_float(c, 0.0);
    if (v->kind == JV_UNDEF) jinja_undef_fail(c, at, v);
    if (jv_is_number(v)) return jv_float(c, jv_as_double(v));
    if (v->kind == JV_STR && v->str.n < 64) {
        char tmp[64];
        memcpy(tmp, v->str.s, v->str.n);
        tmp[v->str.n] = '\0';
        char *end;
        double f = strtod(tmp, &end);
        if (end != tmp && *end == '\0') return jv_float(c, f);
    }
    return dv;
}

FILTER(abs) {
    if (v->kind == JV_INT) return jv_int(c, v->i < 0 && v->i != INT64_MIN ? -v->i : v->i);
    if (v->kind == JV_BOOL) return jv_int(c, v->b);
    if (v->kind == JV_FLOAT) return jv_float(c, fabs(v->f));
    jinja_fail(c, at, LK_ERR_ARG, "TypeError: bad operand type for abs(): '%s'", jv_type_name(v));
}

FILTER(round) {
    jv *prec = ARG(0, "precision"), *method = ARG(1, "method");
    if (prec && prec->kind != JV_INT && prec->kind != JV_BOOL)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: '%s' object cannot be interpreted as an integer", jv_type_name(prec));
    int64_t p = prec ? (prec->kind == JV_BOOL ? prec->b : prec->i) : 0;
    if (!jv_is_number(v)) jinja_fail(c, at, LK_ERR_ARG, "TypeError: round() needs a number");
    double x = jv_as_double(v), m = pow(10.0, (double)p);
    const char *how = method && method->kind == JV_STR ? method->str.s : "common";
    if (strcmp(how, "common") == 0 && v->kind != JV_FLOAT && p >= 0) return v->kind == JV_BOOL ? jv_int(c, v->b) : v;
    double r;
    if (strncmp(how, "ceil", 4) == 0) r = ceil(x * m) / m;
    else if (strncmp(how, "floor", 5) == 0) r = floor(x * m) / m;
    else {
        /* Python's round(): half to even on the exact binary value. */
        char buf[64];
        snprintf(buf, sizeof buf, "%.*f", (int)(p < 0 ? 0 : p > 30 ? 30 : p), x);
        r = p >= 0 ? strtod(buf, NULL) : round(x * m) / m;
    }
    return jv_float(c, r);
}

FILTER(unique) {
    jv *cs = ARG(0, "case_sensitive"), *attr = ARG(1, "attribute");
    bool sensitive = cs && jv_truthy(cs);
    jv *items = jinja_iter_list(c, at, v);
    jv *out = jv_list(c, 0), *seen = jv_list(c, 0);
    for (size_t i = 0; i < items->list.n; i++) {
        jv *key = items->list.v[i];
        if (attr) key = attr_get(c, at, key, attr);
        if (!sensitive && key->kind == JV_STR) key = jstr_case(c, key, 1);
        if (jinja_contains(c, at, seen, key)) continue;
        jv_list_push(c, seen, key);
        jv_list_push(c, out, items->list.v[i]);
    }
    return generator(c, out);
}

/* select/reject/selectattr/rejectattr/map share this: apply a test (or a
 * filter, or attribute access) to each item. */
static jv *select_common(jctx *c, const jnode *at, jv *v, jv **args, size_t nargs, bool has_attr, bool keep) {
    /* jinja2 yields nothing for a falsy input ("if value: for item in value") */
    jv *items = jv_truthy(v) ? jinja_iter_list(c, at, v) : jv_list(c, 0);
    jv *attr = NULL;
    size_t k = 0;
    if (has_attr) {
        if (nargs < 1) jinja_fail(c, at, LK_ERR_ARG, "missing attribute name");
        attr = args[k++];
    }
    jtest t = NULL;
    if (k < nargs && items->list.n > 0) { /* jinja2 is lazy: an unknown test on no items is no error */
        if (args[k]->kind != JV_STR) jinja_fail(c, at, LK_ERR_ARG, "test name must be a string");
        t = jinja_find_test(args[k]->str.s);
        if (!t) jinja_fail(c, at, LK_ERR_UNSUPPORTED, "no test named '%s'", args[k]->str.s);
        k++;
    }
    jv *out = jv_list(c, 0);
    for (size_t i = 0; i < items->list.n; i++) {
        jv *it = items->list.v[i];
        if (attr) it = attr_get(c, at, it, attr);
        bool r = t ? t(c, at, it, args + k, nargs - k) : jv_truthy(it);
        if (r == keep) jv_list_push(c, out, items->list.v[i]);
    }
    return generator(c, out);
}

FILTER(select) { return select_common(c, at, v, args, nargs, false, true); }
FILTER(reject) { return select_common(c, at, v, args, nargs, false, false); }
FILTER(selectattr) { return select_common(c, at, v, args, nargs, true, true); }
FILTER(rejectattr) { return select_common(c, at, v, args, nargs, true, false); }

FILTER(map) {
    if (!jv_truthy(v)) return generator(c, jv_list(c, 0));
    jv *items = jinja_iter_list(c, at, v);
    jv *attr = jinja_arg(NULL, 0, kwnames, kwvals, nkw, 0, "attribute");
    jv *dflt = jinja_arg(NULL, 0, kwnames, kwvals, nkw, 0, "default");
    jv *out = jv_list(c, items->list.n);
    if (attr) {
        for (size_t i = 0; i < items->list.n; i++) {
            jv *r = attr_get(c, at, items->list.v[i], attr);
            if (r->kind == JV_UNDEF && dflt) r = dflt;
            jv_list_push(c, out, r);
        }
        return generator(c, out);
    }
    if (items->list.n == 0) return generator(c, jv_list(c, 0));
    if (nargs < 1 || args[0]->kind != JV_STR) jinja_fail(c, at, LK_ERR_ARG, "map() needs a filter name or attribute=");
    jfilter f = jinja_find_filter(args[0]->str.s);
    if (!f) jinja_fail(c, at, LK_ERR_UNSUPPORTED, "no filter named '%s'", args[0]->str.s);
    for (size_t i = 0; i < items->list.n; i++)
        jv_list_push(c, out, f(c, at, items->list.v[i], args + 1, nargs - 1, kwnames, kwvals, nkw));
    return generator(c, out);
}

static int sort_cmp_key(jctx *c, const jnode *at, jv *a, jv *b, bool case_sensitive) {
    if (!case_sensitive && a->kind == JV_STR && b->kind == JV_STR) {
        a = jstr_case(c, a, 1);
        b = jstr_case(c, b, 1);
    }
    return jv_compare(c, at, a, b);
}

/* Stable insertion sort: lists in templates are short. */
static void sort_list(jctx *c, const jnode *at, jv **v, jv **keys, size_t n, bool cs, bool reverse) {
    for (size_t i = 1; i < n; i++) {
        jv *item = v[i], *key = keys[i];
        size_t j = i;
        while (j > 0) {
            int r = sort_cmp_key(c, at, keys[j - 1], key, cs);
            if (reverse ? r >= 0 : r <= 0) break;
            v[j] = v[j - 1];
            keys[j] = keys[j - 1];
            j--;
        }
        v[j] = item;
        keys[j] = key;
    }
}

FILTER(dictsort) {
    jv *cs = ARG(0, "case_sensitive"), *by = ARG(1, "by"), *rev = ARG(2, "reverse");
    if (v->kind == JV_UNDEF) jinja_undef_fail(c, at, v);
    jv *pairs = f_items(c, at, v, NULL, 0, NULL, NULL, 0);
    pairs->is_gen = false; /* sorted() makes a list */
    bool by_value = by && by->kind == JV_STR && by->str.n == 5 && memcmp(by->str.s, "value", 5) == 0;
    size_t n = pairs->list.n;
    jv **keys = jarena_alloc(&c->arena, (n + 1) * sizeof(jv *));
    for (size_t i = 0; i < n; i++) keys[i] = pairs->list.v[i]->list.v[by_value ? 1 : 0];
    sort_list(c, at, pairs->list.v, keys, n, cs && jv_truthy(cs), rev && jv_truthy(rev));
    return pairs;
}

FILTER(sort) {
    jv *rev = ARG(0, "reverse"), *cs = ARG(1, "case_sensitive"), *attr = ARG(2, "attribute");
    jv *l = f_list(c, at, v, NULL, 0, NULL, NULL, 0);
    size_t n = l->list.n;
    jv **keys = jarena_alloc(&c->arena, (n + 1) * sizeof(jv *));
    for (size_t i = 0; i < n; i++) keys[i] = attr ? attr_get(c, at, l->list.v[i], attr) : l->list.v[i];
    sort_list(c, at, l->list.v, keys, n, cs && jv_truthy(cs), rev && jv_truthy(rev));
    return l;
}

FILTER(reverse) {
    if (v->kind == JV_STR) {
        jv *chars = jinja_iter_list(c, at, v);
        jbuf b;
        jbuf_init(&b, c);
        for (size_t i = chars->list.n; i-- > 0;) jbuf_put(&b, chars->list.v[i]->str.s, chars->list.v[i]->str.n);
        return jv_str_nocopy(c, b.s, b.n);
    }
    jv *items = jinja_iter_list(c, at, v);
    jv *out = jv_list(c, items->list.n);
    for (size_t i = items->list.n; i-- > 0;) jv_list_push(c, out, items->list.v[i]);
    return generator(c, out); /* Python's reversed() iterator */
}

FILTER(sum) {
    jv *attr = ARG(0, "attribute"), *start = ARG(1, "start");
    jv *items = jinja_iter_list(c, at, v);
    jv *acc = start ? start : jv_int(c, 0);
    for (size_t i = 0; i < items->list.n; i++) {
        jv *it = attr ? attr_get(c, at, items->list.v[i], attr) : items->list.v[i];
        if (!jv_is_number(it) || !jv_is_number(acc)) jinja_fail(c, at, LK_ERR_ARG, "TypeError: sum() of non-numbers");
        if (acc->kind == JV_FLOAT || it->kind == JV_FLOAT) acc = jv_float(c, jv_as_double(acc) + jv_as_double(it));
        else acc = jv_int(c, (int64_t)jv_as_double(acc) + (int64_t)jv_as_double(it));
    }
    return acc;
}

static jv *minmax(jctx *c, const jnode *at, jv *v, bool want_max, jv *cs, jv *attr) {
    jv *items = jinja_iter_list(c, at, v);
    if (!items->list.n) return jv_undef(c, "No aggregated item, sequence was empty.");
    jv *best = items->list.v[0], *best_key = attr ? attr_get(c, at, best, attr) : best;
    for (size_t i = 1; i < items->list.n; i++) {
        jv *key = attr ? attr_get(c, at, items->list.v[i], attr) : items->list.v[i];
        int r = sort_cmp_key(c, at, key, best_key, cs && jv_truthy(cs));
        if (want_max ? r > 0 : r < 0) {
            best = items->list.v[i];
            best_key = key;
        }
    }
    return best;
}
FILTER(min) { return minmax(c, at, v, false, ARG(0, "case_sensitive"), ARG(1, "attribute")); }
FILTER(max) { return minmax(c, at, v, true, ARG(0, "case_sensitive"), ARG(1, "attribute")); }

/* Python's str.splitlines() boundaries, which indent uses. */
size_t jpy_line_break_len(const char *s, size_t n, size_t i) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '\r') return i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
    if (ch == '\n' || ch == '\v' || ch == '\f' || (ch >= 0x1c && ch <= 0x1e)) return 1;
    uint32_t cp;
    size_t len = jutf8_decode(s + i, n - i, &cp);
    if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) return len;
    return 0;
}

FILTER(indent) {
    jv *w = ARG(0, "width"), *first = ARG(1, "first"), *blank = ARG(2, "blank");
    if (w && w->kind == JV_UNDEF) jinja_undef_fail(c, at, w);
    if (w && w->kind != JV_STR && w->kind != JV_INT && w->kind != JV_BOOL)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: can't multiply sequence by non-int of type '%s'", jv_type_name(w));
    if (w && w->kind == JV_BOOL) w = jv_int(c, w->b);
    jbuf ind;
    jbuf_init(&ind, c);
    if (w && w->kind == JV_STR) jbuf_put(&ind, w->str.s, w->str.n);
    else
        for (int64_t i = 0; i < (w && w->kind == JV_INT ? w->i : 4) && i < 1000; i++) jbuf_putc(&ind, ' ');
    /* jinja2 does `s += "\n"` on the value itself: only strings work */
    if (v->kind == JV_UNDEF) jinja_undef_fail(c, at, v);
    if (v->kind != JV_STR)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: unsupported operand type(s) for +=: '%s' and 'str'", jv_type_name(v));
    jv *s = v;
    /* s + "\n", split into lines (Python splitlines), then rejoin. */
    jbuf src;
    jbuf_init(&src, c);
    jbuf_put(&src, s->str.s, s->str.n);
    jbuf_putc(&src, '\n');
    jbuf out;
    jbuf_init(&out, c);
    if (first && jv_truthy(first)) jbuf_put(&out, ind.s, ind.n);
    size_t start = 0, line_no = 0;
    for (size_t i = 0; i < src.n;) {
        size_t br = jpy_line_break_len(src.s, src.n, i);
        if (!br) {
            i++;
            continue;
        }
        size_t len = i - start;
        if (line_no > 0) {
            jbuf_putc(&out, '\n');
            if (len > 0 || (blank && jv_truthy(blank))) jbuf_put(&out, ind.s, ind.n);
        }
        jbuf_put(&out, src.s + start, len);
        line_no++;
        i += br;
        start = i;
    }
    return jv_str_nocopy(c, out.s, out.n);
}

FILTER(wordcount) {
    jv *s = need_str(c, v);
    int64_t words = 0;
    bool in = false;
    for (size_t i = 0; i < s->str.n; i++) {
        unsigned char ch = (unsigned char)s->str.s[i];
        bool w = ch >= 0x80 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
        if (w && !in) words++;
        in = w;
    }
    return jv_int(c, words);
}

FILTER(attr) {
    jv *name = ARG(0, "name");
    if (!name || name->kind != JV_STR) jinja_fail(c, at, LK_ERR_ARG, "attr() needs a name");
    return jinja_getattr(c, at, v, name->str.s, name->str.n);
}

void jinja_html_escape(jbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        switch (ch) {
        case '&': jbuf_puts(b, "&amp;"); break;
        case '<': jbuf_puts(b, "&lt;"); break;
        case '>': jbuf_puts(b, "&gt;"); break;
        case '"': jbuf_puts(b, "&#34;"); break;
        case '\'': jbuf_puts(b, "&#39;"); break;
        default: jbuf_putc(b, ch);
        }
    }
}

FILTER(escape) {
    if (v->kind == JV_STR && v->is_safe) return v;
    jv *s = need_str(c, v);
    jbuf b;
    jbuf_init(&b, c);
    jinja_html_escape(&b, s->str.s, s->str.n);
    jv *r = jv_str_nocopy(c, b.s, b.n);
    r->is_safe = true;
    return r;
}

FILTER(center) {
    jv *w = ARG(0, "width");
    jv *s = need_str(c, v);
    int64_t width = w && w->kind == JV_INT ? w->i : 80, len = jv_len(s);
    if (len >= width || width > 100000) return s;
    int64_t pad = width - len, left = pad / 2 + (pad & width & 1);
    jbuf b;
    jbuf_init(&b, c);
    for (int64_t i = 0; i < left; i++) jbuf_putc(&b, ' ');
    jbuf_put(&b, s->str.s, s->str.n);
    for (int64_t i = 0; i < pad - left; i++) jbuf_putc(&b, ' ');
    return jv_str_nocopy(c, b.s, b.n);
}

FILTER(format) {
    if (nargs && nkw) jinja_fail(c, at, LK_ERR_ARG, "can't handle positional and keyword arguments at the same time");
    if (nkw) jinja_fail(c, at, LK_ERR_UNSUPPORTED, "format with keyword arguments is not supported");
    jv *tuple = jv_list(c, nargs);
    tuple->is_tuple = true;
    for (size_t i = 0; i < nargs; i++) jv_list_push(c, tuple, args[i]);
    return jinja_binop(c, at, "%", need_str(c, v), tuple);
}

FILTER(truncate) {
    jv *lenv = ARG(0, "length"), *kill = ARG(1, "killwords"), *endv = ARG(2, "end"), *leewayv = ARG(3, "leeway");
    jv *s = need_str(c, v);
    jv *end = endv ? need_str(c, endv) : jv_cstr(c, "...");
    int64_t length = lenv && lenv->kind == JV_INT ? lenv->i : 255;
    int64_t leeway = leewayv && leewayv->kind == JV_INT ? leewayv->i : 5;
    int64_t n = jv_len(s), endn = jv_len(end);
    if (length < endn) jinja_fail(c, at, LK_ERR_ARG, "AssertionError: expected length >= %lld, got %lld", (long long)endn, (long long)length);
    if (leeway < 0) jinja_fail(c, at, LK_ERR_ARG, "AssertionError: expected leeway >= 0, got %lld", (long long)leeway);
    if (n <= length + leeway) return s;
    size_t cut = jutf8_offset(s->str.s, s->str.n, length - endn);
    if (!(kill && jv_truthy(kill))) {
        /* rsplit(" ", 1)[0]: drop the last partial word */
        size_t k = cut;
        while (k > 0 && s->str.s[k - 1] != ' ') k--;
        if (k > 0) cut = k - 1;
    }
    jbuf b;
    jbuf_init(&b, c);
    jbuf_put(&b, s->str.s, cut);
    jbuf_put(&b, end->str.s, end->str.n);
    return jv_str_nocopy(c, b.s, b.n);
}

FILTER(batch) {
    jv *cnt = ARG(0, "linecount"), *fill = ARG(1, "fill_with");
    if (!cnt || cnt->kind != JV_INT || cnt->i <= 0) jinja_fail(c, at, LK_ERR_ARG, "batch() needs a positive linecount");
    jv *items = jinja_iter_list(c, at, v);
    jv *out = jv_list(c, 0), *cur = NULL;
    for (size_t i = 0; i < items->list.n; i++) {
        if (!cur) cur = jv_list(c, (size_t)cnt->i);
        jv_list_push(c, cur, items->list.v[i]);
        if ((int64_t)cur->list.n == cnt->i) {
            jv_list_push(c, out, cur);
            cur = NULL;
        }
    }
    if (cur) {
        while (fill && (int64_t)cur->list.n < cnt->i) jv_list_push(c, cur, fill);
        jv_list_push(c, out, cur);
    }
    return generator(c, out);
}

FILTER(count) { return f_length(c, at, v, args, nargs, kwnames, kwvals, nkw); }

/* Each filter's parameters after the value, in order, as jinja2 (or, for
 * tojson, transformers) declares them; NULL for variadic ones. Calls are
 * checked against these so a misspelt keyword fails as in Python. */
static const struct {
    const char *name;
    jfilter fn;
    const char *params;
} k_filters[] = {
    {"trim", f_trim, "chars"}, {"upper", f_upper, ""}, {"lower", f_lower, ""},
    {"capitalize", f_capitalize, ""}, {"title", f_title, ""}, {"safe", f_safe, ""},
    {"string", f_string, ""}, {"replace", f_replace, "old,new,count"},
    {"tojson", f_tojson, "ensure_ascii,indent,separators,sort_keys"}, {"length", f_length, ""},
    {"count", f_count, ""}, {"list", f_list, ""}, {"first", f_first, ""}, {"last", f_last, ""},
    {"default", f_default, "default_value,boolean"}, {"d", f_default, "default_value,boolean"},
    {"items", f_items, ""}, {"join", f_join, "d,attribute"}, {"int", f_int, "default,base"},
    {"float", f_float, "default"}, {"abs", f_abs, ""}, {"round", f_round, "precision,method"},
    {"unique", f_unique, "case_sensitive,attribute"}, {"select", f_select, NULL},
    {"reject", f_reject, NULL}, {"selectattr", f_selectattr, NULL}, {"rejectattr", f_rejectattr, NULL},
    {"map", f_map, NULL}, {"dictsort", f_dictsort, "case_sensitive,by,reverse"},
    {"sort", f_sort, "reverse,case_sensitive,attribute"}, {"reverse", f_reverse, ""},
    {"sum", f_sum, "attribute,start"}, {"min", f_min, "case_sensitive,attribute"},
    {"max", f_max, "case_sensitive,attribute"}, {"indent", f_indent, "width,first,blank"},
    {"wordcount", f_wordcount, ""}, {"attr", f_attr, "name"}, {"escape", f_escape, ""},
    {"e", f_escape, ""}, {"center", f_center, "width"}, {"format", f_format, NULL},
    {"truncate", f_truncate, "length,killwords,end,leeway"}, {"batch", f_batch, "linecount,fill_with"},
};

jfilter jinja_find_filter(const char *name) {
    for (size_t i = 0; i < sizeof k_filters / sizeof k_filters[0]; i++)
        if (strcmp(k_filters[i].name, name) == 0) return k_filters[i].fn;
    return NULL;
}

static bool param_index(const char *params, const char *name, size_t *index) {
    size_t k = 0, n = strlen(name);
    for (const char *p = params; *p; k++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0) {
            *index = k;
            return true;
        }
        p += len + (comma ? 1 : 0);
    }
    return false;
}

void jinja_check_filter_args(jctx *c, const jnode *at, const char *name, size_t nargs, const char **kwnames,
                             size_t nkw) {
    const char *params = NULL;
    for (size_t i = 0; i < sizeof k_filters / sizeof k_filters[0]; i++)
        if (strcmp(k_filters[i].name, name) == 0) params = k_filters[i].params;
    if (!params) return;
    size_t nparams = 0, idx;
    for (const char *p = params; *p; p++) nparams += *p == ',';
    nparams += params[0] != '\0';
    if (nargs > nparams)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: filter '%s' takes at most %zu argument(s) (%zu given)", name, nparams,
                   nargs);
    for (size_t k = 0; k < nkw; k++) {
        if (!param_index(params, kwnames[k], &idx))
            jinja_fail(c, at, LK_ERR_ARG, "TypeError: filter '%s' got an unexpected keyword argument '%s'", name,
                       kwnames[k]);
        if (idx < nargs)
            jinja_fail(c, at, LK_ERR_ARG, "TypeError: filter '%s' got multiple values for argument '%s'", name,
                       kwnames[k]);
    }
}

/* ---------------------------------------------------------------- tests */

#define TEST(name) static bool t_##name(jctx *c, const jnode *at, jv *v, jv **args, size_t nargs)

TEST(defined) { return v->kind != JV_UNDEF; }
TEST(undefined) { return v->kind == JV_UNDEF; }
TEST(none) { return v->kind == JV_NONE; }
TEST(string) { return v->kind == JV_STR; }
TEST(mapping) { return v->kind == JV_DICT; }
TEST(iterable) { return v->kind == JV_STR || v->kind == JV_LIST || v->kind == JV_DICT || v->kind == JV_UNDEF; }
/* Undefined has __len__ and __getitem__, so jinja2 calls it a sequence. */
TEST(sequence) { return v->kind == JV_STR || (v->kind == JV_LIST && !v->is_gen) || v->kind == JV_DICT || v->kind == JV_UNDEF; }
TEST(number) { return jv_is_number(v); }
TEST(integer) { return v->kind == JV_INT; }
TEST(float) { return v->kind == JV_FLOAT; }
TEST(boolean) { return v->kind == JV_BOOL; }
TEST(true) { return v->kind == JV_BOOL && v->b; }
TEST(false) { return v->kind == JV_BOOL && !v->b; }
TEST(callable) { return v->kind == JV_FUNC; }
TEST(odd) {
    if (v->kind != JV_INT) jinja_fail(c, at, LK_ERR_ARG, "TypeError: odd needs an integer");
    return (v->i & 1) != 0;
}
TEST(even) {
    if (v->kind != JV_INT) jinja_fail(c, at, LK_ERR_ARG, "TypeError: even needs an integer");
    return (v->i & 1) == 0;
}
TEST(divisibleby) {
    if (nargs < 1 || v->kind != JV_INT || args[0]->kind != JV_INT || args[0]->i == 0)
        jinja_fail(c, at, LK_ERR_ARG, "divisibleby needs nonzero integers");
    return v->i % args[0]->i == 0;
}
static jv *need_arg(jctx *c, const jnode *at, jv **args, size_t nargs) {
    if (nargs < 1) jinja_fail(c, at, LK_ERR_ARG, "TypeError: test needs an argument");
    return args[0];
}
TEST(eq) { return jv_equal(v, need_arg(c, at, args, nargs)); }
TEST(ne) { return !jv_equal(v, need_arg(c, at, args, nargs)); }
TEST(lt) { return jv_compare(c, at, v, need_arg(c, at, args, nargs)) < 0; }
TEST(le) { return jv_compare(c, at, v, need_arg(c, at, args, nargs)) <= 0; }
TEST(gt) { return jv_compare(c, at, v, need_arg(c, at, args, nargs)) > 0; }
TEST(ge) { return jv_compare(c, at, v, need_arg(c, at, args, nargs)) >= 0; }
TEST(in) { return jinja_contains(c, at, need_arg(c, at, args, nargs), v); }
TEST(sameas) {
    jv *o = need_arg(c, at, args, nargs);
    if (v->kind != o->kind) return false;
    if (v->kind == JV_NONE) return true;
    if (v->kind == JV_BOOL) return v->b == o->b;
    return v == o;
}
/* str.islower()/isupper(): some cased character, and none of the other case. */
static bool is_case(jctx *c, jv *v, bool lower) {
    jv *s = jv_to_str(c, v);
    bool cased = false;
    for (size_t i = 0; i < s->str.n;) {
        uint32_t cp;
        i += jutf8_decode(s->str.s + i, s->str.n - i, &cp);
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
        if (cat == UTF8PROC_CATEGORY_LT || cat == (lower ? UTF8PROC_CATEGORY_LU : UTF8PROC_CATEGORY_LL)) return false;
        cased |= cat == (lower ? UTF8PROC_CATEGORY_LL : UTF8PROC_CATEGORY_LU);
    }
    return cased;
}
TEST(lower) { return is_case(c, v, true); }
TEST(upper) { return is_case(c, v, false); }

TEST(filter) { return v->kind == JV_STR && jinja_find_filter(v->str.s) != NULL; }
TEST(test) { return v->kind == JV_STR && jinja_find_test(v->str.s) != NULL; }
TEST(escaped) { return v->kind == JV_STR && v->is_safe; }

static const struct {
    const char *name;
    jtest fn;
} k_tests[] = {
    {"filter", t_filter}, {"test", t_test}, {"escaped", t_escaped},
    {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"string", t_string},
    {"mapping", t_mapping}, {"iterable", t_iterable}, {"sequence", t_sequence}, {"number", t_number},
    {"integer", t_integer}, {"float", t_float}, {"boolean", t_boolean}, {"true", t_true},
    {"false", t_false}, {"callable", t_callable}, {"odd", t_odd}, {"even", t_even},
    {"divisibleby", t_divisibleby}, {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq}, {"ne", t_ne},
    {"!=", t_ne}, {"lt", t_lt}, {"lessthan", t_lt}, {"<", t_lt}, {"le", t_le}, {"<=", t_le},
    {"gt", t_gt}, {"greaterthan", t_gt}, {">", t_gt}, {"ge", t_ge}, {">=", t_ge}, {"in", t_in},
    {"sameas", t_sameas}, {"lower", t_lower}, {"upper", t_upper},
};

/* How many arguments a test takes (besides the value). */
int jinja_test_arity(const char *name) {
    static const char *const one[] = {"divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le",
                                      "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas", NULL};
    for (int i = 0; one[i]; i++)
        if (strcmp(one[i], name) == 0) return 1;
    return 0;
}

jtest jinja_find_test(const char *name) {
    for (size_t i = 0; i < sizeof k_tests / sizeof k_tests[0]; i++)
        if (strcmp(k_tests[i].name, name) == 0) return k_tests[i].fn;
    return NULL;
}

/* jinja2's built-in filter and test names (plus transformers' tojson), to
 * tell "llmkit lacks this" from "no such filter" in messages. */
static const char *const k_jinja_filters[] = {
    "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
    "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "join", "last",
    "length", "list", "lower", "items", "map", "min", "max", "pprint", "random", "reject", "rejectattr",
    "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags",
    "sum", "title", "trim", "truncate", "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap",
    "xmlattr", "tojson", NULL};
static const char *const k_jinja_tests[] = {
    "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean", "false", "true",
    "integer", "float", "number", "string", "sequence", "callable", "sameas", "iterable", "escaped", "in",
    "mapping", "==", "eq", "equalto", "!=", "ne", ">", "gt", "greaterthan", ">=", "ge", "<", "lt", "lessthan",
    "<=", "le", "lower", "upper", NULL};

static bool in_list(const char *const *names, const char *name) {
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0) return true;
    return false;
}

bool jinja_is_jinja2_filter(const char *name) { return in_list(k_jinja_filters, name); }
bool jinja_is_jinja2_test(const char *name) { return in_list(k_jinja_tests, name); }
