/* Tile kernels (quant_tile.h): every rows x tokens shape against the scalar
 * vec_dot of each pair, on random data of odd block counts and padded row
 * strides; then the quantized matrix product (which uses the tiles) of the
 * best kernel table against the scalar table, on the caller's thread and
 * split over a pool, for decode and prefill shapes with tails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/threadpool.h"
#include "tensor/dtype.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/quant.h"
#include "tensor/quant_act.h"
#include "tensor/quant_dot.h"
#include "tensor/quant_tile.h"
#include "test.h"

static uint32_t rng = 2463534242u;
static float rand_unit(void) { return lk_test_rand_unit(&rng); }

static const lk_dtype tiled[] = {LK_DTYPE_Q4_0, LK_DTYPE_Q8_0, LK_DTYPE_Q5_0, LK_DTYPE_Q4_K,
                                 LK_DTYPE_Q5_K, LK_DTYPE_Q6_K};

/* rows x n quantized rows of type t (or its activation type), each row
 * `stride` bytes apart (>= the row's bytes; the gap is filled with junk). */
static uint8_t *quantized_rows(lk_dtype t, int rows, int64_t n, size_t stride, float amp,
                               float **dequant) {
    uint8_t *q = malloc(stride * (size_t)rows);
    float *x = malloc((size_t)n * sizeof(float));
    *dequant = malloc((size_t)rows * (size_t)n * sizeof(float));
    memset(q, 0xA5, stride * (size_t)rows);
    for (int r = 0; r < rows; r++) {
        for (int64_t i = 0; i < n; i++) x[i] = rand_unit() * amp;
        CHECK_EQ_INT(lk_quantize_row(t, x, q + (size_t)r * stride, n), LK_OK);
        CHECK_EQ_INT(lk_dequantize_row(t, q + (size_t)r * stride, *dequant + (size_t)r * n, n),
                     LK_OK);
    }
    free(x);
    return q;
}

static void check_tiles(lk_dtype t, lk_vec_dot_tile_fn tile, int64_t n) {
    const lk_dtype at = lk_vec_dot_act_type(t);
    const lk_vec_dot_fn ref = lk_vec_dot_scalar_for(t);
    uint64_t wb = 0, ab = 0;
    CHECK(lk_dtype_row_bytes(t, n, &wb) && lk_dtype_row_bytes(at, n, &ab));
    /* gaps, so the strides are honoured (keeping the blocks aligned) */
    const size_t ws = (size_t)wb + 6, as = (size_t)ab + 12;
    float *wd, *ad;
    uint8_t *w = quantized_rows(t, 4, n, ws, 0.05f, &wd);
    uint8_t *a = quantized_rows(at, 4, n, as, 3.0f, &ad);
    int bad = 0;
    for (int nr = 1; nr <= 4; nr++)
        for (int nt = 1; nt <= 4; nt++) {
            float out[4 * 7];
            for (int i = 0; i < 4 * 7; i++) out[i] = NAN;
            tile(n, w, ws, nr, a, as, nt, out, 7);
            for (int ti = 0; ti < 4; ti++)
                for (int r = 0; r < 7; r++) {
                    const float v = out[ti * 7 + r];
                    if (ti >= nt || r >= nr) { /* outside the tile: untouched */
                        bad += !isnan(v);
                        continue;
                    }
                    double scale = 0;
                    for (int64_t i = 0; i < n; i++)
                        scale += fabs((double)wd[r * n + i] * ad[ti * n + i]);
                    const float s = ref(n, w + (size_t)r * ws, a + (size_t)ti * as);
                    if (!(fabs(v - s) <= 1e-5 * scale + 1e-30)) {
                        if (bad < 5)
                            fprintf(stderr, "%s n=%lld %dx%d [%d][%d]: %.9g vs scalar %.9g\n",
                                    lk_dtype_name(t), (long long)n, nr, nt, r, ti, v, s);
                        bad++;
                    }
                }
        }
    CHECK_MSG(bad == 0, "%s tile n=%lld: %d values wrong", lk_dtype_name(t), (long long)n, bad);
    free(w);
    free(a);
    free(wd);
    free(ad);
}

/* The quantized matrix product with the best table against the scalar one
 * (same activation quantization, so only summation order differs). */
