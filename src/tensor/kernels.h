/* Compute kernels: one table of function pointers per instruction set.
 *
 * Every kernel has a portable scalar twin in kernels_ref.c that is the
 * definition of what it computes; kernels_avx2.c and kernels_avx512.c hold
 * faster versions that tests/test_kernels.c holds to the scalar ones.
 * lk_kernels_best() picks the best table for this CPU once (LLMKIT_CPU_MAX caps it).
 *
 * Weights of any dtype plug into the matrix product through lk_dtype_kernels,
 * modelled on ggml's "vec_dot_type": a weight row of dtype W is multiplied
 * with an activation row stored as `act_dtype`. Float weights (F32, F16, BF16)
 * take F32 activations as they are; a quantized type will name its partner
 * activation format (Q8_0 for Q4_0, Q8_K for the K-quants) and the matrix
 * product converts x once per row with that type's from_f32 before the dots.
 * Adding a type means writing its four functions and one line in
 * lk_kernels_dtype().
 *
 * Leaves out: anything the forward pass does not need per token (loading,
 * conversion tools use the from_f32/to_f32 rows too, but not more). */
#ifndef LK_TENSOR_KERNELS_H
#define LK_TENSOR_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "llmkit.h"
#include "tensor/quant_pack.h"
#include "tensor/quant_tile.h"

/* dot(w_row[0..k), x_act[0..k)); w_row in the weight dtype, x_act in its act_dtype. */
typedef float (*lk_vec_dot_fn)(int64_t k, const void *w_row, const void *x_act);
/* row (k elements of the dtype) -> out[k] floats. */
typedef void (*lk_to_f32_fn)(int64_t k, const void *row, float *out);
/* x[k] floats -> out (k elements of the dtype: rounded or quantized). */
typedef void (*lk_from_f32_fn)(int64_t k, const float *x, void *out);

typedef struct {
    lk_dtype act_dtype;     /* how the activation row must be stored for vec_dot */
    lk_vec_dot_fn vec_dot;
    lk_to_f32_fn to_f32;
    lk_from_f32_fn from_f32;
    /* Quantized types: up to 4 rows x 4 tokens per call (quant_tile.h), or
     * NULL (one vec_dot per pair). */
    lk_vec_dot_tile_fn dot_tile;
    /* Q4_0 / Q5_0 / Q8_0 / Q4_K where this CPU has a kernel for it: the
     * product over a packed copy of the matrix (quant_pack.h,
     * lk_matrix.packed), else NULL. */
    lk_packed_matmul_fn packed_matmul;
} lk_dtype_kernels;

typedef struct {
    const char *isa; /* "scalar", "avx2", "avx512" */
    lk_dtype_kernels f32, f16, bf16;

    /* out[i] = dot(w[0..k), x + i*x_stride [0..k)) for i = 0..3: one weight
     * row against four activation rows, so each weight load feeds four FMAs
     * (the batched-prefill matrix product). */
    void (*dot_f32_x4)(int64_t k, const float *w, const float *x, int64_t x_stride, float out[4]);
    /* out[r*4 + i] = dot(w + r*w_stride, x + i*x_stride) for r, i = 0..3:
     * four weight rows against four activation rows, sixteen sums held in
     * registers, so each load feeds four FMAs. */
    void (*dot_f32_4x4)(int64_t k, const float *w, int64_t w_stride, const float *x,
                        int64_t x_stride, float out[16]);
    /* dot(w[0..k), x[0..k)) with both in F16: the decode matrix-vector
     * product for F16 weights, x rounded to F16 once per product (as
     * llama.cpp does). Half the activation bytes of an F32 x keep a long x
     * (ffn_down: 4864) in L1 beside the streamed weights. */
    lk_vec_dot_fn vec_dot_f16_f16;
    /* y[n] += a * x[n], x in F32 or F16 (value rows of the KV cache). */
    void (*axpy_f32)(int64_t n, float a, const float *x, float *y);
    void (*axpy_f16)(int64_t n, float a, const uint16_t *x, float *y);
    /* out[n] = x[n] / sqrt(mean(x^2) + eps) * w[n]  (w may be NULL: no scale).
     * out may equal x. */
    void (*rmsnorm)(int64_t n, const float *x, const float *w, float eps, float *out);
    /* y[n] += x[n] */
    void (*add)(int64_t n, const float *x, float *y);
    /* y[n] *= x[n] */
    void (*mul)(int64_t n, const float *x, float *y);
} lk_kernels;

/* The best table this CPU supports (detected once). */
const lk_kernels *lk_kernels_best(void);
/* Each table, for tests; NULL when the ISA is not compiled in or the CPU
 * lacks it. */
const lk_kernels *lk_kernels_ref(void);
const lk_kernels *lk_kernels_avx2(void);
const lk_kernels *lk_kernels_avx512(void);

/* The per-dtype kernels of a table; NULL when the dtype has none (yet). */
const lk_dtype_kernels *lk_kernels_dtype(const lk_kernels *k, lk_dtype t);

/* ---------------------------------------------------------------- scalar-only ops
 * These run once per token per layer on vectors of a few thousand floats;
 * they cost little next to the matrix products, so they have only the
 * portable version (the compiler vectorises what it can). */

/* LayerNorm: out = (x - mean) / sqrt(var + eps) * w + b  (w, b may be NULL). */
void lk_layernorm(int64_t n, const float *x, const float *w, const float *b, float eps,
                  float *out);
/* In place, numerically stable (subtracts the max). */
void lk_softmax(int64_t n, float *x);
/* x = x * sigmoid(x) */
void lk_silu(int64_t n, float *x);
/* exact GELU: 0.5 x (1 + erf(x / sqrt 2)) */
void lk_gelu(int64_t n, float *x);
/* tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
void lk_gelu_tanh(int64_t n, float *x);
/* x = cap * tanh(x / cap) (gemma2 soft-capping) */
void lk_softcap(int64_t n, float *x, float cap);
void lk_scale(int64_t n, float *x, float s);

/* Scalar twins of the table entries, callable directly (tests, the
 * reference path). */
float lk_vec_dot_f32_ref(int64_t k, const void *w, const void *x);
float lk_vec_dot_f16_ref(int64_t k, const void *w, const void *x);
float lk_vec_dot_bf16_ref(int64_t k, const void *w, const void *x);
float lk_vec_dot_f16_f16_ref(int64_t k, const void *w, const void *x);
void lk_dot_f32_4x4_ref(int64_t k, const float *w, int64_t w_stride, const float *x,
                        int64_t x_stride, float out[16]);
void lk_dot_f32_x4_ref(int64_t k, const float *w, const float *x, int64_t x_stride, float out[4]);
void lk_rmsnorm_ref(int64_t n, const float *x, const float *w, float eps, float *out);

#endif
