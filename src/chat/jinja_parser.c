/* Tokens to a tree, following jinja2's grammar and operator precedence
 * (loosest first): `x if c else y`, or, and, not, comparisons and in/not in,
 * + -, ~, * / // %, **, unary - +, then postfix (.attr, [index], [a:b:c],
 * call(...)), filters (|f) and tests (is t).
 *
 * Node fields by kind:
 *   BODY list=statements           DATA value=text            OUTPUT a=expr
 *   IF a=cond list=then list2=else FOR a=target b=iter c=filter list=body list2=else
 *   SET a=target b=value           SET_BLOCK a=target list=body c=filter chain (FILTER nodes, a=NULL)
 *   MACRO name list=body names=params list2=defaults (NULL where none)
 *   FILTER_BLOCK c=filter chain list=body      WITH names=targets list2=values list=body
 *   LITERAL value   NAME name   GETATTR a name   GETITEM a b   SLICE a b c d
 *   CALL a=callee list=args names/list2=keyword args
 *   FILTER a=operand name list=args names/list2=kwargs   TEST a name list=args negate
 *   BINOP name=op a b   NEG/POS/NOT a   AND/OR a b   COND a=then b=cond c=else
 *   COMPARE list=operands names=ops   LIST/TUPLE list   DICT list=keys list2=values */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "chat/jinja.h"

typedef struct {
    jparse *p;
    jtok *t;
    size_t n, pos;
    int loop_depth; /* for bodies enclosing the cursor, within the current macro */
    int nesting;    /* recursion depth of the parser, bounded so no input overflows the stack */
} parser;

#define MAX_NESTING 200

static void enter(parser *P) {
    if (++P->nesting > MAX_NESTING) {
        jtok *t = &P->t[P->pos];
        jinja_syntax_error(P->p, t->line, t->col, "nesting deeper than %d levels", MAX_NESTING);
    }
}

void jinja_syntax_error(jparse *p, int line, int col, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lk_error_set(p->err, LK_ERR_FORMAT, "%s:%d:%d: template syntax error: %s", p->name ? p->name : "template",
                 line, col, msg);
    longjmp(p->jb, 1);
}

static jtok *peek(parser *P) { return &P->t[P->pos]; }
static jtok *peek2(parser *P) { return &P->t[P->pos + 1 < P->n ? P->pos + 1 : P->pos]; }
static jtok *next_tok(parser *P) {
    jtok *t = &P->t[P->pos];
    if (P->pos + 1 < P->n) P->pos++;
    return t;
}

static bool tok_is(const jtok *t, jtok_kind k, const char *s) {
    if (t->kind != k) return false;
    return !s || (t->n == strlen(s) && memcmp(t->s, s, t->n) == 0);
}
static bool is_op(parser *P, const char *op) { return tok_is(peek(P), JT_OP, op); }
static bool is_name(parser *P, const char *name) { return tok_is(peek(P), JT_NAME, name); }

static const char *tok_desc(const jtok *t) {
    switch (t->kind) {
    case JT_EOF: return "end of template";
    case JT_DATA: return "text";
    case JT_VAR_BEGIN: return "'{{'";
    case JT_VAR_END: return "'}}'";
    case JT_BLOCK_BEGIN: return "'{%'";
    case JT_BLOCK_END: return "'%}'";
    case JT_NAME: return "a name";
    case JT_STRING: return "a string";
    case JT_INT:
    case JT_FLOAT: return "a number";
    case JT_OP: return "an operator";
    }
    return "token";
}

static jtok *expect(parser *P, jtok_kind k, const char *s) {
    jtok *t = peek(P);
    if (!tok_is(t, k, s)) {
        if (t->kind == JT_NAME || t->kind == JT_OP)
            jinja_syntax_error(P->p, t->line, t->col, "expected %s, got '%.*s'", s ? s : "a name", (int)t->n, t->s);
        jinja_syntax_error(P->p, t->line, t->col, "expected %s, got %s", s ? s : "a name", tok_desc(t));
    }
    return next_tok(P);
}

