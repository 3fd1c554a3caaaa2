/* GGUF reader and writer: real files from the fixtures parse and hold what we
 * know they hold; files we write read back value for value and byte for byte;
 * split models open through any shard; corrupted files fail cleanly. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mmap.h"
#include "format/gguf.h"
#include "tensor/dtype.h"
#include "test.h"

/* ---------------------------------------------------------------- helpers */

static bool str_eq(lk_gguf_str s, const char *c) {
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

/* Visits every value (recursively) and every tensor byte, as a consumer would. */
static uint64_t walk_value(const lk_gguf_value *v) {
    uint64_t h = v->type;
    if (v->type == LK_GGUF_STRING) {
        for (uint64_t i = 0; i < v->str.len; i++) h = h * 31 + (unsigned char)v->str.ptr[i];
    } else if (v->type == LK_GGUF_ARRAY) {
        if (v->arr.items)
            for (uint64_t i = 0; i < v->arr.n; i++) h = h * 31 + walk_value(&v->arr.items[i]);
    }
    return h;
}

static void walk_all(const lk_gguf *g) {
    uint64_t h = 0;
    for (size_t i = 0; i < lk_gguf_kv_count(g); i++) h += walk_value(lk_gguf_kv_value(g, i));
    for (size_t i = 0; i < lk_gguf_tensor_count(g); i++) {
        const lk_gguf_tensor *t = lk_gguf_tensor_at(g, i);
        const unsigned char *d = t->data;
        if (t->nbytes) h += d[0] + d[t->nbytes - 1];
        CHECK(lk_gguf_find_tensor(g, t->name) == t);
    }
    (void)h;
}

/* ---------------------------------------------------------------- writer round trip */

/* Deep equality of two values (numeric arrays compared byte for byte). */
static bool value_eq(const lk_gguf_value *a, const lk_gguf_value *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
    case LK_GGUF_UINT8: case LK_GGUF_UINT16: case LK_GGUF_UINT32: case LK_GGUF_UINT64:
        return a->u64 == b->u64;
    case LK_GGUF_INT8: case LK_GGUF_INT16: case LK_GGUF_INT32: case LK_GGUF_INT64:
        return a->i64 == b->i64;
    case LK_GGUF_FLOAT32: case LK_GGUF_FLOAT64:
        return memcmp(&a->f64, &b->f64, sizeof a->f64) == 0;
    case LK_GGUF_BOOL: return a->b == b->b;
    case LK_GGUF_STRING:
        return a->str.len == b->str.len && (a->str.len == 0 || memcmp(a->str.ptr, b->str.ptr, a->str.len) == 0);
    case LK_GGUF_ARRAY: {
        if (a->arr.elem_type != b->arr.elem_type || a->arr.n != b->arr.n) return false;
        if (a->arr.elem_type == LK_GGUF_STRING || a->arr.elem_type == LK_GGUF_ARRAY) {
            for (uint64_t i = 0; i < a->arr.n; i++)
                if (!value_eq(&a->arr.items[i], &b->arr.items[i])) return false;
            return true;
        }
        static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
        size_t n = (size_t)a->arr.n * sizes[a->arr.elem_type];
        return n == 0 || memcmp(a->arr.data, b->arr.data, n) == 0;
    }
    }
    return false;
}

static bool read_whole(const char *path, unsigned char **data, size_t *size) {
    lk_error err;
    char *buf;
    if (lk_read_file(path, (size_t)1 << 30, &buf, size, &err) != LK_OK) return false;
    *data = (unsigned char *)buf;
    return true;
}

static bool files_equal(const char *a, const char *b) {
    unsigned char *x, *y;
    size_t nx, ny;
    if (!read_whole(a, &x, &nx)) return false;
    if (!read_whole(b, &y, &ny)) {
        free(x);
        return false;
    }
    bool eq = nx == ny && memcmp(x, y, nx) == 0;
    if (!eq && nx == ny)
        for (size_t i = 0; i < nx; i++)
            if (x[i] != y[i]) {
                fprintf(stderr, "%s and %s differ first at byte %zu\n", a, b, i);
                break;
            }
    if (nx != ny) fprintf(stderr, "%s is %zu bytes, %s is %zu\n", a, nx, b, ny);
    free(x);
    free(y);
    return eq;
}

/* Copies every key and tensor of g into a new writer (the tensors' data stay in g). */
static lk_gguf_writer *writer_from(const lk_gguf *g, uint32_t version, uint32_t alignment) {
    lk_gguf_writer *w = lk_gguf_writer_new(version, alignment);
    if (!w) return NULL;
    lk_error err;
    for (size_t i = 0; i < lk_gguf_kv_count(g); i++)
        CHECK_EQ_INT(lk_gguf_writer_set_value(w, lk_gguf_kv_key(g, i), lk_gguf_kv_value(g, i)), LK_OK);
    for (size_t i = 0; i < lk_gguf_tensor_count(g); i++) {
        const lk_gguf_tensor *t = lk_gguf_tensor_at(g, i);
        CHECK_OK(lk_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data,
                                           t->nbytes, &err), &err);
    }
    return w;
}

static uint32_t rng_state = 12345;
static uint8_t rng_byte(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (uint8_t)(rng_state >> 16);
}

typedef struct {
    const char *name;
    lk_dtype type;
    uint32_t n_dims;
    int64_t ne[4];
} tensor_spec;

static const tensor_spec k_tensors[] = {
    {"token_embd.weight", LK_DTYPE_F32, 2, {5, 3, 1, 1}},
    {"blk.0.attn_norm.weight", LK_DTYPE_F16, 1, {7, 1, 1, 1}},
    {"blk.0.attn_q.weight", LK_DTYPE_Q8_0, 2, {64, 2, 1, 1}},
    {"blk.0.ffn_up.weight", LK_DTYPE_Q4_K, 2, {256, 3, 1, 1}},
    {"blk.0.ffn_down.weight", LK_DTYPE_Q6_K, 3, {256, 1, 2, 1}},
    {"blk.0.bf16", LK_DTYPE_BF16, 4, {3, 2, 2, 2}},
    {"blk.0.q4_0", LK_DTYPE_Q4_0, 1, {32, 1, 1, 1}},
    {"张量.中文", LK_DTYPE_I32, 1, {1, 1, 1, 1}},
};
#define N_TENSORS (sizeof k_tensors / sizeof k_tensors[0])

/* Builds a writer holding every value type and the tensors above; the tensor
 * bytes live in bufs[] (freed by the caller). */
