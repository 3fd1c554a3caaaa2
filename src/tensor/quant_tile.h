/* Tiles of quantized dot products: a few weight rows against a few
 * activation rows in one call.
 *
 * One vec_dot per (row, token) pair reloads and re-decodes each weight block
 * for every token and pays a call, a float reduction and the scale
 * conversions per pair. A tile decodes each weight block once for up to four
 * tokens, shares each token's per-block work (offset corrections, scales,
 * block sums) across up to four rows, and keeps the 16 sums in registers:
 * decode (one token) runs 4 rows x 1, prefill 4 rows x 4.
 *
 * The tile computes exactly what lk_vec_dot_scalar_for(t) computes for each
 * pair, up to float rounding (it sums in another order);
 * tests/test_quant_tile.c holds every tile kernel to the scalar dots. */
#ifndef LK_TENSOR_QUANT_TILE_H
#define LK_TENSOR_QUANT_TILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

/* out[t * out_stride + r] = dot(n, w + r * w_stride, a + t * a_stride)
 * for r < nr, t < nt, with nr and nt in 1..4; w rows in the weight type,
 * a rows in its lk_vec_dot_act_type, n a multiple of the block size. */
typedef void (*lk_vec_dot_tile_fn)(int64_t n, const void *w, size_t w_stride, int nr,
                                   const void *a, size_t a_stride, int nt, float *out,
                                   size_t out_stride);

/* The tile kernel this CPU runs for weights of type t, or NULL when t has
 * none here (the caller then takes one lk_vec_dot_for dot per pair).
 * Honors LLMKIT_CPU_MAX like lk_vec_dot_for. */
lk_vec_dot_tile_fn lk_vec_dot_tile_for(lk_dtype t);

/* Rewrites a row of n weights of type t (Q4_0 or Q5_0) as Q8_0 blocks,
 * exactly: same fp16 scale, quants q - 8 (q - 16). A prompt's matrix product
 * does this once per block of rows and then runs the Q8_0 tile over all its
 * tokens, instead of unpacking the nibbles again for every four tokens.
 * False for other types. */
bool lk_quant_row_as_q8_0(lk_dtype t, const void *src, void *dst, int64_t n);

#if defined(__x86_64__)
/* AVX-512 F/BW/VL/DQ + VNNI: call only when lk_cpu() reports them. */
void lk_vec_dot_tile_q4_0_avx512(int64_t n, const void *w, size_t w_stride, int nr, const void *a,
                                 size_t a_stride, int nt, float *out, size_t out_stride);
void lk_vec_dot_tile_q8_0_avx512(int64_t n, const void *w, size_t w_stride, int nr, const void *a,
                                 size_t a_stride, int nt, float *out, size_t out_stride);
void lk_vec_dot_tile_q5_0_avx512(int64_t n, const void *w, size_t w_stride, int nr, const void *a,
                                 size_t a_stride, int nt, float *out, size_t out_stride);
void lk_vec_dot_tile_q4_k_avx512(int64_t n, const void *w, size_t w_stride, int nr, const void *a,
                                 size_t a_stride, int nt, float *out, size_t out_stride);
void lk_vec_dot_tile_q5_k_avx512(int64_t n, const void *w, size_t w_stride, int nr, const void *a,
                                 size_t a_stride, int nt, float *out, size_t out_stride);
void lk_vec_dot_tile_q6_k_avx512(int64_t n, const void *w, size_t w_stride, int nr, const void *a,
                                 size_t a_stride, int nt, float *out, size_t out_stride);
#endif

#endif
