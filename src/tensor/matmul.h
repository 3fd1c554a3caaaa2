/* The matrix product of the forward pass:
 *
 *     y[M][N] = x[M][K] · W[N][K]^T
 *
 * x holds M activation rows (tokens) in F32; W is a weight matrix whose N rows
 * are stored in any dtype the kernels know (lk_kernels_dtype). Each weight row
 * is dotted with each activation row by the dtype's vec_dot; when the dtype
 * wants its activations in another form (quantized types), x is converted
 * once into `scratch` first. Rows of W are split across the thread pool's
 * threads; blocks of W rows are reused across all M tokens while in cache.
 *
 * Batched prefill (M >= 4) with float weights takes a faster road: a block
 * of W rows is widened to F32 once (per thread, in scratch), then four rows
 * meet four tokens per kernel call (dot_f32_4x4, sixteen sums in
 * registers), so the conversion and every load are shared. Decode (M < 4) dots the stored
 * rows directly: it is bound by memory, and the stored dtype is the
 * smallest thing to read.
 *
 * Quantized weights whose dtype has a tile kernel (lk_dtype_kernels.dot_tile,
 * quant_tile.h) go through it instead of one vec_dot per (row, token): four
 * rows x up to four tokens per call for prompts, so each weight block is
 * decoded once per four tokens while the block of rows sits in cache, and
 * one row at a time for a single token. Q4_0 and Q5_0 prompts of 16 tokens
 * or more first rewrite each block of rows as Q8_0 (exactly; scratch holds
 * one block per thread) and run the Q8_0 tile, so the nibbles are unpacked
 * once per block of rows rather than once per four tokens.
 *
 * A matrix with a packed copy (lk_matrix.packed: Q4_0 / Q5_0 / Q8_0 / Q4_K,
 * quant_pack.h; the model loader makes them unless told not to) is
 * multiplied from that copy by its kernel, groups of 16 rows split over the
 * threads; the paths above then serve --no-repack and the other types. */
#ifndef LK_TENSOR_MATMUL_H
#define LK_TENSOR_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "base/threadpool.h"
#include "tensor/kernels.h"

typedef struct {
    const void *data;   /* [rows][cols] in dtype, row-major */
    lk_dtype dtype;
    int64_t rows;       /* N: outputs */
    int64_t cols;       /* K: inputs */
    uint64_t row_bytes; /* bytes per row */
    const void *packed; /* a packed copy (quant_pack.h) the product reads
                           instead of data, or NULL; owned elsewhere */
} lk_matrix;

/* Checks that the kernels handle W's dtype and that cols fits its blocks. */
lk_status lk_matrix_check(const lk_kernels *kern, const lk_matrix *w, const char *name,
                          lk_error *err);

/* Bytes of scratch lk_matmul needs for M rows of K inputs against a dtype
 * on n_threads threads (0 when none is needed). */
size_t lk_matmul_scratch_bytes(const lk_kernels *kern, lk_dtype wt, int64_t m, int64_t k,
                               int n_threads);

/* y[m][w->rows] = x[m][w->cols] · W^T. tp may be NULL (caller's thread only);
 * scratch holds lk_matmul_scratch_bytes(kern, w->dtype, m, w->cols, size of tp). */
void lk_matmul(lk_threadpool *tp, const lk_kernels *kern, const lk_matrix *w, const float *x,
               int64_t m, float *y, void *scratch);

#endif