static jnode *node(parser *P, jnode_kind k, const jtok *at) {
    jnode *n = jarena_alloc(&P->p->arena, sizeof *n);
    n->kind = k;
    n->line = at->line;
    n->col = at->col;
    return n;
}

static void nodes_push(parser *P, jnodes *l, jnode *n) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        jnode **nv = jarena_alloc(&P->p->arena, cap * sizeof *nv);
        if (l->n) memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = n;
}

static void names_push(parser *P, jnode *n, const char *name) {
    const char **nv = jarena_alloc(&P->p->arena, (n->nnames + 1) * sizeof *nv);
    if (n->nnames) memcpy(nv, n->names, n->nnames * sizeof *nv);
    nv[n->nnames++] = name;
    n->names = nv;
}

static const char *tok_str(parser *P, const jtok *t) { return jarena_strndup(&P->p->arena, t->s, t->n); }

/* A jv literal allocated in the parse arena (rendering never mutates literals). */
static jv *lit(parser *P, jv_kind k) {
    jv *v = jarena_alloc(&P->p->arena, sizeof *v);
    v->kind = k;
    return v;
}

static jnode *parse_expr(parser *P);
static jnode *parse_or(parser *P);
static jnode *parse_unary(parser *P, bool with_filter);

/* ---------------------------------------------------------------- expressions */

/* (args, key=value) after '(' has been consumed. */
static void parse_call_args(parser *P, jnode *call) {
    while (!is_op(P, ")")) {
        if (call->list.n + call->nnames > 0) expect(P, JT_OP, ",");
        if (is_op(P, ")")) break; /* trailing comma */
        if (peek(P)->kind == JT_NAME && tok_is(peek2(P), JT_OP, "=")) {
            names_push(P, call, tok_str(P, next_tok(P)));
            next_tok(P);
            nodes_push(P, &call->list2, parse_expr(P));
        } else {
            if (call->nnames) {
                jtok *t = peek(P);
                jinja_syntax_error(P->p, t->line, t->col, "positional argument after keyword argument");
            }
            nodes_push(P, &call->list, parse_expr(P));
        }
    }
    expect(P, JT_OP, ")");
}

static jnode *parse_primary(parser *P) {
    jtok *t = peek(P);
    jnode *n;
    switch (t->kind) {
    case JT_NAME: {
        next_tok(P);
        n = node(P, JN_LITERAL, t);
        if (tok_is(t, JT_NAME, "true") || tok_is(t, JT_NAME, "True")) {
            n->value = lit(P, JV_BOOL);
            n->value->b = true;
        } else if (tok_is(t, JT_NAME, "false") || tok_is(t, JT_NAME, "False")) {
            n->value = lit(P, JV_BOOL);
        } else if (tok_is(t, JT_NAME, "none") || tok_is(t, JT_NAME, "None")) {
            n->value = lit(P, JV_NONE);
        } else {
            n->kind = JN_NAME;
            n->name = tok_str(P, t);
        }
        return n;
    }
    case JT_STRING: {
        /* Adjacent string literals join, as in Python. */
        size_t total = 0, k = P->pos;
        while (P->t[k].kind == JT_STRING) total += P->t[k++].n;
        char *s = jarena_alloc(&P->p->arena, total + 1);
        size_t o = 0;
        while (peek(P)->kind == JT_STRING) {
            jtok *st = next_tok(P);
            memcpy(s + o, st->s, st->n);
            o += st->n;
        }
        n = node(P, JN_LITERAL, t);
        n->value = lit(P, JV_STR);
        n->value->str.s = s;
        n->value->str.n = total;
        return n;
    }
    case JT_INT:
        next_tok(P);
        n = node(P, JN_LITERAL, t);
        n->value = lit(P, JV_INT);
        n->value->i = t->i;
        return n;
    case JT_FLOAT:
        next_tok(P);
        n = node(P, JN_LITERAL, t);
        n->value = lit(P, JV_FLOAT);
        n->value->f = t->f;
        return n;
    case JT_OP:
        if (is_op(P, "(")) {
            next_tok(P);
            if (is_op(P, ")")) {
                next_tok(P);
                return node(P, JN_TUPLE, t);
            }
            jnode *e = parse_expr(P);
            if (!is_op(P, ",")) {
                expect(P, JT_OP, ")");
                return e;
            }
            n = node(P, JN_TUPLE, t);
            nodes_push(P, &n->list, e);
            while (is_op(P, ",")) {
                next_tok(P);
                if (is_op(P, ")")) break;
                nodes_push(P, &n->list, parse_expr(P));
            }
            expect(P, JT_OP, ")");
            return n;
        }
        if (is_op(P, "[")) {
            next_tok(P);
            n = node(P, JN_LIST, t);
            while (!is_op(P, "]")) {
                if (n->list.n) expect(P, JT_OP, ",");
                if (is_op(P, "]")) break;
                nodes_push(P, &n->list, parse_expr(P));
            }
            next_tok(P);
            return n;
        }
        if (is_op(P, "{")) {
            next_tok(P);
            n = node(P, JN_DICT, t);
            while (!is_op(P, "}")) {
                if (n->list.n) expect(P, JT_OP, ",");
                if (is_op(P, "}")) break;
                nodes_push(P, &n->list, parse_expr(P));
                expect(P, JT_OP, ":");
                nodes_push(P, &n->list2, parse_expr(P));
            }
            next_tok(P);
            return n;
        }
        break;
    default: break;
    }
    if (t->kind == JT_OP)
        jinja_syntax_error(P->p, t->line, t->col, "unexpected '%.*s'", (int)t->n, t->s);
    jinja_syntax_error(P->p, t->line, t->col, "unexpected %s", tok_desc(t));
}

