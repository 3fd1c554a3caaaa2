/* AVX2 kernel over packed Q4_0 / Q5_0 / Q8_0 weights (quant_pack.h), for
 * CPUs without AVX-512 VNNI.
 *
 * The same layout as the AVX-512 kernel reads: a 64-byte weight vector is
 * 16 rows x 4 quants, here two 256-bit halves of 8 rows. With no vpdpbusd,
 * four products per lane take vpmaddubsw (unsigned x signed bytes, pairs
 * summed to int16) and vpmaddwd against ones (pairs again, to int32): the
 * lanes stay rows, so the float work is still three instructions per
 * block and 8 rows. vpmaddubsw saturates above 32767: Q4_0 / Q5_0 levels
 * (at most 31) x 127 x 2 cannot; Q8_0's stored q + 128 could, so Q8_0
 * takes |q| and moves q's sign onto the activation instead (and then needs
 * no offset correction). Up to two tokens per pass: 16 registers hold
 * 2 tokens x 2 halves of integer and float sums. */
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
ALWAYS_INLINE __m256i act4(const uint8_t *row, int64_t b, int g) {
    int32_t v;
    memcpy(&v, row + (size_t)b * sizeof(lk_block_q8_0) + offsetof(lk_block_q8_0, qs) + 4 * g, 4);
    return _mm256_set1_epi32(v);
}

/* Per int32 lane: the sum of its four unsigned w x signed a byte products. */
ALWAYS_INLINE __m256i dot4(__m256i w, __m256i a) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1));
}

/* 16 where bit j of the 32-bit mask is set, for byte j. */
ALWAYS_INLINE __m256i fifth_bits(uint32_t mask) {
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)mask),
        _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3,
                         3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit),
                            _mm256_set1_epi8(16));
}

/* The tile's sums of 16 rows for NT tokens: acc[u][h], rows 8h..8h+7. */
ALWAYS_INLINE void packed_tile(int kind, int64_t nb, const uint8_t *grp,
                               const uint8_t *const act[2], const lk_pack_act *const pa[2],
                               const int NT, __m256 acc[2][2]) {
    const size_t qb = kind == KIND_Q8_0 ? 512 : kind == KIND_Q5_0 ? 320 : 256, pb = 64 + 2 * qb;
    const __m256i low4 = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8((char)0x80);
    UNROLL
    for (int u = 0; u < NT; u++) acc[u][0] = acc[u][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *scales = grp + (size_t)(b / 2) * pb + 32 * (size_t)(b & 1);
        const uint8_t *quants = grp + (size_t)(b / 2) * pb + 64 + (size_t)(b & 1) * qb;
        __m256i isum[2][2];
        UNROLL
        for (int u = 0; u < NT; u++)
            isum[u][0] = isum[u][1] =
                kind == KIND_Q8_0 ? _mm256_setzero_si256() : _mm256_set1_epi32(pa[u][b].seed);
        if (kind == KIND_Q8_0) {
            UNROLL
            for (int g = 0; g < 8; g++)
                UNROLL
                for (int h = 0; h < 2; h++) {
                    const __m256i q = _mm256_xor_si256(
                        _mm256_load_si256((const __m256i *)(quants + 64 * g + 32 * h)), flip);
                    const __m256i mag = _mm256_sign_epi8(q, q);
                    UNROLL
                    for (int u = 0; u < NT; u++)
                        isum[u][h] = _mm256_add_epi32(
                            isum[u][h], dot4(mag, _mm256_sign_epi8(act4(act[u], b, g), q)));
                }
        } else {
            UNROLL
            for (int j = 0; j < 4; j++)
                UNROLL
                for (int h = 0; h < 2; h++) {
                    const __m256i p = _mm256_load_si256((const __m256i *)(quants + 64 * j + 32 * h));
                    __m256i lo = _mm256_and_si256(p, low4);
                    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), low4);
                    if (kind == KIND_Q5_0) {
                        uint32_t m_lo, m_hi;
                        memcpy(&m_lo, quants + 256 + 8 * j + 4 * h, 4);
                        memcpy(&m_hi, quants + 256 + 8 * (j + 4) + 4 * h, 4);
                        lo = _mm256_or_si256(lo, fifth_bits(m_lo));
                        hi = _mm256_or_si256(hi, fifth_bits(m_hi));
                    }
                    UNROLL
                    for (int u = 0; u < NT; u++)
                        isum[u][h] = _mm256_add_epi32(
                            isum[u][h], _mm256_add_epi32(dot4(lo, act4(act[u], b, j)),
                                                         dot4(hi, act4(act[u], b, j + 4))));
                }
        }
        UNROLL
        for (int h = 0; h < 2; h++) {
            const __m256 dw = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(scales + 16 * h)));
            UNROLL
            for (int u = 0; u < NT; u++)
                acc[u][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[u][h]),
                                            _mm256_mul_ps(dw, _mm256_set1_ps(pa[u][b].d)), acc[u][h]);
        }
    }
}

