/* Dot products of quantized weight rows with Q8_0-quantized activations.
 *
 * The building block of a quantized matrix-vector product: quantize the
 * activation vector once with lk_quantize_row_q8_0, then take one dot per
 * weight row. Each kernel has a scalar reference (the definition) and an
 * AVX2 twin (quant_dot_avx2.c) that agrees with it to float rounding (it sums
 * in a different order); lk_vec_dot picks one at run time.
 *
 * n: elements, a multiple of 32. Activation quants must lie in [-127, 127]
 * (lk_quantize_row_q8_0 guarantees it): the AVX2 sign trick cannot negate -128. */
#ifndef LK_TENSOR_QUANT_DOT_H
#define LK_TENSOR_QUANT_DOT_H

#include <stdint.h>

#include "llmkit.h"
#include "tensor/quant_blocks.h"

/* x: n/32 weight blocks of the given type, y: n/32 Q8_0 blocks. */
typedef float (*lk_vec_dot_fn)(int64_t n, const void *x, const lk_block_q8_0 *y);

/* The fastest kernel this CPU runs for weights of type t (Q4_0 or Q8_0);
 * NULL for other types. Honors LLMKIT_CPU_MAX. */
lk_vec_dot_fn lk_vec_dot_for(lk_dtype t);

float lk_vec_dot_q4_0_q8_0(int64_t n, const void *x, const lk_block_q8_0 *y);
float lk_vec_dot_q8_0_q8_0(int64_t n, const void *x, const lk_block_q8_0 *y);

/* The scalar references. */
float lk_vec_dot_q4_0_q8_0_scalar(int64_t n, const void *x, const lk_block_q8_0 *y);
float lk_vec_dot_q8_0_q8_0_scalar(int64_t n, const void *x, const lk_block_q8_0 *y);

#if defined(__x86_64__)
/* AVX2+FMA+F16C kernels: call only when lk_cpu() reports all three. */
float lk_vec_dot_q4_0_q8_0_avx2(int64_t n, const void *x, const lk_block_q8_0 *y);
float lk_vec_dot_q8_0_q8_0_avx2(int64_t n, const void *x, const lk_block_q8_0 *y);
#endif

#endif