static jnode *parse_subscript_part(parser *P) {
    if (is_op(P, ":") || is_op(P, "]")) return NULL;
    return parse_expr(P);
}

static jnode *parse_postfix(parser *P, jnode *n) {
    for (;;) {
        jtok *t = peek(P);
        if (is_op(P, ".")) {
            next_tok(P);
            jtok *a = peek(P);
            jnode *g = node(P, JN_GETATTR, t);
            if (a->kind == JT_INT) {
                /* foo.0 is foo[0] */
                next_tok(P);
                g->kind = JN_GETITEM;
                g->b = node(P, JN_LITERAL, a);
                g->b->value = lit(P, JV_INT);
                g->b->value->i = a->i;
            } else {
                g->name = tok_str(P, expect(P, JT_NAME, NULL));
            }
            g->a = n;
            n = g;
        } else if (is_op(P, "[")) {
            next_tok(P);
            jnode *start = parse_subscript_part(P);
            if (is_op(P, ":")) {
                jnode *s = node(P, JN_SLICE, t);
                s->a = n;
                s->b = start;
                next_tok(P);
                s->c = parse_subscript_part(P);
                if (is_op(P, ":")) {
                    next_tok(P);
                    s->d = parse_subscript_part(P);
                }
                n = s;
            } else {
                if (!start) jinja_syntax_error(P->p, t->line, t->col, "empty subscript");
                jnode *g = node(P, JN_GETITEM, t);
                g->a = n;
                g->b = start;
                n = g;
            }
            expect(P, JT_OP, "]");
        } else if (is_op(P, "(")) {
            next_tok(P);
            jnode *c = node(P, JN_CALL, t);
            c->line = n->line; /* errors point at the callee's name */
            c->col = n->col;
            c->a = n;
            parse_call_args(P, c);
            n = c;
        } else {
            return n;
        }
    }
}

static bool starts_primary(const jtok *t) {
    if (t->kind == JT_STRING || t->kind == JT_INT || t->kind == JT_FLOAT) return true;
    if (t->kind == JT_OP) return tok_is(t, JT_OP, "(") || tok_is(t, JT_OP, "[") || tok_is(t, JT_OP, "{");
    if (t->kind != JT_NAME) return false;
    static const char *const kw[] = {"else", "or", "and", "if", "is", "in", "not", NULL};
    for (int i = 0; kw[i]; i++)
        if (tok_is(t, JT_NAME, kw[i])) return false;
    return true;
}

