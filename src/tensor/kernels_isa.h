/* Internal: each ISA file overrides the entries it speeds up in a copy of
 * the scalar table (entries it leaves alone stay scalar). */
#ifndef LK_TENSOR_KERNELS_ISA_H
#define LK_TENSOR_KERNELS_ISA_H

#include "tensor/kernels.h"

void lk_kernels_fill_avx2(lk_kernels *k);
void lk_kernels_fill_avx512(lk_kernels *k);
/* Quantized types (kernels_quant.c); NULL for other types. */
const lk_dtype_kernels *lk_kernels_quant(const lk_kernels *k, lk_dtype t);

#endif
