/* AVX-512 VNNI dot products, every weight type: the block-32 types two
 * blocks per register, the K-quants 64 weights per register.
 *
 * vpdpbusd multiplies unsigned by signed bytes and sums groups of four into
 * int32 lanes without saturating. Signed weights are made unsigned by an
 * offset (q + 128 for Q8_0, the stored level for Q4_0 and the K-quants) and
 * the offset times sum(q8) is taken off afterwards, so unlike the AVX2 sign
 * trick any activation byte, -128 included, is handled exactly.
 * Scalar twins and the definition: quant_dot.c. */
#include <immintrin.h>
#include <string.h>

#include "tensor/dtype.h"
#include "tensor/quant_dot.h"

static inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

/* Two 256-bit halves into one register: a in lanes 0..7, b in 8..15. */
static inline __m512i join(__m256i a, __m256i b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}

static inline __m512 two_scales(float a, float b) {
    return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}

static inline __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* sum(u * s) - offset * sum(s) per 4-byte group, u = level + offset. */
static inline __m512i dot_offset(__m512i u, __m512i s, __m512i offset_bytes) {
    const __m512i zero = _mm512_setzero_si512();
    return _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, u, s),
                            _mm512_dpbusd_epi32(zero, offset_bytes, s));
}

/* The 4-bit fields of a block of 32 (16 bytes), elements 0..31 in order. */
static inline __m256i nibbles_32(const uint8_t *qs) {
    const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)qs);
    const __m128i low4 = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), low4),
                            _mm_and_si128(packed, low4));
}

static inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

float lk_vec_dot_q8_0_q8_0_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q8_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    const int64_t nb = n / LK_QK8_0;
    const __m512i flip = _mm512_set1_epi8((char)0x80); /* x ^ 0x80 = x + 128 as unsigned */
    __m512 acc = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        const __m512i qx = _mm512_xor_si512(join(load256(x[b].qs), load256(x[b + 1].qs)), flip);
        const __m512i qy = join(load256(y[b].qs), load256(y[b + 1].qs));
        const __m512 d = two_scales(half_to_float(x[b].d) * half_to_float(y[b].d),
                                    half_to_float(x[b + 1].d) * half_to_float(y[b + 1].d));
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot_offset(qx, qy, flip)), acc);
    }
    if (b < nb) { /* odd count: the last block alone, upper half zero */
        const __m512i qx = _mm512_xor_si512(join(load256(x[b].qs), _mm256_setzero_si256()), flip);
        const __m512i qy = join(load256(y[b].qs), _mm256_setzero_si256());
        const __m512 d = two_scales(half_to_float(x[b].d) * half_to_float(y[b].d), 0.0f);
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot_offset(qx, qy, flip)), acc);
    }
    return hsum512(acc);
}

float lk_vec_dot_q4_0_q8_0_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    const int64_t nb = n / LK_QK8_0;
    const __m512i eight = _mm512_set1_epi8(8);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b += 2) {
        const bool pair = b + 1 < nb;
        const __m512i qx =
            join(nibbles_32(x[b].qs), pair ? nibbles_32(x[b + 1].qs) : _mm256_setzero_si256());
        const __m512i qy =
            join(load256(y[b].qs), pair ? load256(y[b + 1].qs) : _mm256_setzero_si256());
        const __m512 d =
            two_scales(half_to_float(x[b].d) * half_to_float(y[b].d),
                       pair ? half_to_float(x[b + 1].d) * half_to_float(y[b + 1].d) : 0.0f);
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot_offset(qx, qy, eight)), acc);
    }
    return hsum512(acc);
}

/* ---------------------------------------------------------------- K-quants */

/* Four signed 8-bit sub-block scales s[0..3], each over 4 int32 lanes (the
 * 16 weights of its sub-block in a 64-weight vpdpbusd). */