static jnode *parse_filter_tail(parser *P, jnode *n) {
    for (;;) {
        jtok *t = peek(P);
        if (is_op(P, "|")) {
            next_tok(P);
            jnode *f = node(P, JN_FILTER, t);
            jtok *nt = expect(P, JT_NAME, NULL);
            f->name = tok_str(P, nt);
            while (is_op(P, ".")) { /* dotted filter names */
                next_tok(P);
                jtok *more = expect(P, JT_NAME, NULL);
                f->name = jarena_strndup(&P->p->arena, nt->s, (size_t)(more->s + more->n - nt->s));
            }
            if (is_op(P, "(")) {
                next_tok(P);
                parse_call_args(P, f);
            }
            f->a = n;
            n = f;
        } else if (is_name(P, "is")) {
            if (n->kind == JN_TEST)
                jinja_syntax_error(P->p, t->line, t->col, "you cannot chain multiple tests with 'is'");
            next_tok(P);
            jnode *te = node(P, JN_TEST, t);
            if (is_name(P, "not")) {
                next_tok(P);
                te->negate = true;
            }
            jtok *nt = peek(P);
            if (nt->kind != JT_NAME)
                jinja_syntax_error(P->p, nt->line, nt->col, "expected a test name after 'is'");
            next_tok(P);
            te->name = tok_str(P, nt);
            if (is_op(P, "(")) {
                next_tok(P);
                parse_call_args(P, te);
            } else if (starts_primary(peek(P))) {
                nodes_push(P, &te->list, parse_postfix(P, parse_primary(P)));
            }
            te->a = n;
            n = te;
        } else {
            return n;
        }
    }
}

static jnode *parse_unary(parser *P, bool with_filter) {
    enter(P);
    jtok *t = peek(P);
    jnode *n;
    if (is_op(P, "-") || is_op(P, "+")) {
        next_tok(P);
        n = node(P, t->s[0] == '-' ? JN_NEG : JN_POS, t);
        n->a = parse_unary(P, false);
    } else {
        n = parse_primary(P);
    }
    n = parse_postfix(P, n);
    if (with_filter) n = parse_filter_tail(P, n);
    P->nesting--;
    return n;
}

static jnode *binop(parser *P, const jtok *at, const char *op, jnode *a, jnode *b) {
    jnode *n = node(P, JN_BINOP, at);
    n->name = op;
    n->a = a;
    n->b = b;
    return n;
}

static jnode *parse_pow(parser *P) {
    jnode *n = parse_unary(P, true);
    while (is_op(P, "**")) {
        jtok *t = next_tok(P);
        n = binop(P, t, "**", n, parse_unary(P, true));
    }
    return n;
}

static jnode *parse_math2(parser *P) {
    jnode *n = parse_pow(P);
    while (is_op(P, "*") || is_op(P, "/") || is_op(P, "//") || is_op(P, "%")) {
        jtok *t = next_tok(P);
        n = binop(P, t, t->s, n, parse_pow(P));
    }
    return n;
}

static jnode *parse_concat(parser *P) {
    jnode *n = parse_math2(P);
    while (is_op(P, "~")) {
        jtok *t = next_tok(P);
        n = binop(P, t, "~", n, parse_math2(P));
    }
    return n;
}

static jnode *parse_math1(parser *P) {
    jnode *n = parse_concat(P);
    while (is_op(P, "+") || is_op(P, "-")) {
        jtok *t = next_tok(P);
        n = binop(P, t, t->s, n, parse_concat(P));
    }
    return n;
}

static jnode *parse_compare(parser *P) {
    jtok *start = peek(P);
    jnode *first = parse_math1(P);
    jnode *cmp = NULL;
    for (;;) {
        const char *op = NULL;
        jtok *t = peek(P);
        if (t->kind == JT_OP && (is_op(P, "==") || is_op(P, "!=") || is_op(P, "<") || is_op(P, "<=") ||
                                 is_op(P, ">") || is_op(P, ">="))) {
            next_tok(P);
            op = t->s;
        } else if (is_name(P, "in")) {
            next_tok(P);
            op = "in";
        } else if (is_name(P, "not") && tok_is(peek2(P), JT_NAME, "in")) {
            next_tok(P);
            next_tok(P);
            op = "not in";
        } else {
            break;
        }
        if (!cmp) {
            cmp = node(P, JN_COMPARE, start);
            nodes_push(P, &cmp->list, first);
        }
        names_push(P, cmp, op);
        nodes_push(P, &cmp->list, parse_math1(P));
    }
    return cmp ? cmp : first;
}