static lk_gguf_writer *build_writer(uint32_t version, uint32_t alignment, uint8_t **bufs,
                                    uint64_t *sizes) {
    lk_gguf_writer *w = lk_gguf_writer_new(version, alignment);
    CHECK(w != NULL);
    if (!w) return NULL;
    lk_gguf_value v;
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "general.architecture", "llama"), LK_OK);
    v = (lk_gguf_value){.type = LK_GGUF_UINT8, .u64 = 200};
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "t.u8", &v), LK_OK);
    v = (lk_gguf_value){.type = LK_GGUF_INT8, .i64 = -100};
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "t.i8", &v), LK_OK);
    v = (lk_gguf_value){.type = LK_GGUF_UINT16, .u64 = 65535};
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "t.u16", &v), LK_OK);
    v = (lk_gguf_value){.type = LK_GGUF_INT16, .i64 = -32768};
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "t.i16", &v), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_u32(w, "t.u32", 4000000000u), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_i32(w, "t.i32", -2000000000), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_f32(w, "t.f32", 0.1f), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_bool(w, "t.bool", true), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_bool(w, "t.bool_false", false), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "t.str", "hello"), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "t.str_empty", ""), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "t.中文", "你好，世界！😀"), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_u64(w, "t.u64", UINT64_MAX), LK_OK);
    v = (lk_gguf_value){.type = LK_GGUF_INT64, .i64 = INT64_MIN};
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "t.i64", &v), LK_OK);
    v = (lk_gguf_value){.type = LK_GGUF_FLOAT64, .f64 = -1.0 / 3.0};
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "t.f64", &v), LK_OK);
    /* Replacing keeps the first position. */
    CHECK_EQ_INT(lk_gguf_writer_set_u32(w, "t.replaced", 1), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "t.replaced", "second"), LK_OK);

    /* Numeric arrays of every element type, one empty. */
    static const uint8_t u8s[] = {0, 1, 255};
    static const int8_t i8s[] = {-128, 0, 127};
    static const uint16_t u16s[] = {0, 65535};
    static const int16_t i16s[] = {-32768, 32767, -1};
    static const uint32_t u32s[] = {1, 2, 4000000000u};
    static const int32_t i32s[] = {-1, 0, 1, 2147483647};
    static const float f32s[] = {0.0f, -0.0f, 1.5f, -3.25e-7f, 65504.0f};
    static const uint8_t bools[] = {1, 0, 1};
    static const uint64_t u64s[] = {UINT64_MAX, 0};
    static const int64_t i64s[] = {INT64_MIN, INT64_MAX};
    static const double f64s[] = {3.141592653589793, -2.5e-300};
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.u8", LK_GGUF_UINT8, u8s, 3), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.i8", LK_GGUF_INT8, i8s, 3), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.u16", LK_GGUF_UINT16, u16s, 2), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.i16", LK_GGUF_INT16, i16s, 3), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.u32", LK_GGUF_UINT32, u32s, 3), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.i32", LK_GGUF_INT32, i32s, 4), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.f32", LK_GGUF_FLOAT32, f32s, 5), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.bool", LK_GGUF_BOOL, bools, 3), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.u64", LK_GGUF_UINT64, u64s, 2), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.i64", LK_GGUF_INT64, i64s, 2), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.f64", LK_GGUF_FLOAT64, f64s, 2), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "a.empty", LK_GGUF_FLOAT32, NULL, 0), LK_OK);
    static const char *strs[] = {"a", "", "中文", "<|im_start|>", "\xe2\x96\x81the"};
    CHECK_EQ_INT(lk_gguf_writer_set_str_array(w, "a.str", strs, 5), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_str_array(w, "a.str_empty", NULL, 0), LK_OK);

    /* Nested: [[1,2,3], ["x",""], [], [[true]]]. */
    lk_gguf_value inner_str[2] = {{.type = LK_GGUF_STRING, .str = {"x", 1}},
                                  {.type = LK_GGUF_STRING, .str = {"", 0}}};
    lk_gguf_value deepest = {.type = LK_GGUF_ARRAY};
    deepest.arr.elem_type = LK_GGUF_BOOL;
    deepest.arr.n = 1;
    deepest.arr.data = bools;
    lk_gguf_value items[4] = {{.type = LK_GGUF_ARRAY}, {.type = LK_GGUF_ARRAY},
                              {.type = LK_GGUF_ARRAY}, {.type = LK_GGUF_ARRAY}};
    items[0].arr.elem_type = LK_GGUF_UINT32;
    items[0].arr.n = 3;
    items[0].arr.data = u32s;
    items[1].arr.elem_type = LK_GGUF_STRING;
    items[1].arr.n = 2;
    items[1].arr.items = inner_str;
    items[2].arr.elem_type = LK_GGUF_INT64;
    items[3].arr.elem_type = LK_GGUF_ARRAY;
    items[3].arr.n = 1;
    items[3].arr.items = &deepest;
    v = (lk_gguf_value){.type = LK_GGUF_ARRAY};
    v.arr.elem_type = LK_GGUF_ARRAY;
    v.arr.n = 4;
    v.arr.items = items;
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "a.nested", &v), LK_OK);
    v.arr.n = 0;
    v.arr.items = NULL;
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "a.nested_empty", &v), LK_OK);

    lk_error err;
    for (size_t i = 0; i < N_TENSORS; i++) {
        const tensor_spec *t = &k_tensors[i];
        uint64_t n;
        CHECK(lk_dtype_row_bytes(t->type, t->ne[0], &n));
        n *= (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
        bufs[i] = malloc(n);
        sizes[i] = n;
        for (uint64_t k = 0; k < n; k++) bufs[i][k] = rng_byte();
        CHECK_OK(lk_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, bufs[i], n, &err),
                 &err);
    }
    return w;
}

