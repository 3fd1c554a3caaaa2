/* The Python methods templates call on values: str.strip/split/startswith/
 * format/..., dict.items/keys/values/get/copy, list.index/count/pop/copy.
 * The methods jinja2's ImmutableSandboxedEnvironment refuses (list
 * append/extend/insert/remove/sort/reverse, dict update/pop/popitem/clear/
 * setdefault) are refused here too. Case mapping uses utf8proc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "chat/jinja.h"

#define METHOD(name) \
    static jv *m_##name(jctx *c, const jnode *at, jv *self, jv **args, size_t nargs, const char **kwnames, \
                        jv **kwvals, size_t nkw)
#define ARG(pos, name) jinja_arg(args, nargs, kwnames, kwvals, nkw, pos, name)

static bool in_chars(uint32_t cp, const jv *chars) {
    for (size_t i = 0; i < chars->str.n;) {
        uint32_t x;
        i += jutf8_decode(chars->str.s + i, chars->str.n - i, &x);
        if (x == cp) return true;
    }
    return false;
}

jv *jstr_strip(jctx *c, jv *s, jv *chars, bool left, bool right) {
    if (chars && chars->kind == JV_NONE) chars = NULL;
    if (chars && chars->kind != JV_STR) jinja_fail(c, NULL, LK_ERR_ARG, "TypeError: strip arg must be None or str");
    size_t a = 0, b = s->str.n;
    while (left && a < b) {
        uint32_t cp;
        size_t len = jutf8_decode(s->str.s + a, b - a, &cp);
        if (chars ? !in_chars(cp, chars) : !jpy_isspace(cp)) break;
        a += len;
    }
    while (right && b > a) {
        size_t k = b - 1;
        while (k > a && ((unsigned char)s->str.s[k] & 0xc0) == 0x80) k--;
        uint32_t cp;
        jutf8_decode(s->str.s + k, b - k, &cp);
        if (chars ? !in_chars(cp, chars) : !jpy_isspace(cp)) break;
        b = k;
    }
    if (a == 0 && b == s->str.n) return s;
    jv *r = jv_str_nocopy(c, s->str.s + a, b - a);
    r->is_safe = s->is_safe;
    return r;
}

static bool is_cased_letter(uint32_t cp) {
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

/* mode: 0 upper, 1 lower, 2 capitalize, 3 str.title, 4 jinja's title filter. */
jv *jstr_case(jctx *c, jv *s, int mode) {
    jbuf b;
    jbuf_init(&b, c);
    bool start = true; /* at a word start */
    bool first = true;
    for (size_t i = 0; i < s->str.n;) {
        uint32_t cp;
        i += jutf8_decode(s->str.s + i, s->str.n - i, &cp);
        uint32_t out = cp;
        switch (mode) {
        case 0:
            if (cp == 0xdf) { /* Python's full case mapping: ß -> SS */
                jbuf_puts(&b, "SS");
                continue;
            }
            out = (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp);
            break;
        case 1: out = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp); break;
        case 2:
            out = first ? (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp) : (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
            break;
        case 3:
            out = start ? (uint32_t)utf8proc_totitle((utf8proc_int32_t)cp) : (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
            start = !is_cased_letter(cp);
            break;
        case 4: {
            bool sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || jpy_isspace(cp);
            out = sep ? cp : start ? (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp) : (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
            start = sep;
            break;
        }
        }
        first = false;
        jutf8_encode(&b, out);
    }
    jv *r = jv_str_nocopy(c, b.s, b.n);
    r->is_safe = s->is_safe;
    return r;
}

jv *jstr_replace(jctx *c, const jnode *at, jv *s, jv *old, jv *new_, jv *count) {
    if (count && count->kind != JV_INT && count->kind != JV_BOOL && count->kind != JV_NONE)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: '%s' object cannot be interpreted as an integer", jv_type_name(count));
    int64_t max = count && count->kind == JV_INT ? count->i : count && count->kind == JV_BOOL ? count->b : -1;
    jbuf b;
    jbuf_init(&b, c);
    if (old->str.n == 0) {
        /* Python inserts new_ between every character and at both ends */
        int64_t done = 0;
        for (size_t i = 0; i <= s->str.n;) {
            if (max < 0 || done < max) {
                jbuf_put(&b, new_->str.s, new_->str.n);
                done++;
            }
            if (i == s->str.n) break;
            uint32_t cp;
            size_t len = jutf8_decode(s->str.s + i, s->str.n - i, &cp);
            jbuf_put(&b, s->str.s + i, len);
            i += len;
        }
        return jv_str_nocopy(c, b.s, b.n);
    }
    int64_t done = 0;
    size_t i = 0;
    while (i < s->str.n) {
        if ((max < 0 || done < max) && i + old->str.n <= s->str.n && memcmp(s->str.s + i, old->str.s, old->str.n) == 0) {
            jbuf_put(&b, new_->str.s, new_->str.n);
            i += old->str.n;
            done++;
        } else {
            jbuf_putc(&b, s->str.s[i++]);
        }
    }
    (void)at;
    return jv_str_nocopy(c, b.s, b.n);
}

static jv *str_arg(jctx *c, const jnode *at, jv *v, const char *what) {
    if (!v || v->kind != JV_STR)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: %s must be a str, not %s", what, v ? jv_type_name(v) : "nothing");
    return v;
}

METHOD(strip) { return jstr_strip(c, self, ARG(0, "chars"), true, true); }
METHOD(lstrip) { return jstr_strip(c, self, ARG(0, "chars"), true, false); }
METHOD(rstrip) { return jstr_strip(c, self, ARG(0, "chars"), false, true); }
METHOD(upper) { return jstr_case(c, self, 0); }
METHOD(lower) { return jstr_case(c, self, 1); }
METHOD(capitalize) { return jstr_case(c, self, 2); }
METHOD(title) { return jstr_case(c, self, 3); }

METHOD(replace) {
    return jstr_replace(c, at, self, str_arg(c, at, ARG(0, "old"), "replace() argument 1"),
                        str_arg(c, at, ARG(1, "new"), "replace() argument 2"), ARG(2, "count"));
}

static bool affix_match(const jv *s, const jv *affix, bool start) {
    if (affix->str.n > s->str.n) return false;
    const char *p = start ? s->str.s : s->str.s + s->str.n - affix->str.n;
    return memcmp(p, affix->str.s, affix->str.n) == 0;
}

static jv *affix(jctx *c, const jnode *at, jv *self, jv *arg, bool start) {
    if (arg && arg->kind == JV_LIST && arg->is_tuple) {
        for (size_t i = 0; i < arg->list.n; i++)
            if (affix_match(self, str_arg(c, at, arg->list.v[i], "tuple item"), start)) return jv_bool(c, true);
        return jv_bool(c, false);
    }
    return jv_bool(c, affix_match(self, str_arg(c, at, arg, start ? "startswith arg" : "endswith arg"), start));
}
METHOD(startswith) { return affix(c, at, self, ARG(0, "prefix"), true); }
METHOD(endswith) { return affix(c, at, self, ARG(0, "suffix"), false); }

METHOD(split) {
    jv *sep = ARG(0, "sep"), *maxv = ARG(1, "maxsplit");
    if (maxv && maxv->kind != JV_INT && maxv->kind != JV_BOOL)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: '%s' object cannot be interpreted as an integer", jv_type_name(maxv));
    int64_t max = maxv ? (maxv->kind == JV_BOOL ? maxv->b : maxv->i) : -1;
    jv *out = jv_list(c, 0);
    const char *s = self->str.s;
    size_t n = self->str.n;
    if (!sep || sep->kind == JV_NONE) {
        size_t i = 0;
        for (;;) {
            while (i < n) {
                uint32_t cp;
                size_t len = jutf8_decode(s + i, n - i, &cp);
                if (!jpy_isspace(cp)) break;
                i += len;
            }
            if (i >= n) break;
            if (max >= 0 && (int64_t)out->list.n >= max) {
                jv_list_push(c, out, jv_str_nocopy(c, s + i, n - i)); /* the rest, as is */
                break;
            }
            size_t start = i;
            while (i < n) {
                uint32_t cp;
                size_t len = jutf8_decode(s + i, n - i, &cp);
                if (jpy_isspace(cp)) break;
                i += len;
            }
            jv_list_push(c, out, jv_str_nocopy(c, s + start, i - start));
        }
        return out;
    }
    str_arg(c, at, sep, "separator");
    if (sep->str.n == 0) jinja_fail(c, at, LK_ERR_ARG, "ValueError: empty separator");
    size_t start = 0;
    for (size_t i = 0; i + sep->str.n <= n;) {
        if ((max < 0 || (int64_t)out->list.n < max) && memcmp(s + i, sep->str.s, sep->str.n) == 0) {
            jv_list_push(c, out, jv_str_nocopy(c, s + start, i - start));
            i += sep->str.n;
            start = i;
        } else {
            i++;
        }
    }
    jv_list_push(c, out, jv_str_nocopy(c, s + start, n - start));
    return out;
}


METHOD(splitlines) {
    jv *out = jv_list(c, 0);
    size_t start = 0;
    const char *s = self->str.s;
    for (size_t i = 0; i < self->str.n;) {
        size_t br = jpy_line_break_len(s, self->str.n, i);
        if (br) {
            jv_list_push(c, out, jv_str_nocopy(c, s + start, i - start));
            i += br;
            start = i;
        } else {
            i++;
        }
    }
    if (start < self->str.n) jv_list_push(c, out, jv_str_nocopy(c, s + start, self->str.n - start));
    return out;
}

static int64_t find_sub(const jv *s, const jv *sub) {
    if (sub->str.n > s->str.n) return -1;
    for (size_t i = 0; i + sub->str.n <= s->str.n; i++)
        if (memcmp(s->str.s + i, sub->str.s, sub->str.n) == 0) return (int64_t)jutf8_count(s->str.s, i);
    return -1;
}
METHOD(find) { return jv_int(c, find_sub(self, str_arg(c, at, ARG(0, "sub"), "find arg"))); }

METHOD(str_count) {
    jv *sub = str_arg(c, at, ARG(0, "sub"), "count arg");
    int64_t k = 0;
    if (sub->str.n == 0) return jv_int(c, jv_len(self) + 1);
    for (size_t i = 0; i + sub->str.n <= self->str.n;) {
        if (memcmp(self->str.s + i, sub->str.s, sub->str.n) == 0) {
            k++;
            i += sub->str.n;
        } else {
            i++;
        }
    }
    return jv_int(c, k);
}

METHOD(join) {
    jv *items = jinja_iter_list(c, at, ARG(0, "iterable") ? ARG(0, "iterable") : jv_list(c, 0));
    jbuf b;
    jbuf_init(&b, c);
    for (size_t i = 0; i < items->list.n; i++) {
        if (i) jbuf_put(&b, self->str.s, self->str.n);
        jbuf_put(&b, str_arg(c, at, items->list.v[i], "sequence item")->str.s, items->list.v[i]->str.n);
    }
    return jv_str_nocopy(c, b.s, b.n);
}

static jv *str_class(jctx *c, jv *self, int cls) {
    if (self->str.n == 0) return jv_bool(c, false);
    for (size_t i = 0; i < self->str.n;) {
        uint32_t cp;
        i += jutf8_decode(self->str.s + i, self->str.n - i, &cp);
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
        bool ok = cls == 0 ? (cat == UTF8PROC_CATEGORY_ND)
                  : cls == 1 ? (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)
                  : cls == 2 ? jpy_isspace(cp)
                             : (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) || cat == UTF8PROC_CATEGORY_ND;
        if (!ok) return jv_bool(c, false);
    }
    return jv_bool(c, true);
}
METHOD(isdigit) { return str_class(c, self, 0); }
METHOD(isalpha) { return str_class(c, self, 1); }
METHOD(isspace) { return str_class(c, self, 2); }
METHOD(isalnum) { return str_class(c, self, 3); }

/* dict */
METHOD(items) {
    jv *l = jv_list(c, self->dict.n);
    for (size_t i = 0; i < self->dict.n; i++) {
        jv *t = jv_list(c, 2);
        t->is_tuple = true;
        jv_list_push(c, t, self->dict.k[i]);
        jv_list_push(c, t, self->dict.v[i]);
        jv_list_push(c, l, t);
    }
    return l;
}
METHOD(keys) {
    jv *l = jv_list(c, self->dict.n);
    for (size_t i = 0; i < self->dict.n; i++) jv_list_push(c, l, self->dict.k[i]);
    return l;
}
METHOD(values) {
    jv *l = jv_list(c, self->dict.n);
    for (size_t i = 0; i < self->dict.n; i++) jv_list_push(c, l, self->dict.v[i]);
    return l;
}
METHOD(get) {
    jv *key = ARG(0, "key"), *dflt = ARG(1, "default");
    if (!key) jinja_fail(c, at, LK_ERR_ARG, "TypeError: get expected at least 1 argument");
    jv *v = jv_dict_getv(self, key);
    return v ? v : dflt ? dflt : jv_none(c);
}

/* list */
METHOD(index) {
    jv *x = ARG(0, "value");
    for (size_t i = 0; x && i < self->list.n; i++)
        if (jv_equal(self->list.v[i], x)) return jv_int(c, (int64_t)i);
    jinja_fail(c, at, LK_ERR_ARG, "ValueError: value is not in list");
}
METHOD(list_count) {
    jv *x = ARG(0, "value");
    int64_t k = 0;
    for (size_t i = 0; x && i < self->list.n; i++) k += jv_equal(self->list.v[i], x);
    return jv_int(c, k);
}

/* The immutable sandbox lets these through (jinja2 only blocks append,
 * extend, insert, remove, reverse and sort on lists), so templates may use
 * them; they act on this render's own copy of the data. */
METHOD(pop) {
    jv *at_v = ARG(0, "index");
    int64_t n = (int64_t)self->list.n, i = n - 1;
    if (at_v) {
        if (at_v->kind != JV_INT) jinja_fail(c, at, LK_ERR_ARG, "TypeError: list indices must be integers");
        i = at_v->i < 0 ? at_v->i + n : at_v->i;
    }
    if (n == 0 || i < 0 || i >= n) jinja_fail(c, at, LK_ERR_ARG, "IndexError: pop index out of range");
    jv *item = self->list.v[i];
    memmove(self->list.v + i, self->list.v + i + 1, (size_t)(n - i - 1) * sizeof(jv *));
    self->list.n--;
    return item;
}
METHOD(clear) {
    self->list.n = 0;
    return jv_none(c);
}
METHOD(list_copy) {
    jv *l = jv_list(c, self->list.n);
    for (size_t i = 0; i < self->list.n; i++) jv_list_push(c, l, self->list.v[i]);
    return l;
}
METHOD(dict_copy) {
    jv *d = jv_dict(c, self->dict.n);
    for (size_t i = 0; i < self->dict.n; i++) jv_dict_set(c, d, self->dict.k[i], self->dict.v[i]);
    return d;
}

/* str.format with automatic ({}) or numbered ({0}) or named ({name}) fields;
 * format specs and conversions are not supported. */
METHOD(format) {
    jbuf b;
    jbuf_init(&b, c);
    size_t auto_index = 0;
    const char *s = self->str.s, *e = s + self->str.n;
    while (s < e) {
        if ((*s == '{' || *s == '}') && s + 1 < e && s[1] == *s) {
            jbuf_putc(&b, *s);
            s += 2;
            continue;
        }
        if (*s == '}') jinja_fail(c, at, LK_ERR_ARG, "ValueError: Single '}' encountered in format string");
        if (*s != '{') {
            jbuf_putc(&b, *s++);
            continue;
        }
        const char *close = memchr(s, '}', (size_t)(e - s));
        if (!close) jinja_fail(c, at, LK_ERR_ARG, "ValueError: Single '{' encountered in format string");
        const char *field = s + 1;
        size_t len = (size_t)(close - field);
        if (memchr(field, ':', len) || memchr(field, '!', len) || memchr(field, '.', len) || memchr(field, '[', len))
            jinja_fail(c, at, LK_ERR_UNSUPPORTED, "str.format: format specs and conversions are not supported");
        jv *v = NULL;
        if (len == 0) {
            if (auto_index >= nargs) jinja_fail(c, at, LK_ERR_ARG, "IndexError: Replacement index %zu out of range", auto_index);
            v = args[auto_index++];
        } else if (field[0] >= '0' && field[0] <= '9') {
            size_t k = (size_t)strtoul(field, NULL, 10);
            if (k >= nargs) jinja_fail(c, at, LK_ERR_ARG, "IndexError: Replacement index %zu out of range", k);
            v = args[k];
        } else {
            for (size_t k = 0; k < nkw && !v; k++)
                if (strlen(kwnames[k]) == len && memcmp(kwnames[k], field, len) == 0) v = kwvals[k];
            if (!v) jinja_fail(c, at, LK_ERR_ARG, "KeyError: '%.*s'", (int)len, field);
        }
        jv_write_str(&b, v);
        s = close + 1;
    }
    return jv_str_nocopy(c, b.s, b.n);
}

typedef struct {
    jv_kind kind;
    const char *name;
    jbuiltin fn;
} method_entry;

static const method_entry k_methods[] = {
    {JV_STR, "strip", m_strip}, {JV_STR, "lstrip", m_lstrip}, {JV_STR, "rstrip", m_rstrip},
    {JV_STR, "upper", m_upper}, {JV_STR, "lower", m_lower}, {JV_STR, "capitalize", m_capitalize},
    {JV_STR, "title", m_title}, {JV_STR, "replace", m_replace}, {JV_STR, "startswith", m_startswith},
    {JV_STR, "endswith", m_endswith}, {JV_STR, "split", m_split}, {JV_STR, "splitlines", m_splitlines},
    {JV_STR, "find", m_find}, {JV_STR, "count", m_str_count}, {JV_STR, "join", m_join},
    {JV_STR, "isdigit", m_isdigit}, {JV_STR, "isalpha", m_isalpha}, {JV_STR, "isspace", m_isspace},
    {JV_STR, "isalnum", m_isalnum},
    {JV_DICT, "items", m_items}, {JV_DICT, "keys", m_keys}, {JV_DICT, "values", m_values},
    {JV_DICT, "get", m_get},
    {JV_STR, "format", m_format},
    {JV_LIST, "index", m_index}, {JV_LIST, "count", m_list_count}, {JV_LIST, "pop", m_pop},
    {JV_LIST, "clear", m_clear}, {JV_LIST, "copy", m_list_copy}, {JV_DICT, "copy", m_dict_copy},
};

/* Python attributes that exist but the immutable sandbox refuses. */
static const char *const k_unsafe_list[] = {"append", "extend", "insert", "remove", "sort", "reverse", NULL};
static const char *const k_unsafe_dict[] = {"update", "pop", "popitem", "clear", "setdefault", NULL};

jbuiltin jinja_find_method(const jv *self, const char *name, bool *unsafe) {
    *unsafe = false;
    for (size_t i = 0; i < sizeof k_methods / sizeof k_methods[0]; i++)
        if (k_methods[i].kind == self->kind && strcmp(k_methods[i].name, name) == 0) return k_methods[i].fn;
    const char *const *u = self->kind == JV_LIST ? k_unsafe_list : self->kind == JV_DICT ? k_unsafe_dict : NULL;
    for (; u && *u; u++)
        if (strcmp(*u, name) == 0) *unsafe = true;
    return NULL;
}