static jnode *parse_not(parser *P) {
    if (is_name(P, "not")) {
        jtok *t = next_tok(P);
        jnode *n = node(P, JN_NOT, t);
        n->a = parse_not(P);
        return n;
    }
    return parse_compare(P);
}

static jnode *parse_and(parser *P) {
    jnode *n = parse_not(P);
    while (is_name(P, "and")) {
        jtok *t = next_tok(P);
        jnode *a = node(P, JN_AND, t);
        a->a = n;
        a->b = parse_not(P);
        n = a;
    }
    return n;
}

static jnode *parse_or(parser *P) {
    jnode *n = parse_and(P);
    while (is_name(P, "or")) {
        jtok *t = next_tok(P);
        jnode *o = node(P, JN_OR, t);
        o->a = n;
        o->b = parse_and(P);
        n = o;
    }
    return n;
}

static jnode *parse_expr(parser *P) {
    enter(P);
    jnode *n = parse_or(P);
    while (is_name(P, "if")) {
        jtok *t = next_tok(P);
        jnode *c = node(P, JN_COND, t);
        c->a = n;
        c->b = parse_or(P);
        if (is_name(P, "else")) {
            next_tok(P);
            c->c = parse_expr(P);
        }
        n = c;
    }
    P->nesting--;
    return n;
}

/* An expression that may be an unparenthesised tuple ("a, b"). */
static jnode *parse_tuple_expr(parser *P, bool targets) {
    jtok *t = peek(P);
    jnode *first = targets ? parse_primary(P) : parse_expr(P);
    if (targets) first = parse_postfix(P, first);
    if (!is_op(P, ",")) return first;
    jnode *tu = node(P, JN_TUPLE, t);
    nodes_push(P, &tu->list, first);
    while (is_op(P, ",")) {
        next_tok(P);
        if (targets ? peek(P)->kind != JT_NAME : !starts_primary(peek(P)) && !is_op(P, "-") && !is_name(P, "not"))
            break;
        jnode *e = targets ? parse_postfix(P, parse_primary(P)) : parse_expr(P);
        nodes_push(P, &tu->list, e);
    }
    return tu;
}

static void check_target(parser *P, jnode *t) {
    if (t->kind == JN_NAME || (t->kind == JN_GETATTR && t->a->kind == JN_NAME)) return;
    if (t->kind == JN_TUPLE) {
        for (size_t i = 0; i < t->list.n; i++)
            if (t->list.v[i]->kind != JN_NAME)
                jinja_syntax_error(P->p, t->line, t->col, "can only unpack into names");
        return;
    }
    jinja_syntax_error(P->p, t->line, t->col, "cannot assign to this expression");
}

/* ---------------------------------------------------------------- statements */

/* Parses statements until a block tag whose name is one of `ends`; leaves
 * the cursor on that name (after "{%") and returns its index, or -1 at EOF
 * when ends is NULL. */
static int parse_body(parser *P, jnodes *body, const char *const *ends, const jtok *opener);

static void end_block(parser *P) { expect(P, JT_BLOCK_END, NULL); }

static jnode *parse_filter_chain(parser *P) {
    /* "name(args) | name2" as a chain of FILTER nodes whose innermost a is NULL */
    jnode *n = NULL;
    for (;;) {
        jtok *t = peek(P);
        jnode *f = node(P, JN_FILTER, t);
        f->name = tok_str(P, expect(P, JT_NAME, NULL));
        if (is_op(P, "(")) {
            next_tok(P);
            parse_call_args(P, f);
        }
        f->a = n;
        n = f;
        if (!is_op(P, "|")) return n;
        next_tok(P);
    }
}

