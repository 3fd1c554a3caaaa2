/* Template text to tokens, with jinja2's whitespace rules as transformers
 * configures them:
 *   - "{%-", "{{-", "{#-" strip all whitespace before the tag; "-%}", "-}}",
 *     "-#}" strip all whitespace after it;
 *   - trim_blocks: the first newline after a block or comment tag is dropped
 *     (not after "+%}");
 *   - lstrip_blocks: spaces and tabs from the start of a line up to a block
 *     or comment tag are dropped (not for "{%+", never for "{{").
 * The caller has already turned \r\n and \r into \n and dropped one
 * trailing newline, as jinja2 does (keep_trailing_newline=False). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/jinja.h"

typedef struct {
    jparse *p;
    const char *s;
    size_t n, pos;
    int line, col; /* of pos */
    jtoks *toks;
} lexer;

static void advance(lexer *L, size_t k) {
    for (size_t i = 0; i < k && L->pos < L->n; i++, L->pos++) {
        if (L->s[L->pos] == '\n') {
            L->line++;
            L->col = 1;
        } else {
            L->col++;
        }
    }
}

static jtok *push(lexer *L, jtok_kind kind, int line, int col) {
    jtoks *t = L->toks;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        jtok *nv = jarena_alloc(&L->p->arena, cap * sizeof *nv);
        if (t->n) memcpy(nv, t->v, t->n * sizeof *nv);
        t->v = nv;
        t->cap = cap;
    }
    jtok *k = &t->v[t->n++];
    memset(k, 0, sizeof *k);
    k->kind = kind;
    k->line = line;
    k->col = col;
    return k;
}

static bool is_ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

static void push_data(lexer *L, const char *s, size_t n, int line, int col) {
    if (n == 0) return;
    jtok *t = push(L, JT_DATA, line, col);
    t->s = s;
    t->n = n;
}

/* Python string literal escapes (jinja2 decodes them with unicode-escape);
 * an unknown escape keeps its backslash. */
