/* AVX2 dot products: Q4_0/Q8_0 weights with Q8_0 activations, Q4_K/Q6_K
 * weights with Q8_K activations.
 *
 * Per block of 32: the int8 products are formed with maddubs, which wants
 * one unsigned operand, so |x| is the unsigned side and y takes x's sign
 * (x*y = |x| * (sign(x)*y)); pairs of int16 products are widened and summed
 * to eight int32 lanes with madd, converted to float and accumulated with
 * FMA against the block's scale product. The 16-bit stage cannot saturate:
 * |x| <= 128 and |y| <= 127 give at most 2*128*127 = 32512 per pair.
 * Scalar twins and the definition: quant_dot.c. */
#include <immintrin.h>

#include "tensor/dtype.h"
#include "tensor/quant_dot.h"

static inline __m256 block_product(__m256i qx, __m256i qy) {
    const __m256i ax = _mm256_sign_epi8(qx, qx);
    const __m256i sy = _mm256_sign_epi8(qy, qx);
    const __m256i dot16 = _mm256_maddubs_epi16(ax, sy);
    const __m256i dot32 = _mm256_madd_epi16(dot16, _mm256_set1_epi16(1));
    return _mm256_cvtepi32_ps(dot32);
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

float lk_vec_dot_q8_0_q8_0_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q8_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        const __m256i qx = _mm256_loadu_si256((const __m256i *)(const void *)x[b].qs);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)(const void *)y[b].qs);
        acc = _mm256_fmadd_ps(d, block_product(qx, qy), acc);
    }
    return hsum(acc);
}

float lk_vec_dot_q4_0_q8_0_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    const __m128i low4 = _mm_set1_epi8(0x0F);
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        /* Elements 0..15 are the low nibbles, 16..31 the high ones. */
        const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)x[b].qs);
        const __m128i lo = _mm_and_si128(packed, low4);
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low4);
        const __m256i qx = _mm256_sub_epi8(_mm256_set_m128i(hi, lo), eight);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)(const void *)y[b].qs);
        acc = _mm256_fmadd_ps(d, block_product(qx, qy), acc);
    }
    return hsum(acc);
}

/* ---------------------------------------------------------------- K-quants
 * The weight levels are unsigned here (Q4_K 0..15, Q6_K 0..63), so maddubs
 * takes them directly: at most 2*63*127 = 16002 per int16 pair. The
 * sub-block scales multiply the int16 pair sums in madd; the Q4_K minimum
 * and the Q6_K offset of 32 go through the Q8_K block sums, in scalar code
 * (8 or 16 multiplies per 256 weights). */

float lk_vec_dot_q4_k_q8_k_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    float sum = 0.0f;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        uint8_t sc[8], mn[8];
        int32_t summ = 0;
        for (int k = 0; k < 8; k++) {
            lk_get_scale_min_k4(k, x[b].scales, &sc[k], &mn[k]);
            summ += mn[k] * (y[b].bsums[2 * k] + y[b].bsums[2 * k + 1]);
        }
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) { /* 64 weights: sub-blocks 2j (low nibbles), 2j+1 (high) */
            const __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(x[b].qs + 32 * j));
            const __m256i qlo = _mm256_and_si256(q, low4);
            const __m256i qhi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
            const __m256i a0 =
                _mm256_loadu_si256((const __m256i *)(const void *)(y[b].qs + 64 * j));
            const __m256i a1 =
                _mm256_loadu_si256((const __m256i *)(const void *)(y[b].qs + 64 * j + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(qlo, a0),
                                                 _mm256_set1_epi16((int16_t)sc[2 * j]));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(qhi, a1),
                                                 _mm256_set1_epi16((int16_t)sc[2 * j + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
        sum -= y[b].d * half_to_float(x[b].dmin) * (float)summ;
    }
    return hsum(acc) + sum;
}

float lk_vec_dot_q6_k_q8_k_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q6_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i low2 = _mm256_set1_epi8(3);
    float sum = 0.0f;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int32_t offset = 0; /* sum_k sc_k * 32 * bsums[k] */
        for (int k = 0; k < 16; k++) offset += x[b].scales[k] * y[b].bsums[k];
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[b].ql + 64 * h, *qhp = x[b].qh + 32 * h;
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)(const void *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(const void *)(ql + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(const void *)qhp);
            /* Groups g = 0..3 of 32 weights: low nibbles of l0, l1, then high. */
            __m256i q[4];
            q[0] = _mm256_and_si256(l0, low4);
            q[1] = _mm256_and_si256(l1, low4);
            q[2] = _mm256_and_si256(_mm256_srli_epi16(l0, 4), low4);
            q[3] = _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4);
            for (int g = 0; g < 4; g++) {
                const __m128i shift = _mm_cvtsi32_si128(2 * g);
                const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(qh, shift), low2);
                const __m256i qg = _mm256_or_si256(q[g], _mm256_slli_epi16(hi, 4));
                const __m256i a =
                    _mm256_loadu_si256((const __m256i *)(const void *)(y[b].qs + 128 * h + 32 * g));
                const int k = 8 * h + 2 * g; /* sub-blocks k (lanes 0..15), k+1 (16..31) */
                const __m256i scales = _mm256_set_m128i(_mm_set1_epi16(x[b].scales[k + 1]),
                                                        _mm_set1_epi16(x[b].scales[k]));
                sumi =
                    _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(qg, a), scales));
            }
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
        sum -= d * (float)(32 * offset);
    }
    return hsum(acc) + sum;
}