static jnode *parse_statement(parser *P, const jtok *open) {
    jtok *t = peek(P);
    if (t->kind != JT_NAME) jinja_syntax_error(P->p, t->line, t->col, "expected a statement name after '{%%'");
    jnode *n;
    if (is_name(P, "if")) {
        next_tok(P);
        n = node(P, JN_IF, t);
        n->a = parse_expr(P);
        end_block(P);
        jnode *cur = n;
        static const char *const ends[] = {"elif", "else", "endif", NULL};
        for (;;) {
            int which = parse_body(P, &cur->list, ends, t);
            jtok *kw = next_tok(P);
            if (which == 0) {
                jnode *elif = node(P, JN_IF, kw);
                elif->a = parse_expr(P);
                end_block(P);
                nodes_push(P, &cur->list2, elif);
                cur = elif;
                continue;
            }
            if (which == 1) {
                end_block(P);
                static const char *const ends2[] = {"endif", NULL};
                parse_body(P, &cur->list2, ends2, t);
                next_tok(P);
            }
            end_block(P);
            return n;
        }
    }
    if (is_name(P, "for")) {
        next_tok(P);
        n = node(P, JN_FOR, t);
        n->a = parse_tuple_expr(P, true);
        check_target(P, n->a);
        expect(P, JT_NAME, "in");
        /* the iterable may not contain a bare conditional: "if" starts the filter */
        n->b = parse_or(P);
        if (is_name(P, "if")) {
            next_tok(P);
            n->c = parse_expr(P);
        }
        if (is_name(P, "recursive")) jinja_syntax_error(P->p, t->line, t->col, "recursive loops are not supported");
        end_block(P);
        static const char *const ends[] = {"else", "endfor", NULL};
        P->loop_depth++;
        int which = parse_body(P, &n->list, ends, t);
        P->loop_depth--;
        next_tok(P);
        end_block(P);
        if (which == 0) {
            static const char *const ends2[] = {"endfor", NULL};
            parse_body(P, &n->list2, ends2, t);
            next_tok(P);
            end_block(P);
        }
        return n;
    }
    if (is_name(P, "set")) {
        next_tok(P);
        jnode *target = parse_tuple_expr(P, true);
        check_target(P, target);
        if (is_op(P, "=")) {
            next_tok(P);
            n = node(P, JN_SET, t);
            n->a = target;
            n->b = parse_tuple_expr(P, false);
            end_block(P);
            return n;
        }
        n = node(P, JN_SET_BLOCK, t);
        n->a = target;
        if (is_op(P, "|")) {
            next_tok(P);
            n->c = parse_filter_chain(P);
        }
        end_block(P);
        static const char *const ends[] = {"endset", NULL};
        parse_body(P, &n->list, ends, t);
        next_tok(P);
        end_block(P);
        return n;
    }
    if (is_name(P, "macro")) {
        next_tok(P);
        n = node(P, JN_MACRO, t);
        n->name = tok_str(P, expect(P, JT_NAME, NULL));
        expect(P, JT_OP, "(");
        while (!is_op(P, ")")) {
            if (n->nnames) expect(P, JT_OP, ",");
            names_push(P, n, tok_str(P, expect(P, JT_NAME, NULL)));
            if (is_op(P, "=")) {
                next_tok(P);
                nodes_push(P, &n->list2, parse_expr(P));
            } else {
                nodes_push(P, &n->list2, NULL);
            }
        }
        next_tok(P);
        end_block(P);
        static const char *const ends[] = {"endmacro", NULL};
        int outer_loops = P->loop_depth;
        P->loop_depth = 0; /* a macro body is its own function: no loop to break out of */
        parse_body(P, &n->list, ends, t);
        P->loop_depth = outer_loops;
        next_tok(P);
        if (peek(P)->kind == JT_NAME) next_tok(P); /* {% endmacro name %} */
        end_block(P);
        return n;
    }
    if (is_name(P, "filter")) {
        next_tok(P);
        n = node(P, JN_FILTER_BLOCK, t);
        n->c = parse_filter_chain(P);
        end_block(P);
        static const char *const ends[] = {"endfilter", NULL};
        parse_body(P, &n->list, ends, t);
        next_tok(P);
        end_block(P);
        return n;
    }
    if (is_name(P, "with")) {
        next_tok(P);
        n = node(P, JN_WITH, t);
        while (peek(P)->kind != JT_BLOCK_END) {
            if (n->nnames) expect(P, JT_OP, ",");
            names_push(P, n, tok_str(P, expect(P, JT_NAME, NULL)));
            expect(P, JT_OP, "=");
            nodes_push(P, &n->list2, parse_expr(P));
        }
        end_block(P);
        static const char *const ends[] = {"endwith", NULL};
        parse_body(P, &n->list, ends, t);
        next_tok(P);
        end_block(P);
        return n;
    }
    if (is_name(P, "generation")) {
        /* transformers' {% generation %} marks assistant text; it renders its body. */
        next_tok(P);
        end_block(P);
        n = node(P, JN_BODY, t);
        static const char *const ends[] = {"endgeneration", NULL};
        parse_body(P, &n->list, ends, t);
        next_tok(P);
        end_block(P);
        return n;
    }
    if (is_name(P, "break") || is_name(P, "continue")) {
        if (P->loop_depth == 0)
            jinja_syntax_error(P->p, t->line, t->col, "'%.*s' outside a loop", (int)t->n, t->s);
        next_tok(P);
        n = node(P, t->s[0] == 'b' ? JN_BREAK : JN_CONTINUE, t);
        end_block(P);
        return n;
    }
    (void)open;
    jinja_syntax_error(P->p, t->line, t->col, "unknown or unsupported statement '%.*s'", (int)t->n, t->s);
}

