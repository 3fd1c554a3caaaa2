/* The tree-walking interpreter: statements write to the current output
 * buffer, expressions produce values. Scoping follows jinja2: `if` shares
 * its enclosing scope, each `for` iteration and each macro call gets its own
 * (so a `set` inside a loop does not leak out, which is why templates use
 * namespace()), and `loop` describes the innermost loop. Every statement and
 * expression costs one step of the render budget. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja.h"

void jinja_fail(jctx *c, const jnode *at, lk_status code, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at)
        lk_error_set(c->err, code, "%s:%d:%d: %s", c->name ? c->name : "template", at->line, at->col, msg);
    else
        lk_error_set(c->err, code, "%s: %s", c->name ? c->name : "template", msg);
    longjmp(c->jb, 1);
}

void jinja_undef_fail(jctx *c, const jnode *at, const jv *v) {
    jinja_fail(c, at, LK_ERR_ARG, "UndefinedError: %s", v->undef.hint ? v->undef.hint : "value is undefined");
}

static void step(jctx *c, const jnode *at) {
    if (++c->steps > c->max_steps)
        jinja_fail(c, at, LK_ERR_RANGE, "render step limit (%llu) exceeded; is there an endless loop?",
                   (unsigned long long)c->max_steps);
}

static jv *eval(jctx *c, jscope *s, const jnode *n);
static void exec_body(jctx *c, jscope *s, const jnodes *body);

jv *jinja_arg(jv **args, size_t nargs, const char **kwnames, jv **kwvals, size_t nkw, size_t pos,
              const char *name) {
    if (pos < nargs) return args[pos];
    for (size_t i = 0; i < nkw; i++)
        if (strcmp(kwnames[i], name) == 0) return kwvals[i];
    return NULL;
}

/* ---------------------------------------------------------------- scopes */

static jscope *scope_new(jctx *c, jscope *parent) {
    jscope *s = jarena_alloc(&c->arena, sizeof *s);
    s->parent = parent;
    s->vars = jv_dict(c, 8);
    return s;
}

static jv *lookup(jscope *s, const char *name) {
    size_t n = strlen(name);
    for (; s; s = s->parent) {
        jv *v = jv_dict_get(s->vars, name, n);
        if (v) return v;
    }
    return NULL;
}

static void scope_set(jctx *c, jscope *s, const char *name, jv *v) { jv_dict_set(c, s->vars, jv_cstr(c, name), v); }

/* ---------------------------------------------------------------- attribute and item access */

static jv *undef_attr(jctx *c, const jv *obj, const char *name, size_t n) {
    char *hint = jarena_alloc(&c->arena, n + 64);
    if (obj->kind == JV_NONE) snprintf(hint, n + 64, "'None' has no attribute '%.*s'", (int)n, name);
    else snprintf(hint, n + 64, "'%s object' has no attribute '%.*s'", jv_type_name(obj), (int)n, name);
    return jv_undef(c, hint);
}

jv *jinja_getattr(jctx *c, const jnode *at, jv *obj, const char *name, size_t n) {
    if (obj->kind == JV_UNDEF) jinja_undef_fail(c, at, obj);
    if (obj->kind == JV_NS) {
        jv *v = jv_dict_get(obj, name, n);
        return v ? v : undef_attr(c, obj, name, n);
    }
    /* jinja2's sandbox: Python attributes (methods) first, then items. */
    char nm[64];
    if (n < sizeof nm && name[0] != '_') {
        memcpy(nm, name, n);
        nm[n] = '\0';
        bool unsafe = false;
        jbuiltin m = jinja_find_method(obj, nm, &unsafe);
        if (m) return jv_func(c, jarena_strndup(&c->arena, nm, n), m, obj);
        if (unsafe) {
            char *hint = jarena_alloc(&c->arena, n + 96);
            snprintf(hint, n + 96, "access to attribute '%s' of '%s' object is unsafe", nm, jv_type_name(obj));
            return jv_undef(c, hint);
        }
    }
    if (obj->kind == JV_DICT) {
        jv *v = jv_dict_get(obj, name, n);
        if (v) return v;
    }
    return undef_attr(c, obj, name, n);
}

static bool as_index(const jv *k, int64_t *out) {
    if (k->kind == JV_INT) *out = k->i;
    else if (k->kind == JV_BOOL) *out = k->b;
    else return false;
    return true;
}