static void check_read_back(const lk_gguf *g, uint32_t version, uint32_t alignment,
                            uint8_t **bufs, const uint64_t *sizes) {
    CHECK_EQ_INT(lk_gguf_version(g), version);
    CHECK_EQ_INT(lk_gguf_alignment(g), alignment ? alignment : 32);
    const lk_gguf_value *v;
    lk_gguf_str s;
    CHECK(lk_gguf_get_str(g, "general.architecture", &s) && str_eq(s, "llama"));
    CHECK((v = lk_gguf_get(g, "t.u8")) && v->type == LK_GGUF_UINT8 && v->u64 == 200);
    CHECK((v = lk_gguf_get(g, "t.i8")) && v->type == LK_GGUF_INT8 && v->i64 == -100);
    CHECK((v = lk_gguf_get(g, "t.u16")) && v->type == LK_GGUF_UINT16 && v->u64 == 65535);
    CHECK((v = lk_gguf_get(g, "t.i16")) && v->type == LK_GGUF_INT16 && v->i64 == -32768);
    CHECK((v = lk_gguf_get(g, "t.u32")) && v->type == LK_GGUF_UINT32 && v->u64 == 4000000000u);
    CHECK((v = lk_gguf_get(g, "t.i32")) && v->type == LK_GGUF_INT32 && v->i64 == -2000000000);
    CHECK((v = lk_gguf_get(g, "t.f32")) && v->type == LK_GGUF_FLOAT32 && v->f64 == (double)0.1f);
    CHECK((v = lk_gguf_get(g, "t.bool")) && v->type == LK_GGUF_BOOL && v->b);
    CHECK((v = lk_gguf_get(g, "t.bool_false")) && v->type == LK_GGUF_BOOL && !v->b);
    CHECK(lk_gguf_get_str(g, "t.str", &s) && str_eq(s, "hello"));
    CHECK(lk_gguf_get_str(g, "t.str_empty", &s) && s.len == 0);
    CHECK(lk_gguf_get_str(g, "t.中文", &s) && str_eq(s, "你好，世界！😀"));
    CHECK((v = lk_gguf_get(g, "t.u64")) && v->type == LK_GGUF_UINT64 && v->u64 == UINT64_MAX);
    CHECK((v = lk_gguf_get(g, "t.i64")) && v->type == LK_GGUF_INT64 && v->i64 == INT64_MIN);
    CHECK((v = lk_gguf_get(g, "t.f64")) && v->type == LK_GGUF_FLOAT64 && v->f64 == -1.0 / 3.0);
    CHECK(lk_gguf_get_str(g, "t.replaced", &s) && str_eq(s, "second"));
    CHECK_EQ_STR(lk_gguf_kv_key(g, 16), "t.replaced");

    /* Typed getters convert only exactly. */
    uint32_t u32;
    int64_t i64;
    float f;
    bool b;
    CHECK(lk_gguf_get_u32(g, "t.u8", &u32) && u32 == 200);
    CHECK(!lk_gguf_get_u32(g, "t.i8", &u32));
    CHECK(!lk_gguf_get_u32(g, "t.u64", &u32));
    CHECK(lk_gguf_get_i64(g, "t.i16", &i64) && i64 == -32768);
    CHECK(!lk_gguf_get_i64(g, "t.u64", &i64));
    CHECK(lk_gguf_get_f32(g, "t.f64", &f) && f == (float)(-1.0 / 3.0));
    CHECK(!lk_gguf_get_f32(g, "t.u32", &f));
    CHECK(lk_gguf_get_bool(g, "t.bool", &b) && b);
    CHECK(!lk_gguf_get_bool(g, "t.u8", &b));

    const void *data;
    uint64_t n;
    CHECK(lk_gguf_get_num_array(g, "a.f32", LK_GGUF_FLOAT32, &data, &n) && n == 5);
    if (n == 5) CHECK(((const float *)data)[3] == -3.25e-7f && ((const float *)data)[4] == 65504.0f);
    CHECK(lk_gguf_get_num_array(g, "a.i64", LK_GGUF_INT64, &data, &n) && n == 2);
    if (n == 2) CHECK(((const int64_t *)data)[0] == INT64_MIN);
    CHECK(lk_gguf_get_num_array(g, "a.f64", LK_GGUF_FLOAT64, &data, &n) && n == 2);
    if (n == 2) CHECK(((const double *)data)[1] == -2.5e-300);
    CHECK(lk_gguf_get_num_array(g, "a.bool", LK_GGUF_BOOL, &data, &n) && n == 3);
    CHECK(lk_gguf_get_num_array(g, "a.empty", LK_GGUF_FLOAT32, &data, &n) && n == 0);
    const lk_gguf_value *items;
    CHECK(lk_gguf_get_str_array(g, "a.str", &items, &n) && n == 5);
    if (n == 5) {
        CHECK(str_eq(items[1].str, "") && str_eq(items[2].str, "中文"));
        CHECK(str_eq(items[4].str, "\xe2\x96\x81the"));
    }
    CHECK(lk_gguf_get_str_array(g, "a.str_empty", &items, &n) && n == 0);
    v = lk_gguf_get(g, "a.nested");
    CHECK(v && v->type == LK_GGUF_ARRAY && v->arr.elem_type == LK_GGUF_ARRAY && v->arr.n == 4);
    if (v && v->arr.n == 4 && v->arr.items) {
        const lk_gguf_value *it = v->arr.items;
        CHECK(it[0].arr.elem_type == LK_GGUF_UINT32 && it[0].arr.n == 3 &&
              ((const uint32_t *)it[0].arr.data)[2] == 4000000000u);
        CHECK(it[1].arr.elem_type == LK_GGUF_STRING && it[1].arr.n == 2 &&
              str_eq(it[1].arr.items[0].str, "x") && it[1].arr.items[1].str.len == 0);
        CHECK(it[2].arr.elem_type == LK_GGUF_INT64 && it[2].arr.n == 0);
        CHECK(it[3].arr.elem_type == LK_GGUF_ARRAY && it[3].arr.n == 1 &&
              it[3].arr.items[0].arr.elem_type == LK_GGUF_BOOL &&
              ((const uint8_t *)it[3].arr.items[0].arr.data)[0] == 1);
    }
    v = lk_gguf_get(g, "a.nested_empty");
    CHECK(v && v->type == LK_GGUF_ARRAY && v->arr.elem_type == LK_GGUF_ARRAY && v->arr.n == 0);
    bool has_align = lk_gguf_get(g, "general.alignment") != NULL;
    CHECK_EQ_INT(has_align, alignment != 0 && alignment != 32);

    CHECK_EQ_INT(lk_gguf_tensor_count(g), N_TENSORS);
    for (size_t i = 0; i < N_TENSORS && i < lk_gguf_tensor_count(g); i++) {
        const tensor_spec *ts = &k_tensors[i];
        const lk_gguf_tensor *t = lk_gguf_tensor_at(g, i);
        CHECK_EQ_STR(t->name, ts->name);
        CHECK(lk_gguf_find_tensor(g, ts->name) == t);
        CHECK_EQ_INT(t->n_dims, ts->n_dims);
        for (int d = 0; d < 4; d++) CHECK_EQ_INT(t->ne[d], ts->ne[d]);
        CHECK(t->type == ts->type);
        CHECK_EQ_INT(t->nbytes, sizes[i]);
        CHECK(memcmp(t->data, bufs[i], sizes[i]) == 0);
        CHECK_EQ_INT(t->offset % lk_gguf_alignment(g), 0);
        CHECK_EQ_INT((uintptr_t)t->data % lk_gguf_alignment(g), 0);
    }
}

