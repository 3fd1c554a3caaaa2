/* Fuzzes the JSON loader (UTF-8 check, syntax error positions, trailing
 * text) and the typed getters over whatever tree comes out, and holds the
 * UTF-8 helpers to their promises on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/utf8.h"

static void check_utf8(const char *s, size_t len) {
    size_t valid = lk_utf8_validate(s, len);
    if (valid > len) abort();
    size_t ready = lk_utf8_complete_prefix(s, len);
    if (ready > len || len - ready > 3) abort();
    /* What is held back is a real (incomplete) character start. */
    if (ready < len) {
        uint32_t cp;
        size_t n;
        if (lk_utf8_decode(s + ready, len - ready, &cp, &n) != LK_UTF8_TRUNCATED) abort();
    }
    for (size_t max = 0; max <= len && max < 64; max++) {
        size_t cut = lk_utf8_truncate(s, len, max);
        if (cut > max || max - cut > 3) abort();
        if (max <= valid && lk_utf8_validate(s, cut) != cut) abort();
    }
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n;
        lk_utf8_status st = lk_utf8_decode(s + i, len - i, &cp, &n);
        if (n == 0 || n > 4 || n > len - i) abort();
        if (st == LK_UTF8_OK) {
            char buf[4];
            if (lk_utf8_encode(cp, buf) != n || memcmp(buf, s + i, n) != 0) abort();
        }
        i += n;
    }
}

static void walk(const lk_json_obj *o, int depth) {
    if (depth > 8) return;
    for (const cJSON *c = o->node->child; c; c = c->next) {
        if (!c->string) continue;
        lk_error err;
        int64_t i;
        double d;
        bool b;
        const char *s;
        const cJSON *arr;
        lk_json_obj child;
        lk_json_get_int(o, c->string, INT64_MIN, INT64_MAX, &i, &err);
        lk_json_opt_int(o, c->string, 0, 100, 7, &i, &err);
        lk_json_get_number(o, c->string, &d, &err);
        lk_json_opt_bool(o, c->string, false, &b, &err);
        lk_json_opt_string(o, c->string, "", &s, &err);
        lk_json_opt_array(o, c->string, &arr, &err);
        if (lk_json_get_object(o, c->string, &child, &err) == LK_OK) walk(&child, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_utf8((const char *)data, size);
    cJSON *root;
    lk_error err;
    if (lk_json_parse((const char *)data, size, "fuzz.json", &root, &err) != LK_OK) return 0;
    lk_json_obj o;
    if (lk_json_root(root, "fuzz.json", &o, &err) == LK_OK) walk(&o, 0);
    cJSON_Delete(root);
    return 0;
}