jv *jinja_getitem(jctx *c, const jnode *at, jv *obj, jv *key) {
    if (obj->kind == JV_UNDEF) jinja_undef_fail(c, at, obj);
    int64_t idx;
    if (obj->kind == JV_DICT) {
        jv *v = jv_dict_getv(obj, key);
        if (v) return v;
    } else if (obj->kind == JV_LIST && obj->is_gen) {
        return jv_undef(c, "'generator object' is not subscriptable");
    } else if (obj->kind == JV_LIST && as_index(key, &idx)) {
        int64_t n = (int64_t)obj->list.n;
        if (idx < 0) idx += n;
        if (idx >= 0 && idx < n) return obj->list.v[idx];
        char *hint = jarena_alloc(&c->arena, 80);
        snprintf(hint, 80, "%s object has no element %lld", jv_type_name(obj), (long long)key->i);
        return jv_undef(c, hint);
    } else if (obj->kind == JV_STR && as_index(key, &idx)) {
        int64_t n = jv_len(obj);
        if (idx < 0) idx += n;
        if (idx >= 0 && idx < n) {
            size_t o = jutf8_offset(obj->str.s, obj->str.n, idx);
            uint32_t cp;
            size_t len = jutf8_decode(obj->str.s + o, obj->str.n - o, &cp);
            return jv_str(c, obj->str.s + o, len);
        }
        return jv_undef(c, "string index out of range");
    }
    if (key->kind == JV_STR) return jinja_getattr(c, at, obj, key->str.s, key->str.n);
    char *hint = jarena_alloc(&c->arena, 64);
    snprintf(hint, 64, "'%s object' has no such element", jv_type_name(obj));
    return jv_undef(c, hint);
}

static int64_t slice_bound(jctx *c, const jnode *at, jv *v, int64_t len, int64_t dflt, int64_t step) {
    if (!v || v->kind == JV_NONE) return dflt;
    int64_t i;
    if (!as_index(v, &i)) jinja_fail(c, at, LK_ERR_ARG, "TypeError: slice indices must be integers or None");
    if (i < 0) {
        i += len;
        if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= len) {
        i = step < 0 ? len - 1 : len;
    }
    return i;
}

static jv *slice(jctx *c, const jnode *n, jv *obj, jv *a, jv *b, jv *st) {
    int64_t step = 1;
    if (st && st->kind != JV_NONE && !as_index(st, &step))
        jinja_fail(c, n, LK_ERR_ARG, "TypeError: slice indices must be integers or None");
    if (step == 0) jinja_fail(c, n, LK_ERR_ARG, "ValueError: slice step cannot be zero");
    if (obj->kind == JV_UNDEF) jinja_undef_fail(c, n, obj);
    /* jinja2 compiles slices to plain Python subscripts (not its forgiving
     * getitem), so slicing anything but a list or string is a TypeError */
    if ((obj->kind != JV_LIST && obj->kind != JV_STR) || obj->is_gen)
        jinja_fail(c, n, LK_ERR_ARG, "TypeError: '%s' object is not subscriptable", jv_type_name(obj));
    int64_t len = jv_len(obj);
    int64_t lo = slice_bound(c, n, a, len, step < 0 ? len - 1 : 0, step);
    int64_t hi = slice_bound(c, n, b, len, step < 0 ? -1 : len, step);
    if (obj->kind == JV_LIST) {
        jv *r = jv_list(c, 0);
        r->is_tuple = obj->is_tuple;
        for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) jv_list_push(c, r, obj->list.v[i]);
        return r;
    }
    /* Strings: slice by code points. */
    bool ascii = (int64_t)obj->str.n == len;
    if (ascii && step == 1) return lo < hi ? jv_str(c, obj->str.s + lo, (size_t)(hi - lo)) : jv_cstr(c, "");
    size_t *offs = jarena_alloc(&c->arena, ((size_t)len + 1) * sizeof *offs);
    size_t o = 0;
    for (int64_t i = 0; i < len; i++) {
        offs[i] = o;
        uint32_t cp;
        o += jutf8_decode(obj->str.s + o, obj->str.n - o, &cp);
    }
    offs[len] = obj->str.n;
    jbuf out;
    jbuf_init(&out, c);
    for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step)
        jbuf_put(&out, obj->str.s + offs[i], offs[i + 1] - offs[i]);
    return jv_str_nocopy(c, out.s, out.n);
}

jv *jinja_iter_list(jctx *c, const jnode *at, jv *v) {
    switch (v->kind) {
    case JV_UNDEF: return jv_list(c, 0);
    case JV_LIST: return v;
    case JV_DICT: {
        jv *l = jv_list(c, v->dict.n);
        for (size_t i = 0; i < v->dict.n; i++) jv_list_push(c, l, v->dict.k[i]);
        return l;
    }
    case JV_STR: {
        jv *l = jv_list(c, v->str.n);
        for (size_t i = 0; i < v->str.n;) {
            uint32_t cp;
            size_t len = jutf8_decode(v->str.s + i, v->str.n - i, &cp);
            jv_list_push(c, l, jv_str(c, v->str.s + i, len));
            i += len;
        }
        return l;
    }
    default:
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: '%s' object is not iterable", jv_type_name(v));
    }
}

