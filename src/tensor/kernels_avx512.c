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
    if (i + 8 <= k) { /* half a vector: small rows (head_dim 8, tiny models) */
        __m256 h = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i))),
                                 _mm256_loadu_ps(b + i));
        __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        q = _mm_add_ps(q, _mm_movehl_ps(q, q));
        q = _mm_add_ss(q, _mm_movehdup_ps(q));
        sum += _mm_cvtss_f32(q);
        i += 8;
    }
    for (; i < k; i++) sum += _cvtsh_ss(a[i]) * b[i];
    return sum;
}

static float vec_dot_f16_f16(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= k; i += 64) {
        s0 = _mm512_fmadd_ps(load_f16x16(a + i), load_f16x16(b + i), s0);
        s1 = _mm512_fmadd_ps(load_f16x16(a + i + 16), load_f16x16(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(load_f16x16(a + i + 32), load_f16x16(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(load_f16x16(a + i + 48), load_f16x16(b + i + 48), s3);
    }
    for (; i + 16 <= k; i += 16) s0 = _mm512_fmadd_ps(load_f16x16(a + i), load_f16x16(b + i), s0);
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    for (; i < k; i++) sum += _cvtsh_ss(a[i]) * _cvtsh_ss(b[i]);
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

/* Written out by hand: sixteen named accumulators stay in registers
 * (arrays indexed in loops may not at -O2). */
static void dot_f32_4x4(int64_t k, const float *w, int64_t w_stride, const float *x,
                        int64_t x_stride, float out[16]) {
    const float *w0 = w, *w1 = w + w_stride, *w2 = w + 2 * w_stride, *w3 = w + 3 * w_stride;
    const float *x0 = x, *x1 = x + x_stride, *x2 = x + 2 * x_stride, *x3 = x + 3 * x_stride;
    __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00,
           a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00,
           a31 = a00, a32 = a00, a33 = a00;
    int64_t j = 0;
    for (; j + 16 <= k; j += 16) {
        __m512 v0 = _mm512_loadu_ps(x0 + j), v1 = _mm512_loadu_ps(x1 + j),
               v2 = _mm512_loadu_ps(x2 + j), v3 = _mm512_loadu_ps(x3 + j);
        __m512 r = _mm512_loadu_ps(w0 + j);
        a00 = _mm512_fmadd_ps(r, v0, a00);
        a01 = _mm512_fmadd_ps(r, v1, a01);
        a02 = _mm512_fmadd_ps(r, v2, a02);
        a03 = _mm512_fmadd_ps(r, v3, a03);
        r = _mm512_loadu_ps(w1 + j);
        a10 = _mm512_fmadd_ps(r, v0, a10);
        a11 = _mm512_fmadd_ps(r, v1, a11);
        a12 = _mm512_fmadd_ps(r, v2, a12);
        a13 = _mm512_fmadd_ps(r, v3, a13);
        r = _mm512_loadu_ps(w2 + j);
        a20 = _mm512_fmadd_ps(r, v0, a20);
        a21 = _mm512_fmadd_ps(r, v1, a21);
        a22 = _mm512_fmadd_ps(r, v2, a22);
        a23 = _mm512_fmadd_ps(r, v3, a23);
        r = _mm512_loadu_ps(w3 + j);
        a30 = _mm512_fmadd_ps(r, v0, a30);
        a31 = _mm512_fmadd_ps(r, v1, a31);
        a32 = _mm512_fmadd_ps(r, v2, a32);
        a33 = _mm512_fmadd_ps(r, v3, a33);
    }
    __m512 acc[16] = {a00, a01, a02, a03, a10, a11, a12, a13,
                      a20, a21, a22, a23, a30, a31, a32, a33};
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 4; i++) {
            float sum = _mm512_reduce_add_ps(acc[r * 4 + i]);
            const float *wr = w + r * w_stride, *xi = x + i * x_stride;
            for (int64_t t = j; t < k; t++) sum += wr[t] * xi[t];
            out[r * 4 + i] = sum;
        }
}

static void f16_to_f32(int64_t k, const void *row, float *out) {
    const uint16_t *r = row;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) _mm512_storeu_ps(out + i, load_f16x16(r + i));
    for (; i < k; i++) out[i] = _cvtsh_ss(r[i]);
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
    for (; i < n; i++) y[i] += a * _cvtsh_ss(x[i]);
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
    k->vec_dot_f16_f16 = vec_dot_f16_f16;
    k->dot_f32_x4 = dot_f32_x4;
    k->dot_f32_4x4 = dot_f32_4x4;
    k->axpy_f32 = axpy_f32;
    k->axpy_f16 = axpy_f16;
    k->rmsnorm = rmsnorm;
    k->add = add;
    k->mul = mul;
}