/* ---------------------------------------------------------------- 5-bit types */

/* 0xFF in byte i where bit i of `bits` is set, 0 elsewhere. */
static inline __m256i bits_to_bytes(uint32_t bits) {
    /* Bytes 0..7 see byte 0 of bits, 8..15 byte 1, and so on (the shuffle
     * works within each 128-bit lane, both of which hold all four bytes). */
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                          2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

float lk_vec_dot_q5_0_q8_0_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    const __m128i low4 = _mm_set1_epi8(0x0F);
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)x[b].qs);
        const __m128i lo = _mm_and_si128(packed, low4);
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low4);
        const uint32_t qh = (uint32_t)x[b].qh[0] | ((uint32_t)x[b].qh[1] << 8) |
                            ((uint32_t)x[b].qh[2] << 16) | ((uint32_t)x[b].qh[3] << 24);
        const __m256i fifth = _mm256_and_si256(bits_to_bytes(qh), sixteen);
        const __m256i qx =
            _mm256_sub_epi8(_mm256_or_si256(_mm256_set_m128i(hi, lo), fifth), sixteen);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)(const void *)y[b].qs);
        acc = _mm256_fmadd_ps(d, block_product(qx, qy), acc);
    }
    return hsum(acc);
}

float lk_vec_dot_q5_k_q8_k_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const __m256i one = _mm256_set1_epi8(1);
    float sum = 0.0f;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        uint8_t sc[8], mn[8];
        int32_t summ = 0;
        for (int k = 0; k < 8; k++) {
            lk_get_scale_min_k4(k, x[b].scales, &sc[k], &mn[k]);
            summ += mn[k] * (y[b].bsums[2 * k] + y[b].bsums[2 * k + 1]);
        }
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(const void *)x[b].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) { /* 64 weights: sub-blocks 2j (low nibbles), 2j+1 (high) */
            const __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(x[b].qs + 32 * j));
            const __m256i h0 =
                _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * j)), one);
            const __m256i h1 =
                _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * j + 1)), one);
            const __m256i qlo =
                _mm256_or_si256(_mm256_and_si256(q, low4), _mm256_slli_epi16(h0, 4));
            const __m256i qhi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4),
                                                _mm256_slli_epi16(h1, 4));
            const __m256i a0 =
                _mm256_loadu_si256((const __m256i *)(const void *)(y[b].qs + 64 * j));
            const __m256i a1 =
                _mm256_loadu_si256((const __m256i *)(const void *)(y[b].qs + 64 * j + 32));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(qlo, a0),
                                                 _mm256_set1_epi16((int16_t)sc[2 * j]));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(qhi, a1),
                                                 _mm256_set1_epi16((int16_t)sc[2 * j + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
        sum -= y[b].d * half_to_float(x[b].dmin) * (float)summ;
    }
    return hsum(acc) + sum;
}

/* ---------------------------------------------------------------- affine block-32 types
 * Q4_1/Q5_1 levels are unsigned, so maddubs takes them as they are; the
 * minimum contributes m * s per block, s = dy * sum(q8) being stored in Q8_1. */

static inline __m256 unsigned_block_product(__m256i qx, __m256i qy) {
    const __m256i dot32 = _mm256_madd_epi16(_mm256_maddubs_epi16(qx, qy), _mm256_set1_epi16(1));
    return _mm256_cvtepi32_ps(dot32);
}

float lk_vec_dot_q4_1_q8_1_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_1 *x = vx;
    const lk_block_q8_1 *y = vy;
    const __m128i low4 = _mm_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_1; b++) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)x[b].qs);
        const __m256i qx = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), low4),
                                            _mm_and_si128(packed, low4));
        const __m256i qy = _mm256_loadu_si256((const __m256i *)(const void *)y[b].qs);
        acc = _mm256_fmadd_ps(d, unsigned_block_product(qx, qy), acc);
        mins += half_to_float(x[b].m) * half_to_float(y[b].s);
    }
    return hsum(acc) + mins;
}