/* ---------------------------------------------------------------- calls */

static jv *call_macro(jctx *c, const jnode *at, jv *fn, jv **args, size_t nargs, const char **kwnames,
                      jv **kwvals, size_t nkw) {
    const jnode *m = fn->fn.macro;
    if (nargs > m->nnames)
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: macro '%s' takes not more than %zu argument(s)", m->name,
                   m->nnames);
    if (++c->depth > 64) jinja_fail(c, at, LK_ERR_RANGE, "macro calls nested too deeply (64)");
    jscope *s = scope_new(c, fn->fn.scope);
    for (size_t i = 0; i < m->nnames; i++) {
        jv *v = i < nargs ? args[i] : NULL;
        for (size_t k = 0; !v && k < nkw; k++)
            if (strcmp(kwnames[k], m->names[i]) == 0) v = kwvals[k];
        if (!v && m->list2.v[i]) v = eval(c, s, m->list2.v[i]);
        if (!v) {
            char *hint = jarena_alloc(&c->arena, strlen(m->names[i]) + 40);
            sprintf(hint, "'%s' is undefined", m->names[i]);
            v = jv_undef(c, hint);
        }
        scope_set(c, s, m->names[i], v);
    }
    for (size_t k = 0; k < nkw; k++) {
        bool known = false;
        for (size_t i = 0; i < m->nnames; i++) known |= strcmp(kwnames[k], m->names[i]) == 0;
        if (!known)
            jinja_fail(c, at, LK_ERR_ARG, "TypeError: macro '%s' takes no keyword argument '%s'", m->name,
                       kwnames[k]);
    }
    jbuf out, *saved = c->out;
    jbuf_init(&out, c);
    c->out = &out;
    jloop_ctl saved_ctl = c->loop_ctl;
    c->loop_ctl = JLOOP_NONE;
    exec_body(c, s, &m->list);
    c->loop_ctl = saved_ctl;
    c->out = saved;
    c->depth--;
    return jv_str_nocopy(c, out.s, out.n);
}

jv *jinja_call(jctx *c, const jnode *at, jv *fn, jv **args, size_t nargs, const char **kwnames, jv **kwvals,
               size_t nkw) {
    if (fn->kind == JV_UNDEF) jinja_undef_fail(c, at, fn);
    if (fn->kind != JV_FUNC) jinja_fail(c, at, LK_ERR_ARG, "TypeError: '%s' object is not callable", jv_type_name(fn));
    if (fn->fn.macro) return call_macro(c, at, fn, args, nargs, kwnames, kwvals, nkw);
    return fn->fn.fn(c, at, fn->fn.self, args, nargs, kwnames, kwvals, nkw);
}

/* Evaluates a node's positional (list) and keyword (names/list2) arguments. */
static void eval_args(jctx *c, jscope *s, const jnode *n, jv ***args, jv ***kwvals) {
    *args = jarena_alloc(&c->arena, (n->list.n + 1) * sizeof(jv *));
    *kwvals = jarena_alloc(&c->arena, (n->list2.n + 1) * sizeof(jv *));
    for (size_t i = 0; i < n->list.n; i++) (*args)[i] = eval(c, s, n->list.v[i]);
    for (size_t i = 0; i < n->list2.n; i++) (*kwvals)[i] = eval(c, s, n->list2.v[i]);
}

static jv *apply_filter(jctx *c, jscope *s, const jnode *f, jv *operand) {
    jfilter fn = jinja_find_filter(f->name);
    if (!fn && jinja_is_jinja2_filter(f->name))
        jinja_fail(c, f, LK_ERR_UNSUPPORTED, "the jinja2 filter '%s' is not supported by llmkit", f->name);
    if (!fn) jinja_fail(c, f, LK_ERR_ARG, "no filter named '%s'", f->name);
    jv **args, **kwvals;
    eval_args(c, s, f, &args, &kwvals);
    jinja_check_filter_args(c, f, f->name, f->list.n, f->names, f->list2.n);
    return fn(c, f, operand, args, f->list.n, f->names, kwvals, f->list2.n);
}

