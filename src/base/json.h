/* JSON helpers over cJSON: load a file with errors that point at the line
 * and column, and read typed values with errors that name the file and the
 * full key path, e.g.
 *
 *     config.json: key 'rope_scaling.factor' must be a number, not a string
 *
 *     cJSON *root;
 *     lk_json_obj cfg;
 *     int64_t hidden, heads;
 *     if (lk_json_load_file(path, 0, &root, err) != LK_OK) return err->code;
 *     if (lk_json_root(root, path, &cfg, err) != LK_OK ||
 *         lk_json_get_int(&cfg, "hidden_size", 1, INT32_MAX, &hidden, err) != LK_OK ||
 *         lk_json_opt_int(&cfg, "num_key_value_heads", 1, 4096, 0, &heads, err) != LK_OK) ...
 *     cJSON_Delete(root);
 *
 * Conventions: a required key that is absent is an error; an optional key
 * that is absent or null takes its default (HF configs write null for "not
 * set"), but one of the wrong type is still an error. When a key appears
 * twice the last one wins, as in Python's json module. Strings returned are
 * borrowed from the tree and live as long as it does. */
#ifndef LK_BASE_JSON_H
#define LK_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "llmkit.h"

/* A JSON object and where it sits, for error messages. */
typedef struct {
    const cJSON *node; /* the object; NULL for an absent optional object */
    const char *file;  /* names the source (borrowed), e.g. the file's path */
    char path[192];    /* key path from the root: "" at the root, "a.b" below */
} lk_json_obj;

/* Parses len bytes of text (no NUL needed). `name` names the source in
 * messages ("config.json:3:14: JSON syntax error near ..."). The text must be
 * UTF-8; a leading byte-order mark is skipped. Caller frees *out with
 * cJSON_Delete. */
lk_status lk_json_parse(const char *text, size_t len, const char *name, cJSON **out,
                        lk_error *err);
/* Reads and parses a file; max_size 0 means 256 MiB. */
lk_status lk_json_load_file(const char *path, size_t max_size, cJSON **out, lk_error *err);

/* Wraps a parsed document whose top level must be an object. */
lk_status lk_json_root(const cJSON *root, const char *file, lk_json_obj *out, lk_error *err);

/* The value under key (last one if repeated), or NULL. */
const cJSON *lk_json_find(const lk_json_obj *o, const char *key);

/* Required values. Integers must be integral, exactly representable (of
 * magnitude below 2^53) and in [min, max]. */
lk_status lk_json_get_int(const lk_json_obj *o, const char *key, int64_t min, int64_t max,
                          int64_t *out, lk_error *err);
lk_status lk_json_get_number(const lk_json_obj *o, const char *key, double *out, lk_error *err);
lk_status lk_json_get_bool(const lk_json_obj *o, const char *key, bool *out, lk_error *err);
lk_status lk_json_get_string(const lk_json_obj *o, const char *key, const char **out,
                             lk_error *err);
lk_status lk_json_get_object(const lk_json_obj *o, const char *key, lk_json_obj *out,
                             lk_error *err);
lk_status lk_json_get_array(const lk_json_obj *o, const char *key, const cJSON **out,
                            lk_error *err);

/* Optional values: absent or null gives the default (objects: out->node
 * NULL; arrays: *out NULL). */
lk_status lk_json_opt_int(const lk_json_obj *o, const char *key, int64_t min, int64_t max,
                          int64_t def, int64_t *out, lk_error *err);
lk_status lk_json_opt_number(const lk_json_obj *o, const char *key, double def, double *out,
                             lk_error *err);
lk_status lk_json_opt_bool(const lk_json_obj *o, const char *key, bool def, bool *out,
                           lk_error *err);
lk_status lk_json_opt_string(const lk_json_obj *o, const char *key, const char *def,
                             const char **out, lk_error *err);
lk_status lk_json_opt_object(const lk_json_obj *o, const char *key, lk_json_obj *out,
                             lk_error *err);
lk_status lk_json_opt_array(const lk_json_obj *o, const char *key, const cJSON **out,
                            lk_error *err);

/* Converts one value (an array element, say) that the caller located; `path`
 * names it in messages ("eos_token_id[1]"). v may be NULL (reported missing). */
lk_status lk_json_value_int(const cJSON *v, const char *file, const char *path, int64_t min,
                            int64_t max, int64_t *out, lk_error *err);
lk_status lk_json_value_number(const cJSON *v, const char *file, const char *path, double *out,
                               lk_error *err);
lk_status lk_json_value_string(const cJSON *v, const char *file, const char *path,
                               const char **out, lk_error *err);

/* "a string", "an array", "null", ... for messages. */
const char *lk_json_type_name(const cJSON *v);

#endif
