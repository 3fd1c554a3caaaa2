/* JSON helpers over cJSON.
 *
 * Design note. cJSON does the parsing; this file adds what a user needs when
 * a file is wrong: the line and column of a syntax error (computed from the
 * offset cJSON stops at, which ParseWithLengthOpts returns per call rather
 * than through the global cJSON_GetErrorPtr, so loading is thread-safe), and
 * typed getters whose messages carry the file and the dotted key path.
 * cJSON keeps every number as a double, so an integer getter checks that the
 * value is integral and exactly representable before range-checking it. */
#include "base/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mmap.h"
#include "base/utf8.h"

#define LK_JSON_DEFAULT_MAX ((size_t)256 << 20)
#define LK_JSON_EXACT_INT 9007199254740992.0 /* 2^53: from here on doubles skip integers */

/* ---------------------------------------------------------------- parsing */

/* 1-based line and column (in characters) of byte `offset` in text. */
static void line_col(const char *text, size_t offset, size_t *line, size_t *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            (*line)++;
            *col = 1;
        } else if ((c & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

/* Up to ~24 bytes of text from offset, stopping at a newline, cut on a
 * character boundary; for "near '...'". */
static void snippet(const char *text, size_t len, size_t offset, char *out, size_t cap) {
    size_t n = 0;
    while (offset + n < len && n < 24 && text[offset + n] != '\n' && text[offset + n] != '\r')
        n++;
    n = lk_utf8_truncate(text + offset, len - offset, n);
    if (n >= cap) n = cap - 1;
    memcpy(out, text + offset, n);
    out[n] = '\0';
}

static lk_status syntax_error(lk_error *err, const char *name, const char *text, size_t len,
                              size_t offset, const char *what) {
    size_t line, col;
    line_col(text, offset, &line, &col);
    char near[32];
    snippet(text, len, offset, near, sizeof near);
    if (!near[0])
        return lk_error_set(err, LK_ERR_FORMAT, "%s:%zu:%zu: %s at end of input (truncated file?)",
                            name, line, col, what);
    return lk_error_set(err, LK_ERR_FORMAT, "%s:%zu:%zu: %s near '%s'", name, line, col, what,
                        near);
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

lk_status lk_json_parse(const char *text, size_t len, const char *name, cJSON **out,
                        lk_error *err) {
    *out = NULL;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* byte-order mark */
        text += 3;
        len -= 3;
    }
    size_t bad = lk_utf8_validate(text, len);
    if (bad < len) {
        uint32_t cp;
        size_t n;
        lk_utf8_status st = lk_utf8_decode(text + bad, len - bad, &cp, &n);
        size_t line, col;
        line_col(text, bad, &line, &col);
        return lk_error_set(err, LK_ERR_FORMAT, "%s:%zu:%zu: invalid UTF-8 (%s, byte 0x%02X)",
                            name, line, col, lk_utf8_status_name(st),
                            (unsigned char)text[bad]);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t offset = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        size_t rest = offset;
        while (rest < len && is_space(text[rest])) rest++;
        if (rest == len) offset = len; /* only whitespace left: the input ended early */
        return syntax_error(err, name, text, len, offset, "JSON syntax error");
    }
    size_t offset = (size_t)(end - text);
    while (offset < len && is_space(text[offset])) offset++;
    if (offset < len) {
        cJSON_Delete(root);
        return syntax_error(err, name, text, len, offset, "unexpected text after the JSON value");
    }
    *out = root;
    return LK_OK;
}

lk_status lk_json_load_file(const char *path, size_t max_size, cJSON **out, lk_error *err) {
    *out = NULL;
    char *text;
    size_t len;
    lk_status st = lk_read_file(path, max_size ? max_size : LK_JSON_DEFAULT_MAX, &text, &len, err);
    if (st != LK_OK) return st;
    st = lk_json_parse(text, len, path, out, err);
    free(text);
    return st;
}

/* ---------------------------------------------------------------- lookup */

const char *lk_json_type_name(const cJSON *v) {
    if (!v) return "missing";
    switch (v->type & 0xFF) {
    case cJSON_False:
    case cJSON_True: return "a boolean";
    case cJSON_NULL: return "null";
    case cJSON_Number: return "a number";
    case cJSON_String: return "a string";
    case cJSON_Array: return "an array";
    case cJSON_Object: return "an object";
    }
    return "an unknown value";
}

lk_status lk_json_root(const cJSON *root, const char *file, lk_json_obj *out, lk_error *err) {
    out->node = root;
    out->file = file;
    out->path[0] = '\0';
    if (!cJSON_IsObject(root))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: expected a JSON object at the top level, found %s",
                            file, lk_json_type_name(root));
    return LK_OK;
}

const cJSON *lk_json_find(const lk_json_obj *o, const char *key) {
    if (!o->node) return NULL;
    const cJSON *found = NULL;
    for (const cJSON *c = o->node->child; c; c = c->next)
        if (c->string && strcmp(c->string, key) == 0) found = c;
    return found;
}

/* "a.b.key" into buf. */
static const char *key_path(const lk_json_obj *o, const char *key, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%s%s", o->path, o->path[0] ? "." : "", key);
    return buf;
}

static lk_status wrong_type(lk_error *err, const char *file, const char *path, const char *want,
                            const cJSON *v) {
    if (!v)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: required key '%s' is missing", file, path);
    return lk_error_set(err, LK_ERR_FORMAT, "%s: key '%s' must be %s, not %s", file, path, want,
                        lk_json_type_name(v));
}

/* ---------------------------------------------------------------- values */

lk_status lk_json_value_int(const cJSON *v, const char *file, const char *path, int64_t min,
                            int64_t max, int64_t *out, lk_error *err) {
    if (!cJSON_IsNumber(v)) return wrong_type(err, file, path, "an integer", v);
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: key '%s' must be an integer, not %.17g",
                            file, path, d);
    if (fabs(d) >= LK_JSON_EXACT_INT)
        return lk_error_set(err, LK_ERR_RANGE,
                            "%s: key '%s' is %.17g, too large to be read exactly (limit 2^53 - 1)",
                            file, path, d);
    int64_t i = (int64_t)d;
    if (i < min || i > max)
        return lk_error_set(err, LK_ERR_RANGE, "%s: key '%s' is %lld, must be in [%lld, %lld]",
                            file, path, (long long)i, (long long)min, (long long)max);
    *out = i;
    return LK_OK;
}

