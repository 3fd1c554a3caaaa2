/* Quantized dot products (Q4_0, Q8_0 x Q8_0; Q4_K, Q6_K x Q8_K): the scalar
 * reference against a double computation from the dequantized blocks, and
 * each SIMD kernel against the scalar reference, on random data of odd sizes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/quant_dot.h"
#include "test.h"

static uint32_t rng = 2463534242u;
static float rand_unit(void) { return lk_test_rand_unit(&rng); }

typedef float (*dot_fn)(int64_t, const void *, const void *);

/* One size: the scalar kernel against the double dot product of the
 * dequantized rows, the SIMD one against the scalar (error scale: the sum of
 * |products|). */
static void check_size(lk_dtype wtype, int64_t n, dot_fn scalar, dot_fn simd, const char *label) {
    float *w = malloc((size_t)n * sizeof(float)), *a = malloc((size_t)n * sizeof(float));
    float *wd = malloc((size_t)n * sizeof(float)), *ad = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        w[i] = rand_unit() * 0.05f;
        a[i] = rand_unit() * 3.0f;
    }
    const lk_dtype atype = lk_vec_dot_act_type(wtype);
    uint64_t wbytes = 0, abytes = 0;
    CHECK(lk_dtype_row_bytes(wtype, n, &wbytes) && lk_dtype_row_bytes(atype, n, &abytes));
    void *qw = malloc(wbytes), *qa = malloc(abytes);
    CHECK_EQ_INT(lk_quantize_row(wtype, w, qw, n), LK_OK);
    CHECK_EQ_INT(lk_quantize_row(atype, a, qa, n), LK_OK);
    CHECK_EQ_INT(lk_dequantize_row(wtype, qw, wd, n), LK_OK);
    CHECK_EQ_INT(lk_dequantize_row(atype, qa, ad, n), LK_OK);
    /* Dequantized values are (nearly) exact products of scales and small
     * integers, so the double sum below is the dot product to ~1e-7. */
    double exact = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        exact += (double)wd[i] * ad[i];
        scale += fabs((double)wd[i] * ad[i]);
    }
    /* Q8_1 stores s = dy * sum(q) as a half: the affine types' minimum
     * term carries that rounding (2^-11 relative), as in llama.cpp. */
    double tol = 1e-5 * scale + 1e-30;
    if (atype == LK_DTYPE_Q8_1) {
        const size_t wsize = (size_t)lk_dtype_traits_of(wtype)->type_size;
        for (int64_t b = 0; b < n / 32; b++) {
            uint16_t m16, s16;
            memcpy(&m16, (const uint8_t *)qw + (size_t)b * wsize + 2, 2);
            memcpy(&s16, (const uint8_t *)qa + (size_t)b * sizeof(lk_block_q8_1) + 2, 2);
            tol += 1e-3 * fabs((double)lk_f16_to_f32(m16) * lk_f16_to_f32(s16));
        }
    }
    const float s = scalar(n, qw, qa);
    CHECK_MSG(fabs(s - exact) <= tol, "%s scalar n=%lld: %.9g vs exact %.9g", label, (long long)n,
              s, exact);
    if (simd) {
        const float v = simd(n, qw, qa);
        CHECK_MSG(fabs(v - s) <= 1e-5 * scale + 1e-30, "%s simd n=%lld: %.9g vs scalar %.9g", label,
                  (long long)n, v, s);
    }
    free(w);
    free(a);
    free(wd);
    free(ad);
    free(qw);
    free(qa);
}

/* matvec = one dot per row; close to the float product of the dequantized
 * weights with the unquantized activations. */