static inline __m512i spread_scales_i8(const int8_t *s) {
    int32_t four;
    memcpy(&four, s, sizeof four);
    const __m128i spread = _mm_shuffle_epi8(
        _mm_cvtsi32_si128(four), _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    return _mm512_cvtepi8_epi32(spread);
}

float lk_vec_dot_q4_k_q8_k_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m512 acc = _mm512_setzero_ps();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        uint8_t sc[8], mn[8];
        int32_t summ = 0;
        for (int k = 0; k < 8; k++) {
            lk_get_scale_min_k4(k, x[b].scales, &sc[k], &mn[k]);
            summ += mn[k] * (y[b].bsums[2 * k] + y[b].bsums[2 * k + 1]);
        }
        __m512i sumi = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) { /* 64 weights: sub-blocks 2j (lanes 0..7), 2j+1 (8..15) */
            const __m256i q = load256(x[b].qs + 32 * j);
            const __m512i levels =
                join(_mm256_and_si256(q, low4), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
            const __m512i a = _mm512_loadu_si512((const void *)(y[b].qs + 64 * j));
            const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), levels, a);
            const __m512i scales =
                join(_mm256_set1_epi32(sc[2 * j]), _mm256_set1_epi32(sc[2 * j + 1]));
            sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(dot, scales));
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
        sum -= y[b].d * half_to_float(x[b].dmin) * (float)summ;
    }
    return hsum512(acc) + sum;
}

float lk_vec_dot_q6_k_q8_k_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q6_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i low2 = _mm256_set1_epi8(3);
    __m512 acc = _mm512_setzero_ps();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int32_t offset = 0; /* sum_k sc_k * bsums[k]; the levels carry +32 */
        for (int k = 0; k < 16; k++) offset += x[b].scales[k] * y[b].bsums[k];
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const __m256i l0 = load256(x[b].ql + 64 * h), l1 = load256(x[b].ql + 64 * h + 32);
            const __m256i qh = load256(x[b].qh + 32 * h);
            __m256i q[4];
            q[0] = _mm256_and_si256(l0, low4);
            q[1] = _mm256_and_si256(l1, low4);
            q[2] = _mm256_and_si256(_mm256_srli_epi16(l0, 4), low4);
            q[3] = _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4);
            for (int g = 0; g < 4; g++) {
                const __m256i hi =
                    _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * g)), low2);
                q[g] = _mm256_or_si256(q[g], _mm256_slli_epi16(hi, 4));
            }
            for (int p = 0; p < 2; p++) { /* groups 2p, 2p+1: 64 weights, sub-blocks k..k+3 */
                const __m512i levels = join(q[2 * p], q[2 * p + 1]);
                const __m512i a = _mm512_loadu_si512((const void *)(y[b].qs + 128 * h + 64 * p));
                const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), levels, a);
                const __m512i scales = spread_scales_i8(x[b].scales + 8 * h + 4 * p);
                sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(dot, scales));
            }
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
        sum -= d * (float)(32 * offset);
    }
    return hsum512(acc) + sum;
}

/* ---------------------------------------------------------------- the other block-32 types */

static inline uint32_t qh_bits(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | ((uint32_t)qh[1] << 8) | ((uint32_t)qh[2] << 16) |
           ((uint32_t)qh[3] << 24);
}

/* Levels 0..31 of two Q5 blocks (nibbles from nibbles_32, fifth
 * bits from the qh words): the 64-bit mask selects the bytes that get 16. */
static inline __m512i q5_levels(__m256i nib0, __m256i nib1, uint32_t qh0, uint32_t qh1) {
    const __mmask64 fifth = (__mmask64)qh0 | ((__mmask64)qh1 << 32);
    return _mm512_or_si512(join(nib0, nib1), _mm512_maskz_mov_epi8(fifth, _mm512_set1_epi8(16)));
}