/* Applies a filter chain parsed by parse_filter_chain (innermost first). */
static jv *apply_chain(jctx *c, jscope *s, const jnode *chain, jv *v) {
    if (!chain) return v;
    v = apply_chain(c, s, chain->a, v);
    return apply_filter(c, s, chain, v);
}

/* ---------------------------------------------------------------- operators */

static jv *arith(jctx *c, const jnode *n, const char *op, jv *a, jv *b) {
    if (a->kind == JV_UNDEF) jinja_undef_fail(c, n, a);
    if (b->kind == JV_UNDEF) jinja_undef_fail(c, n, b);
    if (op[0] == '+' && a->kind == JV_STR && b->kind == JV_STR) {
        /* Markup + str escapes the str (markupsafe), and so does str + Markup. */
        bool safe = a->is_safe || b->is_safe;
        jbuf out;
        jbuf_init(&out, c);
        if (safe && !a->is_safe) jinja_html_escape(&out, a->str.s, a->str.n);
        else jbuf_put(&out, a->str.s, a->str.n);
        if (safe && !b->is_safe) jinja_html_escape(&out, b->str.s, b->str.n);
        else jbuf_put(&out, b->str.s, b->str.n);
        jv *r = jv_str_nocopy(c, out.s, out.n);
        r->is_safe = safe;
        return r;
    }
    if (op[0] == '+' && a->kind == JV_LIST && b->kind == JV_LIST && a->is_tuple == b->is_tuple && !a->is_gen && !b->is_gen) {
        jv *r = jv_list(c, a->list.n + b->list.n);
        r->is_tuple = a->is_tuple;
        for (size_t i = 0; i < a->list.n; i++) jv_list_push(c, r, a->list.v[i]);
        for (size_t i = 0; i < b->list.n; i++) jv_list_push(c, r, b->list.v[i]);
        return r;
    }
    if (op[0] == '*' && op[1] == 0 && (a->kind == JV_STR || a->kind == JV_LIST || b->kind == JV_STR || b->kind == JV_LIST)) {
        jv *seq = a->kind == JV_STR || a->kind == JV_LIST ? a : b, *cnt = seq == a ? b : a;
        int64_t k;
        if (!as_index(cnt, &k))
            jinja_fail(c, n, LK_ERR_ARG, "TypeError: can't multiply sequence by non-int of type '%s'", jv_type_name(cnt));
        if (seq->kind == JV_STR) {
            jbuf out;
            jbuf_init(&out, c);
            for (int64_t i = 0; i < k; i++) jbuf_put(&out, seq->str.s, seq->str.n);
            return jv_str_nocopy(c, out.s, out.n);
        }
        jv *r = jv_list(c, 0);
        for (int64_t i = 0; i < k; i++)
            for (size_t j = 0; j < seq->list.n; j++) jv_list_push(c, r, seq->list.v[j]);
        return r;
    }
    if (op[0] == '%' && a->kind == JV_STR) {
        /* printf-style formatting: %s %r %d %i %f %% only */
        jv *tuple = b->kind == JV_LIST && b->is_tuple ? b : NULL;
        size_t ai = 0;
        jbuf out;
        jbuf_init(&out, c);
        for (size_t i = 0; i < a->str.n; i++) {
            char ch = a->str.s[i];
            if (ch != '%' || i + 1 >= a->str.n) {
                jbuf_putc(&out, ch);
                continue;
            }
            char f = a->str.s[++i];
            if (f == '%') {
                jbuf_putc(&out, '%');
                continue;
            }
            jv *arg = tuple ? (ai < tuple->list.n ? tuple->list.v[ai] : NULL) : (ai == 0 ? b : NULL);
            ai++;
            if (!arg) jinja_fail(c, n, LK_ERR_ARG, "TypeError: not enough arguments for format string");
            if (f == 's') jv_write_str(&out, arg);
            else if (f == 'r') jv_write_repr(&out, arg);
            else if ((f == 'd' || f == 'i') && jv_is_number(arg)) jbuf_printf(&out, "%lld", (long long)jv_as_double(arg));
            else if (f == 'f' && jv_is_number(arg)) jbuf_printf(&out, "%f", jv_as_double(arg));
            else jinja_fail(c, n, LK_ERR_UNSUPPORTED, "unsupported format '%%%c'", f);
        }
        size_t given = tuple ? tuple->list.n : (b->kind == JV_DICT ? 0 : 1);
        if (ai < given) jinja_fail(c, n, LK_ERR_ARG, "TypeError: not all arguments converted during string formatting");
        return jv_str_nocopy(c, out.s, out.n);
    }
    if (!jv_is_number(a) || !jv_is_number(b)) {
        if (op[0] == '+' && a->kind == JV_STR)
            jinja_fail(c, n, LK_ERR_ARG, "TypeError: can only concatenate str (not \"%s\") to str", jv_type_name(b));
        jinja_fail(c, n, LK_ERR_ARG, "TypeError: unsupported operand type(s) for %s: '%s' and '%s'", op,
                   jv_type_name(a), jv_type_name(b));
    }
    bool ints = a->kind != JV_FLOAT && b->kind != JV_FLOAT;
    if (ints) {
        int64_t x = a->kind == JV_BOOL ? a->b : a->i, y = b->kind == JV_BOOL ? b->b : b->i, r;
        switch (op[0]) {
        case '+':
            if (__builtin_add_overflow(x, y, &r)) break;
            return jv_int(c, r);
        case '-':
            if (__builtin_sub_overflow(x, y, &r)) break;
            return jv_int(c, r);
        case '*':
            if (op[1] == '*') {
                if (y < 0) return jv_float(c, pow((double)x, (double)y));
                r = 1;
                bool over = false;
                for (int64_t i = 0; i < y && !over; i++) over = __builtin_mul_overflow(r, x, &r);
                if (over) break;
                return jv_int(c, r);
            }
            if (__builtin_mul_overflow(x, y, &r)) break;
            return jv_int(c, r);
        case '/':
            if (y == 0) jinja_fail(c, n, LK_ERR_ARG, "ZeroDivisionError: division by zero");
            if (op[1] == '/') {
                if (x == INT64_MIN && y == -1) break;
                r = x / y;
                if ((x % y != 0) && ((x < 0) != (y < 0))) r--;
                return jv_int(c, r);
            }
            return jv_float(c, (double)x / (double)y);
        case '%':
            if (y == 0) jinja_fail(c, n, LK_ERR_ARG, "ZeroDivisionError: integer modulo by zero");
            if (x == INT64_MIN && y == -1) return jv_int(c, 0);
            r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            return jv_int(c, r);
        }
        if (op[0] != '/' || op[1] == '/')
            jinja_fail(c, n, LK_ERR_RANGE, "integer overflow in '%s' (llmkit integers are 64-bit)", op);
    }
    double x = jv_as_double(a), y = jv_as_double(b);
    switch (op[0]) {
    case '+': return jv_float(c, x + y);
    case '-': return jv_float(c, x - y);
    case '*':
        if (op[1] == '*') {
            if (x < 0 && y != floor(y))
                jinja_fail(c, n, LK_ERR_UNSUPPORTED, "a negative number to a fractional power is complex in Python; "
                                                     "llmkit has no complex numbers");
            double r = pow(x, y);
            if (isinf(r) && isfinite(x) && isfinite(y)) jinja_fail(c, n, LK_ERR_RANGE, "OverflowError: (34, 'Numerical result out of range')");
            return jv_float(c, r);
        }
        return jv_float(c, x * y);
    case '/':
        if (y == 0) jinja_fail(c, n, LK_ERR_ARG, "ZeroDivisionError: float division by zero");
        return jv_float(c, op[1] == '/' ? floor(x / y) : x / y);
    case '%': {
        if (y == 0) jinja_fail(c, n, LK_ERR_ARG, "ZeroDivisionError: float modulo");
        double r = fmod(x, y);
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return jv_float(c, r);
    }
    }
    jinja_fail(c, n, LK_ERR_INTERNAL, "unknown operator '%s'", op);
}