static void lex_string(lexer *L, int line, int col) {
    char q = L->s[L->pos];
    size_t start = L->pos + 1, i = start;
    while (i < L->n && L->s[i] != q) i += L->s[i] == '\\' && i + 1 < L->n ? 2 : 1;
    if (i >= L->n) jinja_syntax_error(L->p, line, col, "unterminated string");
    char *out = jarena_alloc(&L->p->arena, (i - start) * 4 / 2 + 8 + (i - start));
    size_t o = 0;
    for (size_t k = start; k < i; k++) {
        char ch = L->s[k];
        if (ch != '\\') {
            out[o++] = ch;
            continue;
        }
        char e = L->s[++k];
        uint32_t cp = 0;
        int hex = 0;
        switch (e) {
        case 'n': out[o++] = '\n'; continue;
        case 't': out[o++] = '\t'; continue;
        case 'r': out[o++] = '\r'; continue;
        case '\\': out[o++] = '\\'; continue;
        case '\'': out[o++] = '\''; continue;
        case '"': out[o++] = '"'; continue;
        case 'a': out[o++] = '\a'; continue;
        case 'b': out[o++] = '\b'; continue;
        case 'f': out[o++] = '\f'; continue;
        case 'v': out[o++] = '\v'; continue;
        case '\n': continue;
        case 'x': hex = 2; break;
        case 'u': hex = 4; break;
        case 'U': hex = 8; break;
        default:
            if (e >= '0' && e <= '7') {
                int d = 0;
                while (d < 3 && k < i && L->s[k] >= '0' && L->s[k] <= '7') cp = cp * 8 + (uint32_t)(L->s[k++] - '0'), d++;
                k--;
                hex = -1;
                break;
            }
            out[o++] = '\\';
            out[o++] = e;
            continue;
        }
        if (hex > 0) {
            for (int d = 0; d < hex; d++) {
                char h = k + 1 < i ? L->s[k + 1] : 0;
                int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                if (v < 0) jinja_syntax_error(L->p, line, col, "truncated \\%c escape in string", e);
                cp = cp * 16 + (uint32_t)v;
                k++;
            }
        }
        if (cp > 0x10ffff) jinja_syntax_error(L->p, line, col, "escape out of range in string");
        /* encode UTF-8 in place */
        if (cp < 0x80) out[o++] = (char)cp;
        else if (cp < 0x800) {
            out[o++] = (char)(0xc0 | (cp >> 6));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[o++] = (char)(0xe0 | (cp >> 12));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | (cp >> 18));
            out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    out[o] = '\0';
    jtok *t = push(L, JT_STRING, line, col);
    t->s = out;
    t->n = o;
    advance(L, i + 1 - L->pos);
}

static const char *const k_ops[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                    ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", NULL};

/* Tokens inside {{ }} or {% %} up to the closing tag. Returns the strip sign
 * of the closing tag ('-', '+' or 0) and leaves pos after it. */
static char lex_tag(lexer *L, bool block, int open_line, int open_col) {
    const char *close = block ? "%}" : "}}";
    int depth = 0;
    for (;;) {
        while (L->pos < L->n && is_ws(L->s[L->pos])) advance(L, 1);
        if (L->pos >= L->n)
            jinja_syntax_error(L->p, open_line, open_col, "unclosed tag: expected '%s'", close);
        const char *p = L->s + L->pos;
        size_t left = L->n - L->pos;
        int line = L->line, col = L->col;
        if (depth == 0) {
            if ((p[0] == '-' || p[0] == '+') && left >= 3 && memcmp(p + 1, close, 2) == 0) {
                push(L, block ? JT_BLOCK_END : JT_VAR_END, line, col);
                advance(L, 3);
                return p[0];
            }
            if (left >= 2 && memcmp(p, close, 2) == 0) {
                push(L, block ? JT_BLOCK_END : JT_VAR_END, line, col);
                advance(L, 2);
                return 0;
            }
        }
        char ch = p[0];
        if (ch == '\'' || ch == '"') {
            lex_string(L, line, col);
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') {
            size_t k = 1;
            while (k < left && ((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') || p[k] == '_' ||
                                (p[k] >= '0' && p[k] <= '9')))
                k++;
            jtok *t = push(L, JT_NAME, line, col);
            t->s = p;
            t->n = k;
            advance(L, k);
        } else if (ch >= '0' && ch <= '9') {
            size_t k = 0;
            bool is_float = false;
            /* the literal without its '_' separators, however long */
            size_t span = 0;
            while (span < left && ((p[span] >= '0' && p[span] <= '9') || p[span] == '_' || p[span] == '.' ||
                                   p[span] == 'e' || p[span] == 'E' ||
                                   ((p[span] == '+' || p[span] == '-') && span > 0 &&
                                    (p[span - 1] == 'e' || p[span - 1] == 'E'))))
                span++;
            char *num = jarena_alloc(&L->p->arena, span + 1);
            size_t nn = 0;
            while (k < left && ((p[k] >= '0' && p[k] <= '9') || p[k] == '_')) {
                if (p[k] != '_') num[nn++] = p[k];
                k++;
            }
            if (k + 1 < left && p[k] == '.' && p[k + 1] >= '0' && p[k + 1] <= '9') {
                is_float = true;
                num[nn++] = '.';
                k++;
                while (k < left && ((p[k] >= '0' && p[k] <= '9') || p[k] == '_')) {
                    if (p[k] != '_') num[nn++] = p[k];
                    k++;
                }
            }
            if (k < left && (p[k] == 'e' || p[k] == 'E')) {
                size_t e = k + 1;
                if (e < left && (p[e] == '+' || p[e] == '-')) e++;
                if (e < left && p[e] >= '0' && p[e] <= '9') {
                    is_float = true;
                    for (; k < e; k++) num[nn++] = p[k];
                    while (k < left && p[k] >= '0' && p[k] <= '9') num[nn++] = p[k++];
                }
            }
            if (!is_float && p[0] == '0') {
                /* jinja2 reads "012" as 0 then 12: an int starting with 0 is only zeros */
                k = 1;
                while (k < left && (p[k] == '0' || p[k] == '_')) k++;
                nn = 1;
            }
            num[nn] = '\0';
            jtok *t = push(L, is_float ? JT_FLOAT : JT_INT, line, col);
            if (is_float) t->f = strtod(num, NULL);
            else {
                char *end;
                unsigned long long v = strtoull(num, &end, 10);
                if (v > INT64_MAX || nn > 19) jinja_syntax_error(L->p, line, col, "integer literal too large");
                t->i = (int64_t)v;
            }
            advance(L, k);
        } else {
            const char *op = NULL;
            for (int i = 0; k_ops[i]; i++) {
                size_t ol = strlen(k_ops[i]);
                if (ol <= left && memcmp(p, k_ops[i], ol) == 0) {
                    op = k_ops[i];
                    break;
                }
            }
            if (!op) jinja_syntax_error(L->p, line, col, "unexpected character '%c'", ch);
            if (op[0] == '(' || op[0] == '[' || op[0] == '{') depth++;
            if ((op[0] == ')' || op[0] == ']' || op[0] == '}') && depth > 0) depth--;
            jtok *t = push(L, JT_OP, line, col);
            t->s = op;
            t->n = strlen(op);
            advance(L, t->n);
        }
    }
}

/* Finds the next "{{", "{%" or "{#" at or after pos; returns its offset or n. */
static size_t find_open(const lexer *L, size_t from) {
    for (size_t i = from; i + 1 < L->n; i++)
        if (L->s[i] == '{' && (L->s[i + 1] == '{' || L->s[i + 1] == '%' || L->s[i + 1] == '#')) return i;
    return L->n;
}

/* After a closing tag: what its strip sign does to the text that follows. */
static void after_close(lexer *L, char sign, bool block_like) {
    if (sign == '-') {
        while (L->pos < L->n && is_ws(L->s[L->pos])) advance(L, 1);
    } else if (sign != '+' && block_like && L->pos < L->n && L->s[L->pos] == '\n') {
        advance(L, 1); /* trim_blocks */
    }
}

void jinja_lex(jparse *p, const char *text, size_t n, jtoks *toks) {
    lexer L = {.p = p, .s = text, .n = n, .pos = 0, .line = 1, .col = 1, .toks = toks};
    bool line_starting = true;
    while (L.pos < L.n) {
        size_t open = find_open(&L, L.pos);
        int dline = L.line, dcol = L.col;
        const char *data = L.s + L.pos;
        size_t dlen = open - L.pos;
        if (open >= L.n) {
            push_data(&L, data, L.n - L.pos, dline, dcol);
            break;
        }
        char kind = L.s[open + 1];
        char sign = open + 2 < L.n ? L.s[open + 2] : 0;
        if (sign != '-' && sign != '+') sign = 0;
        if (sign == '-') {
            while (dlen > 0 && is_ws(data[dlen - 1])) dlen--;
        } else if (sign != '+' && kind != '{') {
            /* lstrip_blocks: drop the spaces before the tag when only
             * whitespace precedes it on its line. */
            size_t l = dlen;
            while (l > 0 && data[l - 1] != '\n') l--;
            if (l > 0 || line_starting) {
                size_t k = l;
                while (k < dlen && is_ws(data[k])) k++;
                if (k == dlen) dlen = l;
            }
        }
        push_data(&L, data, dlen, dline, dcol);
        advance(&L, open - L.pos);
        int tline = L.line, tcol = L.col;
        advance(&L, sign ? 3 : 2);
        size_t close_end;
        if (kind == '#') {
            const char *end = NULL;
            for (size_t i = L.pos; i + 1 < L.n; i++)
                if (L.s[i] == '#' && L.s[i + 1] == '}') {
                    end = L.s + i;
                    break;
                }
            if (!end) jinja_syntax_error(p, tline, tcol, "unclosed comment: expected '#}'");
            char csign = end > L.s + L.pos && (end[-1] == '-' || end[-1] == '+') ? end[-1] : 0;
            advance(&L, (size_t)(end - (L.s + L.pos)) + 2);
            close_end = L.pos;
            after_close(&L, csign, true);
        } else if (kind == '%') {
            push(&L, JT_BLOCK_BEGIN, tline, tcol);
            size_t first = toks->n;
            char csign = lex_tag(&L, true, tline, tcol);
            close_end = L.pos;
            /* {% raw %}: everything up to {% endraw %} is data. */
            if (toks->n == first + 2 && toks->v[first].kind == JT_NAME && toks->v[first].n == 3 &&
                memcmp(toks->v[first].s, "raw", 3) == 0) {
                toks->n = first - 1;
                after_close(&L, csign, true);
                size_t i = L.pos;
                for (;; i++) {
                    i = find_open(&L, i);
                    if (i >= L.n) jinja_syntax_error(p, tline, tcol, "missing {%% endraw %%}");
                    if (L.s[i + 1] != '%') continue;
                    size_t k = i + 2;
                    if (k < L.n && (L.s[k] == '-' || L.s[k] == '+')) k++;
                    while (k < L.n && is_ws(L.s[k])) k++;
                    if (k + 6 <= L.n && memcmp(L.s + k, "endraw", 6) == 0) break;
                }
                size_t rlen = i - L.pos;
                if (i + 2 < L.n && L.s[i + 2] == '-')
                    while (rlen > 0 && is_ws(L.s[L.pos + rlen - 1])) rlen--;
                push_data(&L, L.s + L.pos, rlen, L.line, L.col);
                advance(&L, i - L.pos);
                int eline = L.line, ecol = L.col;
                advance(&L, L.s[i + 2] == '-' || L.s[i + 2] == '+' ? 3 : 2);
                size_t before = toks->n;
                csign = lex_tag(&L, true, eline, ecol);
                toks->n = before;
                close_end = L.pos;
            }
            after_close(&L, csign, true);
        } else {
            push(&L, JT_VAR_BEGIN, tline, tcol);
            char csign = lex_tag(&L, false, tline, tcol);
            close_end = L.pos;
            after_close(&L, csign, false);
        }
        line_starting = L.pos > close_end && L.s[L.pos - 1] == '\n';
    }
    push(&L, JT_EOF, L.line, L.col);
}