float lk_vec_dot_q5_0_q8_0_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    const int64_t nb = n / LK_QK8_0;
    const __m512i sixteen = _mm512_set1_epi8(16);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b += 2) {
        const bool pair = b + 1 < nb;
        const __m512i qx =
            q5_levels(nibbles_32(x[b].qs), pair ? nibbles_32(x[b + 1].qs) : _mm256_setzero_si256(),
                      qh_bits(x[b].qh), pair ? qh_bits(x[b + 1].qh) : 0);
        const __m512i qy =
            join(load256(y[b].qs), pair ? load256(y[b + 1].qs) : _mm256_setzero_si256());
        const __m512 d =
            two_scales(half_to_float(x[b].d) * half_to_float(y[b].d),
                       pair ? half_to_float(x[b + 1].d) * half_to_float(y[b + 1].d) : 0.0f);
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot_offset(qx, qy, sixteen)), acc);
    }
    return hsum512(acc);
}

/* Q4_1/Q5_1: unsigned levels as they are, plus m * s per block. */
float lk_vec_dot_q4_1_q8_1_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_1 *x = vx;
    const lk_block_q8_1 *y = vy;
    const int64_t nb = n / LK_QK8_1;
    __m512 acc = _mm512_setzero_ps();
    float mins = 0.0f;
    for (int64_t b = 0; b < nb; b += 2) {
        const bool pair = b + 1 < nb;
        const __m512i qx =
            join(nibbles_32(x[b].qs), pair ? nibbles_32(x[b + 1].qs) : _mm256_setzero_si256());
        const __m512i qy =
            join(load256(y[b].qs), pair ? load256(y[b + 1].qs) : _mm256_setzero_si256());
        const __m512 d =
            two_scales(half_to_float(x[b].d) * half_to_float(y[b].d),
                       pair ? half_to_float(x[b + 1].d) * half_to_float(y[b + 1].d) : 0.0f);
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), qx, qy);
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot), acc);
        mins += half_to_float(x[b].m) * half_to_float(y[b].s);
        if (pair) mins += half_to_float(x[b + 1].m) * half_to_float(y[b + 1].s);
    }
    return hsum512(acc) + mins;
}

float lk_vec_dot_q5_1_q8_1_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_1 *x = vx;
    const lk_block_q8_1 *y = vy;
    const int64_t nb = n / LK_QK8_1;
    __m512 acc = _mm512_setzero_ps();
    float mins = 0.0f;
    for (int64_t b = 0; b < nb; b += 2) {
        const bool pair = b + 1 < nb;
        const __m512i qx =
            q5_levels(nibbles_32(x[b].qs), pair ? nibbles_32(x[b + 1].qs) : _mm256_setzero_si256(),
                      qh_bits(x[b].qh), pair ? qh_bits(x[b + 1].qh) : 0);
        const __m512i qy =
            join(load256(y[b].qs), pair ? load256(y[b + 1].qs) : _mm256_setzero_si256());
        const __m512 d =
            two_scales(half_to_float(x[b].d) * half_to_float(y[b].d),
                       pair ? half_to_float(x[b + 1].d) * half_to_float(y[b + 1].d) : 0.0f);
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), qx, qy);
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(dot), acc);
        mins += half_to_float(x[b].m) * half_to_float(y[b].s);
        if (pair) mins += half_to_float(x[b + 1].m) * half_to_float(y[b + 1].s);
    }
    return hsum512(acc) + mins;
}

/* ---------------------------------------------------------------- Q2_K, Q3_K, Q5_K */