static void test_roundtrip(uint32_t version, uint32_t alignment) {
    char path1[512], path2[512];
    snprintf(path1, sizeof path1, "%s/rt-v%u-a%u.gguf", lk_test_tmpdir(), version, alignment);
    snprintf(path2, sizeof path2, "%s/rt-v%u-a%u-again.gguf", lk_test_tmpdir(), version, alignment);
    uint8_t *bufs[N_TENSORS] = {0};
    uint64_t sizes[N_TENSORS];
    lk_gguf_writer *w = build_writer(version, alignment, bufs, sizes);
    if (!w) return;
    lk_error err;
    CHECK_OK(lk_gguf_writer_write(w, path1, &err), &err);
    lk_gguf_writer_free(w);
    lk_gguf *g;
    CHECK_OK(lk_gguf_open(path1, &g, &err), &err);
    if (g) {
        check_read_back(g, version, alignment, bufs, sizes);
        /* Writing the read-back values again gives the same bytes. */
        w = writer_from(g, lk_gguf_version(g), lk_gguf_alignment(g));
        CHECK_OK(lk_gguf_writer_write(w, path2, &err), &err);
        lk_gguf_writer_free(w);
        CHECK_MSG(files_equal(path1, path2), "v%u alignment %u", version, alignment);
        lk_gguf *g2;
        CHECK_OK(lk_gguf_open(path2, &g2, &err), &err);
        if (g2) {
            CHECK_EQ_INT(lk_gguf_kv_count(g2), lk_gguf_kv_count(g));
            for (size_t i = 0; i < lk_gguf_kv_count(g) && i < lk_gguf_kv_count(g2); i++) {
                CHECK_EQ_STR(lk_gguf_kv_key(g2, i), lk_gguf_kv_key(g, i));
                CHECK_MSG(value_eq(lk_gguf_kv_value(g2, i), lk_gguf_kv_value(g, i)), "key %s",
                          lk_gguf_kv_key(g, i));
            }
            lk_gguf_close(g2);
        }
        lk_gguf_close(g);
    }
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path1);
    CHECK(access(tmp, F_OK) != 0);
    remove(path1);
    remove(path2);
    for (size_t i = 0; i < N_TENSORS; i++) free(bufs[i]);
}

/* ---------------------------------------------------------------- fixtures */

static void test_fixture_facts(void) {
    const char *path = lk_test_fixture("gguf/stories260K.gguf");
    if (!path) {
        printf("SKIP part: gguf/stories260K.gguf not in the fixtures\n");
        return;
    }
    lk_error err;
    lk_gguf *g;
    CHECK_OK(lk_gguf_open(path, &g, &err), &err);
    if (!g) return;
    CHECK_EQ_INT(lk_gguf_version(g), 3);
    CHECK_EQ_INT(lk_gguf_alignment(g), 32);
    CHECK_EQ_INT(lk_gguf_shard_count(g), 1);
    CHECK_EQ_INT(lk_gguf_tensor_count(g), 48);
    lk_gguf_str s;
    CHECK(lk_gguf_get_str(g, "general.architecture", &s) && str_eq(s, "llama"));
    uint32_t ctx = 0;
    CHECK(lk_gguf_get_u32(g, "llama.context_length", &ctx));
    CHECK_EQ_INT(ctx, 2048);
    int64_t ctx64 = 0;
    CHECK(lk_gguf_get_i64(g, "llama.context_length", &ctx64) && ctx64 == 2048);
    const lk_gguf_value *tokens;
    uint64_t n = 0;
    CHECK(lk_gguf_get_str_array(g, "tokenizer.ggml.tokens", &tokens, &n));
    CHECK_EQ_INT(n, 512);
    if (n == 512) CHECK(str_eq(tokens[0].str, "<unk>"));
    const void *scores;
    CHECK(lk_gguf_get_num_array(g, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, &scores, &n));
    CHECK_EQ_INT(n, 512);
    CHECK(((uintptr_t)scores % 4) == 0);
    CHECK(!lk_gguf_get_num_array(g, "tokenizer.ggml.scores", LK_GGUF_INT32, &scores, &n));
    float eps = 0;
    CHECK(lk_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps));
    CHECK_NEAR(eps, 1e-5, 1e-9);
    CHECK(lk_gguf_get(g, "no.such.key") == NULL);
    CHECK(!lk_gguf_get_u32(g, "general.architecture", &ctx)); /* a string is not a u32 */
    const lk_gguf_tensor *t = lk_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ_INT(t->n_dims, 2);
        CHECK_EQ_INT(t->ne[0], 64);
        CHECK_EQ_INT(t->ne[1], 512);
        CHECK_EQ_INT(t->ne[2], 1);
        CHECK(t->type == LK_DTYPE_F32);
        CHECK_EQ_INT(t->nbytes, 64 * 512 * 4);
        CHECK_EQ_INT(t->shard, 0);
    }
    CHECK(lk_gguf_find_tensor(g, "nope") == NULL);
    lk_gguf_close(g);
}

/* Every .gguf under the given fixture folders parses. */
static void test_all_fixtures(void) {
    static const char *dirs[] = {"gguf", "llamacpp-vocab"};
    const char *root = lk_test_fixtures();
    if (!root) {
        printf("SKIP part: fixtures folder not found\n");
        return;
    }
    int parsed = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", root, dirs[d]);
        DIR *dp = opendir(dir);
        if (!dp) continue;
        struct dirent *e;
        while ((e = readdir(dp))) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 5, ".gguf") != 0) continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            lk_error err;
            lk_gguf *g;
            CHECK_OK(lk_gguf_open(path, &g, &err), &err);
            if (!g) continue;
            lk_gguf_str arch;
            CHECK_MSG(lk_gguf_get_str(g, "general.architecture", &arch), "%s", path);
            walk_all(g);
            /* Files llama.cpp wrote come out byte-identical from our writer. */
            char out[512];
            snprintf(out, sizeof out, "%s/rewrite.gguf", lk_test_tmpdir());
            lk_gguf_writer *w = writer_from(g, lk_gguf_version(g), lk_gguf_alignment(g));
            CHECK_OK(lk_gguf_writer_write(w, out, &err), &err);
            lk_gguf_writer_free(w);
            CHECK_MSG(files_equal(path, out), "%s rewritten", path);
            remove(out);
            lk_gguf_close(g);
            parsed++;
        }
        closedir(dp);
    }
    printf("parsed %d fixture GGUF files\n", parsed);
    CHECK(parsed > 0);
}

/* ---------------------------------------------------------------- split models */

static void write_shard(const char *path, uint32_t no, uint32_t count, int32_t total,
                        size_t first, size_t n, uint8_t **bufs, const uint64_t *sizes,
                        bool metadata) {
    lk_gguf_writer *w = lk_gguf_writer_new(3, 0);
    lk_error err;
    if (metadata) {
        CHECK_EQ_INT(lk_gguf_writer_set_str(w, "general.architecture", "llama"), LK_OK);
        CHECK_EQ_INT(lk_gguf_writer_set_u32(w, "llama.context_length", 4096), LK_OK);
    }
    lk_gguf_value v = {.type = LK_GGUF_UINT16, .u64 = no};
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "split.no", &v), LK_OK);
    v.u64 = count;
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "split.count", &v), LK_OK);
    CHECK_EQ_INT(lk_gguf_writer_set_i32(w, "split.tensors.count", total), LK_OK);
    for (size_t i = first; i < first + n; i++) {
        const tensor_spec *t = &k_tensors[i];
        CHECK_OK(lk_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, bufs[i],
                                           sizes[i], &err), &err);
    }
    CHECK_OK(lk_gguf_writer_write(w, path, &err), &err);
    lk_gguf_writer_free(w);
}

