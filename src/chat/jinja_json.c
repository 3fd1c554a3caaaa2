/* JSON in and out of the template engine. In: a cJSON tree (the messages,
 * tools and other render variables) becomes values. Out: Python's
 * json.dumps(v, ensure_ascii=False, indent=..., separators=..., sort_keys=...),
 * which transformers installs as the tojson filter: non-ASCII text is kept
 * as is, floats are printed as Python's repr. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chat/jinja.h"

jv *jinja_from_cjson(jctx *c, const cJSON *j) {
    if (!j || cJSON_IsNull(j)) return jv_none(c);
    if (cJSON_IsBool(j)) return jv_bool(c, cJSON_IsTrue(j));
    if (cJSON_IsNumber(j)) {
        /* cJSON keeps only a double: integral values within 2^53 read as
         * ints, as Python's json would for a literal without '.' or 'e'. */
        double d = j->valuedouble;
        if (d == floor(d) && fabs(d) <= 9007199254740992.0) return jv_int(c, (int64_t)d);
        return jv_float(c, d);
    }
    if (cJSON_IsString(j)) return jv_str(c, j->valuestring, strlen(j->valuestring));
    if (cJSON_IsArray(j)) {
        jv *l = jv_list(c, (size_t)cJSON_GetArraySize(j));
        for (const cJSON *it = j->child; it; it = it->next) jv_list_push(c, l, jinja_from_cjson(c, it));
        return l;
    }
    if (cJSON_IsObject(j)) {
        jv *d = jv_dict(c, (size_t)cJSON_GetArraySize(j));
        for (const cJSON *it = j->child; it; it = it->next)
            jv_dict_set(c, d, jv_cstr(c, it->string ? it->string : ""), jinja_from_cjson(c, it));
        return d;
    }
    return jv_none(c);
}

static void json_string(jbuf *b, const char *s, size_t n) {
    jbuf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"': jbuf_puts(b, "\\\""); break;
        case '\\': jbuf_puts(b, "\\\\"); break;
        case '\n': jbuf_puts(b, "\\n"); break;
        case '\r': jbuf_puts(b, "\\r"); break;
        case '\t': jbuf_puts(b, "\\t"); break;
        case '\b': jbuf_puts(b, "\\b"); break;
        case '\f': jbuf_puts(b, "\\f"); break;
        default:
            if (ch < 0x20) jbuf_printf(b, "\\u%04x", ch);
            else jbuf_putc(b, (char)ch);
        }
    }
    jbuf_putc(b, '"');
}

static void newline_indent(jbuf *b, const char *indent, int level) {
    jbuf_putc(b, '\n');
    for (int i = 0; i < level; i++) jbuf_puts(b, indent);
}

static void json_key(jctx *c, const jnode *at, jbuf *b, const jv *k) {
    switch (k->kind) {
    case JV_STR: json_string(b, k->str.s, k->str.n); return;
    case JV_INT: jbuf_printf(b, "\"%lld\"", (long long)k->i); return;
    case JV_BOOL: jbuf_puts(b, k->b ? "\"true\"" : "\"false\""); return;
    case JV_NONE: jbuf_puts(b, "\"null\""); return;
    case JV_FLOAT:
        jbuf_putc(b, '"');
        jv_write_float(b, k->f);
        jbuf_putc(b, '"');
        return;
    default:
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: keys must be str, int, float, bool or None, not %s", jv_type_name(k));
    }
}

void jinja_tojson(jctx *c, const jnode *at, jbuf *b, jv *v, const char *indent, const char *item_sep,
                  const char *key_sep, bool sort_keys, int level) {
    if (level > 200) jinja_fail(c, at, LK_ERR_RANGE, "tojson: value nested too deeply");
    switch (v->kind) {
    case JV_NONE: jbuf_puts(b, "null"); return;
    case JV_BOOL: jbuf_puts(b, v->b ? "true" : "false"); return;
    case JV_INT: jbuf_printf(b, "%lld", (long long)v->i); return;
    case JV_FLOAT:
        if (isnan(v->f)) jbuf_puts(b, "NaN");
        else if (isinf(v->f)) jbuf_puts(b, v->f < 0 ? "-Infinity" : "Infinity");
        else jv_write_float(b, v->f);
        return;
    case JV_STR: json_string(b, v->str.s, v->str.n); return;
    case JV_LIST:
        if (v->is_gen) jinja_fail(c, at, LK_ERR_ARG, "TypeError: Object of type generator is not JSON serializable");
        if (v->list.n == 0) return jbuf_puts(b, "[]");
        jbuf_putc(b, '[');
        for (size_t i = 0; i < v->list.n; i++) {
            if (i) jbuf_puts(b, item_sep);
            if (indent) newline_indent(b, indent, level + 1);
            jinja_tojson(c, at, b, v->list.v[i], indent, item_sep, key_sep, sort_keys, level + 1);
        }
        if (indent) newline_indent(b, indent, level);
        jbuf_putc(b, ']');
        return;
    case JV_DICT: {
        if (v->dict.n == 0) return jbuf_puts(b, "{}");
        size_t n = v->dict.n;
        size_t *order = jarena_alloc(&c->arena, n * sizeof *order);
        for (size_t i = 0; i < n; i++) order[i] = i;
        if (sort_keys)
            for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && jv_compare(c, at, v->dict.k[order[j - 1]], v->dict.k[order[j]]) > 0; j--) {
                    size_t t = order[j];
                    order[j] = order[j - 1];
                    order[j - 1] = t;
                }
        jbuf_putc(b, '{');
        for (size_t i = 0; i < n; i++) {
            if (i) jbuf_puts(b, item_sep);
            if (indent) newline_indent(b, indent, level + 1);
            json_key(c, at, b, v->dict.k[order[i]]);
            jbuf_puts(b, key_sep);
            jinja_tojson(c, at, b, v->dict.v[order[i]], indent, item_sep, key_sep, sort_keys, level + 1);
        }
        if (indent) newline_indent(b, indent, level);
        jbuf_putc(b, '}');
        return;
    }
    case JV_UNDEF:
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: Object of type Undefined is not JSON serializable");
    default:
        jinja_fail(c, at, LK_ERR_ARG, "TypeError: Object of type %s is not JSON serializable", jv_type_name(v));
    }
}
