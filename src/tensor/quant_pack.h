/* Row-interleaved ("packed") copies of Q4_0, Q5_0, Q8_0 and Q4_K weight matrices.
 *
 * Stored row by row, a weight block's 32 products with one token reduce to
 * one number, and the float work after each integer dot (convert, scale,
 * accumulate) is done on 16 lanes of which only one or two matter: it costs
 * three float instructions per vpdpbusd. Packed, 16 rows sit side by side
 * four bytes at a time, so one vpdpbusd against a token's four activation
 * bytes (broadcast) advances 16 rows at once, its 16 lanes are 16 rows, and
 * the float work is three instructions per eight vpdpbusd. llama.cpp repacks
 * Q4_0 for the same reason (its CPU "repack" buffers).
 *
 * Layout of a packed matrix: ceil(rows / 16) groups of 16 rows, one after
 * another (rows past the last are zero: scale 0), each group ceil(nb / 2)
 * pairs of blocks (nb = cols / 32; an odd last block pairs with a zero one)
 * in one sequential stream, which the hardware prefetcher follows best:
 *
 *     scales  [2][16] fp16           the two blocks' d, row by row
 *     quants  [2][...]               block b of the 16 rows:
 *        Q8_0: [8][16][4] uint8      g = elements 4g..4g+3 of each row, stored q + 128
 *        Q4_0: [4][16][4] uint8      h = the stored bytes 4h..4h+3 of each row: low
 *                                    nibbles elements 4h.., high nibbles 16+4h..
 *        Q5_0: Q4_0's, then [8] uint64: mask g, bit 4r + i = the fifth bit of
 *                                    element 4g + i of row r (16 to add to its level)
 *
 * Q4_K groups are super-block after super-block (k / 256 of them, 2368
 * bytes each): d [16] fp16, dmin [16] fp16, the 6-bit sub-block scales
 * [8][16] and mins [8][16] as bytes, then quants [4][8][16][4]: vector
 * (c, g) = the stored bytes 32c + 4g.. of each row, whose low nibbles are
 * elements 64c + 4g.. (sub-block 2c) and high nibbles 64c + 32 + 4g..
 * (sub-block 2c + 1). Its activations are Q8_K rows, whose block sums give
 * the mins' term; it needs no prep.
 *
 * Quants are unsigned (vpdpbusd's unsigned operand)
 * and activations signed, so sum(q * a) over a block carries offset *
 * sum(a) (offset 8 for Q4_0, 16 for Q5_0, 128 for Q8_0), which the token's per-block
 * prep (lk_pack_act) takes off before the first product.
 *
 * Packing costs one copy of the matrix at load time; weights then are read
 * from the copy only (model loading lets the mapped file pages go). CPUs
 * with AVX-512 VNNI run quant_pack_avx512.c, AVX2-only ones
 * quant_pack_avx2.c (not Q4_K); elsewhere nothing is packed. */
#ifndef LK_TENSOR_QUANT_PACK_H
#define LK_TENSOR_QUANT_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

#define LK_PACK_ROWS 16

/* Groups of 16 rows a matrix of n_rows packs into. */
static inline int64_t lk_pack_n_groups(int64_t n_rows) {
    return (n_rows + LK_PACK_ROWS - 1) / LK_PACK_ROWS;
}

/* Byte offsets within one Q4_K super-block of a group (see above), and its size. */
enum {
    LK_PACK_Q4K_D = 0,
    LK_PACK_Q4K_DMIN = 32,
    LK_PACK_Q4K_SC = 64,
    LK_PACK_Q4K_MN = 192,
    LK_PACK_Q4K_QS = 320,
    LK_PACK_Q4K_BYTES = 2368
};

/* A token's block b, prepared once per matrix product: the activation
 * scale and the integer offset correction -offset * sum(a) (see above). */
typedef struct {
    float d;
    int32_t seed;
} lk_pack_act;

/* y[t * y_stride + r] = dot(row r, token t) for rows [16 * g0, 16 * g1)
 * (only rows < n_rows written) and tokens t < m. packed points at the
 * matrix's first group, a at m activation rows (Q8_0; Q8_K for Q4_K)
 * a_stride bytes apart, prep at m rows of k / 32 lk_pack_act (unused for
 * Q4_K). */
typedef void (*lk_packed_matmul_fn)(lk_dtype t, int64_t k, const void *packed, int64_t g0,
                                    int64_t g1, int64_t n_rows, const void *a, size_t a_stride,
                                    const lk_pack_act *prep, int64_t m, float *y, size_t y_stride);

/* The packed kernel this CPU runs for weights of type t, or NULL (no
 * kernel here, LLMKIT_CPU_MAX caps it, or t is not packable): AVX-512
 * VNNI for every packed type, else AVX2 for Q4_0 / Q5_0 / Q8_0. */
lk_packed_matmul_fn lk_packed_matmul_for(lk_dtype t);

#if defined(__x86_64__)
/* Call only when lk_cpu() reports AVX-512 F/BW/VL + VNNI (every packed
 * type), or AVX2 + FMA + F16C (Q4_0, Q5_0, Q8_0). */
void lk_packed_matmul_avx512(lk_dtype t, int64_t k, const void *packed, int64_t g0, int64_t g1,
                             int64_t n_rows, const void *a, size_t a_stride,
                             const lk_pack_act *prep, int64_t m, float *y, size_t y_stride);
void lk_packed_matmul_avx2(lk_dtype t, int64_t k, const void *packed, int64_t g0, int64_t g1,
                           int64_t n_rows, const void *a, size_t a_stride,
                           const lk_pack_act *prep, int64_t m, float *y, size_t y_stride);
#endif

/* Bytes of one group of 16 rows of k columns of type t (Q4_0, Q5_0, Q8_0,
 * Q4_K), a multiple of 64; 0 for other types or k not a multiple of the
 * block size. */
size_t lk_pack_group_bytes(lk_dtype t, int64_t k);

/* Writes rows [0, n_rows) of a row-major matrix (rows row_bytes apart) as
 * groups [g0, g1) of the packed layout at dst (the matrix's first group). */
void lk_pack_groups(lk_dtype t, int64_t k, const void *src, size_t row_bytes, int64_t n_rows,
                    int64_t g0, int64_t g1, void *dst);

/* Memory for packed matrices (free() releases it): 64-byte aligned, in
 * 2 MiB transparent huge pages where the kernel gives them, so streaming
 * the weights crosses no 4 KiB page boundaries (where the hardware
 * prefetcher stops) and needs no TLB walks. Measured with
 * bench/quant_kernels, Q4_0 from memory: 1 token 48 -> 58, 4 tokens
 * 82 -> 160 GMAC/s. NULL when out of memory. */
void *lk_pack_alloc(size_t bytes);

/* prep[b] for one Q8_0 activation row of k values, for weights of type t
 * (nothing for Q4_K). */
void lk_pack_prepare(lk_dtype t, int64_t k, const void *a, lk_pack_act *prep);

#endif
