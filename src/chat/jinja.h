/* Internal interface of the Jinja2-subset template engine (src/chat/jinja_*.c).
 *
 * Design note. A template is lexed (jinja_lexer.c) into tokens, parsed
 * (jinja_parser.c) into a tree of jnode, and rendered by a tree-walking
 * interpreter (jinja_eval.c) over dynamically typed values (jinja_value.c)
 * that mimic the Python objects jinja2 would see: None, bool, int, float,
 * str, list/tuple, dict, namespace, callables. Filters and tests live in
 * jinja_filters.c, Python str/dict/list methods in jinja_methods.c, and
 * json.dumps (transformers' tojson) in jinja_json.c.
 *
 * Memory: every allocation of one parse or one render comes from a jarena
 * and is released at once with it, so values need no reference counts and
 * an error can unwind with longjmp from any depth without leaking. The
 * arena has a byte limit and the renderer a step limit, so hostile templates
 * (infinite loops, exponential strings) end with an error, never a hang.
 *
 * Deliberately left out: template inheritance (extends/include/import),
 * {% call %} blocks, recursive loops, autoescaping, async. The engine is
 * configured as transformers configures jinja2: trim_blocks, lstrip_blocks,
 * an immutable sandbox (lists and dicts cannot be mutated), loop controls. */
#ifndef LK_CHAT_JINJA_H
#define LK_CHAT_JINJA_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

/* ---------------------------------------------------------------- arena */

typedef struct jchunk jchunk;
typedef struct {
    jchunk *head;
    size_t used;  /* bytes handed out so far, all chunks */
    size_t limit; /* jarena_alloc fails (calls oom) beyond this */
    void (*oom)(void *user); /* must not return (longjmps) */
    void *oom_user;
} jarena;

void jarena_init(jarena *a, size_t limit, void (*oom)(void *), void *user);
void *jarena_alloc(jarena *a, size_t n); /* zeroed */
char *jarena_strndup(jarena *a, const char *s, size_t n);
void jarena_free(jarena *a);

/* ---------------------------------------------------------------- values */

typedef enum {
    JV_UNDEF, /* jinja2's Undefined: prints as '', iterates as empty, errors on use */
    JV_NONE,
    JV_BOOL,
    JV_INT,
    JV_FLOAT,
    JV_STR,
    JV_LIST, /* list, or tuple when is_tuple */
    JV_DICT, /* insertion-ordered, like Python's dict */
    JV_NS,   /* namespace(): the one mutable object templates have */
    JV_FUNC  /* macro, global function, bound method */
} jv_kind;

typedef struct jv jv;
typedef struct jnode jnode;
typedef struct jscope jscope;
typedef struct jctx jctx;

typedef jv *(*jbuiltin)(jctx *c, const jnode *at, jv *self, jv **args, size_t nargs,
                        const char **kwnames, jv **kwvals, size_t nkw);

struct jv {
    jv_kind kind;
    bool is_tuple;
    bool is_gen;  /* a lazy generator in jinja2 (map, select, ...): truthy, no len(), not JSON */
    bool is_safe; /* a Markup string (|safe): '+' HTML-escapes the plain operand */
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            const char *s;
            size_t n;
        } str;
        struct {
            jv **v;
            size_t n, cap;
        } list;
        struct {
            jv **k, **v;
            size_t n, cap;
        } dict; /* also the namespace's attributes */
        struct {
            const char *name;
            const jnode *macro; /* NULL for builtins */
            jscope *scope;      /* where the macro was defined */
            jbuiltin fn;
            jv *self; /* bound method receiver, or NULL */
        } fn;
        struct {
            const char *hint; /* "'x' is undefined" for the error message */
        } undef;
    };
};

/* Constructors (allocate in c's render arena). */
jv *jv_undef(jctx *c, const char *hint);
jv *jv_none(jctx *c);
jv *jv_bool(jctx *c, bool b);
jv *jv_int(jctx *c, int64_t i);
jv *jv_float(jctx *c, double f);
jv *jv_str(jctx *c, const char *s, size_t n); /* copies */
jv *jv_str_nocopy(jctx *c, const char *s, size_t n);
jv *jv_cstr(jctx *c, const char *s);
jv *jv_list(jctx *c, size_t cap);
jv *jv_dict(jctx *c, size_t cap);
void jv_list_push(jctx *c, jv *list, jv *item);
void jv_dict_set(jctx *c, jv *dict, jv *key, jv *val);
jv *jv_dict_get(const jv *dict, const char *key, size_t n); /* NULL if absent */
jv *jv_dict_getv(const jv *dict, const jv *key);
jv *jv_func(jctx *c, const char *name, jbuiltin fn, jv *self);