static void test_split(void) {
    uint8_t *bufs[N_TENSORS];
    uint64_t sizes[N_TENSORS];
    lk_gguf_writer_free(build_writer(3, 0, bufs, sizes)); /* only for the tensor bytes */
    char prefix[512], paths[3][600];
    snprintf(prefix, sizeof prefix, "%s/模型", lk_test_tmpdir());
    for (uint32_t i = 0; i < 3; i++) CHECK(lk_gguf_split_path(paths[i], sizeof paths[i], prefix, i + 1, 3));
    CHECK(strstr(paths[1], "模型-00002-of-00003.gguf") != NULL);
    char tiny[8];
    CHECK(!lk_gguf_split_path(tiny, sizeof tiny, prefix, 1, 3));

    /* Shards hold tensors 0-2, 3-5, 6-7; metadata only in the first. */
    const size_t first[3] = {0, 3, 6}, count[3] = {3, 3, 2};
    for (uint32_t i = 0; i < 3; i++)
        write_shard(paths[i], i, 3, (int32_t)N_TENSORS, first[i], count[i], bufs, sizes, i == 0);
    lk_error err;
    for (int via = 0; via < 3; via++) {
        lk_gguf *g;
        CHECK_OK(lk_gguf_open(paths[via], &g, &err), &err);
        if (!g) continue;
        CHECK_EQ_INT(lk_gguf_shard_count(g), 3);
        CHECK_EQ_INT(lk_gguf_tensor_count(g), N_TENSORS);
        uint32_t ctx;
        CHECK(lk_gguf_get_u32(g, "llama.context_length", &ctx) && ctx == 4096);
        for (size_t i = 0; i < N_TENSORS && i < lk_gguf_tensor_count(g); i++) {
            const lk_gguf_tensor *t = lk_gguf_find_tensor(g, k_tensors[i].name);
            CHECK(t != NULL);
            if (!t) continue;
            CHECK_EQ_INT(t->shard, i < 3 ? 0 : i < 6 ? 1 : 2);
            CHECK(t->nbytes == sizes[i] && memcmp(t->data, bufs[i], sizes[i]) == 0);
        }
        lk_gguf_close(g);
    }

    /* A missing shard is named. */
    char moved[700];
    snprintf(moved, sizeof moved, "%s.away", paths[1]);
    CHECK(rename(paths[1], moved) == 0);
    lk_gguf *g = NULL;
    CHECK_EQ_INT(lk_gguf_open(paths[0], &g, &err), LK_ERR_NOT_FOUND);
    CHECK_MSG(strstr(err.msg, "模型-00002-of-00003.gguf") && strstr(err.msg, "missing"), "%s",
              err.msg);
    CHECK(g == NULL);
    CHECK(rename(moved, paths[1]) == 0);

    /* Keys that disagree with the names or the tensor count. */
    write_shard(paths[1], 5, 3, (int32_t)N_TENSORS, 3, 3, bufs, sizes, false);
    CHECK_EQ_INT(lk_gguf_open(paths[2], &g, &err), LK_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "00002-of-00003") && strstr(err.msg, "shard 5"), "%s", err.msg);
    write_shard(paths[1], 1, 3, (int32_t)N_TENSORS, 3, 3, bufs, sizes, false);
    write_shard(paths[0], 0, 3, 99, 0, 3, bufs, sizes, true);
    CHECK_EQ_INT(lk_gguf_open(paths[0], &g, &err), LK_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "split.tensors.count") && strstr(err.msg, "99"), "%s", err.msg);
    /* The same tensor in two shards. */
    write_shard(paths[0], 0, 3, (int32_t)N_TENSORS + 1, 0, 4, bufs, sizes, true);
    CHECK_EQ_INT(lk_gguf_open(paths[0], &g, &err), LK_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, k_tensors[3].name) && strstr(err.msg, "two shards"), "%s", err.msg);

    /* A shard renamed out of the pattern cannot find its siblings: say so. */
    char lone[600];
    snprintf(lone, sizeof lone, "%s/renamed.gguf", lk_test_tmpdir());
    write_shard(lone, 0, 3, (int32_t)N_TENSORS, 0, 3, bufs, sizes, true);
    CHECK_EQ_INT(lk_gguf_open(lone, &g, &err), LK_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "renamed.gguf") && strstr(err.msg, "00001-of-00003"), "%s", err.msg);
    /* A single-shard "split" is just a file. */
    char single[600];
    snprintf(single, sizeof single, "%s/one-00001-of-00001.gguf", lk_test_tmpdir());
    write_shard(single, 0, 1, (int32_t)N_TENSORS, 0, N_TENSORS, bufs, sizes, true);
    CHECK_OK(lk_gguf_open(single, &g, &err), &err);
    if (g) {
        CHECK_EQ_INT(lk_gguf_shard_count(g), 1);
        lk_gguf_close(g);
    }
    remove(lone);
    remove(single);
    for (int i = 0; i < 3; i++) remove(paths[i]);
    for (size_t i = 0; i < N_TENSORS; i++) free(bufs[i]);
}

/* ---------------------------------------------------------------- writer errors */

