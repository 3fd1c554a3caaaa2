/* Scalar reference kernels: the definition of what every SIMD kernel in
 * kernels_avx2.c / kernels_avx512.c must compute. Plain loops, float
 * accumulation in index order, no tricks. */
#include <math.h>

#include "tensor/dtype.h"
#include "tensor/kernels.h"

/* ---------------------------------------------------------------- dots */

float lk_vec_dot_f32_ref(int64_t k, const void *w, const void *x) {
    const float *a = w, *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < k; i++) sum += a[i] * b[i];
    return sum;
}

float lk_vec_dot_f16_ref(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w;
    const float *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < k; i++) sum += lk_f16_to_f32(a[i]) * b[i];
    return sum;
}

float lk_vec_dot_bf16_ref(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w;
    const float *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < k; i++) sum += lk_bf16_to_f32(a[i]) * b[i];
    return sum;
}

float lk_vec_dot_f16_f16_ref(int64_t k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < k; i++) sum += lk_f16_to_f32(a[i]) * lk_f16_to_f32(b[i]);
    return sum;
}

void lk_dot_f32_x4_ref(int64_t k, const float *w, const float *x, int64_t x_stride, float out[4]) {
    for (int i = 0; i < 4; i++) out[i] = lk_vec_dot_f32_ref(k, w, x + i * x_stride);
}

void lk_dot_f32_4x4_ref(int64_t k, const float *w, int64_t w_stride, const float *x,
                        int64_t x_stride, float out[16]) {
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 4; i++)
            out[r * 4 + i] = lk_vec_dot_f32_ref(k, w + r * w_stride, x + i * x_stride);
}

/* ---------------------------------------------------------------- conversions */

static void f32_to_f32(int64_t k, const void *row, float *out) {
    const float *r = row;
    for (int64_t i = 0; i < k; i++) out[i] = r[i];
}
static void f32_from_f32(int64_t k, const float *x, void *out) {
    float *o = out;
    for (int64_t i = 0; i < k; i++) o[i] = x[i];
}
static void f16_to_f32(int64_t k, const void *row, float *out) {
    const uint16_t *r = row;
    for (int64_t i = 0; i < k; i++) out[i] = lk_f16_to_f32(r[i]);
}
static void f16_from_f32(int64_t k, const float *x, void *out) {
    uint16_t *o = out;
    for (int64_t i = 0; i < k; i++) o[i] = lk_f32_to_f16(x[i]);
}
static void bf16_to_f32(int64_t k, const void *row, float *out) {
    const uint16_t *r = row;
    for (int64_t i = 0; i < k; i++) out[i] = lk_bf16_to_f32(r[i]);
}
static void bf16_from_f32(int64_t k, const float *x, void *out) {
    uint16_t *o = out;
    for (int64_t i = 0; i < k; i++) o[i] = lk_f32_to_bf16(x[i]);
}

/* ---------------------------------------------------------------- vector ops */

static void axpy_f32(int64_t n, float a, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}
static void axpy_f16(int64_t n, float a, const uint16_t *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] += a * lk_f16_to_f32(x[i]);
}

void lk_rmsnorm_ref(int64_t n, const float *x, const float *w, float eps, float *out) {
    float ss = 0.0f;
    for (int64_t i = 0; i < n; i++) ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    for (int64_t i = 0; i < n; i++) out[i] = w ? x[i] * inv * w[i] : x[i] * inv;
}

static void add_ref(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}
static void mul_ref(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] *= x[i];
}

static const lk_kernels k_ref = {
    .isa = "scalar",
    .f32 = {LK_DTYPE_F32, lk_vec_dot_f32_ref, f32_to_f32, f32_from_f32, NULL, NULL},
    .f16 = {LK_DTYPE_F32, lk_vec_dot_f16_ref, f16_to_f32, f16_from_f32, NULL, NULL},
    .bf16 = {LK_DTYPE_F32, lk_vec_dot_bf16_ref, bf16_to_f32, bf16_from_f32, NULL, NULL},
    .vec_dot_f16_f16 = lk_vec_dot_f16_f16_ref,
    .dot_f32_x4 = lk_dot_f32_x4_ref,
    .dot_f32_4x4 = lk_dot_f32_4x4_ref,
    .axpy_f32 = axpy_f32,
    .axpy_f16 = axpy_f16,
    .rmsnorm = lk_rmsnorm_ref,
    .add = add_ref,
    .mul = mul_ref,
};

const lk_kernels *lk_kernels_ref(void) { return &k_ref; }

/* ---------------------------------------------------------------- scalar-only ops */

void lk_layernorm(int64_t n, const float *x, const float *w, const float *b, float eps,
                  float *out) {
    float mean = 0.0f;
    for (int64_t i = 0; i < n; i++) mean += x[i];
    mean /= (float)n;
    float var = 0.0f;
    for (int64_t i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= (float)n;
    float inv = 1.0f / sqrtf(var + eps);
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] - mean) * inv;
        if (w) v *= w[i];
        if (b) v += b[i];
        out[i] = v;
    }
}

void lk_softmax(int64_t n, float *x) {
    if (n <= 0) return;
    float max = x[0];
    for (int64_t i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void lk_silu(int64_t n, float *x) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}

void lk_gelu(int64_t n, float *x) {
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void lk_gelu_tanh(int64_t n, float *x) {
    const float c = 0.79788456080286536f; /* sqrt(2/pi) */
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
    }
}

void lk_softcap(int64_t n, float *x, float cap) {
    for (int64_t i = 0; i < n; i++) x[i] = cap * tanhf(x[i] / cap);
}

void lk_scale(int64_t n, float *x, float s) {
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}
