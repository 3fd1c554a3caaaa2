/* Quantize and dequantize rows of floats, bit-compatible with llama.cpp.
 *
 * The quantizers are scalar references that write the same bytes as
 * llama.cpp's quantize_row_*_ref, which is also what `llama-quantize` uses
 * for every type here when it is run without an importance matrix. The
 * dequantizers give exactly llama.cpp's floats (same operations in the same
 * order). Neither is fast; fast kernels come with their scalar twin elsewhere.
 *
 * n is the number of floats; it must be a multiple of the type's block size
 * (32 for the legacy types, 256 for K-quants, 1 for F32/F16/BF16). */
#ifndef LK_TENSOR_QUANT_H
#define LK_TENSOR_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "llmkit.h"
#include "tensor/quant_blocks.h"

/* True when lk_quantize_row / lk_dequantize_row handle t: F32, F16, BF16,
 * Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q6_K, Q8_K. */
bool lk_quant_supported(lk_dtype t);

/* x: [n] floats -> y: lk_dtype_row_bytes(t, n) bytes. LK_ERR_ARG when n is
 * negative or not a multiple of the block size, LK_ERR_UNSUPPORTED for a
 * type not listed above. Never reads or writes past those sizes. */
lk_status lk_quantize_row(lk_dtype t, const float *x, void *y, int64_t n);
/* x: lk_dtype_row_bytes(t, n) bytes -> y: [n] floats. Same errors. */
lk_status lk_dequantize_row(lk_dtype t, const void *x, float *y, int64_t n);

/* llama.cpp's check of quantized data (ggml_validate_row_data): every
 * scale of every block, and every element of F32/F16/BF16 data, is finite.
 * nbytes must be a whole number of blocks. On failure *bad_block (if not
 * NULL) is the index of the first bad block (element, for plain types).
 * LK_ERR_FORMAT for NaN/inf, LK_ERR_ARG for a partial block,
 * LK_ERR_UNSUPPORTED for other types. */
lk_status lk_quant_validate(lk_dtype t, const void *data, uint64_t nbytes, uint64_t *bad_block);

/* Converts n elements between any two supported types through float, in
 * pieces of at most 4096 (no allocation): e.g. an F16 or BF16 tensor to
 * Q4_K, or Q8_0 back to F16 (16 KiB of stack). n must be a multiple of both
 * block sizes.
 * The result equals dequantize-then-quantize of the whole row, since every
 * type here quantizes each block on its own. */
lk_status lk_convert_row(lk_dtype src_type, const void *src, lk_dtype dst_type, void *dst,
                         int64_t n);

/* ------------------------------------------------ per-type entry points
 * n must be a multiple of the block size (not checked here). */

void lk_quantize_row_q4_0(const float *x, lk_block_q4_0 *y, int64_t n);
void lk_quantize_row_q4_1(const float *x, lk_block_q4_1 *y, int64_t n);
void lk_quantize_row_q5_0(const float *x, lk_block_q5_0 *y, int64_t n);
void lk_quantize_row_q5_1(const float *x, lk_block_q5_1 *y, int64_t n);
void lk_quantize_row_q8_0(const float *x, lk_block_q8_0 *y, int64_t n);
void lk_quantize_row_q8_1(const float *x, lk_block_q8_1 *y, int64_t n);
void lk_quantize_row_q2_k(const float *x, lk_block_q2_k *y, int64_t n);
void lk_quantize_row_q3_k(const float *x, lk_block_q3_k *y, int64_t n);
void lk_quantize_row_q4_k(const float *x, lk_block_q4_k *y, int64_t n);
void lk_quantize_row_q5_k(const float *x, lk_block_q5_k *y, int64_t n);
void lk_quantize_row_q6_k(const float *x, lk_block_q6_k *y, int64_t n);
void lk_quantize_row_q8_k(const float *x, lk_block_q8_k *y, int64_t n);

void lk_dequantize_row_q4_0(const lk_block_q4_0 *x, float *y, int64_t n);
void lk_dequantize_row_q4_1(const lk_block_q4_1 *x, float *y, int64_t n);
void lk_dequantize_row_q5_0(const lk_block_q5_0 *x, float *y, int64_t n);
void lk_dequantize_row_q5_1(const lk_block_q5_1 *x, float *y, int64_t n);
void lk_dequantize_row_q8_0(const lk_block_q8_0 *x, float *y, int64_t n);
void lk_dequantize_row_q8_1(const lk_block_q8_1 *x, float *y, int64_t n);
void lk_dequantize_row_q2_k(const lk_block_q2_k *x, float *y, int64_t n);
void lk_dequantize_row_q3_k(const lk_block_q3_k *x, float *y, int64_t n);
void lk_dequantize_row_q4_k(const lk_block_q4_k *x, float *y, int64_t n);
void lk_dequantize_row_q5_k(const lk_block_q5_k *x, float *y, int64_t n);
void lk_dequantize_row_q6_k(const lk_block_q6_k *x, float *y, int64_t n);
void lk_dequantize_row_q8_k(const lk_block_q8_k *x, float *y, int64_t n);

#endif