static void test_writer_errors(void) {
    CHECK(lk_gguf_writer_new(1, 0) == NULL);
    CHECK(lk_gguf_writer_new(3, 48) == NULL);
    lk_gguf_writer *w = lk_gguf_writer_new(3, 0);
    lk_error err;
    CHECK_EQ_INT(lk_gguf_writer_set_u32(w, "bad\xff", 1), LK_ERR_ARG);
    CHECK_EQ_INT(lk_gguf_writer_set_u32(w, "general.alignment", 48), LK_ERR_ARG);
    CHECK_EQ_INT(lk_gguf_writer_set_u64(w, "general.alignment", 64), LK_ERR_ARG);
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "k", NULL), LK_ERR_ARG);
    uint8_t two = 2;
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "b", LK_GGUF_BOOL, &two, 1), LK_ERR_ARG);
    CHECK_EQ_INT(lk_gguf_writer_set_num_array(w, "s", LK_GGUF_STRING, &two, 1), LK_ERR_ARG);
    lk_gguf_value bad_items = {.type = LK_GGUF_ARRAY};
    bad_items.arr.elem_type = LK_GGUF_STRING;
    bad_items.arr.n = 2;
    CHECK_EQ_INT(lk_gguf_writer_set_value(w, "x", &bad_items), LK_ERR_ARG);
    float data[64] = {0};
    int64_t ne[2] = {8, 2};
    CHECK_EQ_INT(lk_gguf_writer_add_tensor(w, "t", LK_DTYPE_F32, 2, ne, data, 63, &err), LK_ERR_ARG);
    CHECK(strstr(err.msg, "'t'") && strstr(err.msg, "64"));
    CHECK_OK(lk_gguf_writer_add_tensor(w, "t", LK_DTYPE_F32, 2, ne, data, 64, &err), &err);
    CHECK_EQ_INT(lk_gguf_writer_add_tensor(w, "t", LK_DTYPE_F32, 2, ne, data, 64, &err), LK_ERR_ARG);
    CHECK(strstr(err.msg, "twice") != NULL);
    CHECK_EQ_INT(lk_gguf_writer_add_tensor(w, "u", LK_DTYPE_U8, 2, ne, data, 16, &err), LK_ERR_ARG);
    CHECK_EQ_INT(lk_gguf_writer_add_tensor(w, "q", LK_DTYPE_Q4_0, 2, ne, data, 64, &err), LK_ERR_ARG);
    CHECK(strstr(err.msg, "block") != NULL);
    int64_t ne5[5] = {1, 1, 1, 1, 1};
    CHECK_EQ_INT(lk_gguf_writer_add_tensor(w, "five", LK_DTYPE_F32, 5, ne5, data, 4, &err), LK_ERR_ARG);
    CHECK_EQ_INT(lk_gguf_writer_add_tensor(w, "", LK_DTYPE_F32, 2, ne, data, 64, &err), LK_ERR_ARG);
    int64_t ne0[1] = {0};
    CHECK_EQ_INT(lk_gguf_writer_add_tensor(w, "zero", LK_DTYPE_F32, 1, ne0, data, 0, &err), LK_ERR_ARG);

    /* A folder that does not exist: a clear error, nothing left behind. */
    char path[600];
    snprintf(path, sizeof path, "%s/no/such/dir/x.gguf", lk_test_tmpdir());
    CHECK_EQ_INT(lk_gguf_writer_write(w, path, &err), LK_ERR_IO);
    CHECK_MSG(strstr(err.msg, "no/such/dir/x.gguf.tmp") != NULL, "%s", err.msg);
    lk_gguf_writer_free(w);

    /* The disk "fills up" mid-write (a file-size limit stands in for it). */
    size_t big = 1 << 20;
    uint8_t *bytes = calloc(1, big);
    w = lk_gguf_writer_new(3, 0);
    int64_t nebig[1] = {(int64_t)big};
    CHECK_OK(lk_gguf_writer_add_tensor(w, "big", LK_DTYPE_I8, 1, nebig, bytes, big, &err), &err);
    snprintf(path, sizeof path, "%s/full.gguf", lk_test_tmpdir());
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
        CHECK_EQ_INT(lk_gguf_writer_write(w, path, &err), LK_ERR_IO);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK_MSG(strstr(err.msg, "full.gguf.tmp") && strstr(err.msg, "write failed"), "%s", err.msg);
        char tmp[700];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        CHECK(access(tmp, F_OK) != 0);
        CHECK(access(path, F_OK) != 0);
    } else {
        printf("SKIP part: cannot lower RLIMIT_FSIZE\n");
    }
    signal(SIGXFSZ, prev);
    lk_gguf_writer_free(w);
    free(bytes);
}

/* ---------------------------------------------------------------- corrupted files */

/* A byte builder for hand-made files: independent of the writer, so the
 * reader is also checked against the spec's layout directly. */
typedef struct {
    uint8_t *p;
    size_t n, cap;
} bytes_buf;

static void put(bytes_buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void put32(bytes_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}
static void put64(bytes_buf *b, uint64_t v) {
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}
static void putstr(bytes_buf *b, const char *s, size_t len) {
    put64(b, len);
    put(b, s, len);
}

/* Knobs of a small file: two keys and two f32[8] tensors "a" and "b". */
typedef struct {
    const char *magic;
    uint32_t version;
    uint64_t n_kv_claim, n_tensors_claim; /* 0: the real count */
    uint64_t arch_len_claim;              /* 0: the real length */
    const char *key2;                     /* NULL: "llama.block_count" */
    size_t key2_len;
    uint32_t key2_type;   /* value type of key2 (default uint32 = 4) */
    bool key2_custom;     /* key2 value written by key2_value below */
    void (*key2_value)(bytes_buf *);
    bool alignment_key;
    uint32_t alignment_type;
    uint64_t alignment;
    const char *name_b;   /* NULL: "b" */
    uint32_t n_dims_a;    /* 0xffffffff: 1 */
    uint64_t ne_a[5];
    uint32_t type_a;
    uint64_t off_a, off_b;
    bool set_off_b;
    size_t truncate_to; /* 0: keep all */
} craft_opts;

static craft_opts craft_defaults(void) {
    craft_opts o = {0};
    o.magic = "GGUF";
    o.version = 3;
    o.key2_type = LK_GGUF_UINT32;
    o.n_dims_a = 1;
    o.ne_a[0] = 8;
    o.type_a = LK_DTYPE_F32;
    return o;
}

static bytes_buf craft(const craft_opts *o) {
    bytes_buf b = {0};
    put(&b, o->magic, 4);
    put32(&b, o->version);
    put64(&b, o->n_tensors_claim ? o->n_tensors_claim : 2);
    put64(&b, o->n_kv_claim ? o->n_kv_claim : 2 + (o->alignment_key ? 1 : 0));
    putstr(&b, "general.architecture", 20);
    put32(&b, LK_GGUF_STRING);
    put64(&b, o->arch_len_claim ? o->arch_len_claim : 5);
    put(&b, "llama", 5);
    if (o->key2) putstr(&b, o->key2, o->key2_len);
    else putstr(&b, "llama.block_count", 17);
    put32(&b, o->key2_type);
    if (o->key2_custom) o->key2_value(&b);
    else put32(&b, 1);
    uint32_t align = 32;
    if (o->alignment_key) {
        putstr(&b, "general.alignment", 17);
        put32(&b, o->alignment_type);
        if (o->alignment_type == LK_GGUF_UINT64) put64(&b, o->alignment);
        else put32(&b, (uint32_t)o->alignment);
        if (o->alignment && (o->alignment & (o->alignment - 1)) == 0) align = (uint32_t)o->alignment;
    }
    putstr(&b, "a", 1);
    put32(&b, o->n_dims_a);
    for (uint32_t d = 0; d < o->n_dims_a && d < 5; d++) put64(&b, o->ne_a[d]);
    put32(&b, o->type_a);
    put64(&b, o->off_a);
    putstr(&b, o->name_b ? o->name_b : "b", 1);
    put32(&b, 1);
    put64(&b, 8);
    put32(&b, LK_DTYPE_F32);
    put64(&b, o->set_off_b ? o->off_b : (32 > align ? 32 : align));
    while (b.n % align) put(&b, "", 1);
    for (int i = 0; i < 2 * (int)(32 > align ? 32 : align); i++) put(&b, "\x01", 1);
    if (o->truncate_to && o->truncate_to < b.n) b.n = o->truncate_to;
    return b;
}

/* Opens a copy of exactly n bytes (so ASan sees any read past the end). */
static lk_status open_exact(const void *data, size_t n, lk_error *err) {
    void *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, data, n);
    lk_gguf *g = NULL;
    lk_status st = lk_gguf_open_memory(copy, n, "crafted.gguf", &g, err);
    if (st == LK_OK) {
        walk_all(g);
        lk_gguf_close(g);
    } else {
        CHECK(g == NULL);
    }
    free(copy);
    return st;
}

