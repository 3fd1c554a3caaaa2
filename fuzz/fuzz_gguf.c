/* Fuzz target for the GGUF reader: parse the input as a GGUF file, then touch
 * every value (recursively) and every tensor byte range, as a model loader
 * would. Any crash, sanitizer report or leak is a bug; errors are expected. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format/gguf.h"

static volatile uint64_t sink;

static uint64_t walk_value(const lk_gguf_value *v) {
    uint64_t h = (uint64_t)v->type;
    switch (v->type) {
    case LK_GGUF_STRING:
        for (uint64_t i = 0; i < v->str.len; i++) h = h * 31 + (unsigned char)v->str.ptr[i];
        break;
    case LK_GGUF_ARRAY:
        if (v->arr.items) {
            for (uint64_t i = 0; i < v->arr.n; i++) h = h * 31 + walk_value(&v->arr.items[i]);
        } else if (v->arr.n) {
            /* Numeric arrays: first and last element bytes. */
            static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
            size_t es = sizes[v->arr.elem_type];
            const unsigned char *d = v->arr.data;
            h += d[0] + d[v->arr.n * es - 1];
        }
        break;
    default:
        h += v->u64;
        break;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lk_gguf *g;
    lk_error err;
    if (lk_gguf_open_memory(data, size, "fuzz.gguf", &g, &err) != LK_OK) return 0;
    uint64_t h = lk_gguf_version(g) + lk_gguf_alignment(g);
    for (size_t i = 0; i < lk_gguf_kv_count(g); i++) {
        const char *key = lk_gguf_kv_key(g, i);
        h += strlen(key) + walk_value(lk_gguf_kv_value(g, i));
        if (lk_gguf_get(g, key) != lk_gguf_kv_value(g, i)) __builtin_trap();
        uint32_t u32;
        int64_t i64;
        float f;
        bool b;
        lk_gguf_str s;
        const lk_gguf_value *items;
        const void *arr;
        uint64_t n;
        h += lk_gguf_get_u32(g, key, &u32) + lk_gguf_get_i64(g, key, &i64) +
             lk_gguf_get_f32(g, key, &f) + lk_gguf_get_bool(g, key, &b) +
             lk_gguf_get_str(g, key, &s) + lk_gguf_get_str_array(g, key, &items, &n) +
             lk_gguf_get_num_array(g, key, LK_GGUF_FLOAT32, &arr, &n);
    }
    for (size_t i = 0; i < lk_gguf_tensor_count(g); i++) {
        const lk_gguf_tensor *t = lk_gguf_tensor_at(g, i);
        if (lk_gguf_find_tensor(g, t->name) != t) __builtin_trap();
        const unsigned char *d = t->data;
        if (d < data || d + t->nbytes > data + size) __builtin_trap();
        h += d[0] + d[t->nbytes - 1] + (uint64_t)t->ne[0];
    }
    sink = h;
    lk_gguf_close(g);
    return 0;
}
