/* Values of the template engine: the arena they live in, their constructors,
 * and the Python behaviour templates rely on: truthiness, ==, ordering,
 * len() in code points, str() and repr() (a template that prints a list or a
 * dict gets Python's spelling, e.g. ['a', 1, True, None]). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "chat/jinja.h"

/* ---------------------------------------------------------------- arena */

struct jchunk {
    jchunk *next;
    size_t used, cap;
    max_align_t data[];
};

void jarena_init(jarena *a, size_t limit, void (*oom)(void *), void *user) {
    memset(a, 0, sizeof *a);
    a->limit = limit;
    a->oom = oom;
    a->oom_user = user;
}

void *jarena_alloc(jarena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (a->used + n > a->limit || a->used + n < a->used) a->oom(a->oom_user);
    jchunk *h = a->head;
    if (!h || h->cap - h->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        h = malloc(sizeof *h + cap);
        if (!h) a->oom(a->oom_user);
        h->next = a->head;
        h->used = 0;
        h->cap = cap;
        a->head = h;
    }
    void *p = (char *)h->data + h->used;
    h->used += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *jarena_strndup(jarena *a, const char *s, size_t n) {
    char *d = jarena_alloc(a, n + 1);
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void jarena_free(jarena *a) {
    jchunk *h = a->head;
    while (h) {
        jchunk *next = h->next;
        free(h);
        h = next;
    }
    a->head = NULL;
    a->used = 0;
}

/* ---------------------------------------------------------------- constructors */

static jv *jv_new(jctx *c, jv_kind k) {
    jv *v = jarena_alloc(&c->arena, sizeof *v);
    v->kind = k;
    return v;
}

jv *jv_undef(jctx *c, const char *hint) {
    jv *v = jv_new(c, JV_UNDEF);
    v->undef.hint = hint;
    return v;
}
jv *jv_none(jctx *c) { return jv_new(c, JV_NONE); }
jv *jv_bool(jctx *c, bool b) {
    jv *v = jv_new(c, JV_BOOL);
    v->b = b;
    return v;
}
jv *jv_int(jctx *c, int64_t i) {
    jv *v = jv_new(c, JV_INT);
    v->i = i;
    return v;
}
jv *jv_float(jctx *c, double f) {
    jv *v = jv_new(c, JV_FLOAT);
    v->f = f;
    return v;
}
jv *jv_str_nocopy(jctx *c, const char *s, size_t n) {
    jv *v = jv_new(c, JV_STR);
    v->str.s = s;
    v->str.n = n;
    return v;
}
jv *jv_str(jctx *c, const char *s, size_t n) { return jv_str_nocopy(c, jarena_strndup(&c->arena, s, n), n); }
jv *jv_cstr(jctx *c, const char *s) { return jv_str_nocopy(c, s, strlen(s)); }

jv *jv_list(jctx *c, size_t cap) {
    jv *v = jv_new(c, JV_LIST);
    v->list.cap = cap ? cap : 4;
    v->list.v = jarena_alloc(&c->arena, v->list.cap * sizeof(jv *));
    return v;
}
jv *jv_dict(jctx *c, size_t cap) {
    jv *v = jv_new(c, JV_DICT);
    v->dict.cap = cap ? cap : 4;
    v->dict.k = jarena_alloc(&c->arena, v->dict.cap * sizeof(jv *));
    v->dict.v = jarena_alloc(&c->arena, v->dict.cap * sizeof(jv *));
    return v;
}

void jv_list_push(jctx *c, jv *list, jv *item) {
    if (list->list.n == list->list.cap) {
        size_t cap = list->list.cap * 2;
        jv **nv = jarena_alloc(&c->arena, cap * sizeof(jv *));
        memcpy(nv, list->list.v, list->list.n * sizeof(jv *));
        list->list.v = nv;
        list->list.cap = cap;
    }
    list->list.v[list->list.n++] = item;
}

static long dict_find(const jv *d, const jv *key) {
    for (size_t i = 0; i < d->dict.n; i++)
        if (jv_equal(d->dict.k[i], key)) return (long)i;
    return -1;
}

void jv_dict_set(jctx *c, jv *d, jv *key, jv *val) {
    long at = dict_find(d, key);
    if (at >= 0) {
        d->dict.v[at] = val;
        return;
    }
    if (d->dict.n == d->dict.cap) {
        size_t cap = d->dict.cap * 2;
        jv **nk = jarena_alloc(&c->arena, cap * sizeof(jv *));
        jv **nv = jarena_alloc(&c->arena, cap * sizeof(jv *));
        memcpy(nk, d->dict.k, d->dict.n * sizeof(jv *));
        memcpy(nv, d->dict.v, d->dict.n * sizeof(jv *));
        d->dict.k = nk;
        d->dict.v = nv;
        d->dict.cap = cap;
    }
    d->dict.k[d->dict.n] = key;
    d->dict.v[d->dict.n] = val;
    d->dict.n++;
}

jv *jv_dict_get(const jv *d, const char *key, size_t n) {
    for (size_t i = 0; i < d->dict.n; i++) {
        const jv *k = d->dict.k[i];
        if (k->kind == JV_STR && k->str.n == n && memcmp(k->str.s, key, n) == 0) return d->dict.v[i];
    }
    return NULL;
}

jv *jv_dict_getv(const jv *d, const jv *key) {
    long at = dict_find(d, key);
    return at >= 0 ? d->dict.v[at] : NULL;
}

jv *jv_func(jctx *c, const char *name, jbuiltin fn, jv *self) {
    jv *v = jv_new(c, JV_FUNC);
    v->fn.name = name;
    v->fn.fn = fn;
    v->fn.self = self;
    return v;
}

/* ---------------------------------------------------------------- Python semantics */

bool jv_truthy(const jv *v) {
    switch (v->kind) {
    case JV_UNDEF:
    case JV_NONE: return false;
    case JV_BOOL: return v->b;
    case JV_INT: return v->i != 0;
    case JV_FLOAT: return v->f != 0.0;
    case JV_STR: return v->str.n != 0;
    case JV_LIST: return v->is_gen || v->list.n != 0;
    case JV_DICT: return v->dict.n != 0;
    case JV_NS:
    case JV_FUNC: return true;
    }
    return false;
}

bool jv_is_number(const jv *v) { return v->kind == JV_INT || v->kind == JV_FLOAT || v->kind == JV_BOOL; }

double jv_as_double(const jv *v) {
    switch (v->kind) {
    case JV_INT: return (double)v->i;
    case JV_FLOAT: return v->f;
    case JV_BOOL: return v->b ? 1.0 : 0.0;
    default: return 0.0;
    }
}

static bool equal_at(const jv *a, const jv *b, int depth);

bool jv_equal(const jv *a, const jv *b) { return equal_at(a, b, 0); }

/* Values built by a template can nest arbitrarily; past this depth
 * comparisons give up (false) rather than overflow the stack. */
#define MAX_VALUE_DEPTH 400

static bool equal_at(const jv *a, const jv *b, int depth) {
    if (depth > MAX_VALUE_DEPTH) return a == b;
    if (jv_is_number(a) && jv_is_number(b)) {
        if (a->kind != JV_FLOAT && b->kind != JV_FLOAT) {
            int64_t x = a->kind == JV_BOOL ? a->b : a->i, y = b->kind == JV_BOOL ? b->b : b->i;
            return x == y;
        }
        return jv_as_double(a) == jv_as_double(b);
    }
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case JV_UNDEF:
    case JV_NONE: return true;
    case JV_STR: return a->str.n == b->str.n && memcmp(a->str.s, b->str.s, a->str.n) == 0;
    case JV_LIST:
        if (a->list.n != b->list.n || a->is_tuple != b->is_tuple || a->is_gen || b->is_gen) return a == b;
        for (size_t i = 0; i < a->list.n; i++)
            if (!equal_at(a->list.v[i], b->list.v[i], depth + 1)) return false;
        return true;
    case JV_DICT:
        if (a->dict.n != b->dict.n) return false;
        for (size_t i = 0; i < a->dict.n; i++) {
            jv *o = jv_dict_getv(b, a->dict.k[i]);
            if (!o || !equal_at(a->dict.v[i], o, depth + 1)) return false;
        }
        return true;
    default: return a == b;
    }
}

static int compare_at(jctx *c, const jnode *at, const jv *a, const jv *b, int depth);

int jv_compare(jctx *c, const jnode *at, const jv *a, const jv *b) { return compare_at(c, at, a, b, 0); }

static int compare_at(jctx *c, const jnode *at, const jv *a, const jv *b, int depth) {
    if (depth > MAX_VALUE_DEPTH)
        jinja_fail(c, at, LK_ERR_RANGE, "RecursionError: value nested deeper than %d levels", MAX_VALUE_DEPTH);
    if (a->kind == JV_UNDEF) jinja_undef_fail(c, at, a);
    if (b->kind == JV_UNDEF) jinja_undef_fail(c, at, b);
    if (jv_is_number(a) && jv_is_number(b)) {
        if (a->kind != JV_FLOAT && b->kind != JV_FLOAT) {
            int64_t x = a->kind == JV_BOOL ? a->b : a->i, y = b->kind == JV_BOOL ? b->b : b->i;
            return x < y ? -1 : x > y;
        }
        double x = jv_as_double(a), y = jv_as_double(b);
        return x < y ? -1 : x > y;
    }
    if (a->kind == JV_STR && b->kind == JV_STR) {
        /* UTF-8 byte order is code point order, as Python compares. */
        size_t n = a->str.n < b->str.n ? a->str.n : b->str.n;
        int r = n ? memcmp(a->str.s, b->str.s, n) : 0;
        if (r) return r < 0 ? -1 : 1;
        return a->str.n < b->str.n ? -1 : a->str.n > b->str.n;
    }
    if (a->kind == JV_LIST && b->kind == JV_LIST && a->is_tuple == b->is_tuple && !a->is_gen && !b->is_gen) {
        for (size_t i = 0; i < a->list.n && i < b->list.n; i++) {
            if (jv_equal(a->list.v[i], b->list.v[i])) continue;
            return compare_at(c, at, a->list.v[i], b->list.v[i], depth + 1);
        }
        return a->list.n < b->list.n ? -1 : a->list.n > b->list.n;
    }
    jinja_fail(c, at, LK_ERR_ARG, "TypeError: '<' not supported between instances of '%s' and '%s'",
               jv_type_name(a), jv_type_name(b));
}

const char *jv_type_name(const jv *v) {
    switch (v->kind) {
    case JV_UNDEF: return "Undefined";
    case JV_NONE: return "NoneType";
    case JV_BOOL: return "bool";
    case JV_INT: return "int";
    case JV_FLOAT: return "float";
    case JV_STR: return "str";
    case JV_LIST: return v->is_gen ? "generator" : v->is_tuple ? "tuple" : "list";
    case JV_DICT: return "dict";
    case JV_NS: return "Namespace";
    case JV_FUNC: return "function";
    }
    return "object";
}

int64_t jv_len(const jv *v) {
    switch (v->kind) {
    case JV_UNDEF: return 0;
    case JV_STR: return (int64_t)jutf8_count(v->str.s, v->str.n);
    case JV_LIST: return v->is_gen ? -1 : (int64_t)v->list.n;
    case JV_DICT: return (int64_t)v->dict.n;
    default: return -1;
    }
}

/* ---------------------------------------------------------------- buffers */

void jbuf_init(jbuf *b, jctx *c) {
    b->c = c;
    b->n = 0;
    b->cap = 64;
    b->s = jarena_alloc(&c->arena, b->cap);
}

void jbuf_put(jbuf *b, const char *s, size_t n) {
    if (n == 0) return;
    if (b->n + n + 1 > b->cap) {
        if (b->n + n > b->c->max_output)
            jinja_fail(b->c, NULL, LK_ERR_RANGE, "output exceeds the render limit of %zu bytes",
                       b->c->max_output);
        size_t cap = b->cap * 2;
        while (cap < b->n + n + 1) cap *= 2;
        char *ns = jarena_alloc(&b->c->arena, cap);
        memcpy(ns, b->s, b->n);
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

void jbuf_puts(jbuf *b, const char *s) { jbuf_put(b, s, strlen(s)); }
void jbuf_putc(jbuf *b, char ch) { jbuf_put(b, &ch, 1); }

void jbuf_printf(jbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) jbuf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---------------------------------------------------------------- printing */

/* Python's repr(float): the shortest digits that read back exactly, in
 * positional notation for exponents -4..15 and scientific outside. */
void jv_write_float(jbuf *b, double f) {
    if (isnan(f)) return jbuf_puts(b, "nan");
    if (isinf(f)) return jbuf_puts(b, f < 0 ? "-inf" : "inf");
    char tmp[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    /* tmp is "-d.ddde+XX": split into sign, digits and exponent. */
    const char *p = tmp;
    bool neg = *p == '-';
    if (neg) p++;
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    int exp = atoi(p + 1);
    if (neg) jbuf_putc(b, '-');
    if (exp >= -5 + 1 && exp < 16) {
        if (exp < 0) {
            jbuf_puts(b, "0.");
            for (int i = 0; i < -exp - 1; i++) jbuf_putc(b, '0');
            jbuf_put(b, digits, (size_t)nd);
        } else {
            for (int i = 0; i <= exp; i++) jbuf_putc(b, i < nd ? digits[i] : '0');
            jbuf_putc(b, '.');
            if (nd > exp + 1) jbuf_put(b, digits + exp + 1, (size_t)(nd - exp - 1));
            else jbuf_putc(b, '0');
        }
    } else {
        jbuf_putc(b, digits[0]);
        if (nd > 1) {
            jbuf_putc(b, '.');
            jbuf_put(b, digits + 1, (size_t)(nd - 1));
        }
        jbuf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
}

/* Python's str.isprintable() for one code point: not a control, format,
 * surrogate, private-use, unassigned or separator character (but ' ' is). */
static bool py_printable(uint32_t cp) {
    if (cp == ' ') return true;
    if (cp < 0x20 || cp == 0x7f) return false;
    if (cp < 0x7f) return true;
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    return !(cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CS ||
             cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_ZL ||
             cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_ZS);
}

static void write_str_repr(jbuf *b, const char *s, size_t n) {
    bool has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    jbuf_putc(b, q);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = jutf8_decode(s + i, n - i, &cp);
        if (cp == (uint32_t)q || cp == '\\') {
            jbuf_putc(b, '\\');
            jbuf_putc(b, (char)cp);
        } else if (cp == '\n') jbuf_puts(b, "\\n");
        else if (cp == '\r') jbuf_puts(b, "\\r");
        else if (cp == '\t') jbuf_puts(b, "\\t");
        else if (py_printable(cp)) jbuf_put(b, s + i, len);
        else if (cp < 0x100) jbuf_printf(b, "\\x%02x", cp);
        else if (cp < 0x10000) jbuf_printf(b, "\\u%04x", cp);
        else jbuf_printf(b, "\\U%08x", cp);
        i += len;
    }
    jbuf_putc(b, q);
}

static void write_any(jbuf *b, const jv *v, bool repr, int depth) {
    if (depth > MAX_VALUE_DEPTH)
        jinja_fail(b->c, NULL, LK_ERR_RANGE, "RecursionError: value nested deeper than %d levels", MAX_VALUE_DEPTH);
    switch (v->kind) {
    case JV_UNDEF:
        if (repr) jbuf_puts(b, "Undefined");
        return;
    case JV_NONE: return jbuf_puts(b, "None");
    case JV_BOOL: return jbuf_puts(b, v->b ? "True" : "False");
    case JV_INT: return jbuf_printf(b, "%lld", (long long)v->i);
    case JV_FLOAT: return jv_write_float(b, v->f);
    case JV_STR:
        if (repr) write_str_repr(b, v->str.s, v->str.n);
        else jbuf_put(b, v->str.s, v->str.n);
        return;
    case JV_LIST:
        if (v->is_gen) return jbuf_puts(b, "<generator object>");
        jbuf_putc(b, v->is_tuple ? '(' : '[');
        for (size_t i = 0; i < v->list.n; i++) {
            if (i) jbuf_puts(b, ", ");
            write_any(b, v->list.v[i], true, depth + 1);
        }
        if (v->is_tuple && v->list.n == 1) jbuf_putc(b, ',');
        jbuf_putc(b, v->is_tuple ? ')' : ']');
        return;
    case JV_DICT:
    case JV_NS:
        jbuf_puts(b, v->kind == JV_NS ? "<Namespace {" : "{");
        for (size_t i = 0; i < v->dict.n; i++) {
            if (i) jbuf_puts(b, ", ");
            write_any(b, v->dict.k[i], true, depth + 1);
            jbuf_puts(b, ": ");
            write_any(b, v->dict.v[i], true, depth + 1);
        }
        jbuf_puts(b, v->kind == JV_NS ? "}>" : "}");
        return;
    case JV_FUNC: jbuf_printf(b, "<function %s>", v->fn.name ? v->fn.name : "?"); return;
    }
}

void jv_write_str(jbuf *b, const jv *v) { write_any(b, v, false, 0); }
void jv_write_repr(jbuf *b, const jv *v) { write_any(b, v, true, 0); }

jv *jv_to_str(jctx *c, const jv *v) {
    if (v->kind == JV_STR) return (jv *)v;
    jbuf b;
    jbuf_init(&b, c);
    jv_write_str(&b, v);
    return jv_str_nocopy(c, b.s, b.n);
}

/* ---------------------------------------------------------------- UTF-8 */

size_t jutf8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    size_t len = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 0;
    if (len == 0 || len > n) {
        *cp = u[0];
        return 1;
    }
    uint32_t v = u[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *cp = u[0];
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3f);
    }
    *cp = v;
    return len;
}

void jutf8_encode(jbuf *b, uint32_t cp) {
    char t[4];
    if (cp < 0x80) {
        t[0] = (char)cp;
        return jbuf_put(b, t, 1);
    }
    if (cp < 0x800) {
        t[0] = (char)(0xc0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3f));
        return jbuf_put(b, t, 2);
    }
    if (cp < 0x10000) {
        t[0] = (char)(0xe0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f));
        return jbuf_put(b, t, 3);
    }
    t[0] = (char)(0xf0 | (cp >> 18));
    t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    t[3] = (char)(0x80 | (cp & 0x3f));
    jbuf_put(b, t, 4);
}

size_t jutf8_count(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += jutf8_decode(s + i, n - i, &cp);
        count++;
    }
    return count;
}

size_t jutf8_offset(const char *s, size_t n, int64_t cp_index) {
    size_t i = 0;
    for (int64_t k = 0; k < cp_index && i < n; k++) {
        uint32_t cp;
        i += jutf8_decode(s + i, n - i, &cp);
    }
    return i;
}

/* Python's str.isspace(), which strip() and split() use. */
bool jpy_isspace(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000;
}
