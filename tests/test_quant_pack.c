/* Packed Q4_0 / Q5_0 / Q8_0 / Q4_K matrices (quant_pack.h): the matrix product over the
 * packed copy against the scalar table's product over the stored rows, for
 * row counts that leave a partial group of 16, block counts odd and large,
 * token counts 1..17 (every tile shape and tails), on the caller's thread
 * and a pool; and each kernel this CPU has (AVX-512 VNNI, AVX2), called
 * over a range of groups, writes exactly those rows, right. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "base/threadpool.h"
#include "tensor/dtype.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"
#include "tensor/quant_dot.h"
#include "tensor/quant_pack.h"
#include "test.h"

static uint32_t rng = 88172645u;
static float rand_unit(void) { return lk_test_rand_unit(&rng); }

typedef struct {
    lk_matrix w;
    uint8_t *rows;   /* stored rows */
    void *packed;    /* packed copy */
    float *dequant;  /* [N][K] */
} test_matrix;

static void make_matrix(lk_dtype t, int64_t n, int64_t k, test_matrix *tm) {
    uint64_t rb = 0;
    CHECK(lk_dtype_row_bytes(t, k, &rb));
    tm->rows = malloc((size_t)rb * (size_t)n);
    tm->dequant = malloc((size_t)(n * k) * sizeof(float));
    float *x = malloc((size_t)k * sizeof(float));
    for (int64_t r = 0; r < n; r++) {
        /* rows of different magnitudes; one all-zero block */
        const float amp = 0.01f + 0.1f * (float)(r % 7);
        for (int64_t i = 0; i < k; i++) x[i] = rand_unit() * amp;
        if (r == 3) memset(x, 0, 32 * sizeof(float));
        CHECK_EQ_INT(lk_quantize_row(t, x, tm->rows + (size_t)r * rb, k), LK_OK);
        CHECK_EQ_INT(lk_dequantize_row(t, tm->rows + (size_t)r * rb, tm->dequant + r * k, k), LK_OK);
    }
    free(x);
    const int64_t groups = lk_pack_n_groups(n);
    const size_t gb = lk_pack_group_bytes(t, k);
    CHECK(gb > 0 && gb % 64 == 0);
    tm->packed = lk_pack_alloc(gb * (size_t)groups);
    memset(tm->packed, 0xA5, gb * (size_t)groups); /* every byte must be written */
    /* in two calls, so a range not starting at group 0 is packed right */
    lk_pack_groups(t, k, tm->rows, (size_t)rb, n, 0, groups / 2, tm->packed);
    lk_pack_groups(t, k, tm->rows, (size_t)rb, n, groups / 2, groups, tm->packed);
    tm->w = (lk_matrix){tm->rows, t, n, k, rb, tm->packed};
}

static void free_matrix(test_matrix *tm) {
    free(tm->rows);
    free(tm->packed);
    free(tm->dequant);
}

/* |y - y_ref| within 1e-5 of sum |w * x| for every output. */
static int count_bad(const test_matrix *tm, const float *x, int64_t m, const float *y,
                     const float *y_ref, const char *what) {
    const int64_t n = tm->w.rows, k = tm->w.cols;
    int bad = 0;
    for (int64_t t = 0; t < m; t++)
        for (int64_t r = 0; r < n; r++) {
            double scale = 0;
            for (int64_t c = 0; c < k; c++)
                scale += fabs((double)tm->dequant[r * k + c] * x[t * k + c]);
            const float v = y[t * n + r], s = y_ref[t * n + r];
            if (!(fabs(v - s) <= 1e-5 * scale + 1e-30)) {
                if (bad < 5)
                    fprintf(stderr, "%s %s n=%lld k=%lld m=%lld [%lld][%lld]: %.9g vs %.9g\n",
                            what, lk_dtype_name(tm->w.dtype), (long long)n, (long long)k,
                            (long long)m, (long long)t, (long long)r, v, s);
                bad++;
            }
        }
    return bad;
}