bool jv_truthy(const jv *v);
bool jv_equal(const jv *a, const jv *b);
/* Python ordering; returns false and sets *ok=false for unorderable types. */
int jv_compare(jctx *c, const jnode *at, const jv *a, const jv *b);
const char *jv_type_name(const jv *v);
bool jv_is_number(const jv *v); /* int, float or bool */
double jv_as_double(const jv *v);
/* len() in Python terms (code points for strings); -1 when unsized. */
int64_t jv_len(const jv *v);

/* ---------------------------------------------------------------- text buffers */

typedef struct {
    char *s;
    size_t n, cap;
    jctx *c;
} jbuf;

void jbuf_init(jbuf *b, jctx *c);
void jbuf_put(jbuf *b, const char *s, size_t n);
void jbuf_puts(jbuf *b, const char *s);
void jbuf_putc(jbuf *b, char ch);
void jbuf_printf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* str(v) and repr(v) as Python prints them. */
void jv_write_str(jbuf *b, const jv *v);
void jv_write_repr(jbuf *b, const jv *v);
jv *jv_to_str(jctx *c, const jv *v);
void jv_write_float(jbuf *b, double f); /* Python repr(float) */

/* ---------------------------------------------------------------- UTF-8 and Python text */

size_t jutf8_count(const char *s, size_t n);
/* Byte offset of code point index cp (clamped to n). */
size_t jutf8_offset(const char *s, size_t n, int64_t cp);
/* Decodes one code point at s (n > 0); returns its byte length (1 on bad bytes). */
size_t jutf8_decode(const char *s, size_t n, uint32_t *cp);
void jutf8_encode(jbuf *b, uint32_t cp);
bool jpy_isspace(uint32_t cp);

/* ---------------------------------------------------------------- tokens and tree */

typedef enum {
    JT_EOF,
    JT_DATA,
    JT_VAR_BEGIN,
    JT_VAR_END,
    JT_BLOCK_BEGIN,
    JT_BLOCK_END,
    JT_NAME,
    JT_STRING,
    JT_INT,
    JT_FLOAT,
    JT_OP
} jtok_kind;

typedef struct {
    jtok_kind kind;
    int line, col;
    const char *s; /* DATA, NAME, STRING (decoded), OP text */
    size_t n;
    int64_t i;
    double f;
} jtok;

typedef struct {
    jtok *v;
    size_t n, cap;
} jtoks;

typedef enum {
    JN_BODY, JN_DATA, JN_OUTPUT, JN_IF, JN_FOR, JN_SET, JN_SET_BLOCK, JN_MACRO, JN_FILTER_BLOCK, JN_WITH,
    JN_BREAK, JN_CONTINUE,
    JN_LITERAL, JN_NAME, JN_GETATTR, JN_GETITEM, JN_SLICE, JN_CALL, JN_FILTER, JN_TEST,
    JN_BINOP, JN_NEG, JN_POS, JN_NOT, JN_AND, JN_OR, JN_COND, JN_COMPARE, JN_LIST, JN_TUPLE,
    JN_DICT
} jnode_kind;

typedef struct {
    jnode **v;
    size_t n, cap;
} jnodes;

/* One tree node; which fields mean what depends on kind (see jinja_parser.c). */
struct jnode {
    jnode_kind kind;
    int line, col;
    const char *name; /* identifier, attribute, filter/test name, operator */
    jv *value;        /* JN_LITERAL, JN_DATA */
    jnode *a, *b, *c, *d;
    jnodes list;        /* arguments, body, items, compare operands */
    jnodes list2;       /* else body, dict values, keyword values, defaults */
    const char **names; /* keyword names (CALL/FILTER/TEST), params (MACRO), ops (COMPARE) */
    size_t nnames;
    bool negate; /* JN_TEST: "is not" */
};

typedef struct {
    jarena arena;
    jnode *root;
    jmp_buf jb;
    lk_error *err;
    const char *name;
} jparse;