float lk_vec_dot_q2_k_q8_k_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q2_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low2 = _mm256_set1_epi8(3);
    __m512 acc = _mm512_setzero_ps();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int32_t summ = 0;
        int8_t sc[16];
        for (int k = 0; k < 16; k++) {
            summ += (x[b].scales[k] >> 4) * y[b].bsums[k];
            sc[k] = (int8_t)(x[b].scales[k] & 0xF);
        }
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const __m256i bytes = load256(x[b].qs + 32 * h);
            __m256i q[4];
            for (int s = 0; s < 4; s++)
                q[s] = _mm256_and_si256(_mm256_srl_epi16(bytes, _mm_cvtsi32_si128(2 * s)), low2);
            for (int p = 0; p < 2; p++) {
                const __m512i a = _mm512_loadu_si512((const void *)(y[b].qs + 128 * h + 64 * p));
                const __m512i dot =
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), join(q[2 * p], q[2 * p + 1]), a);
                const __m512i scales = spread_scales_i8(sc + 8 * h + 4 * p);
                sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(dot, scales));
            }
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
        sum -= y[b].d * half_to_float(x[b].dmin) * (float)summ;
    }
    return hsum512(acc) + sum;
}

float lk_vec_dot_q3_k_q8_k_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q3_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low2 = _mm256_set1_epi8(3);
    const __m256i one = _mm256_set1_epi8(1);
    __m512 acc = _mm512_setzero_ps();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int8_t sc[16];
        lk_q3_k_scales(x[b].scales, sc);
        int32_t offset = 0; /* sum_k sc_k * bsums[k]; the levels carry +4 */
        for (int k = 0; k < 16; k++) offset += sc[k] * y[b].bsums[k];
        const __m256i hmask = load256(x[b].hmask);
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const __m256i bytes = load256(x[b].qs + 32 * h);
            __m256i q[4];
            for (int s = 0; s < 4; s++) {
                const __m256i lo =
                    _mm256_and_si256(_mm256_srl_epi16(bytes, _mm_cvtsi32_si128(2 * s)), low2);
                const __m256i hb =
                    _mm256_and_si256(_mm256_srl_epi16(hmask, _mm_cvtsi32_si128(4 * h + s)), one);
                q[s] = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
            }
            for (int p = 0; p < 2; p++) {
                const __m512i a = _mm512_loadu_si512((const void *)(y[b].qs + 128 * h + 64 * p));
                const __m512i dot =
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), join(q[2 * p], q[2 * p + 1]), a);
                sumi = _mm512_add_epi32(
                    sumi, _mm512_mullo_epi32(dot, spread_scales_i8(sc + 8 * h + 4 * p)));
            }
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
        sum -= d * (float)(4 * offset);
    }
    return hsum512(acc) + sum;
}

float lk_vec_dot_q5_k_q8_k_avx512(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m512i sixteen = _mm512_set1_epi8(16);
    __m512 acc = _mm512_setzero_ps();
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        uint8_t sc[8], mn[8];
        int32_t summ = 0;
        for (int k = 0; k < 8; k++) {
            lk_get_scale_min_k4(k, x[b].scales, &sc[k], &mn[k]);
            summ += mn[k] * (y[b].bsums[2 * k] + y[b].bsums[2 * k + 1]);
        }
        const __m256i qh = load256(x[b].qh);
        __m512i sumi = _mm512_setzero_si512();
        for (int j = 0; j < 4; j++) {
            const __m256i q = load256(x[b].qs + 32 * j);
            /* Fifth bits: bit 2j of qh[l] for the low nibbles, 2j+1 for the high. */
            const __mmask32 h0 = _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << (2 * j))));
            const __mmask32 h1 =
                _mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << (2 * j + 1))));
            const __mmask64 fifth = (__mmask64)h0 | ((__mmask64)h1 << 32);
            const __m512i levels = _mm512_or_si512(
                join(_mm256_and_si256(q, low4), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4)),
                _mm512_maskz_mov_epi8(fifth, sixteen));
            const __m512i a = _mm512_loadu_si512((const void *)(y[b].qs + 64 * j));
            const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), levels, a);
            const __m512i scales =
                join(_mm256_set1_epi32(sc[2 * j]), _mm256_set1_epi32(sc[2 * j + 1]));
            sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(dot, scales));
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
        sum -= y[b].d * half_to_float(x[b].dmin) * (float)summ;
    }
    return hsum512(acc) + sum;
}