static int parse_body(parser *P, jnodes *body, const char *const *ends, const jtok *opener) {
    enter(P);
    for (;;) {
        jtok *t = peek(P);
        switch (t->kind) {
        case JT_EOF:
            if (ends)
                jinja_syntax_error(P->p, opener->line, opener->col,
                                   "'%.*s' block is never closed (expected '%s' before the end of the template)",
                                   (int)opener->n, opener->s, ends[0]);
            P->nesting--;
            return -1;
        case JT_DATA: {
            next_tok(P);
            jnode *d = node(P, JN_DATA, t);
            d->value = lit(P, JV_STR);
            d->value->str.s = t->s;
            d->value->str.n = t->n;
            nodes_push(P, body, d);
            break;
        }
        case JT_VAR_BEGIN: {
            next_tok(P);
            jnode *o = node(P, JN_OUTPUT, t);
            o->a = parse_tuple_expr(P, false);
            expect(P, JT_VAR_END, NULL);
            nodes_push(P, body, o);
            break;
        }
        case JT_BLOCK_BEGIN: {
            next_tok(P);
            jtok *name = peek(P);
            if (ends)
                for (int i = 0; ends[i]; i++)
                    if (tok_is(name, JT_NAME, ends[i])) {
                        P->nesting--;
                        return i;
                    }
            static const char *const closers[] = {"endif", "endfor", "endset", "endmacro", "endfilter",
                                                  "elif", "else", "endgeneration", "endwith", NULL};
            for (int i = 0; closers[i]; i++)
                if (tok_is(name, JT_NAME, closers[i]))
                    jinja_syntax_error(P->p, name->line, name->col, "unexpected '%s'%s%s", closers[i],
                                       ends ? ", expected " : "", ends ? ends[0] : "");
            nodes_push(P, body, parse_statement(P, t));
            break;
        }
        default: {
            jinja_syntax_error(P->p, t->line, t->col, "unexpected %s", tok_desc(t));
        }
        }
    }
}

jnode *jinja_parse(jparse *p, const char *text, size_t n) {
    if (setjmp(p->jb)) return NULL;
    jtoks toks = {0};
    jinja_lex(p, text, n, &toks);
    parser P = {.p = p, .t = toks.v, .n = toks.n, .pos = 0};
    jnode *root = node(&P, JN_BODY, &toks.v[0]);
    parse_body(&P, &root->list, NULL, NULL);
    return root;
}