static void test_matvec(lk_dtype t, int64_t rows, int64_t cols) {
    float *w = malloc((size_t)(rows * cols) * sizeof(float));
    float *wd = malloc((size_t)(rows * cols) * sizeof(float));
    float *x = malloc((size_t)cols * sizeof(float)), *y = malloc((size_t)rows * sizeof(float));
    for (int64_t i = 0; i < rows * cols; i++) w[i] = rand_unit();
    for (int64_t i = 0; i < cols; i++) x[i] = rand_unit();
    uint64_t row_bytes = 0;
    CHECK(lk_dtype_row_bytes(t, cols, &row_bytes));
    uint8_t *q = malloc(row_bytes * (uint64_t)rows);
    CHECK_EQ_INT(lk_quantize_row(t, w, q, rows * cols), LK_OK);
    CHECK_EQ_INT(lk_dequantize_row(t, q, wd, rows * cols), LK_OK);
    const uint64_t sbytes = lk_quant_matvec_scratch_bytes(t, cols);
    CHECK(sbytes > 0);
    void *scratch = malloc(sbytes);
    CHECK_EQ_INT(lk_quant_matvec(t, q, rows, cols, x, y, scratch), LK_OK);
    double err = 0, norm = 0;
    for (int64_t r = 0; r < rows; r++) {
        double ref = 0;
        for (int64_t c = 0; c < cols; c++) ref += (double)wd[r * cols + c] * x[c];
        err += (y[r] - ref) * (y[r] - ref);
        norm += ref * ref;
        /* Exactly the kernel's value for that row. */
        CHECK(y[r] == lk_vec_dot_for(t)(cols, q + (uint64_t)r * row_bytes, scratch));
    }
    CHECK_MSG(sqrt(err / norm) < 0.02, "%s matvec: relative error %g", lk_dtype_name(t),
              sqrt(err / norm));
    CHECK_EQ_INT(lk_quant_matvec(t, q, rows, cols + 1, x, y, scratch), LK_ERR_ARG);
    free(scratch);
    free(q);
    free(w);
    free(wd);
    free(x);
    free(y);
}

int main(void) {
    const int64_t sizes[] = {32, 96, 224, 1056, 4128, 32 * 999};
    const int64_t ksizes[] = {256, 768, 256 * 13, 256 * 47};
    dot_fn q4_simd = NULL, q8_simd = NULL, q4k_simd = NULL, q6k_simd = NULL;
#if defined(__x86_64__)
    const lk_cpu_features *f = lk_cpu();
    if (f->avx2 && f->fma && f->f16c) {
        q4_simd = lk_vec_dot_q4_0_q8_0_avx2;
        q8_simd = lk_vec_dot_q8_0_q8_0_avx2;
        q4k_simd = lk_vec_dot_q4_k_q8_k_avx2;
        q6k_simd = lk_vec_dot_q6_k_q8_k_avx2;
    } else {
        fprintf(stderr, "test_quant_dot: no AVX2 on this CPU, checking the scalar kernels only\n");
    }
#endif
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_size(LK_DTYPE_Q4_0, sizes[i], lk_vec_dot_q4_0_q8_0_scalar, q4_simd, "q4_0");
        check_size(LK_DTYPE_Q8_0, sizes[i], lk_vec_dot_q8_0_q8_0_scalar, q8_simd, "q8_0");
    }
    /* Every type's scalar reference against the dequantized double dot. */
    const lk_dtype all[] = {LK_DTYPE_Q4_1, LK_DTYPE_Q5_0, LK_DTYPE_Q5_1,
                            LK_DTYPE_Q2_K, LK_DTYPE_Q3_K, LK_DTYPE_Q5_K};
    dot_fn all_simd[6] = {NULL};
#if defined(__x86_64__)
    if (q4_simd) {
        all_simd[0] = lk_vec_dot_q4_1_q8_1_avx2;
        all_simd[1] = lk_vec_dot_q5_0_q8_0_avx2;
        all_simd[2] = lk_vec_dot_q5_1_q8_1_avx2;
        all_simd[3] = lk_vec_dot_q2_k_q8_k_avx2;
        all_simd[4] = lk_vec_dot_q3_k_q8_k_avx2;
        all_simd[5] = lk_vec_dot_q5_k_q8_k_avx2;
    }
#endif
    for (size_t t = 0; t < sizeof all / sizeof all[0]; t++) {
        const bool k = lk_vec_dot_act_type(all[t]) == LK_DTYPE_Q8_K;
        for (size_t i = 0; i < 4; i++)
            check_size(all[t], k ? ksizes[i] : sizes[i], lk_vec_dot_scalar_for(all[t]), all_simd[t],
                       lk_dtype_name(all[t]));
    }
    for (size_t i = 0; i < sizeof ksizes / sizeof ksizes[0]; i++) {
        check_size(LK_DTYPE_Q4_K, ksizes[i], lk_vec_dot_q4_k_q8_k_scalar, q4k_simd, "q4_k");
        check_size(LK_DTYPE_Q6_K, ksizes[i], lk_vec_dot_q6_k_q8_k_scalar, q6k_simd, "q6_k");
    }