jv *jinja_binop(jctx *c, const jnode *at, const char *op, jv *a, jv *b) { return arith(c, at, op, a, b); }

bool jinja_contains(jctx *c, const jnode *at, jv *container, jv *item) {
    switch (container->kind) {
    case JV_UNDEF: return false;
    case JV_STR:
        if (item->kind == JV_UNDEF) jinja_undef_fail(c, at, item);
        if (item->kind != JV_STR)
            jinja_fail(c, at, LK_ERR_ARG, "TypeError: 'in <string>' requires string as left operand, not %s",
                       jv_type_name(item));
        if (item->str.n == 0) return true;
        if (item->str.n > container->str.n) return false;
        for (size_t i = 0; i + item->str.n <= container->str.n; i++)
            if (memcmp(container->str.s + i, item->str.s, item->str.n) == 0) return true;
        return false;
    case JV_LIST:
        for (size_t i = 0; i < container->list.n; i++)
            if (jv_equal(container->list.v[i], item)) return true;
        return false;
    case JV_DICT:
    case JV_NS: return jv_dict_getv(container, item) != NULL;
    default:
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: argument of type '%s' is not iterable", jv_type_name(container));
    }
}

static bool compare_op(jctx *c, const jnode *at, const char *op, jv *a, jv *b) {
    if (strcmp(op, "==") == 0) return jv_equal(a, b);
    if (strcmp(op, "!=") == 0) return !jv_equal(a, b);
    if (strcmp(op, "in") == 0) return jinja_contains(c, at, b, a);
    if (strcmp(op, "not in") == 0) return !jinja_contains(c, at, b, a);
    int r = jv_compare(c, at, a, b);
    if (strcmp(op, "<") == 0) return r < 0;
    if (strcmp(op, "<=") == 0) return r <= 0;
    if (strcmp(op, ">") == 0) return r > 0;
    return r >= 0;
}

