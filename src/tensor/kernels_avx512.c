/* AVX-512 kernels (AVX-512F only, so any AVX-512 CPU runs them). Each mirrors
 * its scalar twin in kernels_ref.c; tails shorter than a vector fall back to
 * scalar code. */
#include <immintrin.h>
#include <math.h>

#include "tensor/dtype.h"
#include "tensor/kernels.h"
#include "tensor/kernels_isa.h"

static inline __m512 load_f16x16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

static inline __m512 load_bf16x16(const uint16_t *p) {
    __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

static float vec_dot_f32(int64_t k, const void *w, const void *x) {
    const float *a = w, *b = x;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= k; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= k; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    for (; i < k; i++) sum += a[i] * b[i];
    return sum;
}

static float vec_dot_f16(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w;
    const float *b = x;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= k; i += 64) {
        s0 = _mm512_fmadd_ps(load_f16x16(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(load_f16x16(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(load_f16x16(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(load_f16x16(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= k; i += 16) s0 = _mm512_fmadd_ps(load_f16x16(a + i), _mm512_loadu_ps(b + i), s0);
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    for (; i < k; i++) sum += lk_f16_to_f32(a[i]) * b[i];
    return sum;
}

static float vec_dot_bf16(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w;
    const float *b = x;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= k; i += 64) {
        s0 = _mm512_fmadd_ps(load_bf16x16(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(load_bf16x16(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(load_bf16x16(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(load_bf16x16(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= k; i += 16) s0 = _mm512_fmadd_ps(load_bf16x16(a + i), _mm512_loadu_ps(b + i), s0);
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    for (; i < k; i++) sum += lk_bf16_to_f32(a[i]) * b[i];
    return sum;
}

static void dot_f32_x4(int64_t k, const float *w, const float *x, int64_t x_stride, float out[4]) {
    const float *x0 = x, *x1 = x + x_stride, *x2 = x + 2 * x_stride, *x3 = x + 3 * x_stride;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        __m512 wv = _mm512_loadu_ps(w + i);
        s0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x0 + i), s0);
        s1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x1 + i), s1);
        s2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x2 + i), s2);
        s3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x3 + i), s3);
    }
    float r0 = _mm512_reduce_add_ps(s0), r1 = _mm512_reduce_add_ps(s1),
          r2 = _mm512_reduce_add_ps(s2), r3 = _mm512_reduce_add_ps(s3);
    for (; i < k; i++) {
        r0 += w[i] * x0[i];
        r1 += w[i] * x1[i];
        r2 += w[i] * x2[i];
        r3 += w[i] * x3[i];
    }
    out[0] = r0, out[1] = r1, out[2] = r2, out[3] = r3;
}

static void f16_to_f32(int64_t k, const void *row, float *out) {
    const uint16_t *r = row;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) _mm512_storeu_ps(out + i, load_f16x16(r + i));
    for (; i < k; i++) out[i] = lk_f16_to_f32(r[i]);
}

static void f16_from_f32(int64_t k, const float *x, void *out) {
    uint16_t *o = out;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16)
        _mm256_storeu_si256((__m256i *)(o + i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < k; i++) o[i] = lk_f32_to_f16(x[i]);
}

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void axpy_f16(int64_t n, float a, const uint16_t *x, float *y) {
    __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, load_f16x16(x + i), _mm512_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * lk_f16_to_f32(x[i]);
}

static void rmsnorm(int64_t n, const float *x, const float *w, float eps, float *out) {
    __m512 s = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        s = _mm512_fmadd_ps(v, v, s);
    }
    float ss = _mm512_reduce_add_ps(s);
    for (; i < n; i++) ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    __m512 vi = _mm512_set1_ps(inv);
    i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + i), vi);
        if (w) v = _mm512_mul_ps(v, _mm512_loadu_ps(w + i));
        _mm512_storeu_ps(out + i, v);
    }
    for (; i < n; i++) out[i] = w ? x[i] * inv * w[i] : x[i] * inv;
}

static void add(int64_t n, const float *x, float *y) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

static void mul(int64_t n, const float *x, float *y) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
    for (; i < n; i++) y[i] *= x[i];
}

void lk_kernels_fill_avx512(lk_kernels *k) {
    k->isa = "avx512";
    k->f32.vec_dot = vec_dot_f32;
    k->f16.vec_dot = vec_dot_f16;
    k->f16.to_f32 = f16_to_f32;
    k->f16.from_f32 = f16_from_f32;
    k->bf16.vec_dot = vec_dot_bf16;
    k->dot_f32_x4 = dot_f32_x4;
    k->axpy_f32 = axpy_f32;
    k->axpy_f16 = axpy_f16;
    k->rmsnorm = rmsnorm;
    k->add = add;
    k->mul = mul;
}
