/* Times the quantized dot kernels on one thread: one lk_vec_dot_for dot per
 * (row, token) against the tile kernel (lk_vec_dot_tile_for, 4 rows x T
 * tokens per call; for T = 1 the tile kernel's decode path), in GMAC/s
 * (multiply-adds per second), and the packed kernel over a packed copy
 * (quant_pack.h, all tokens in one call), best of 7 rounds, timed with the thread's CPU
 * time so other jobs on a shared machine disturb it less than wall time.
 *
 *   build/quant_kernels [TYPE [ROWS [COLS [TOKENS [REPS]]]]]
 *
 * TYPE q4_0 (default), q5_0, q8_0, q4_k, q6_k, ...; ROWS 64 keeps the
 * weights in cache (kernel speed), 40000 streams them from memory (decode
 * speed); COLS a multiple of the block size (default 1024); TOKENS 1..4
 * (default 1); REPS passes over the matrix per round. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/quant_dot.h"
#include "tensor/quant_pack.h"
#include "tensor/quant_tile.h"

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t rng = 2463534242u;
static float rand_unit(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (float)(rng >> 8) / (float)(1u << 23) - 1.0f;
}

int main(int argc, char **argv) {
    const char *tname = argc > 1 ? argv[1] : "q4_0";
    const long rows = argc > 2 ? atol(argv[2]) : 64;
    const long cols = argc > 3 ? atol(argv[3]) : 1024;
    const int nt = argc > 4 ? atoi(argv[4]) : 1;
    const long reps = argc > 5 ? atol(argv[5]) : (rows > 1000 ? 1 : 2000);
    const lk_dtype t = lk_dtype_from_name(tname);
    const lk_dtype at = lk_vec_dot_act_type(t);
    uint64_t wb = 0, ab = 0;
    if (at == LK_DTYPE_INVALID || rows < 4 || rows % 4 || nt < 1 || nt > 4 || reps < 1 ||
        !lk_dtype_row_bytes(t, cols, &wb) || !lk_dtype_row_bytes(at, cols, &ab)) {
        fprintf(stderr, "usage: quant_kernels [TYPE [ROWS (multiple of 4) [COLS (multiple of the "
                        "block) [TOKENS (1-4) [REPS]]]]]\n");
        return 2;
    }
    float *x = malloc((size_t)cols * sizeof(float));
    char *w = malloc((size_t)wb * (size_t)rows), *a = malloc((size_t)ab * 4);
    float *y = malloc((size_t)rows * 4 * sizeof(float));
    if (!x || !w || !a || !y) return 1;
    for (long r = 0; r < rows; r++) {
        for (long i = 0; i < cols; i++) x[i] = rand_unit();
        lk_quantize_row(t, x, w + (size_t)r * wb, cols);
    }
    for (int i = 0; i < 4; i++) {
        for (long c = 0; c < cols; c++) x[c] = rand_unit();
        lk_quantize_row(at, x, a + (size_t)i * ab, cols);
    }
    /* the packed copy (quant_pack.h) where this CPU has its kernel */
    const lk_packed_matmul_fn packed_fn = lk_packed_matmul_for(t);
    const long groups = (long)lk_pack_n_groups(rows);
    void *packed = NULL;
    lk_pack_act *prep = NULL;
    if (packed_fn) {
        packed = lk_pack_alloc(lk_pack_group_bytes(t, cols) * (size_t)groups);
        prep = malloc((size_t)(4 * (cols / 32)) * sizeof *prep);
        if (!packed || !prep) return 1;
        lk_pack_groups(t, cols, w, (size_t)wb, rows, 0, groups, packed);
        for (int i = 0; i < 4; i++) lk_pack_prepare(t, cols, a + (size_t)i * ab, prep + i * (cols / 32));
    }
    const lk_vec_dot_fn dot = lk_vec_dot_for(t);
    const lk_vec_dot_tile_fn tile = lk_vec_dot_tile_for(t);
    double best_dot = 1e30, best_tile = 1e30, best_packed = 1e30;
    for (int round = 0; round < 7; round++) {
        double t0 = cpu_seconds();
        for (long p = 0; p < reps; p++)
            for (int i = 0; i < nt; i++)
                for (long r = 0; r < rows; r++)
                    y[i * rows + r] = dot(cols, w + (size_t)r * wb, a + (size_t)i * ab);
        double t1 = cpu_seconds();
        if (tile)
            for (long p = 0; p < reps; p++)
                for (long r = 0; r < rows; r += 4)
                    tile(cols, w + (size_t)r * wb, (size_t)wb, 4, a, (size_t)ab, nt, y + r,
                         (size_t)rows);
        double t2 = cpu_seconds();
        if (packed_fn)
            for (long p = 0; p < reps; p++)
                packed_fn(t, cols, packed, 0, groups, rows, a, (size_t)ab, prep, nt, y, (size_t)rows);
        double t3 = cpu_seconds();
        if (t3 - t2 < best_packed) best_packed = t3 - t2;
        if (t1 - t0 < best_dot) best_dot = t1 - t0;
        if (t2 - t1 < best_tile) best_tile = t2 - t1;
    }
    const double macs = (double)reps * (double)rows * (double)cols * nt;
    printf("%s rows=%ld cols=%ld tokens=%d: vec_dot %.2f GMAC/s", tname, rows, cols, nt,
           macs / best_dot * 1e-9);
    if (tile) printf(", tile %.2f GMAC/s", macs / best_tile * 1e-9);
    else printf(", no tile kernel on this CPU");
    if (packed_fn) printf(", packed %.2f GMAC/s\n", macs / best_packed * 1e-9);
    else printf(", no packed kernel\n");
    free(packed);
    free(prep);
    free(x);
    free(w);
    free(a);
    free(y);
    return 0;
}