/* ---------------------------------------------------------------- expressions */

/* Expressions are trees and the parser bounds only their nesting, not the
 * length of operator chains (1+1+1+... is a left-deep tree), so the
 * evaluator bounds its own recursion. */
#define MAX_EVAL_DEPTH 1000

static jv *eval_node(jctx *c, jscope *s, const jnode *n);

static jv *eval(jctx *c, jscope *s, const jnode *n) {
    if (++c->eval_depth > MAX_EVAL_DEPTH)
        jinja_fail(c, n, LK_ERR_RANGE, "expression nested deeper than %d levels", MAX_EVAL_DEPTH);
    jv *v = eval_node(c, s, n);
    c->eval_depth--;
    return v;
}

static jv *eval_node(jctx *c, jscope *s, const jnode *n) {
    step(c, n);
    switch (n->kind) {
    case JN_LITERAL: return n->value;
    case JN_NAME: {
        jv *v = lookup(s, n->name);
        if (v) return v;
        char *hint = jarena_alloc(&c->arena, strlen(n->name) + 20);
        sprintf(hint, "'%s' is undefined", n->name);
        return jv_undef(c, hint);
    }
    case JN_GETATTR: return jinja_getattr(c, n, eval(c, s, n->a), n->name, strlen(n->name));
    case JN_GETITEM: {
        jv *obj = eval(c, s, n->a);
        return jinja_getitem(c, n, obj, eval(c, s, n->b));
    }
    case JN_SLICE: {
        jv *obj = eval(c, s, n->a);
        jv *a = n->b ? eval(c, s, n->b) : NULL, *b = n->c ? eval(c, s, n->c) : NULL;
        jv *st = n->d ? eval(c, s, n->d) : NULL;
        /* jinja2 folds an all-constant slice at compile time through its
         * forgiving getitem, so `true[0:]` is undefined, not a TypeError */
        bool constant = n->a->kind == JN_LITERAL && (!n->b || n->b->kind == JN_LITERAL) &&
                        (!n->c || n->c->kind == JN_LITERAL) && (!n->d || n->d->kind == JN_LITERAL);
        if (constant && obj->kind != JV_LIST && obj->kind != JV_STR) return jv_undef(c, "object is not subscriptable");
        return slice(c, n, obj, a, b, st);
    }
    case JN_CALL: {
        jv *fn = eval(c, s, n->a);
        jv **args, **kwvals;
        eval_args(c, s, n, &args, &kwvals);
        return jinja_call(c, n, fn, args, n->list.n, n->names, kwvals, n->list2.n);
    }
    case JN_FILTER: return apply_filter(c, s, n, eval(c, s, n->a));
    case JN_TEST: {
        jtest t = jinja_find_test(n->name);
        if (!t && jinja_is_jinja2_test(n->name))
            jinja_fail(c, n, LK_ERR_UNSUPPORTED, "the jinja2 test '%s' is not supported by llmkit", n->name);
        if (!t) jinja_fail(c, n, LK_ERR_ARG, "no test named '%s'", n->name);
        jv *v = eval(c, s, n->a);
        jv **args, **kwvals;
        eval_args(c, s, n, &args, &kwvals);
        int arity = jinja_test_arity(n->name);
        if (n->list.n + n->list2.n != (size_t)arity)
            jinja_fail(c, n, LK_ERR_ARG, "TypeError: test '%s' takes %d argument(s) (%zu given)", n->name, arity,
                       n->list.n + n->list2.n);
        bool r = t(c, n, v, args, n->list.n + n->list2.n > 0 && n->list.n == 0 ? 0 : n->list.n);
        return jv_bool(c, n->negate ? !r : r);
    }
    case JN_BINOP: {
        jv *a = eval(c, s, n->a), *b = eval(c, s, n->b);
        if (n->name[0] == '~') {
            jbuf out;
            jbuf_init(&out, c);
            jv_write_str(&out, a);
            jv_write_str(&out, b);
            return jv_str_nocopy(c, out.s, out.n);
        }
        return arith(c, n, n->name, a, b);
    }
    case JN_NEG:
    case JN_POS: {
        jv *a = eval(c, s, n->a);
        if (a->kind == JV_UNDEF) jinja_undef_fail(c, n, a);
        if (!jv_is_number(a))
            jinja_fail(c, n, LK_ERR_ARG, "TypeError: bad operand type for unary %c: '%s'",
                       n->kind == JN_NEG ? '-' : '+', jv_type_name(a));
        if (n->kind == JN_POS) return a->kind == JV_BOOL ? jv_int(c, a->b) : a;
        if (a->kind == JV_FLOAT) return jv_float(c, -a->f);
        int64_t x = a->kind == JV_BOOL ? a->b : a->i;
        if (x == INT64_MIN) jinja_fail(c, n, LK_ERR_RANGE, "integer overflow");
        return jv_int(c, -x);
    }
    case JN_NOT: return jv_bool(c, !jv_truthy(eval(c, s, n->a)));
    case JN_AND: {
        jv *a = eval(c, s, n->a);
        return jv_truthy(a) ? eval(c, s, n->b) : a;
    }
    case JN_OR: {
        jv *a = eval(c, s, n->a);
        return jv_truthy(a) ? a : eval(c, s, n->b);
    }
    case JN_COND:
        if (jv_truthy(eval(c, s, n->b))) return eval(c, s, n->a);
        return n->c ? eval(c, s, n->c) : jv_undef(c, "the inline if-expression evaluated to false and no else section was defined");
    case JN_COMPARE: {
        jv *left = eval(c, s, n->list.v[0]);
        for (size_t i = 0; i < n->nnames; i++) {
            jv *right = eval(c, s, n->list.v[i + 1]);
            if (!compare_op(c, n, n->names[i], left, right)) return jv_bool(c, false);
            left = right;
        }
        return jv_bool(c, true);
    }
    case JN_LIST:
    case JN_TUPLE: {
        jv *l = jv_list(c, n->list.n);
        l->is_tuple = n->kind == JN_TUPLE;
        for (size_t i = 0; i < n->list.n; i++) jv_list_push(c, l, eval(c, s, n->list.v[i]));
        return l;
    }
    case JN_DICT: {
        jv *d = jv_dict(c, n->list.n);
        for (size_t i = 0; i < n->list.n; i++) jv_dict_set(c, d, eval(c, s, n->list.v[i]), eval(c, s, n->list2.v[i]));
        return d;
    }
    default: jinja_fail(c, n, LK_ERR_INTERNAL, "statement used as an expression");
    }
}

