/* Dot products of quantized weight rows with quantized activations.
 *
 * The building block of a quantized matrix-vector product: quantize the
 * activation vector once (lk_vec_dot_act_type says to which type: Q8_0 for
 * the block-32 weights, Q8_K for the K-quants), then take one dot per weight
 * row. Each kernel has a scalar reference (the definition) and an AVX2 twin
 * (quant_dot_avx2.c) that agrees with it to float rounding (it sums in a
 * different order); lk_vec_dot_for picks one at run time.
 *
 * n: elements, a multiple of the weight type's block size. Activation quants
 * must lie in [-127, 127] (lk_quantize_row_q8_0/_q8_k guarantee it): the AVX2
 * sign trick cannot negate -128. */
#ifndef LK_TENSOR_QUANT_DOT_H
#define LK_TENSOR_QUANT_DOT_H

#include <stdint.h>

#include "llmkit.h"
#include "tensor/quant_blocks.h"

/* x: one row of n weights, y: the n activations in lk_vec_dot_act_type. */
typedef float (*lk_vec_dot_fn)(int64_t n, const void *x, const void *y);

/* The fastest kernel this CPU runs for weights of type t (Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0, Q2_K..Q6_K); NULL for other types. Honors LLMKIT_CPU_MAX.
 * Every type has an AVX2 twin and an AVX-512 VNNI one, preferred where the
 * CPU has it. */
lk_vec_dot_fn lk_vec_dot_for(lk_dtype t);
/* The scalar reference for t (NULL for other types). */
lk_vec_dot_fn lk_vec_dot_scalar_for(lk_dtype t);
/* The activation type the kernel for t expects: Q8_0 (Q4_0, Q5_0, Q8_0),
 * Q8_1 (Q4_1, Q5_1) or Q8_K (K-quants); LK_DTYPE_INVALID without a kernel. */
lk_dtype lk_vec_dot_act_type(lk_dtype t);

/* Bytes of scratch lk_quant_matvec needs for cols activations of weight
 * type t; 0 when t has no kernel or cols is not a multiple of its block. */
uint64_t lk_quant_matvec_scratch_bytes(lk_dtype t, int64_t cols);

/* y[r] = sum_c W[r][c] * x[c] for r < rows, single-threaded:
 *   w: [rows][cols] weights of type t, rows stored back to back;
 *   x: [cols] floats, quantized once into scratch (the size above);
 *   y: [rows] floats.
 * LK_ERR_UNSUPPORTED for a type without a kernel, LK_ERR_ARG when cols is
 * not a multiple of the block size. A caller splitting rows across threads
 * quantizes x once and calls the lk_vec_dot_for kernel per row itself. */
lk_status lk_quant_matvec(lk_dtype t, const void *w, int64_t rows, int64_t cols, const float *x,
                          float *y, void *scratch);

float lk_vec_dot_q4_0_q8_0(int64_t n, const void *x, const void *y);
float lk_vec_dot_q8_0_q8_0(int64_t n, const void *x, const void *y);
float lk_vec_dot_q4_k_q8_k(int64_t n, const void *x, const void *y);
float lk_vec_dot_q6_k_q8_k(int64_t n, const void *x, const void *y);

/* The scalar references. */
float lk_vec_dot_q4_0_q8_0_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q8_0_q8_0_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q4_k_q8_k_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q6_k_q8_k_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q4_1_q8_1_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_0_q8_0_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_1_q8_1_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q2_k_q8_k_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q3_k_q8_k_scalar(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_k_q8_k_scalar(int64_t n, const void *x, const void *y);

#if defined(__x86_64__)
/* AVX2+FMA+F16C kernels: call only when lk_cpu() reports all three. */
float lk_vec_dot_q4_0_q8_0_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q8_0_q8_0_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q4_k_q8_k_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q6_k_q8_k_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_0_q8_0_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_k_q8_k_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q4_1_q8_1_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_1_q8_1_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q2_k_q8_k_avx2(int64_t n, const void *x, const void *y);
float lk_vec_dot_q3_k_q8_k_avx2(int64_t n, const void *x, const void *y);
/* AVX-512 F/BW/VL/DQ + VNNI kernels: call only when lk_cpu() reports them. */
float lk_vec_dot_q4_0_q8_0_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q8_0_q8_0_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q4_k_q8_k_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q6_k_q8_k_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q4_1_q8_1_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_0_q8_0_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_1_q8_1_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q2_k_q8_k_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q3_k_q8_k_avx512(int64_t n, const void *x, const void *y);
float lk_vec_dot_q5_k_q8_k_avx512(int64_t n, const void *x, const void *y);
#endif

#endif
