/* AVX2 + FMA + F16C kernels. Each mirrors its scalar twin in kernels_ref.c;
 * sums are split over several accumulators, so results differ from the
 * scalar ones only by float rounding (tests/test_kernels.c bounds it). */
#include <immintrin.h>
#include <math.h>

#include "tensor/dtype.h"
#include "tensor/kernels.h"
#include "tensor/kernels_isa.h"

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 load_f16x8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline __m256 load_bf16x8(const uint16_t *p) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

static float vec_dot_f32(int64_t k, const void *w, const void *x) {
    const float *a = w, *b = x;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= k; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float sum = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < k; i++) sum += a[i] * b[i];
    return sum;
}

static float vec_dot_f16(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w;
    const float *b = x;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
        s0 = _mm256_fmadd_ps(load_f16x8(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(load_f16x8(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_f16x8(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_f16x8(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= k; i += 8) s0 = _mm256_fmadd_ps(load_f16x8(a + i), _mm256_loadu_ps(b + i), s0);
    float sum = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < k; i++) sum += _cvtsh_ss(a[i]) * b[i];
    return sum;
}

static float vec_dot_f16_f16(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
        s0 = _mm256_fmadd_ps(load_f16x8(a + i), load_f16x8(b + i), s0);
        s1 = _mm256_fmadd_ps(load_f16x8(a + i + 8), load_f16x8(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_f16x8(a + i + 16), load_f16x8(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_f16x8(a + i + 24), load_f16x8(b + i + 24), s3);
    }
    for (; i + 8 <= k; i += 8) s0 = _mm256_fmadd_ps(load_f16x8(a + i), load_f16x8(b + i), s0);
    float sum = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < k; i++) sum += _cvtsh_ss(a[i]) * _cvtsh_ss(b[i]);
    return sum;
}

static float vec_dot_bf16(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w;
    const float *b = x;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
        s0 = _mm256_fmadd_ps(load_bf16x8(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(load_bf16x8(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_bf16x8(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_bf16x8(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= k; i += 8) s0 = _mm256_fmadd_ps(load_bf16x8(a + i), _mm256_loadu_ps(b + i), s0);
    float sum = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < k; i++) sum += lk_bf16_to_f32(a[i]) * b[i];
    return sum;
}

static void dot_f32_x4(int64_t k, const float *w, const float *x, int64_t x_stride, float out[4]) {
    const float *x0 = x, *x1 = x + x_stride, *x2 = x + 2 * x_stride, *x3 = x + 3 * x_stride;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        __m256 wv = _mm256_loadu_ps(w + i);
        s0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x0 + i), s0);
        s1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x1 + i), s1);
        s2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x2 + i), s2);
        s3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x3 + i), s3);
    }
    float r0 = hsum256(s0), r1 = hsum256(s1), r2 = hsum256(s2), r3 = hsum256(s3);
    for (; i < k; i++) {
        r0 += w[i] * x0[i];
        r1 += w[i] * x1[i];
        r2 += w[i] * x2[i];
        r3 += w[i] * x3[i];
    }
    out[0] = r0, out[1] = r1, out[2] = r2, out[3] = r3;
}

/* Two rows x four tokens per pass (8 named accumulators fit AVX2's 16
 * registers with the loads), twice. */
static void dot_f32_2x4(int64_t k, const float *w, int64_t w_stride, const float *x,
                        int64_t x_stride, float *out) {
    const float *w0 = w, *w1 = w + w_stride;
    const float *x0 = x, *x1 = x + x_stride, *x2 = x + 2 * x_stride, *x3 = x + 3 * x_stride;
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00,
           a12 = a00, a13 = a00;
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) {
        __m256 r0 = _mm256_loadu_ps(w0 + j), r1 = _mm256_loadu_ps(w1 + j);
        __m256 v = _mm256_loadu_ps(x0 + j);
        a00 = _mm256_fmadd_ps(r0, v, a00);
        a10 = _mm256_fmadd_ps(r1, v, a10);
        v = _mm256_loadu_ps(x1 + j);
        a01 = _mm256_fmadd_ps(r0, v, a01);
        a11 = _mm256_fmadd_ps(r1, v, a11);
        v = _mm256_loadu_ps(x2 + j);
        a02 = _mm256_fmadd_ps(r0, v, a02);
        a12 = _mm256_fmadd_ps(r1, v, a12);
        v = _mm256_loadu_ps(x3 + j);
        a03 = _mm256_fmadd_ps(r0, v, a03);
        a13 = _mm256_fmadd_ps(r1, v, a13);
    }
    __m256 acc[8] = {a00, a01, a02, a03, a10, a11, a12, a13};
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 4; i++) {
            float sum = hsum256(acc[r * 4 + i]);
            const float *wr = w + r * w_stride, *xi = x + i * x_stride;
            for (int64_t t = j; t < k; t++) sum += wr[t] * xi[t];
            out[r * 4 + i] = sum;
        }
}

static void dot_f32_4x4(int64_t k, const float *w, int64_t w_stride, const float *x,
                        int64_t x_stride, float out[16]) {
    dot_f32_2x4(k, w, w_stride, x, x_stride, out);
    dot_f32_2x4(k, w + 2 * w_stride, w_stride, x, x_stride, out + 8);
}

static void f16_to_f32(int64_t k, const void *row, float *out) {
    const uint16_t *r = row;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) _mm256_storeu_ps(out + i, load_f16x8(r + i));
    for (; i < k; i++) out[i] = _cvtsh_ss(r[i]);
}

static void f16_from_f32(int64_t k, const float *x, void *out) {
    uint16_t *o = out;
    int64_t i = 0;
    for (; i + 8 <= k; i += 8)
        _mm_storeu_si128((__m128i *)(o + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < k; i++) o[i] = lk_f32_to_f16(x[i]);
}

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void axpy_f16(int64_t n, float a, const uint16_t *x, float *y) {
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_f16x8(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * _cvtsh_ss(x[i]);
}

static void rmsnorm(int64_t n, const float *x, const float *w, float eps, float *out) {
    __m256 s = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        s = _mm256_fmadd_ps(v, v, s);
    }
    float ss = hsum256(s);
    for (; i < n; i++) ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    __m256 vi = _mm256_set1_ps(inv);
    i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vi);
        if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(out + i, v);
    }
    for (; i < n; i++) out[i] = w ? x[i] * inv * w[i] : x[i] * inv;
}

static void add(int64_t n, const float *x, float *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

static void mul(int64_t n, const float *x, float *y) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] *= x[i];
}

void lk_kernels_fill_avx2(lk_kernels *k) {
    k->isa = "avx2";
    k->f32.vec_dot = vec_dot_f32;
    k->f16.vec_dot = vec_dot_f16;
    k->f16.to_f32 = f16_to_f32;
    k->f16.from_f32 = f16_from_f32;
    k->bf16.vec_dot = vec_dot_bf16;
    k->vec_dot_f16_f16 = vec_dot_f16_f16;
    k->dot_f32_x4 = dot_f32_x4;
    k->dot_f32_4x4 = dot_f32_4x4;
    k->axpy_f32 = axpy_f32;
    k->axpy_f16 = axpy_f16;
    k->rmsnorm = rmsnorm;
    k->add = add;
    k->mul = mul;
}
