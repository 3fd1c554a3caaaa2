/* AVX-512 VNNI kernels over packed Q4_0 / Q5_0 / Q8_0 / Q4_K weights (quant_pack.h).
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

/* Q4_K (quant_pack.h): per super-block and token, each sub-block's integer
 * dot (eight vpdpbusd, 16 rows in the lanes) times its 6-bit scale
 * (vpmulld) summed in int32 (at most 8 * 63 * 32 * 15 * 127 < 2^31); the
 * mins' term from the token's Q8_K block sums, paired per 32 and
 * broadcast, against the rows' mins as int16 pairs (four vpdpwssd); two
 * float FMAs per super-block. Up to four tokens per pass: each one needs
 * four accumulators here. */
ALWAYS_INLINE void packed_tile_q4_k(int64_t nb, const uint8_t *grp, const uint8_t *const act[8],
                                    const int NT, __m512 acc[8]) {
    const int CH = NT >= 4 ? 1 : 2; /* integer chains per token and half */
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    UNROLL
    for (int u = 0; u < NT; u++) acc[u] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *sb = grp + (size_t)b * LK_PACK_Q4K_BYTES;
        const lk_block_q8_k *y[4];
        UNROLL
        for (int u = 0; u < NT; u++) y[u] = (const lk_block_q8_k *)act[u] + b;
        __m512i i1[4];
        UNROLL
        for (int u = 0; u < NT; u++) i1[u] = _mm512_setzero_si512();
        for (int c = 0; c < 4; c++) {
            __m512i lo_sum[2][4], hi_sum[2][4];
            UNROLL
            for (int u = 0; u < NT; u++)
                UNROLL
                for (int h = 0; h < CH; h++) lo_sum[h][u] = hi_sum[h][u] = _mm512_setzero_si512();
            UNROLL
            for (int g = 0; g < 8; g++) {
                const __m512i p = _mm512_load_si512(sb + LK_PACK_Q4K_QS + 64 * (8 * c + g));
                const __m512i lo = _mm512_and_si512(p, low4);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(p, 4), low4);
                UNROLL
                for (int u = 0; u < NT; u++) {
                    int32_t al, ah;
                    memcpy(&al, y[u]->qs + 64 * c + 4 * g, 4);
                    memcpy(&ah, y[u]->qs + 64 * c + 32 + 4 * g, 4);
                    lo_sum[g % CH][u] = _mm512_dpbusd_epi32(lo_sum[g % CH][u], lo, _mm512_set1_epi32(al));
                    hi_sum[g % CH][u] = _mm512_dpbusd_epi32(hi_sum[g % CH][u], hi, _mm512_set1_epi32(ah));
                }
            }
            const __m512i sc_lo = _mm512_cvtepu8_epi32(
                _mm_load_si128((const __m128i *)(sb + LK_PACK_Q4K_SC + 16 * (2 * c))));
            const __m512i sc_hi = _mm512_cvtepu8_epi32(
                _mm_load_si128((const __m128i *)(sb + LK_PACK_Q4K_SC + 16 * (2 * c + 1))));
            UNROLL
            for (int u = 0; u < NT; u++) {
                const __m512i l = CH == 2 ? _mm512_add_epi32(lo_sum[0][u], lo_sum[1][u]) : lo_sum[0][u];
                const __m512i h = CH == 2 ? _mm512_add_epi32(hi_sum[0][u], hi_sum[1][u]) : hi_sum[0][u];
                i1[u] = _mm512_add_epi32(i1[u], _mm512_add_epi32(_mm512_mullo_epi32(l, sc_lo),
                                                                 _mm512_mullo_epi32(h, sc_hi)));
            }
        }
        /* mins: lane r of pair p = mn[2p][r] | mn[2p + 1][r] << 16 */
        __m512i mn[4];
        UNROLL
        for (int q = 0; q < 4; q++)
            mn[q] = _mm512_or_si512(
                _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)(sb + LK_PACK_Q4K_MN + 32 * q))),
                _mm512_slli_epi32(_mm512_cvtepu8_epi32(_mm_load_si128(
                                      (const __m128i *)(sb + LK_PACK_Q4K_MN + 32 * q + 16))),
                                  16));
        const __m512 d = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)sb));
        const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(sb + 32)));
        UNROLL
        for (int u = 0; u < NT; u++) {
            /* the 8 sub-block sums (pairs of the 16-element sums), as 4 int16 pairs */
            const __m128i s16 = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y[u]->bsums),
                                               _mm_loadu_si128((const __m128i *)(y[u]->bsums + 8)));
            __m512i i2 = _mm512_setzero_si512();
            i2 = _mm512_dpwssd_epi32(i2, mn[0], _mm512_set1_epi32(_mm_extract_epi32(s16, 0)));
            i2 = _mm512_dpwssd_epi32(i2, mn[1], _mm512_set1_epi32(_mm_extract_epi32(s16, 1)));
            i2 = _mm512_dpwssd_epi32(i2, mn[2], _mm512_set1_epi32(_mm_extract_epi32(s16, 2)));
            i2 = _mm512_dpwssd_epi32(i2, mn[3], _mm512_set1_epi32(_mm_extract_epi32(s16, 3)));
            const __m512 da = _mm512_set1_ps(y[u]->d);
            acc[u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1[u]), _mm512_mul_ps(d, da), acc[u]);
            acc[u] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(i2), _mm512_mul_ps(dmin, da), acc[u]);
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

static void packed_q4_k(int64_t k, const void *packed, int64_t g0, int64_t g1, int64_t n_rows,
                        const void *a, size_t a_stride, int64_t m, float *y, size_t y_stride) {
    const int64_t nb = k / 256;
    const size_t gbytes = lk_pack_group_bytes(LK_DTYPE_Q4_K, k);
    for (int64_t g = g0; g < g1; g++) {
        const uint8_t *grp = (const uint8_t *)packed + (size_t)g * gbytes;
        for (int64_t t0 = 0; t0 < m; t0 += 4) {
            const int nt = m - t0 < 4 ? (int)(m - t0) : 4;
            const uint8_t *act[8];
            for (int u = 0; u < 8; u++)
                act[u] = (const uint8_t *)a + (size_t)(t0 + (u < nt ? u : nt - 1)) * a_stride;
            __m512 acc[8];
            switch (nt) {
            case 1: packed_tile_q4_k(nb, grp, act, 1, acc); break;
            case 2: packed_tile_q4_k(nb, grp, act, 2, acc); break;
            case 3: packed_tile_q4_k(nb, grp, act, 3, acc); break;
            default: packed_tile_q4_k(nb, grp, act, 4, acc); break;
            }
            for (int u = 0; u < nt; u++)
                store_rows(y + (size_t)(t0 + u) * y_stride, g * LK_PACK_ROWS, n_rows, acc[u]);
        }
    }
}

void lk_packed_matmul_avx512(lk_dtype t, int64_t k, const void *packed, int64_t g0, int64_t g1,
                             int64_t n_rows, const void *a, size_t a_stride,
                             const lk_pack_act *prep, int64_t m, float *y, size_t y_stride) {
    if (t == LK_DTYPE_Q4_K) {
        packed_q4_k(k, packed, g0, g1, n_rows, a, a_stride, m, y, y_stride);
        return;
    }
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