/* ---------------------------------------------------------------- statements */

static void assign(jctx *c, jscope *s, const jnode *target, jv *v) {
    if (target->kind == JN_NAME) return scope_set(c, s, target->name, v);
    if (target->kind == JN_GETATTR) {
        jv *ns = lookup(s, target->a->name);
        if (!ns || ns->kind != JV_NS)
            jinja_fail(c, target, LK_ERR_ARG, "cannot assign attribute on non-namespace object");
        jv_dict_set(c, ns, jv_cstr(c, target->name), v);
        return;
    }
    /* tuple unpacking */
    jv *items = jinja_iter_list(c, target, v);
    if (items->list.n != target->list.n)
        jinja_fail(c, target, LK_ERR_ARG, "ValueError: cannot unpack %zu values into %zu names", items->list.n,
                   target->list.n);
    for (size_t i = 0; i < target->list.n; i++) scope_set(c, s, target->list.v[i]->name, items->list.v[i]);
}

static jv *loop_cycle(jctx *c, const jnode *at, jv *self, jv **args, size_t nargs, const char **kwnames,
                      jv **kwvals, size_t nkw) {
    if (nargs == 0) jinja_fail(c, at, LK_ERR_ARG, "TypeError: no items for cycling given");
    jv *idx = jv_dict_get(self, "index0", 6);
    return args[idx->i % (int64_t)nargs];
}

