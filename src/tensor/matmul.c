/* Matrix product driver: activation conversion, row split over threads,
 * cache blocking. The arithmetic lives in the per-dtype vec_dot kernels. */
#include "tensor/matmul.h"

#include "base/error.h"
#include "tensor/dtype.h"

/* Weight rows per block: a block is reused for every token of a batch, so it
 * should sit in L1/L2 (16 rows of 4096 F16 values = 128 KiB). */
#define ROW_BLOCK 16

lk_status lk_matrix_check(const lk_kernels *kern, const lk_matrix *w, const char *name,
                          lk_error *err) {
    const lk_dtype_kernels *dk = lk_kernels_dtype(kern, w->dtype);
    if (!dk) {
        const char *dn = lk_dtype_name(w->dtype);
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: weights of type %s cannot be multiplied yet (supported: f32, "
                            "f16, bf16)",
                            name, dn ? dn : "unknown");
    }
    uint64_t rb;
    if (!lk_dtype_row_bytes(w->dtype, w->cols, &rb) || rb != w->row_bytes)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: %lld columns do not fit type %s", name,
                            (long long)w->cols, lk_dtype_name(w->dtype));
    return LK_OK;
}

size_t lk_matmul_scratch_bytes(const lk_kernels *kern, lk_dtype wt, int64_t m, int64_t k) {
    const lk_dtype_kernels *dk = lk_kernels_dtype(kern, wt);
    if (!dk || dk->act_dtype == LK_DTYPE_F32) return 0;
    uint64_t rb;
    if (!lk_dtype_row_bytes(dk->act_dtype, k, &rb)) return 0;
    return (size_t)rb * (size_t)m;
}

typedef struct {
    const lk_matrix *w;
    lk_vec_dot_fn dot;
    const char *xa;     /* activations in act_dtype: [m] rows of xa_stride bytes */
    size_t xa_stride;
    int64_t m;
    float *y;
} matmul_job;

static void matmul_rows(void *ctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const matmul_job *j = ctx;
    const lk_matrix *w = j->w;
    const char *wdata = w->data;
    int64_t n = w->rows, k = w->cols;
    for (int64_t r0 = begin; r0 < end; r0 += ROW_BLOCK) {
        int64_t r1 = r0 + ROW_BLOCK < end ? r0 + ROW_BLOCK : end;
        for (int64_t t = 0; t < j->m; t++) {
            const void *xt = j->xa + (size_t)t * j->xa_stride;
            float *yt = j->y + t * n;
            for (int64_t r = r0; r < r1; r++)
                yt[r] = j->dot(k, wdata + (size_t)r * w->row_bytes, xt);
        }
    }
}

void lk_matmul(lk_threadpool *tp, const lk_kernels *kern, const lk_matrix *w, const float *x,
               int64_t m, float *y, void *scratch) {
    const lk_dtype_kernels *dk = lk_kernels_dtype(kern, w->dtype);
    matmul_job j = {.w = w, .dot = dk->vec_dot, .m = m, .y = y};
    if (dk->act_dtype == LK_DTYPE_F32) {
        j.xa = (const char *)x;
        j.xa_stride = (size_t)w->cols * sizeof(float);
    } else {
        const lk_dtype_kernels *ak = lk_kernels_dtype(kern, dk->act_dtype);
        uint64_t rb = 0;
        lk_dtype_row_bytes(dk->act_dtype, w->cols, &rb);
        for (int64_t t = 0; t < m; t++)
            ak->from_f32(w->cols, x + t * w->cols, (char *)scratch + (size_t)t * rb);
        j.xa = scratch;
        j.xa_stride = (size_t)rb;
    }
    /* The thread pool (src/base/threadpool.h) is not implemented yet; until
     * it lands every product runs on the caller's thread. */
    (void)tp;
    matmul_rows(&j, 0, w->rows, 0);
}