lk_status lk_json_value_number(const cJSON *v, const char *file, const char *path, double *out,
                               lk_error *err) {
    if (!cJSON_IsNumber(v)) return wrong_type(err, file, path, "a number", v);
    *out = v->valuedouble;
    return LK_OK;
}

lk_status lk_json_value_string(const cJSON *v, const char *file, const char *path,
                               const char **out, lk_error *err) {
    if (!cJSON_IsString(v)) return wrong_type(err, file, path, "a string", v);
    *out = v->valuestring;
    return LK_OK;
}

static lk_status value_bool(const cJSON *v, const char *file, const char *path, bool *out,
                            lk_error *err) {
    if (!cJSON_IsBool(v)) return wrong_type(err, file, path, "true or false", v);
    *out = cJSON_IsTrue(v);
    return LK_OK;
}

static lk_status value_object(const cJSON *v, const char *file, const char *path,
                              lk_json_obj *out, lk_error *err) {
    out->node = NULL;
    out->file = file;
    snprintf(out->path, sizeof out->path, "%s", path);
    if (!cJSON_IsObject(v)) return wrong_type(err, file, path, "an object", v);
    out->node = v;
    return LK_OK;
}

static lk_status value_array(const cJSON *v, const char *file, const char *path,
                             const cJSON **out, lk_error *err) {
    if (!cJSON_IsArray(v)) return wrong_type(err, file, path, "an array", v);
    *out = v;
    return LK_OK;
}

/* ---------------------------------------------------------------- getters */

/* Required getters look the key up and convert; optional ones first check
 * for absence or null. */
#define LK_PATH(o, key) key_path((o), (key), path_buf, sizeof path_buf)
#define LK_ABSENT(v) (!(v) || cJSON_IsNull(v))

lk_status lk_json_get_int(const lk_json_obj *o, const char *key, int64_t min, int64_t max,
                          int64_t *out, lk_error *err) {
    char path_buf[256];
    return lk_json_value_int(lk_json_find(o, key), o->file, LK_PATH(o, key), min, max, out, err);
}

lk_status lk_json_get_number(const lk_json_obj *o, const char *key, double *out, lk_error *err) {
    char path_buf[256];
    return lk_json_value_number(lk_json_find(o, key), o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_get_bool(const lk_json_obj *o, const char *key, bool *out, lk_error *err) {
    char path_buf[256];
    return value_bool(lk_json_find(o, key), o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_get_string(const lk_json_obj *o, const char *key, const char **out,
                             lk_error *err) {
    char path_buf[256];
    return lk_json_value_string(lk_json_find(o, key), o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_get_object(const lk_json_obj *o, const char *key, lk_json_obj *out,
                             lk_error *err) {
    char path_buf[256];
    return value_object(lk_json_find(o, key), o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_get_array(const lk_json_obj *o, const char *key, const cJSON **out,
                            lk_error *err) {
    char path_buf[256];
    return value_array(lk_json_find(o, key), o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_opt_int(const lk_json_obj *o, const char *key, int64_t min, int64_t max,
                          int64_t def, int64_t *out, lk_error *err) {
    const cJSON *v = lk_json_find(o, key);
    if (LK_ABSENT(v)) {
        *out = def;
        return LK_OK;
    }
    char path_buf[256];
    return lk_json_value_int(v, o->file, LK_PATH(o, key), min, max, out, err);
}

lk_status lk_json_opt_number(const lk_json_obj *o, const char *key, double def, double *out,
                             lk_error *err) {
    const cJSON *v = lk_json_find(o, key);
    if (LK_ABSENT(v)) {
        *out = def;
        return LK_OK;
    }
    char path_buf[256];
    return lk_json_value_number(v, o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_opt_bool(const lk_json_obj *o, const char *key, bool def, bool *out,
                           lk_error *err) {
    const cJSON *v = lk_json_find(o, key);
    if (LK_ABSENT(v)) {
        *out = def;
        return LK_OK;
    }
    char path_buf[256];
    return value_bool(v, o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_opt_string(const lk_json_obj *o, const char *key, const char *def,
                             const char **out, lk_error *err) {
    const cJSON *v = lk_json_find(o, key);
    if (LK_ABSENT(v)) {
        *out = def;
        return LK_OK;
    }
    char path_buf[256];
    return lk_json_value_string(v, o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_opt_object(const lk_json_obj *o, const char *key, lk_json_obj *out,
                             lk_error *err) {
    char path_buf[256];
    const cJSON *v = lk_json_find(o, key);
    if (LK_ABSENT(v)) {
        value_object(NULL, o->file, LK_PATH(o, key), out, NULL);
        return LK_OK;
    }
    return value_object(v, o->file, LK_PATH(o, key), out, err);
}

lk_status lk_json_opt_array(const lk_json_obj *o, const char *key, const cJSON **out,
                            lk_error *err) {
    const cJSON *v = lk_json_find(o, key);
    if (LK_ABSENT(v)) {
        *out = NULL;
        return LK_OK;
    }
    char path_buf[256];
    return value_array(v, o->file, LK_PATH(o, key), out, err);
}