#if defined(__x86_64__)
    if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni && q4_simd) {
        const struct {
            lk_dtype t;
            dot_fn fn;
        } k512[] = {
            {LK_DTYPE_Q4_0, lk_vec_dot_q4_0_q8_0_avx512},
            {LK_DTYPE_Q4_1, lk_vec_dot_q4_1_q8_1_avx512},
            {LK_DTYPE_Q5_0, lk_vec_dot_q5_0_q8_0_avx512},
            {LK_DTYPE_Q5_1, lk_vec_dot_q5_1_q8_1_avx512},
            {LK_DTYPE_Q8_0, lk_vec_dot_q8_0_q8_0_avx512},
            {LK_DTYPE_Q2_K, lk_vec_dot_q2_k_q8_k_avx512},
            {LK_DTYPE_Q3_K, lk_vec_dot_q3_k_q8_k_avx512},
            {LK_DTYPE_Q4_K, lk_vec_dot_q4_k_q8_k_avx512},
            {LK_DTYPE_Q5_K, lk_vec_dot_q5_k_q8_k_avx512},
            {LK_DTYPE_Q6_K, lk_vec_dot_q6_k_q8_k_avx512},
        };
        for (size_t t = 0; t < sizeof k512 / sizeof k512[0]; t++) {
            const bool k = lk_vec_dot_act_type(k512[t].t) == LK_DTYPE_Q8_K;
            char label[32];
            snprintf(label, sizeof label, "%s avx512", lk_dtype_name(k512[t].t));
            for (size_t i = 0; i < 4; i++)
                check_size(k512[t].t, k ? ksizes[i] : sizes[i], lk_vec_dot_scalar_for(k512[t].t),
                           k512[t].fn, label);
        }
    } else {
        fprintf(stderr, "test_quant_dot: no AVX-512 VNNI on this CPU, its kernels not checked\n");
    }
#endif
    /* Dispatch: a kernel for every weight type, none for activation types. */
    CHECK(lk_vec_dot_for(LK_DTYPE_Q4_0) != NULL);
    CHECK(lk_vec_dot_for(LK_DTYPE_Q8_0) != NULL);
    CHECK(lk_vec_dot_for(LK_DTYPE_Q4_K) != NULL);
    CHECK(lk_vec_dot_for(LK_DTYPE_Q6_K) != NULL);
    CHECK(lk_vec_dot_for(LK_DTYPE_Q5_K) != NULL);
    CHECK(lk_vec_dot_for(LK_DTYPE_Q8_K) == NULL);
    CHECK(lk_vec_dot_act_type(LK_DTYPE_Q5_1) == LK_DTYPE_Q8_1);
    CHECK(lk_vec_dot_act_type(LK_DTYPE_Q6_K) == LK_DTYPE_Q8_K);
    CHECK(lk_vec_dot_act_type(LK_DTYPE_Q4_0) == LK_DTYPE_Q8_0);
    test_matvec(LK_DTYPE_Q4_0, 7, 96);
    test_matvec(LK_DTYPE_Q5_1, 5, 160);
    test_matvec(LK_DTYPE_Q4_K, 9, 512);
    test_matvec(LK_DTYPE_Q6_K, 3, 768);
    CHECK_EQ_INT(lk_quant_matvec(LK_DTYPE_F16, NULL, 1, 32, NULL, NULL, NULL), LK_ERR_UNSUPPORTED);
    CHECK(lk_quant_matvec_scratch_bytes(LK_DTYPE_Q4_K, 100) == 0);
    /* Extreme quants: x = -128 (possible in a file) times y = +-127. */
    lk_block_q8_0 x, y;
    x.d = y.d = lk_f32_to_f16(1.0f);
    for (int j = 0; j < 32; j++) {
        x.qs[j] = (int8_t)(j % 2 ? -128 : 127);
        y.qs[j] = (int8_t)(j % 3 ? 127 : -127);
    }
    const float s = lk_vec_dot_q8_0_q8_0_scalar(32, &x, &y);
    CHECK_NEAR(lk_vec_dot_q8_0_q8_0(32, &x, &y), s, 0);
#if defined(__x86_64__)
    /* VNNI handles an activation of -128 exactly (AVX2 needs [-127, 127]). */
    if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni && q4_simd) {
        for (int j = 0; j < 32; j++) y.qs[j] = (int8_t)(j % 3 ? -128 : 127);
        CHECK_NEAR(lk_vec_dot_q8_0_q8_0_avx512(32, &x, &y), lk_vec_dot_q8_0_q8_0_scalar(32, &x, &y),
                   0);
    }
#endif
    return lk_test_finish("test_quant_dot");
}