static void expect_bad(const craft_opts *o, lk_status code, const char *needle, int line) {
    bytes_buf b = craft(o);
    lk_error err = {0};
    lk_status st = open_exact(b.p, b.n, &err);
    if (getenv("LK_TEST_SHOW_ERRORS")) printf("  %s\n", err.msg);
    lk_test_checks++;
    if (st != code || !strstr(err.msg, "crafted.gguf") || !strstr(err.msg, needle)) {
        lk_test_failures++;
        fprintf(stderr, "%s:%d: expected %s with \"%s\", got %s: %s\n", __FILE__, line,
                lk_status_name(code), needle, lk_status_name(st), err.msg);
    }
    free(b.p);
}
#define EXPECT_BAD(o, needle) expect_bad(&(o), LK_ERR_FORMAT, needle, __LINE__)

static void string_array_huge(bytes_buf *b) {
    put32(b, LK_GGUF_STRING);
    put64(b, (uint64_t)1 << 60);
}
static void u32_array_huge(bytes_buf *b) {
    put32(b, LK_GGUF_UINT32);
    put64(b, (uint64_t)1 << 62);
}
static void string_huge(bytes_buf *b) { put64(b, UINT64_MAX); }
static void bool_two(bytes_buf *b) { put(b, "\x02", 1); }
static void bool_array_bad(bytes_buf *b) {
    put32(b, LK_GGUF_BOOL);
    put64(b, 3);
    put(b, "\x01\x00\x07", 3);
}
static void deep_array(bytes_buf *b) {
    for (int i = 0; i < 40; i++) {
        put32(b, LK_GGUF_ARRAY);
        put64(b, 1);
    }
    put32(b, LK_GGUF_UINT8);
    put64(b, 0);
}
static void bad_elem_type(bytes_buf *b) {
    put32(b, 77);
    put64(b, 1);
}

static void test_corrupted(void) {
    craft_opts o = craft_defaults();
    bytes_buf good = craft(&o);
    lk_error err;
    CHECK_OK(open_exact(good.p, good.n, &err), &err);

    /* Truncated anywhere before the end of the last tensor: an error, never a crash. */
    int bad = 0;
    for (size_t n = 0; n < good.n; n++)
        if (open_exact(good.p, n, &err) != LK_ERR_FORMAT || !strstr(err.msg, "crafted.gguf")) bad++;
    CHECK_EQ_INT(bad, 0);
    free(good.p);

    o = craft_defaults(); o.magic = "GGML"; EXPECT_BAD(o, "not a GGUF file");
    o = craft_defaults(); o.version = 1; EXPECT_BAD(o, "version 1 is not supported");
    o = craft_defaults(); o.version = 99; EXPECT_BAD(o, "unsupported GGUF version 99");
    o = craft_defaults(); o.version = 0x03000000; EXPECT_BAD(o, "big-endian");
    o = craft_defaults(); o.n_kv_claim = (uint64_t)1 << 40; EXPECT_BAD(o, "metadata keys");
    o = craft_defaults(); o.n_kv_claim = UINT64_MAX; EXPECT_BAD(o, "corrupt count");
    o = craft_defaults(); o.n_tensors_claim = (uint64_t)1 << 50; EXPECT_BAD(o, "tensors");
    o = craft_defaults(); o.n_tensors_claim = 3; EXPECT_BAD(o, "tensor");
    o = craft_defaults(); o.n_kv_claim = 3; EXPECT_BAD(o, "byte");
    o = craft_defaults(); o.arch_len_claim = (uint64_t)1 << 40; EXPECT_BAD(o, "general.architecture");
    o = craft_defaults(); o.arch_len_claim = UINT64_MAX; EXPECT_BAD(o, "length");
    o = craft_defaults(); o.key2_custom = true; o.key2_type = LK_GGUF_STRING; o.key2_value = string_huge;
    EXPECT_BAD(o, "llama.block_count");
    o = craft_defaults(); o.key2 = "k\xff"; o.key2_len = 2; EXPECT_BAD(o, "UTF-8");
    o = craft_defaults(); o.key2 = "\xc0\xaf"; o.key2_len = 2; EXPECT_BAD(o, "UTF-8");
    o = craft_defaults(); o.key2 = "\xed\xa0\x80"; o.key2_len = 3; EXPECT_BAD(o, "UTF-8");
    o = craft_defaults(); o.key2 = "\xf4\x90\x80\x80"; o.key2_len = 4; EXPECT_BAD(o, "UTF-8");
    o = craft_defaults(); o.key2 = "\xe4\xb8"; o.key2_len = 2; EXPECT_BAD(o, "UTF-8");
    o = craft_defaults(); o.key2 = "a\0b"; o.key2_len = 3; EXPECT_BAD(o, "NUL");
    o = craft_defaults(); o.key2 = "general.architecture"; o.key2_len = 20;
    EXPECT_BAD(o, "duplicate key");
    o = craft_defaults(); o.key2_type = 13; EXPECT_BAD(o, "value type");
    o = craft_defaults(); o.key2_type = LK_GGUF_BOOL; o.key2_custom = true; o.key2_value = bool_two;
    EXPECT_BAD(o, "not 0 or 1");
    o = craft_defaults(); o.key2_type = LK_GGUF_ARRAY; o.key2_custom = true; o.key2_value = bool_array_bad;
    EXPECT_BAD(o, "not 0 or 1");
    o = craft_defaults(); o.key2_type = LK_GGUF_ARRAY; o.key2_custom = true; o.key2_value = string_array_huge;
    EXPECT_BAD(o, "llama.block_count");
    o = craft_defaults(); o.key2_type = LK_GGUF_ARRAY; o.key2_custom = true; o.key2_value = u32_array_huge;
    EXPECT_BAD(o, "array of");
    o = craft_defaults(); o.key2_type = LK_GGUF_ARRAY; o.key2_custom = true; o.key2_value = deep_array;
    EXPECT_BAD(o, "nested");
    o = craft_defaults(); o.key2_type = LK_GGUF_ARRAY; o.key2_custom = true; o.key2_value = bad_elem_type;
    EXPECT_BAD(o, "element type");
    o = craft_defaults(); o.alignment_key = true; o.alignment_type = LK_GGUF_UINT32; o.alignment = 48;
    EXPECT_BAD(o, "power of two");
    o.alignment = 0; EXPECT_BAD(o, "power of two");
    o.alignment_type = LK_GGUF_UINT64; o.alignment = 64; EXPECT_BAD(o, "uint32");
    o = craft_defaults(); o.alignment_key = true; o.alignment_type = LK_GGUF_UINT32; o.alignment = 64;
    {
        bytes_buf b = craft(&o);
        CHECK_OK(open_exact(b.p, b.n, &err), &err);
        free(b.p);
    }
    o = craft_defaults(); o.set_off_b = true; o.off_b = 4096; EXPECT_BAD(o, "past the end");
    o = craft_defaults(); o.set_off_b = true; o.off_b = UINT64_MAX - 31; EXPECT_BAD(o, "past the end");
    o = craft_defaults(); o.set_off_b = true; o.off_b = 16; EXPECT_BAD(o, "multiple of the alignment");
    o = craft_defaults(); o.set_off_b = true; o.off_b = 0; EXPECT_BAD(o, "overlap");
    o = craft_defaults(); o.name_b = "a"; EXPECT_BAD(o, "duplicate tensor");
    o = craft_defaults(); o.name_b = "\xff"; EXPECT_BAD(o, "UTF-8");
    o = craft_defaults(); o.type_a = 4; EXPECT_BAD(o, "unknown GGML type id 4");
    o = craft_defaults(); o.type_a = 200; EXPECT_BAD(o, "unknown GGML type id 200");
    o = craft_defaults(); o.type_a = LK_DTYPE_U8; EXPECT_BAD(o, "unknown GGML type");
    o = craft_defaults(); o.type_a = 16; expect_bad(&o, LK_ERR_UNSUPPORTED, "iq2_xxs", __LINE__);
    o = craft_defaults(); o.n_dims_a = 5; o.ne_a[1] = o.ne_a[2] = o.ne_a[3] = o.ne_a[4] = 1;
    EXPECT_BAD(o, "5 dimensions");
    o = craft_defaults(); o.ne_a[0] = 0; EXPECT_BAD(o, "at least 1");
    o = craft_defaults(); o.ne_a[0] = (uint64_t)-8; EXPECT_BAD(o, "at least 1");
    o = craft_defaults(); o.n_dims_a = 2; o.ne_a[0] = (uint64_t)1 << 40; o.ne_a[1] = (uint64_t)1 << 40;
    EXPECT_BAD(o, "overflows");
    o = craft_defaults(); o.n_dims_a = 4; o.ne_a[0] = 32; o.ne_a[1] = o.ne_a[2] = o.ne_a[3] = (uint64_t)1 << 16;
    o.type_a = LK_DTYPE_Q8_0; EXPECT_BAD(o, "past the end"); /* huge, but no overflow */
    o = craft_defaults(); o.type_a = LK_DTYPE_Q4_0; o.ne_a[0] = 33; EXPECT_BAD(o, "block size");
    o = craft_defaults(); o.truncate_to = 200; EXPECT_BAD(o, "");
    /* A file cut right after its tensor infos. */
    {
        o = craft_defaults();
        bytes_buf b = craft(&o);
        size_t infos_end = b.n - 64;
        while (infos_end > 0 && b.p[infos_end - 1] == 0) infos_end--;
        CHECK_EQ_INT(open_exact(b.p, infos_end, &err), LK_ERR_FORMAT);
        CHECK_MSG(strstr(err.msg, "truncated") != NULL, "%s", err.msg);
        free(b.p);
    }
    CHECK_EQ_INT(open_exact("", 0, &err), LK_ERR_FORMAT);
    CHECK_EQ_INT(open_exact("GGU", 3, &err), LK_ERR_FORMAT);

    /* Through a real path, the message names the path. */
    char path[600];
    snprintf(path, sizeof path, "%s/bad-version.gguf", lk_test_tmpdir());
    o = craft_defaults();
    o.version = 1;
    bytes_buf b = craft(&o);
    FILE *f = fopen(path, "wb");
    fwrite(b.p, 1, b.n, f);
    fclose(f);
    free(b.p);
    lk_gguf *g;
    CHECK_EQ_INT(lk_gguf_open(path, &g, &err), LK_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, path) && strstr(err.msg, "version 1"), "%s", err.msg);
    remove(path);
    CHECK_EQ_INT(lk_gguf_open("/nonexistent/x.gguf", &g, &err), LK_ERR_NOT_FOUND);
    CHECK_EQ_INT(lk_gguf_open("/nonexistent/m-00002-of-00003.gguf", &g, &err), LK_ERR_NOT_FOUND);
    CHECK_MSG(strstr(err.msg, "m-00001-of-00003.gguf") && strstr(err.msg, "missing"), "%s", err.msg);
}

