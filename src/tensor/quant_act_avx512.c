/* AVX-512 activation quantizers (quant_act.h): one block of 32 (Q8_0) or
 * 256 (Q8_K) floats in two or sixteen registers. */
#include <float.h>
#include <immintrin.h>
#include <string.h>

#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/quant_act.h"
#include "tensor/quant_blocks.h"

static inline __m512 abs_ps(__m512 v) {
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7FFFFFFF)));
}

/* roundf: half away from zero, exactly (no v + 0.5 rounding error). */
static inline __m512 round_away(__m512 v) {
    const __m512 a = abs_ps(v);
    const __m512 t = _mm512_roundscale_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_sub_ps(a, t), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 r = _mm512_mask_add_ps(t, up, t, _mm512_set1_ps(1.0f));
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(r), sign));
}

void lk_quantize_row_q8_0_avx512(const float *x, void *vy, int64_t n) {
    lk_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / LK_QK8_0; b++, x += LK_QK8_0) {
        const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(abs_ps(v0), abs_ps(v1)));
        if (!(amax <= FLT_MAX)) { /* NaN or infinity: the scalar code's handling */
            lk_quantize_row_q8_0(x, &y[b], LK_QK8_0);
            continue;
        }
        const float d = amax / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = lk_f32_to_f16(d);
        const __m512 vid = _mm512_set1_ps(id);
        const __m512 lo = _mm512_set1_ps(-128.0f), hi = _mm512_set1_ps(127.0f);
        const __m512 r0 = _mm512_min_ps(_mm512_max_ps(round_away(_mm512_mul_ps(v0, vid)), lo), hi);
        const __m512 r1 = _mm512_min_ps(_mm512_max_ps(round_away(_mm512_mul_ps(v1, vid)), lo), hi);
        _mm_storeu_si128((__m128i *)(void *)y[b].qs, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(r0)));
        _mm_storeu_si128((__m128i *)(void *)(y[b].qs + 16),
                         _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(r1)));
    }
}

void lk_quantize_row_q8_k_avx512(const float *x, void *vy, int64_t n) {
    lk_block_q8_k *y = vy;
    for (int64_t b = 0; b < n / LK_QK_K; b++, x += LK_QK_K) {
        __m512 m = _mm512_setzero_ps();
        for (int i = 0; i < 16; i++) m = _mm512_max_ps(m, abs_ps(_mm512_loadu_ps(x + 16 * i)));
        const float amax = _mm512_reduce_max_ps(m);
        if (!(amax <= FLT_MAX)) {
            lk_quantize_row_q8_k(x, &y[b], LK_QK_K);
            continue;
        }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        /* The signed value of the first element of largest magnitude, as
         * the scalar scan keeps it. */
        float max = 0.0f;
        for (int i = 0; i < 16; i++) {
            const __m512 v = _mm512_loadu_ps(x + 16 * i);
            const __mmask16 hit = _mm512_cmp_ps_mask(abs_ps(v), _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit) {
                max = x[16 * i + __builtin_ctz(hit)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m512 vs = _mm512_set1_ps(iscale);
        for (int i = 0; i < 16; i++) {
            /* vcvtps2dq rounds half to even, as lk_nearest_int does. */
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(vs, _mm512_loadu_ps(x + 16 * i)));
            q = _mm512_min_epi32(q, _mm512_set1_epi32(127));
            _mm_storeu_si128((__m128i *)(void *)(y[b].qs + 16 * i), _mm512_cvtepi32_epi8(q));
            y[b].bsums[i] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        y[b].d = 1 / iscale;
    }
}