/* Lexes text (already newline-normalised) into toks; errors longjmp via p. */
void jinja_lex(jparse *p, const char *text, size_t n, jtoks *toks);
/* Parses a whole template; on error fills p->err and returns NULL. */
jnode *jinja_parse(jparse *p, const char *text, size_t n);
void jinja_syntax_error(jparse *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

/* ---------------------------------------------------------------- rendering */

struct jscope {
    jscope *parent;
    jv *vars; /* dict */
};

typedef enum { JLOOP_NONE, JLOOP_BREAK, JLOOP_CONTINUE } jloop_ctl;

struct jctx {
    jarena arena;
    jmp_buf jb;
    lk_error *err;
    const char *name; /* template name for messages */
    jbuf *out;
    jscope *globals;
    jloop_ctl loop_ctl;
    uint64_t steps, max_steps;
    size_t max_output;
    int depth;      /* macro call depth */
    int eval_depth; /* expression evaluation recursion */
    int64_t now; /* strftime_now's clock, seconds since the epoch */
};

void jinja_fail(jctx *c, const jnode *at, lk_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
/* Undefined values raise this when used (jinja2's UndefinedError). */
void jinja_undef_fail(jctx *c, const jnode *at, const jv *v) __attribute__((noreturn));

jv *jinja_call(jctx *c, const jnode *at, jv *fn, jv **args, size_t nargs, const char **kwnames,
               jv **kwvals, size_t nkw);
jv *jinja_getattr(jctx *c, const jnode *at, jv *obj, const char *name, size_t n);
jv *jinja_getitem(jctx *c, const jnode *at, jv *obj, jv *key);
/* Iterates like Python's iter(): list items, dict keys, string chars. */
jv *jinja_iter_list(jctx *c, const jnode *at, jv *v);

/* Filters and tests by name; NULL if unknown. */
typedef jv *(*jfilter)(jctx *c, const jnode *at, jv *v, jv **args, size_t nargs,
                       const char **kwnames, jv **kwvals, size_t nkw);
jfilter jinja_find_filter(const char *name);
typedef bool (*jtest)(jctx *c, const jnode *at, jv *v, jv **args, size_t nargs);
jtest jinja_find_test(const char *name);
int jinja_test_arity(const char *name);
/* Whether jinja2 itself has this filter/test (for error messages). */
bool jinja_is_jinja2_filter(const char *name);
bool jinja_is_jinja2_test(const char *name);
/* Fails like Python when a filter gets too many or unknown arguments. */
void jinja_check_filter_args(jctx *c, const jnode *at, const char *name, size_t nargs, const char **kwnames,
                             size_t nkw);
/* Method of a str/dict/list value, or NULL. */
jbuiltin jinja_find_method(const jv *self, const char *name, bool *unsafe);

/* json.dumps(v, ensure_ascii=False, indent, separators, sort_keys). indent < 0: none. */
void jinja_tojson(jctx *c, const jnode *at, jbuf *b, jv *v, const char *indent, const char *item_sep,
                  const char *key_sep, bool sort_keys, int level);

/* HTML-escapes s (markupsafe.escape) into b. */
void jinja_html_escape(jbuf *b, const char *s, size_t n);

/* An arithmetic operator (+ - * / // % **) with Python semantics, e.g. str % tuple. */
jv *jinja_binop(jctx *c, const jnode *at, const char *op, jv *a, jv *b);

/* Python's `item in container` (substring, element, key; False for undefined). */
bool jinja_contains(jctx *c, const jnode *at, jv *container, jv *item);

/* str.strip/lstrip/rstrip (chars NULL or None: Python whitespace). */
jv *jstr_strip(jctx *c, jv *s, jv *chars, bool left, bool right);
/* Case mapping; mode 0 upper, 1 lower, 2 capitalize, 3 str.title, 4 jinja's title filter. */
jv *jstr_case(jctx *c, jv *s, int mode);
/* str.replace(old, new[, count]). */
jv *jstr_replace(jctx *c, const jnode *at, jv *s, jv *old, jv *new_, jv *count);
/* Length of the line break at s[i] as str.splitlines() sees it, 0 if none. */
size_t jpy_line_break_len(const char *s, size_t n, size_t i);

/* cJSON tree to values (objects keep their order). */
typedef struct cJSON cJSON;
jv *jinja_from_cjson(jctx *c, const cJSON *j);
/* range, namespace, dict, raise_exception, strftime_now into scope s. */
void jinja_add_globals(jctx *c, jscope *s);
/* Renders root's statements in scope s into c->out; errors longjmp to c->jb. */
void jinja_exec(jctx *c, jscope *s, const jnode *root);

/* Keyword/positional argument helper: the value of parameter `name` at
 * position pos, or NULL. */
jv *jinja_arg(jv **args, size_t nargs, const char **kwnames, jv **kwvals, size_t nkw, size_t pos,
              const char *name);

#endif