float lk_vec_dot_q5_1_q8_1_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_1 *x = vx;
    const lk_block_q8_1 *y = vy;
    const __m128i low4 = _mm_set1_epi8(0x0F);
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_1; b++) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        const __m128i packed = _mm_loadu_si128((const __m128i *)(const void *)x[b].qs);
        const __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), low4),
                                             _mm_and_si128(packed, low4));
        const uint32_t qh = (uint32_t)x[b].qh[0] | ((uint32_t)x[b].qh[1] << 8) |
                            ((uint32_t)x[b].qh[2] << 16) | ((uint32_t)x[b].qh[3] << 24);
        const __m256i qx = _mm256_or_si256(nib, _mm256_and_si256(bits_to_bytes(qh), sixteen));
        const __m256i qy = _mm256_loadu_si256((const __m256i *)(const void *)y[b].qs);
        acc = _mm256_fmadd_ps(d, unsigned_block_product(qx, qy), acc);
        mins += half_to_float(x[b].m) * half_to_float(y[b].s);
    }
    return hsum(acc) + mins;
}

/* ---------------------------------------------------------------- Q2_K, Q3_K
 * Both pack 2-bit fields as four groups of 32 per half of 128; group s of
 * half h covers sub-blocks 8h + 2s (lanes 0..15) and 8h + 2s + 1 (16..31). */

static inline __m256i pair_scales(int lo_scale, int hi_scale) {
    return _mm256_set_m128i(_mm_set1_epi16((int16_t)hi_scale), _mm_set1_epi16((int16_t)lo_scale));
}

float lk_vec_dot_q2_k_q8_k_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q2_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low2 = _mm256_set1_epi8(3);
    float sum = 0.0f;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int32_t summ = 0;
        for (int k = 0; k < 16; k++) summ += (x[b].scales[k] >> 4) * y[b].bsums[k];
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i bytes =
                _mm256_loadu_si256((const __m256i *)(const void *)(x[b].qs + 32 * h));
            for (int s = 0; s < 4; s++) {
                const __m256i q =
                    _mm256_and_si256(_mm256_srl_epi16(bytes, _mm_cvtsi32_si128(2 * s)), low2);
                const __m256i a =
                    _mm256_loadu_si256((const __m256i *)(const void *)(y[b].qs + 128 * h + 32 * s));
                const int k = 8 * h + 2 * s;
                const __m256i sc = pair_scales(x[b].scales[k] & 0xF, x[b].scales[k + 1] & 0xF);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q, a), sc));
            }
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
        sum -= y[b].d * half_to_float(x[b].dmin) * (float)summ;
    }
    return hsum(acc) + sum;
}

/* Q3_K levels q - 4 with q = low2 + 4*hbit in 0..7: the products are taken
 * with the unsigned q and 4 * sum(q8) (the block sums) taken off after. */
float lk_vec_dot_q3_k_q8_k_avx2(int64_t n, const void *vx, const void *vy) {
    const lk_block_q3_k *x = vx;
    const lk_block_q8_k *y = vy;
    const __m256i low2 = _mm256_set1_epi8(3);
    const __m256i one = _mm256_set1_epi8(1);
    float sum = 0.0f;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int8_t sc[16];
        lk_q3_k_scales(x[b].scales, sc);
        int32_t offset = 0;
        for (int k = 0; k < 16; k++) offset += sc[k] * y[b].bsums[k];
        const __m256i hmask = _mm256_loadu_si256((const __m256i *)(const void *)x[b].hmask);
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i bytes =
                _mm256_loadu_si256((const __m256i *)(const void *)(x[b].qs + 32 * h));
            for (int s = 0; s < 4; s++) {
                const __m256i lo =
                    _mm256_and_si256(_mm256_srl_epi16(bytes, _mm_cvtsi32_si128(2 * s)), low2);
                const __m256i hb =
                    _mm256_and_si256(_mm256_srl_epi16(hmask, _mm_cvtsi32_si128(4 * h + s)), one);
                const __m256i q = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
                const __m256i a =
                    _mm256_loadu_si256((const __m256i *)(const void *)(y[b].qs + 128 * h + 32 * s));
                const int k = 8 * h + 2 * s;
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q, a),
                                                                pair_scales(sc[k], sc[k + 1])));
            }
        }
        const float d = y[b].d * half_to_float(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
        sum -= d * (float)(4 * offset);
    }
    return hsum(acc) + sum;
}
