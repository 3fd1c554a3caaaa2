/* AVX2 dot products of Q4_0/Q8_0 weights with Q8_0 activations.
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

float lk_vec_dot_q8_0_q8_0_avx2(int64_t n, const void *vx, const lk_block_q8_0 *y) {
    const lk_block_q8_0 *x = vx;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
        const __m256i qx = _mm256_loadu_si256((const __m256i *)(const void *)x[b].qs);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)(const void *)y[b].qs);
        acc = _mm256_fmadd_ps(d, block_product(qx, qy), acc);
    }
    return hsum(acc);
}

float lk_vec_dot_q4_0_q8_0_avx2(int64_t n, const void *vx, const lk_block_q8_0 *y) {
    const lk_block_q4_0 *x = vx;
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
