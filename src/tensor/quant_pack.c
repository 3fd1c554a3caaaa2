/* Packing Q4_0 / Q5_0 / Q8_0 / Q4_K matrices into groups of 16 interleaved rows, and the
 * run-time choice of the packed kernel (quant_pack.h). */
#include "tensor/quant_pack.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/cpu.h"
#include "tensor/dtype.h"
#include "tensor/quant_blocks.h"

static bool packable(lk_dtype t) {
    return t == LK_DTYPE_Q4_0 || t == LK_DTYPE_Q5_0 || t == LK_DTYPE_Q8_0 || t == LK_DTYPE_Q4_K;
}

lk_packed_matmul_fn lk_packed_matmul_for(lk_dtype t) {
    if (!packable(t)) return NULL;
#if defined(__x86_64__)
    const lk_cpu_features *f = lk_cpu();
    if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni && f->avx2 && f->fma &&
        f->f16c)
        return lk_packed_matmul_avx512;
    if (f->avx2 && f->fma && f->f16c && t != LK_DTYPE_Q4_K) return lk_packed_matmul_avx2;
#endif
    return NULL;
}

/* Bytes of one block of 16 rows' quants (Q5_0: nibbles, then fifth-bit masks). */
static size_t quant_bytes(lk_dtype t) {
    return t == LK_DTYPE_Q8_0 ? 512 : t == LK_DTYPE_Q5_0 ? 320 : 256;
}

/* Bytes of a pair of blocks: both blocks' 16 scales, then both quants. */
static size_t pair_bytes(lk_dtype t) { return 64 + 2 * quant_bytes(t); }

size_t lk_pack_group_bytes(lk_dtype t, int64_t k) {
    if (t == LK_DTYPE_Q4_K) return k > 0 && k % 256 == 0 ? (size_t)(k / 256) * LK_PACK_Q4K_BYTES : 0;
    if (!packable(t) || k <= 0 || k % 32) return 0;
    const int64_t nb = k / 32;
    return (size_t)((nb + 1) / 2) * pair_bytes(t);
}

/* One row's super-blocks into its lane r of a Q4_K group. */
static void pack_row_q4_k(const lk_block_q4_k *x, int64_t nb, int r, uint8_t *grp) {
    for (int64_t b = 0; b < nb; b++, x++) {
        uint8_t *sb = grp + (size_t)b * LK_PACK_Q4K_BYTES;
        memcpy(sb + LK_PACK_Q4K_D + 2 * r, &x->d, 2);
        memcpy(sb + LK_PACK_Q4K_DMIN + 2 * r, &x->dmin, 2);
        for (int j = 0; j < 8; j++)
            lk_get_scale_min_k4(j, x->scales, sb + LK_PACK_Q4K_SC + 16 * j + r, sb + LK_PACK_Q4K_MN + 16 * j + r);
        /* vector (c, g): bytes 32c + 4g.. of each row; low nibbles are
         * sub-block 2c, high ones 2c + 1 */
        for (int cg = 0; cg < 32; cg++)
            memcpy(sb + LK_PACK_Q4K_QS + 64 * cg + 4 * r, x->qs + 4 * cg, 4);
    }
}

void lk_pack_groups(lk_dtype t, int64_t k, const void *src, size_t row_bytes, int64_t n_rows,
                    int64_t g0, int64_t g1, void *dst) {
    if (t == LK_DTYPE_Q4_K) {
        const size_t gb = lk_pack_group_bytes(t, k);
        for (int64_t g = g0; g < g1; g++) {
            uint8_t *grp = (uint8_t *)dst + (size_t)g * gb;
            memset(grp, 0, gb); /* padding rows: d = dmin = 0 */
            for (int r = 0; r < LK_PACK_ROWS && g * LK_PACK_ROWS + r < n_rows; r++)
                pack_row_q4_k((const lk_block_q4_k *)((const uint8_t *)src +
                                                      (size_t)(g * LK_PACK_ROWS + r) * row_bytes),
                              k / 256, r, grp);
        }
        return;
    }
    const int64_t nb = k / 32;
    const size_t gb = lk_pack_group_bytes(t, k), qb = quant_bytes(t), pb = pair_bytes(t);
    for (int64_t g = g0; g < g1; g++) {
        uint8_t *grp = (uint8_t *)dst + (size_t)g * gb;
        memset(grp, 0, gb); /* padding rows and the block after an odd last: scale 0 */
        for (int r = 0; r < LK_PACK_ROWS; r++) {
            const int64_t row = g * LK_PACK_ROWS + r;
            if (row >= n_rows) continue;
            const uint8_t *rp = (const uint8_t *)src + (size_t)row * row_bytes;
            for (int64_t b = 0; b < nb; b++) {
                uint8_t *pair = grp + (size_t)(b / 2) * pb;
                uint8_t *scale = pair + 32 * (b & 1) + 2 * r;
                uint8_t *q = pair + 64 + (size_t)(b & 1) * qb + 4 * r;
                if (t == LK_DTYPE_Q8_0) {
                    const lk_block_q8_0 *x = (const lk_block_q8_0 *)rp + b;
                    memcpy(scale, &x->d, 2);
                    for (int j = 0; j < 8; j++) {
                        uint32_t v;
                        memcpy(&v, x->qs + 4 * j, 4);
                        v ^= 0x80808080u; /* q + 128 */
                        memcpy(q + 64 * j, &v, 4);
                    }
                } else if (t == LK_DTYPE_Q5_0) {
                    const lk_block_q5_0 *x = (const lk_block_q5_0 *)rp + b;
                    memcpy(scale, &x->d, 2);
                    for (int j = 0; j < 4; j++) memcpy(q + 64 * j, x->qs + 4 * j, 4);
                    /* mask g, bit 4r + i: the fifth bit of element 4g + i */
                    uint32_t qh;
                    memcpy(&qh, x->qh, 4);
                    uint8_t *masks = q - 4 * r + 256;
                    for (int g = 0; g < 8; g++) {
                        const unsigned nib = (qh >> (4 * g)) & 0xF;
                        masks[8 * g + r / 2] |= (uint8_t)(nib << (4 * (r % 2)));
                    }
                } else {
                    const lk_block_q4_0 *x = (const lk_block_q4_0 *)rp + b;
                    memcpy(scale, &x->d, 2);
                    for (int j = 0; j < 4; j++) memcpy(q + 64 * j, x->qs + 4 * j, 4);
                }
            }
        }
    }
}

void *lk_pack_alloc(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    bytes = (bytes + huge - 1) / huge * huge;
    void *p = aligned_alloc(huge, bytes ? bytes : huge);
    if (p) madvise(p, bytes, MADV_HUGEPAGE); /* a hint: refused is fine */
    return p;
}

void lk_pack_prepare(lk_dtype t, int64_t k, const void *a, lk_pack_act *prep) {
    if (t == LK_DTYPE_Q4_K) return; /* its kernel reads the Q8_K rows' own sums */
    const lk_block_q8_0 *x = a;
    const int32_t offset = t == LK_DTYPE_Q8_0 ? 128 : t == LK_DTYPE_Q5_0 ? 16 : 8;
    for (int64_t b = 0; b < k / 32; b++) {
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) sum += x[b].qs[j];
        prep[b].d = lk_f16_to_f32(x[b].d);
        prep[b].seed = -offset * sum;
    }
}