/* Rows [row0, row0 + 16) of a token's output, only those below n_rows. */
ALWAYS_INLINE void store_rows(float *y, int64_t row0, int64_t n_rows, const __m256 v[2]) {
    if (row0 + LK_PACK_ROWS <= n_rows) {
        _mm256_storeu_ps(y + row0, v[0]);
        _mm256_storeu_ps(y + row0 + 8, v[1]);
        return;
    }
    float tmp[16];
    _mm256_storeu_ps(tmp, v[0]);
    _mm256_storeu_ps(tmp + 8, v[1]);
    memcpy(y + row0, tmp, (size_t)(n_rows - row0) * sizeof(float));
}

void lk_packed_matmul_avx2(lk_dtype t, int64_t k, const void *packed, int64_t g0, int64_t g1,
                           int64_t n_rows, const void *a, size_t a_stride,
                           const lk_pack_act *prep, int64_t m, float *y, size_t y_stride) {
    const int kind = t == LK_DTYPE_Q8_0 ? KIND_Q8_0 : t == LK_DTYPE_Q5_0 ? KIND_Q5_0 : KIND_Q4_0;
    const int64_t nb = k / 32;
    const size_t gbytes = lk_pack_group_bytes(t, k);
    for (int64_t g = g0; g < g1; g++) {
        const uint8_t *grp = (const uint8_t *)packed + (size_t)g * gbytes;
        for (int64_t t0 = 0; t0 < m; t0 += 2) {
            const int nt = m - t0 < 2 ? 1 : 2;
            const uint8_t *act[2];
            const lk_pack_act *pa[2];
            for (int u = 0; u < 2; u++) {
                const int64_t tu = t0 + (u < nt ? u : 0);
                act[u] = (const uint8_t *)a + (size_t)tu * a_stride;
                pa[u] = prep + tu * nb;
            }
            __m256 acc[2][2];
            if (nt == 2) {
                if (kind == KIND_Q8_0) packed_tile(KIND_Q8_0, nb, grp, act, pa, 2, acc);
                else if (kind == KIND_Q5_0) packed_tile(KIND_Q5_0, nb, grp, act, pa, 2, acc);
                else packed_tile(KIND_Q4_0, nb, grp, act, pa, 2, acc);
            } else {
                if (kind == KIND_Q8_0) packed_tile(KIND_Q8_0, nb, grp, act, pa, 1, acc);
                else if (kind == KIND_Q5_0) packed_tile(KIND_Q5_0, nb, grp, act, pa, 1, acc);
                else packed_tile(KIND_Q4_0, nb, grp, act, pa, 1, acc);
            }
            for (int u = 0; u < nt; u++)
                store_rows(y + (size_t)(t0 + u) * y_stride, g * LK_PACK_ROWS, n_rows, acc[u]);
        }
    }
}
