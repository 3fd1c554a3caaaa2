/* AVX-512 VNNI kernel over packed Q4_0 / Q5_0 / Q8_0 weights (quant_pack.h).
 *
 * One vpdpbusd multiplies four quants of 16 rows (one weight vector) by the
 * same four activation bytes of one token (broadcast), so its 16 int32
 * lanes are 16 rows' partial sums: eight of them cover a block of 32 and
 * leave the 16 rows' block dots in one register, which then takes one
 * convert and one FMA (scale: the 16 rows' fp16 d times the token's d).
 *
 * A tile is one group (16 rows) x up to 8 tokens, all blocks of k: each
 * weight vector is loaded (Q4_0, Q5_0: and unpacked) once for the NT tokens,
 * with NT integer and NT float accumulators; below 8 tokens each token's
 * integer sum is split over two chains so consecutive vpdpbusd do not wait
 * for each other. Groups go one after another: one sequential stream
 * through memory, which the hardware prefetcher follows (two groups at a
 * time measured 1.5-2x slower from memory at 2 and 4 tokens). */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tensor/quant_blocks.h"
#include "tensor/quant_pack.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 8")

void lk_packed_matmul_avx512(lk_dtype t, int64_t k, const void *packed, int64_t g0, int64_t g1,
                             int64_t n_rows, const void *a, size_t a_stride,
                             const lk_pack_act *prep, int64_t m, float *y, size_t y_stride);

enum { KIND_Q4_0, KIND_Q8_0, KIND_Q5_0 };

/* Four activation bytes (elements 4g..4g+3 of block b) of a Q8_0 row, in
 * every lane. */
ALWAYS_INLINE __m512i act4(const uint8_t *row, int64_t b, int g) {
    int32_t v;
    memcpy(&v, row + (size_t)b * sizeof(lk_block_q8_0) + offsetof(lk_block_q8_0, qs) + 4 * g, 4);
    return _mm512_set1_epi32(v);
}

/* The tile's NT sums of 16 rows: acc[u] for token u. */
ALWAYS_INLINE void packed_tile(int kind, int64_t nb, const uint8_t *grp,
                               const uint8_t *const act[8], const lk_pack_act *const pa[8],
                               const int NT, __m512 acc[8]) {
    const size_t qb = kind == KIND_Q8_0 ? 512 : kind == KIND_Q5_0 ? 320 : 256, pb = 64 + 2 * qb;
    const int CH = NT >= 8 ? 1 : 2; /* integer chains per token */
    const __m512i low4 = _mm512_set1_epi8(0x0F), sixteen = _mm512_set1_epi8(16);
    UNROLL
    for (int u = 0; u < NT; u++) acc[u] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        /* block b: its pair's scales, then its quants (quant_pack.h) */
        const uint8_t *scales = grp + (size_t)(b / 2) * pb + 32 * (size_t)(b & 1);
        const uint8_t *quants = grp + (size_t)(b / 2) * pb + 64 + (size_t)(b & 1) * qb;
        __m512i isum[2][8];
        UNROLL
        for (int u = 0; u < NT; u++) {
            isum[0][u] = _mm512_set1_epi32(pa[u][b].seed);
            if (CH == 2) isum[1][u] = _mm512_setzero_si512();
        }
        if (kind == KIND_Q8_0) {
            UNROLL
            for (int g = 0; g < 8; g++) {
                const __m512i w = _mm512_load_si512(quants + 64 * g);
                UNROLL
                for (int u = 0; u < NT; u++)
                    isum[g % CH][u] = _mm512_dpbusd_epi32(isum[g % CH][u], w, act4(act[u], b, g));
            }
        } else {
            UNROLL
            for (int h = 0; h < 4; h++) {
                const __m512i p = _mm512_load_si512(quants + 64 * h);
                __m512i lo = _mm512_and_si512(p, low4);
                __m512i hi = _mm512_and_si512(_mm512_srli_epi16(p, 4), low4);
                if (kind == KIND_Q5_0) { /* the fifth bits: 16 more */
                    __mmask64 m_lo, m_hi;
                    memcpy(&m_lo, quants + 256 + 8 * h, 8);
                    memcpy(&m_hi, quants + 256 + 8 * (h + 4), 8);
                    lo = _mm512_mask_add_epi8(lo, m_lo, lo, sixteen);
                    hi = _mm512_mask_add_epi8(hi, m_hi, hi, sixteen);
                }
                UNROLL
                for (int u = 0; u < NT; u++) {
                    isum[0][u] = _mm512_dpbusd_epi32(isum[0][u], lo, act4(act[u], b, h));
                    isum[CH - 1][u] = _mm512_dpbusd_epi32(isum[CH - 1][u], hi, act4(act[u], b, h + 4));
                }
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)scales));
        UNROLL
        for (int u = 0; u < NT; u++) {
            const __m512i s = CH == 2 ? _mm512_add_epi32(isum[0][u], isum[1][u]) : isum[0][u];
            acc[u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
                                     _mm512_mul_ps(dw, _mm512_set1_ps(pa[u][b].d)), acc[u]);
        }
    }
}

/* Rows [row0, row0 + 16) of a token's output, only those below n_rows. */
ALWAYS_INLINE void store_rows(float *y, int64_t row0, int64_t n_rows, __m512 v) {
    if (row0 + LK_PACK_ROWS <= n_rows) _mm512_storeu_ps(y + row0, v);
    else _mm512_mask_storeu_ps(y + row0, (__mmask16)((1u << (n_rows - row0)) - 1), v);
}

#define TILE_CASE(NT_)                                                                            \
    case NT_:                                                                                     \
        if (kind == KIND_Q8_0) packed_tile(KIND_Q8_0, nb, grp, act, pa, NT_, acc);                \
        else if (kind == KIND_Q5_0) packed_tile(KIND_Q5_0, nb, grp, act, pa, NT_, acc);           \
        else packed_tile(KIND_Q4_0, nb, grp, act, pa, NT_, acc);                                  \
        break;

void lk_packed_matmul_avx512(lk_dtype t, int64_t k, const void *packed, int64_t g0, int64_t g1,
                             int64_t n_rows, const void *a, size_t a_stride,
                             const lk_pack_act *prep, int64_t m, float *y, size_t y_stride) {
    const int kind = t == LK_DTYPE_Q8_0 ? KIND_Q8_0 : t == LK_DTYPE_Q5_0 ? KIND_Q5_0 : KIND_Q4_0;
    const int64_t nb = k / 32;
    const size_t gbytes = lk_pack_group_bytes(t, k);
    for (int64_t g = g0; g < g1; g++) {
        const uint8_t *grp = (const uint8_t *)packed + (size_t)g * gbytes;
        for (int64_t t0 = 0; t0 < m; t0 += 8) {
            const int nt = m - t0 < 8 ? (int)(m - t0) : 8;
            const uint8_t *act[8];
            const lk_pack_act *pa[8];
            for (int u = 0; u < 8; u++) {
                const int64_t tu = t0 + (u < nt ? u : nt - 1);
                act[u] = (const uint8_t *)a + (size_t)tu * a_stride;
                pa[u] = prep + tu * nb;
            }
            __m512 acc[8];
            switch (nt) {
                TILE_CASE(1)
                TILE_CASE(2)
                TILE_CASE(3)
                TILE_CASE(4)
                TILE_CASE(5)
                TILE_CASE(6)
                TILE_CASE(7)
                TILE_CASE(8)
            default: break;
            }
            for (int u = 0; u < nt; u++)
                store_rows(y + (size_t)(t0 + u) * y_stride, g * LK_PACK_ROWS, n_rows, acc[u]);
        }
    }
}