static void check_matmul(lk_dtype t, lk_threadpool *tp) {
    const lk_kernels *best = lk_kernels_best(), *ref = lk_kernels_ref();
    const int64_t N = 37, K = lk_vec_dot_act_type(t) == LK_DTYPE_Q8_K ? 3 * 256 : 7 * 32;
    const int64_t M = 9;
    uint64_t rb = 0;
    CHECK(lk_dtype_row_bytes(t, K, &rb));
    float *wd;
    uint8_t *wq = quantized_rows(t, (int)N, K, (size_t)rb, 0.05f, &wd);
    float *x = malloc((size_t)(M * K) * sizeof(float));
    float *y1 = malloc((size_t)(M * N) * sizeof(float)), *y2 = malloc((size_t)(M * N) * sizeof(float));
    for (int64_t i = 0; i < M * K; i++) x[i] = rand_unit() * 3.0f;
    const lk_matrix w = {wq, t, N, K, rb, NULL};
    const int nth = lk_threadpool_size(tp);
    /* the best table may want more (Q4_0/Q5_0 prompts widen rows to Q8_0) */
    const size_t sb = lk_matmul_scratch_bytes(best, t, M, K, nth);
    CHECK(sb >= lk_matmul_scratch_bytes(ref, t, M, K, nth));
    void *scratch = malloc(sb);
    int bad = 0;
    const int64_t ms[] = {1, 2, 5, 9, 17}; /* 17: Q4_0/Q5_0 widened to Q8_0, with a tail token */
    for (size_t mi = 0; mi < 4; mi++) {
        const int64_t m = ms[mi];
        lk_matmul(tp, best, &w, x, m, y1, scratch);
        lk_matmul(NULL, ref, &w, x, m, y2, scratch);
        for (int64_t i = 0; i < m; i++)
            for (int64_t r = 0; r < N; r++) {
                double scale = 0;
                for (int64_t c = 0; c < K; c++) scale += fabs((double)wd[r * K + c] * x[i * K + c]);
                bad += !(fabs(y1[i * N + r] - y2[i * N + r]) <= 1e-5 * scale);
            }
    }
    CHECK_MSG(bad == 0, "%s matmul (%d threads): %d values differ from the scalar table",
              lk_dtype_name(t), nth, bad);
    free(scratch);
    free(wq);
    free(wd);
    free(x);
    free(y1);
    free(y2);
}

/* The fast activation quantizers give the scalar ones' bytes: random rows
 * of odd block counts and amplitudes, an all-zero block, exact ties at .5
 * (rounded away from zero for Q8_0, to even for Q8_K) and a largest
 * magnitude held by both signs (the first one sets Q8_K's sign). */
static void check_act_quant(lk_dtype t) {
    const lk_quantize_act_fn fast = lk_quantize_act_for(t);
    if (!fast) {
        fprintf(stderr, "test_quant_tile: no fast %s quantizer on this CPU\n", lk_dtype_name(t));
        return;
    }
    const int64_t bsz = t == LK_DTYPE_Q8_K ? 256 : 32;
    const int64_t n = bsz * 7;
    uint64_t rb = 0;
    CHECK(lk_dtype_row_bytes(t, n, &rb));
    float *x = malloc((size_t)n * sizeof(float));
    uint8_t *q1 = malloc(rb), *q2 = malloc(rb);
    const float amps[] = {1e-3f, 0.7f, 5.0f, 3e4f};
    for (int round = 0; round < 4; round++) {
        for (int64_t i = 0; i < n; i++) x[i] = rand_unit() * amps[round];
        for (int64_t i = bsz; i < 2 * bsz; i++) x[i] = 0.0f;
        for (int64_t i = 0; i < bsz; i++) x[2 * bsz + i] = (float)(i % 32) - 15.5f; /* ties */
        x[2 * bsz + 3] = 127.0f;
        x[3 * bsz + 5] = -2 * amps[round];
        x[3 * bsz + 9] = 2 * amps[round];
        memset(q1, 0x5A, rb);
        memset(q2, 0xA5, rb);
        CHECK_EQ_INT(lk_quantize_row(t, x, q1, n), LK_OK);
        fast(x, q2, n);
        CHECK_MSG(memcmp(q1, q2, rb) == 0, "%s fast quantizer differs (amplitude %g)",
                  lk_dtype_name(t), amps[round]);
    }
    free(x);
    free(q1);
    free(q2);
}

int main(void) {
    check_act_quant(LK_DTYPE_Q8_0);
    check_act_quant(LK_DTYPE_Q8_K);
    int any = 0;
    for (size_t i = 0; i < sizeof tiled / sizeof tiled[0]; i++) {
        const lk_dtype t = tiled[i];
        const lk_vec_dot_tile_fn tile = lk_vec_dot_tile_for(t);
        if (!tile) continue;
        any = 1;
        const bool k = lk_vec_dot_act_type(t) == LK_DTYPE_Q8_K;
        /* odd block counts (the block-32 kernels take blocks in pairs and,
         * decoding, eight at a time in chunks of 384: 401 crosses one) */
        const int64_t sizes[] = {k ? 256 : 32, k ? 3 * 256 : 7 * 32, k ? 11 * 256 : 29 * 32,
                                 k ? 47 * 256 : 401 * 32};
        for (size_t s = 0; s < 4; s++) check_tiles(t, tile, sizes[s]);
    }
    if (!any) fprintf(stderr, "test_quant_tile: no tile kernels on this CPU; matmul checked only\n");
    lk_threadpool *pool = NULL;
    lk_error err;
    CHECK_OK(lk_threadpool_new(3, &pool, &err), &err);
    const lk_dtype all[] = {LK_DTYPE_Q4_0, LK_DTYPE_Q8_0, LK_DTYPE_Q4_K, LK_DTYPE_Q6_K,
                            LK_DTYPE_Q4_1, LK_DTYPE_Q5_0, LK_DTYPE_Q5_K, LK_DTYPE_Q3_K};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        check_matmul(all[i], NULL);
        check_matmul(all[i], pool);
    }
    lk_threadpool_free(pool);
    return lk_test_finish("test_quant_tile");
}
