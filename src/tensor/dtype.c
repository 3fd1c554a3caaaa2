#include "tensor/dtype.h"

#include <ctype.h>

/* Block layouts are GGML's (see the quantization chapter in docs/formats.md). */
static const struct {
    lk_dtype t;
    lk_dtype_traits tr;
} k_traits[] = {
    {LK_DTYPE_F32, {"f32", 1, 4}},         {LK_DTYPE_F16, {"f16", 1, 2}},
    {LK_DTYPE_Q4_0, {"q4_0", 32, 18}},     {LK_DTYPE_Q4_1, {"q4_1", 32, 20}},
    {LK_DTYPE_Q5_0, {"q5_0", 32, 22}},     {LK_DTYPE_Q5_1, {"q5_1", 32, 24}},
    {LK_DTYPE_Q8_0, {"q8_0", 32, 34}},     {LK_DTYPE_Q8_1, {"q8_1", 32, 36}},
    {LK_DTYPE_Q2_K, {"q2_k", 256, 84}},    {LK_DTYPE_Q3_K, {"q3_k", 256, 110}},
    {LK_DTYPE_Q4_K, {"q4_k", 256, 144}},   {LK_DTYPE_Q5_K, {"q5_k", 256, 176}},
    {LK_DTYPE_Q6_K, {"q6_k", 256, 210}},   {LK_DTYPE_Q8_K, {"q8_k", 256, 292}},
    {LK_DTYPE_I8, {"i8", 1, 1}},           {LK_DTYPE_I16, {"i16", 1, 2}},
    {LK_DTYPE_I32, {"i32", 1, 4}},         {LK_DTYPE_I64, {"i64", 1, 8}},
    {LK_DTYPE_F64, {"f64", 1, 8}},         {LK_DTYPE_BF16, {"bf16", 1, 2}},
    {LK_DTYPE_U8, {"u8", 1, 1}},           {LK_DTYPE_U16, {"u16", 1, 2}},
    {LK_DTYPE_U32, {"u32", 1, 4}},         {LK_DTYPE_U64, {"u64", 1, 8}},
    {LK_DTYPE_BOOL, {"bool", 1, 1}},       {LK_DTYPE_F8_E4M3, {"f8_e4m3", 1, 1}},
    {LK_DTYPE_F8_E5M2, {"f8_e5m2", 1, 1}},
};

const lk_dtype_traits *lk_dtype_traits_of(lk_dtype t) {
    for (size_t i = 0; i < sizeof k_traits / sizeof k_traits[0]; i++)
        if (k_traits[i].t == t) return &k_traits[i].tr;
    return NULL;
}

bool lk_dtype_valid(lk_dtype t) { return lk_dtype_traits_of(t) != NULL; }

const char *lk_dtype_name(lk_dtype t) {
    const lk_dtype_traits *tr = lk_dtype_traits_of(t);
    return tr ? tr->name : NULL;
}

lk_dtype lk_dtype_from_name(const char *name) {
    char low[16];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof low) return LK_DTYPE_INVALID;
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; i < sizeof k_traits / sizeof k_traits[0]; i++)
        if (strcmp(k_traits[i].tr.name, low) == 0) return k_traits[i].t;
    return LK_DTYPE_INVALID;
}

bool lk_dtype_row_bytes(lk_dtype t, int64_t n, uint64_t *out) {
    const lk_dtype_traits *tr = lk_dtype_traits_of(t);
    if (!tr || n < 0 || n % tr->block_size != 0) return false;
    uint64_t blocks = (uint64_t)(n / tr->block_size);
    if (blocks > UINT64_MAX / (uint64_t)tr->type_size) return false;
    *out = blocks * (uint64_t)tr->type_size;
    return true;
}