/* A real file truncated at many offsets: metadata, tensor infos and data. */
static void test_truncated_fixture(void) {
    const char *path = lk_test_fixture("gguf/stories260K.gguf");
    if (!path) {
        printf("SKIP part: gguf/stories260K.gguf not in the fixtures\n");
        return;
    }
    unsigned char *data;
    size_t size;
    if (!read_whole(path, &data, &size)) return;
    lk_error err;
    lk_gguf *g;
    CHECK_OK(lk_gguf_open_memory(data, size, "stories260K.gguf", &g, &err), &err);
    size_t end = 0; /* end of the last tensor's bytes */
    for (size_t i = 0; g && i < lk_gguf_tensor_count(g); i++) {
        const lk_gguf_tensor *t = lk_gguf_tensor_at(g, i);
        size_t e = (size_t)((const unsigned char *)t->data - data) + t->nbytes;
        if (e > end) end = e;
    }
    lk_gguf_close(g);
    int bad = 0, tried = 0;
    for (size_t n = 0; n < end; n += n < 20000 ? 7 : 4099) {
        tried++;
        if (open_exact(data, n, &err) != LK_ERR_FORMAT || !strstr(err.msg, "crafted.gguf")) {
            if (bad++ < 5) fprintf(stderr, "truncated to %zu: %s\n", n, err.msg);
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* Flipped bytes in the metadata: any outcome but a crash (ASan watches). */
    unsigned char *copy = malloc(size);
    for (size_t i = 0; i < 4000; i++) {
        memcpy(copy, data, size);
        size_t at = (i * 2654435761u) % 12000;
        copy[at] ^= (unsigned char)(1u << (i % 8));
        if (lk_gguf_open_memory(copy, size, "flipped.gguf", &g, &err) == LK_OK) {
            walk_all(g);
            lk_gguf_close(g);
        }
    }
    free(copy);
    printf("truncated stories260K.gguf at %d offsets\n", tried);
    free(data);
}

int main(void) {
    test_fixture_facts();
    test_all_fixtures();
    test_roundtrip(3, 0);
    test_roundtrip(2, 0);
    test_roundtrip(3, 64);
    test_roundtrip(2, 4096);
    test_roundtrip(3, 1);
    test_split();
    test_writer_errors();
    test_corrupted();
    test_truncated_fixture();
    return lk_test_finish("test_gguf");
}