static void exec_for(jctx *c, jscope *s, const jnode *n) {
    jv *items = jinja_iter_list(c, n, eval(c, s, n->b));
    if (n->c) {
        /* {% for x in xs if cond %}: filter first, so loop.length counts kept items */
        jv *kept = jv_list(c, items->list.n);
        for (size_t i = 0; i < items->list.n; i++) {
            jscope *fs = scope_new(c, s);
            assign(c, fs, n->a, items->list.v[i]);
            if (jv_truthy(eval(c, fs, n->c))) jv_list_push(c, kept, items->list.v[i]);
        }
        items = kept;
    }
    size_t len = items->list.n;
    for (size_t i = 0; i < len; i++) {
        step(c, n);
        jscope *ls = scope_new(c, s);
        jv *loop = jv_dict(c, 12);
        scope_set(c, ls, "loop", loop);
        jv_dict_set(c, loop, jv_cstr(c, "index"), jv_int(c, (int64_t)i + 1));
        jv_dict_set(c, loop, jv_cstr(c, "index0"), jv_int(c, (int64_t)i));
        jv_dict_set(c, loop, jv_cstr(c, "revindex"), jv_int(c, (int64_t)(len - i)));
        jv_dict_set(c, loop, jv_cstr(c, "revindex0"), jv_int(c, (int64_t)(len - i - 1)));
        jv_dict_set(c, loop, jv_cstr(c, "first"), jv_bool(c, i == 0));
        jv_dict_set(c, loop, jv_cstr(c, "last"), jv_bool(c, i + 1 == len));
        jv_dict_set(c, loop, jv_cstr(c, "length"), jv_int(c, (int64_t)len));
        jv_dict_set(c, loop, jv_cstr(c, "depth"), jv_int(c, 1));
        jv_dict_set(c, loop, jv_cstr(c, "depth0"), jv_int(c, 0));
        if (i > 0) jv_dict_set(c, loop, jv_cstr(c, "previtem"), items->list.v[i - 1]);
        if (i + 1 < len) jv_dict_set(c, loop, jv_cstr(c, "nextitem"), items->list.v[i + 1]);
        jv_dict_set(c, loop, jv_cstr(c, "cycle"), jv_func(c, "cycle", loop_cycle, loop));
        assign(c, ls, n->a, items->list.v[i]);
        exec_body(c, ls, &n->list);
        if (c->loop_ctl == JLOOP_BREAK) {
            c->loop_ctl = JLOOP_NONE;
            break;
        }
        c->loop_ctl = JLOOP_NONE;
    }
    if (len == 0 && n->list2.n) exec_body(c, scope_new(c, s), &n->list2);
}

static jv *render_to_string(jctx *c, jscope *s, const jnodes *body) {
    jbuf out, *saved = c->out;
    jbuf_init(&out, c);
    c->out = &out;
    exec_body(c, s, body);
    c->out = saved;
    return jv_str_nocopy(c, out.s, out.n);
}

static void exec_node(jctx *c, jscope *s, const jnode *n) {
    step(c, n);
    switch (n->kind) {
    case JN_DATA: jbuf_put(c->out, n->value->str.s, n->value->str.n); return;
    case JN_OUTPUT: jv_write_str(c->out, eval(c, s, n->a)); return;
    case JN_BODY: exec_body(c, s, &n->list); return;
    case JN_IF:
        if (jv_truthy(eval(c, s, n->a))) exec_body(c, s, &n->list);
        else exec_body(c, s, &n->list2);
        return;
    case JN_FOR: exec_for(c, s, n); return;
    case JN_SET: assign(c, s, n->a, eval(c, s, n->b)); return;
    case JN_SET_BLOCK: assign(c, s, n->a, apply_chain(c, s, n->c, render_to_string(c, s, &n->list))); return;
    case JN_FILTER_BLOCK: jv_write_str(c->out, apply_chain(c, s, n->c, render_to_string(c, s, &n->list))); return;
    case JN_WITH: {
        /* values are evaluated outside, then bound in the block's own scope */
        jscope *ws = scope_new(c, s);
        for (size_t i = 0; i < n->nnames; i++) scope_set(c, ws, n->names[i], eval(c, s, n->list2.v[i]));
        exec_body(c, ws, &n->list);
        return;
    }
    case JN_MACRO: {
        jv *fn = jv_func(c, n->name, NULL, NULL);
        fn->fn.macro = n;
        fn->fn.scope = s;
        scope_set(c, s, n->name, fn);
        return;
    }
    case JN_BREAK: c->loop_ctl = JLOOP_BREAK; return;
    case JN_CONTINUE: c->loop_ctl = JLOOP_CONTINUE; return;
    default: jv_write_str(c->out, eval(c, s, n)); return;
    }
}

static void exec_body(jctx *c, jscope *s, const jnodes *body) {
    for (size_t i = 0; i < body->n && c->loop_ctl == JLOOP_NONE; i++) exec_node(c, s, body->v[i]);
}

/* Renders root in scope s into c->out. Errors longjmp to c->jb. */
void jinja_exec(jctx *c, jscope *s, const jnode *root) { exec_body(c, s, &root->list); }
