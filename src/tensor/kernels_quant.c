/* Quantized weight types in the kernel table: the quantization module's
 * dot products (quant_dot.h) and row (de)quantizers (quant.h) wrapped as
 * lk_dtype_kernels, so the matrix product handles them like any dtype:
 * activations quantized once per row to the type's partner (Q8_0, Q8_1,
 * Q8_K), then one dot per weight row. The scalar table gets the scalar
 * dots; the SIMD tables get the quant module's own best choice (it
 * dispatches by CPU, honouring LLMKIT_CPU_MAX, and tests its twins). */
#include <pthread.h>

#include "tensor/kernels.h"
#include "tensor/kernels_isa.h"
#include "tensor/quant.h"
#include "tensor/quant_act.h"
#include "tensor/quant_dot.h"
#include "tensor/quant_tile.h"

#define QUANT_TYPES(X) X(Q4_0) X(Q4_1) X(Q5_0) X(Q5_1) X(Q8_0) X(Q8_1) \
    X(Q2_K) X(Q3_K) X(Q4_K) X(Q5_K) X(Q6_K) X(Q8_K)

/* One to_f32 / from_f32 pair per type: the table's signatures carry no type. */
#define WRAP(T)                                                                     \
    static void T##_to_f32(int64_t k, const void *row, float *out) {                \
        lk_dequantize_row(LK_DTYPE_##T, row, out, k);                               \
    }                                                                               \
    static void T##_from_f32(int64_t k, const float *x, void *out) {                \
        lk_quantize_row(LK_DTYPE_##T, x, out, k);                                   \
    }
QUANT_TYPES(WRAP)
#undef WRAP

/* The SIMD tables quantize activations with the fast quantizers where there
 * are any (same bytes as the scalar ones, quant_act.h). */
static void Q8_0_from_f32_fast(int64_t k, const float *x, void *out) {
    lk_quantize_act_for(LK_DTYPE_Q8_0)(x, out, k);
}
static void Q8_K_from_f32_fast(int64_t k, const float *x, void *out) {
    lk_quantize_act_for(LK_DTYPE_Q8_K)(x, out, k);
}

enum {
#define ENUM(T) QI_##T,
    QUANT_TYPES(ENUM)
#undef ENUM
    N_QUANT
};

static lk_dtype_kernels g_quant[2][N_QUANT]; /* [0]: scalar dots, [1]: best dots */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build(void) {
    for (int simd = 0; simd < 2; simd++) {
#define FILL(T)                                                                     \
    g_quant[simd][QI_##T] = (lk_dtype_kernels){                                     \
        lk_vec_dot_act_type(LK_DTYPE_##T),                                          \
        simd ? lk_vec_dot_for(LK_DTYPE_##T) : lk_vec_dot_scalar_for(LK_DTYPE_##T),  \
        T##_to_f32, T##_from_f32, simd ? lk_vec_dot_tile_for(LK_DTYPE_##T) : NULL,    \
        simd ? lk_packed_matmul_for(LK_DTYPE_##T) : NULL};
        QUANT_TYPES(FILL)
#undef FILL
    }
    if (lk_quantize_act_for(LK_DTYPE_Q8_0)) g_quant[1][QI_Q8_0].from_f32 = Q8_0_from_f32_fast;
    if (lk_quantize_act_for(LK_DTYPE_Q8_K)) g_quant[1][QI_Q8_K].from_f32 = Q8_K_from_f32_fast;
}

const lk_dtype_kernels *lk_kernels_quant(const lk_kernels *k, lk_dtype t) {
    int simd = k != lk_kernels_ref();
    pthread_once(&g_once, build);
    switch (t) {
#define CASE(T) case LK_DTYPE_##T: return &g_quant[simd][QI_##T];
        QUANT_TYPES(CASE)
#undef CASE
    default: return NULL;
    }
}
