/* Fuzz target: quantized blocks and float rows from arbitrary bytes.
 *
 * Byte 0 picks a type; the rest is read twice: as blocks of that type
 * (dequantized, then the floats quantized again) and as raw floats
 * (quantized: NaN, infinities, huge and subnormal values included). Nothing
 * may crash or trip the sanitizers; the values are not checked here (the
 * unit tests do that against llama.cpp). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/quant_dot.h"

static const lk_dtype k_types[] = {LK_DTYPE_F32,  LK_DTYPE_F16,  LK_DTYPE_BF16, LK_DTYPE_Q4_0,
                                   LK_DTYPE_Q4_1, LK_DTYPE_Q5_0, LK_DTYPE_Q5_1, LK_DTYPE_Q8_0,
                                   LK_DTYPE_Q8_1, LK_DTYPE_Q2_K, LK_DTYPE_Q3_K, LK_DTYPE_Q4_K,
                                   LK_DTYPE_Q5_K, LK_DTYPE_Q6_K, LK_DTYPE_Q8_K};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const lk_dtype t = k_types[data[0] % (sizeof k_types / sizeof k_types[0])];
    const lk_dtype_traits *tr = lk_dtype_traits_of(t);
    data++;
    size--;
    size_t nblocks = size / (size_t)tr->type_size;
    if (nblocks > 16) nblocks = 16;
    const int64_t n = (int64_t)nblocks * tr->block_size;

    /* Blocks -> floats -> blocks. A copy keeps the blocks aligned. */
    void *blocks = malloc(nblocks * (size_t)tr->type_size + 1);
    float *f = malloc((size_t)n * sizeof(float) + 1);
    void *back = malloc(nblocks * (size_t)tr->type_size + 1);
    memcpy(blocks, data, nblocks * (size_t)tr->type_size);
    lk_dequantize_row(t, blocks, f, n);
    lk_quantize_row(t, f, back, n);
    lk_vec_dot_fn dot = lk_vec_dot_for(t);
    if (dot) {
        /* Dot of these blocks with the same bytes read as activations, whose
         * quants are clamped to [-127, 127] as the kernels require. */
        const lk_dtype at = lk_vec_dot_act_type(t);
        uint64_t abytes = 0;
        if (lk_dtype_row_bytes(at, n, &abytes)) {
            uint8_t *y = calloc(abytes + 1, 1);
            memcpy(y, data, size < abytes ? size : abytes);
            const size_t asize = (size_t)lk_dtype_traits_of(at)->type_size;
            const size_t qoff = at == LK_DTYPE_Q8_0 ? 2 : 4, nq = at == LK_DTYPE_Q8_K ? 256 : 32;
            for (size_t blk = 0; blk < abytes / asize; blk++)
                for (size_t j = 0; j < nq; j++)
                    if (y[blk * asize + qoff + j] == 0x80) y[blk * asize + qoff + j] = 0x81;
            volatile float r = dot(n, blocks, y);
            (void)r;
            free(y);
        }
    }
    free(back);
    free(f);
    free(blocks);

    /* Raw bytes as floats -> blocks. */
    int64_t nf = (int64_t)(size / sizeof(float));
    nf -= nf % tr->block_size;
    if (nf > 4 * 256) nf = 4 * 256;
    float *x = malloc((size_t)nf * sizeof(float) + 1);
    memcpy(x, data, (size_t)nf * sizeof(float));
    uint64_t nbytes = 0;
    if (lk_dtype_row_bytes(t, nf, &nbytes)) {
        void *q = malloc(nbytes + 1);
        lk_quantize_row(t, x, q, nf);
        free(q);
    }
    free(x);
    return 0;
}