static void check_shape(lk_dtype t, int64_t n, int64_t k, lk_threadpool *pool) {
    const lk_kernels *best = lk_kernels_best(), *ref = lk_kernels_ref();
    test_matrix tm;
    make_matrix(t, n, k, &tm);
    const int64_t M = 17;
    float *x = malloc((size_t)(M * k) * sizeof(float));
    for (int64_t i = 0; i < M * k; i++) x[i] = rand_unit() * 3.0f;
    float *y = malloc((size_t)(M * n) * sizeof(float)), *y_ref = malloc((size_t)(M * n) * sizeof(float));
    const size_t sb = lk_matmul_scratch_bytes(best, t, M, k, 3);
    CHECK(sb >= lk_matmul_scratch_bytes(ref, t, M, k, 1));
    void *scratch = malloc(sb);
    const int64_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 17}; /* every tile width, tails */
    int bad = 0;
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        const int64_t m = ms[i];
        lk_matmul(NULL, ref, &tm.w, x, m, y_ref, scratch); /* the ref table ignores packed */
        for (int p = 0; p < 2; p++) {
            for (int64_t j = 0; j < m * n; j++) y[j] = NAN;
            lk_matmul(p ? pool : NULL, best, &tm.w, x, m, y, scratch);
            bad += count_bad(&tm, x, m, y, y_ref, p ? "pool" : "caller");
        }
    }
    CHECK_MSG(bad == 0, "%s packed n=%lld k=%lld: %d values wrong", lk_dtype_name(t),
              (long long)n, (long long)k, bad);

    /* Each kernel this CPU has (the AVX2 one too on an AVX-512 machine),
     * called alone over groups [1, last) when there are two or more (rows
     * of group 0 stay untouched), for 1, 2, 3 and 5 tokens. */
    const int64_t groups = lk_pack_n_groups(n), g0 = groups >= 2 ? 1 : 0;
    lk_packed_matmul_fn kernels[2];
    const char *names[2];
    int n_kernels = 0;
    const lk_cpu_features *cpu = lk_cpu();
    if (cpu->avx512f && cpu->avx512bw && cpu->avx512vl && cpu->avx512vnni && cpu->avx2 &&
        cpu->fma && cpu->f16c)
        kernels[n_kernels] = lk_packed_matmul_avx512, names[n_kernels++] = "avx512";
    if (cpu->avx2 && cpu->fma && cpu->f16c && t != LK_DTYPE_Q4_K)
        kernels[n_kernels] = lk_packed_matmul_avx2, names[n_kernels++] = "avx2";
    uint64_t ab = 0;
    const lk_dtype at = lk_vec_dot_act_type(t);
    CHECK(lk_dtype_row_bytes(at, k, &ab));
    uint8_t *a = malloc((size_t)ab * 5);
    lk_pack_act *prep = malloc((size_t)(5 * (k / 32)) * sizeof *prep);
    for (int64_t u = 0; u < 5; u++) {
        CHECK_EQ_INT(lk_quantize_row(at, x + u * k, a + (size_t)u * ab, k), LK_OK);
        lk_pack_prepare(t, k, a + (size_t)u * ab, prep + u * (k / 32));
    }
    lk_matmul(NULL, ref, &tm.w, x, 5, y_ref, scratch);
    for (int ki = 0; ki < n_kernels; ki++)
        for (int64_t m = 1; m <= 5; m += m == 3 ? 2 : 1) {
            for (int64_t j = 0; j < 5 * n; j++) y[j] = NAN;
            kernels[ki](t, k, tm.packed, g0, groups, n, a, (size_t)ab, prep, m, y, (size_t)n);
            int wrong = 0;
            for (int64_t u = 0; u < 5; u++)
                for (int64_t r = 0; r < n; r++) {
                    const float v = y[u * n + r];
                    if (u >= m || r < g0 * LK_PACK_ROWS) wrong += !isnan(v);
                    else wrong += !(fabs(v - y_ref[u * n + r]) <= 1e-3 * (fabs(y_ref[u * n + r]) + 1));
                }
            CHECK_MSG(wrong == 0, "%s %s kernel, n=%lld k=%lld, %lld tokens, groups [%lld, %lld): %d values wrong",
                      names[ki], lk_dtype_name(t), (long long)n, (long long)k, (long long)m,
                      (long long)g0, (long long)groups, wrong);
        }
    free(a);
    free(prep);
    free(scratch);
    free(x);
    free(y);
    free(y_ref);
    free_matrix(&tm);
}

int main(void) {
    const lk_dtype types[] = {LK_DTYPE_Q4_0, LK_DTYPE_Q5_0, LK_DTYPE_Q8_0, LK_DTYPE_Q4_K};
    lk_threadpool *pool = NULL;
    lk_error err;
    CHECK_OK(lk_threadpool_new(3, &pool, &err), &err);
    int any = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const lk_dtype t = types[i];
        if (!lk_packed_matmul_for(t)) continue;
        any = 1;
        const int64_t ns[] = {1, 16, 37, 64, 100};
        const bool k_quant = t == LK_DTYPE_Q4_K;
        const int64_t ks[] = {k_quant ? 256 : 32, k_quant ? 3 * 256 : 7 * 32,
                              k_quant ? 7 * 256 : 29 * 32, k_quant ? 22 * 256 : 152 * 32};
        for (size_t a = 0; a < 5; a++)
            for (size_t b = 0; b < 4; b++) check_shape(t, ns[a], ks[b], pool);
    }
    lk_threadpool_free(pool);
    if (!any) {
        fprintf(stderr, "test_quant_pack: SKIP: no packed kernel on this CPU (needs AVX-512 VNNI)\n");
        return 77;
    }
    return lk_test_finish("test_quant_pack");
}
