/* Fast activation quantizers: Q8_0 and Q8_K rows, as the matrix product
 * quantizes every token's activations before the integer dots.
 *
 * Each produces exactly the bytes of lk_quantize_row_q8_0 / _q8_k (the
 * definition, in quant_legacy.c / quant_k.c): same scale arithmetic, same
 * rounding (half away from zero for Q8_0, half to even for Q8_K), same
 * clamping; a block holding a NaN or infinity goes through the scalar code.
 * tests/test_quant_tile.c compares the bytes. */
#ifndef LK_TENSOR_QUANT_ACT_H
#define LK_TENSOR_QUANT_ACT_H

#include <stdint.h>

#include "llmkit.h"

/* x[n] floats -> n / block-size blocks at y. */
typedef void (*lk_quantize_act_fn)(const float *x, void *y, int64_t n);

/* The fastest quantizer this CPU runs for activation type t (Q8_0, Q8_K);
 * NULL when none beats the scalar one here. Honors LLMKIT_CPU_MAX. */
lk_quantize_act_fn lk_quantize_act_for(lk_dtype t);

#if defined(__x86_64__)
/* AVX-512 F/BW/VL: call only when lk_cpu() reports them. */
void lk_quantize_row_q8_0_avx512(const float *x, void *y, int64_t n);
void lk_quantize_row_q8_k_avx512(const float *x, void *y, int64_t n);
#endif

#endif
