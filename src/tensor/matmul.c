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
    if (!dk || !dk->vec_dot) { /* Q8_1 / Q8_K are activation formats only */
        const char *dn = lk_dtype_name(w->dtype);
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: weights of type %s cannot be multiplied (supported: f32, f16, "
                            "bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k)",
                            name, dn ? dn : "unknown");
    }
    uint64_t rb;
    if (!lk_dtype_row_bytes(w->dtype, w->cols, &rb) || rb != w->row_bytes)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: %lld columns do not fit type %s", name,
                            (long long)w->cols, lk_dtype_name(w->dtype));
    return LK_OK;
}

/* Multiply-adds below which a chunk of rows is not given its own thread. */
#define MIN_CHUNK_MACS 65536

/* Tokens per pass of the batched path (dot_f32_x4). */
#define TILE_TOKENS 4

static size_t round_up64(size_t n) { return (n + 63) & ~(size_t)63; }

/* The batched path applies to float weights (activations used as F32). */
static bool batched(const lk_dtype_kernels *dk, int64_t m) {
    return m >= TILE_TOKENS && dk->act_dtype == LK_DTYPE_F32;
}

/* F16 weights in decode: x rounded to F16 once, then F16 x F16 dots
 * (kernels.h, vec_dot_f16_f16), so a long x stays in L1 next to the
 * weights streaming past it. */
static bool f16_decode(lk_dtype wt, const lk_dtype_kernels *dk, int64_t m) {
    return wt == LK_DTYPE_F16 && !batched(dk, m);
}

/* Prompts of at least this many tokens with Q4_0 / Q5_0 weights rewrite each
 * block of rows as Q8_0 once (exact, lk_quant_row_as_q8_0) and run the Q8_0
 * tile over the tokens: the nibbles are unpacked once per block of rows
 * instead of once per four tokens. Below 16 tokens (a server decoding 8
 * conversations at once) the rewrite costs more than it saves: 8 streams of
 * bench/serve_load.sh went from 53 to 132 tokens/s with 16 instead of 8. */
#define WIDEN_MIN_TOKENS 16

/* The Q8_0 tile a prompt of m tokens against weights of type wt is widened
 * to, or NULL (not a widening type, too few tokens, or no tile here). */
static lk_vec_dot_tile_fn widen_tile(const lk_kernels *kern, lk_dtype wt, int64_t m) {
    if (m < WIDEN_MIN_TOKENS || (wt != LK_DTYPE_Q4_0 && wt != LK_DTYPE_Q5_0)) return NULL;
    const lk_dtype_kernels *wk = lk_kernels_dtype(kern, wt), *q8 = lk_kernels_dtype(kern, LK_DTYPE_Q8_0);
    return wk && wk->dot_tile && q8 ? q8->dot_tile : NULL;
}

/* Bytes of one thread's widened block of rows (Q8_0). */
static size_t widen_bytes(int64_t k) {
    uint64_t rb = 0;
    lk_dtype_row_bytes(LK_DTYPE_Q8_0, k, &rb);
    return round_up64((size_t)rb * ROW_BLOCK);
}

/* Bytes of the packed kernel's per-token block prep (lk_pack_act). */
static size_t pack_prep_bytes(int64_t m, int64_t k) {
    return round_up64((size_t)m * (size_t)(k / 32) * sizeof(lk_pack_act));
}

size_t lk_matmul_scratch_bytes(const lk_kernels *kern, lk_dtype wt, int64_t m, int64_t k,
                               int n_threads) {
    const lk_dtype_kernels *dk = lk_kernels_dtype(kern, wt);
    if (!dk) return 0;
    if (n_threads < 1) n_threads = 1;
    if (batched(dk, m))
        return wt == LK_DTYPE_F32 ? 0 : (size_t)n_threads * ROW_BLOCK * (size_t)k * sizeof(float);
    if (f16_decode(wt, dk, m)) return round_up64((size_t)m * (size_t)k * sizeof(uint16_t));
    if (dk->act_dtype == LK_DTYPE_F32) return 0;
    uint64_t rb;
    if (!lk_dtype_row_bytes(dk->act_dtype, k, &rb)) return 0;
    size_t bytes = round_up64((size_t)rb * (size_t)m);
    if (widen_tile(kern, wt, m)) bytes += (size_t)n_threads * widen_bytes(k);
    if (dk->packed_matmul) bytes += pack_prep_bytes(m, k);
    return bytes;
}

typedef struct {
    const lk_matrix *w;
    const lk_kernels *kern;
    lk_vec_dot_fn dot;
    lk_vec_dot_tile_fn tile; /* quantized types with a tile kernel, else NULL */
    lk_vec_dot_tile_fn tile8; /* Q4_0/Q5_0 prompts: the Q8_0 tile (widen_tile) */
    char *widened;            /* tile8: [n_threads] blocks of ROW_BLOCK Q8_0 rows */
    const char *xa;     /* activations in act_dtype: [m] rows of xa_stride bytes */
    size_t xa_stride;
    int64_t m;
    float *y;
    float *wblock;      /* batched path: [n_threads][ROW_BLOCK][k] widened rows */
    lk_packed_matmul_fn packed; /* w->packed is set: its kernel */
    const lk_pack_act *prep;    /* packed: [m][k / 32] */
} matmul_job;

/* Decode: each stored row dotted with each token's activations. */
static void rows_direct(const matmul_job *j, int64_t begin, int64_t end) {
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

/* Quantized weights with a tile kernel: four rows x up to four tokens per
 * call, so each weight block is decoded once per four tokens and each
 * token's per-block work is shared by four rows. The row block stays in
 * cache while every token passes over it. */
static void rows_tiled(const matmul_job *j, int64_t begin, int64_t end, int thread_index) {
    const lk_matrix *w = j->w;
    const char *wdata = w->data;
    const int64_t n = w->rows, k = w->cols, m = j->m;
    size_t rb = (size_t)w->row_bytes;
    lk_vec_dot_tile_fn tile = j->tile;
    char *wide = NULL;
    if (j->tile8) {
        uint64_t rb8 = 0;
        lk_dtype_row_bytes(LK_DTYPE_Q8_0, k, &rb8);
        wide = j->widened + (size_t)thread_index * widen_bytes(k);
        rb = (size_t)rb8;
        tile = j->tile8;
    }
    for (int64_t r0 = begin; r0 < end; r0 += ROW_BLOCK) {
        const int64_t r1 = r0 + ROW_BLOCK < end ? r0 + ROW_BLOCK : end;
        const char *rows = wdata + (size_t)r0 * w->row_bytes;
        if (wide) {
            for (int64_t r = r0; r < r1; r++)
                lk_quant_row_as_q8_0(w->dtype, wdata + (size_t)r * w->row_bytes,
                                     wide + (size_t)(r - r0) * rb, k);
            rows = wide;
        }
        for (int64_t t = 0; t < m; t += 4) {
            const int nt = m - t < 4 ? (int)(m - t) : 4;
            for (int64_t r = r0; r < r1; r += 4) {
                const int nr = r1 - r < 4 ? (int)(r1 - r) : 4;
                tile(k, rows + (size_t)(r - r0) * rb, rb, nr, j->xa + (size_t)t * j->xa_stride,
                     j->xa_stride, nt, j->y + t * n + r, (size_t)n);
            }
        }
    }
}

/* Prefill: a block of rows widened to F32 once, then four tokens per pass. */
static void rows_batched(const matmul_job *j, int64_t begin, int64_t end, int thread_index) {
    const lk_matrix *w = j->w;
    const lk_kernels *K = j->kern;
    const lk_dtype_kernels *dk = lk_kernels_dtype(K, w->dtype);
    const int64_t n = w->rows, k = w->cols, m = j->m;
    const float *x = (const float *)j->xa;
    float *block = w->dtype == LK_DTYPE_F32
                       ? NULL
                       : j->wblock + (size_t)thread_index * ROW_BLOCK * (size_t)k;
    const float *rows[ROW_BLOCK];
    for (int64_t r0 = begin; r0 < end; r0 += ROW_BLOCK) {
        int64_t nr = end - r0 < ROW_BLOCK ? end - r0 : ROW_BLOCK;
        for (int64_t i = 0; i < nr; i++) {
            const void *src = (const char *)w->data + (size_t)(r0 + i) * w->row_bytes;
            if (block) {
                dk->to_f32(k, src, block + i * k);
                rows[i] = block + i * k;
            } else {
                rows[i] = src;
            }
        }
        /* Four rows x four tokens per kernel call; leftover rows four tokens
         * at a time; leftover tokens one at a time. */
        int64_t t = 0;
        for (; t + TILE_TOKENS <= m; t += TILE_TOKENS) {
            int64_t i = 0;
            /* rows are k floats apart, widened or stored as F32 */
            for (; i + 4 <= nr; i += 4) {
                float out[16];
                K->dot_f32_4x4(k, rows[i], k, x + t * k, k, out);
                for (int r = 0; r < 4; r++)
                    for (int u = 0; u < TILE_TOKENS; u++)
                        j->y[(t + u) * n + r0 + i + r] = out[r * 4 + u];
            }
            for (; i < nr; i++) {
                float out[TILE_TOKENS];
                K->dot_f32_x4(k, rows[i], x + t * k, k, out);
                for (int u = 0; u < TILE_TOKENS; u++) j->y[(t + u) * n + r0 + i] = out[u];
            }
        }
        for (; t < m; t++)
            for (int64_t i = 0; i < nr; i++)
                j->y[t * n + r0 + i] = K->f32.vec_dot(k, rows[i], x + t * k);
    }
}

/* Packed weights: [begin, end) are groups of 16 rows. */
static void groups_packed(void *ctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const matmul_job *j = ctx;
    const lk_matrix *w = j->w;
    j->packed(w->dtype, w->cols, w->packed, begin, end, w->rows, j->xa, j->xa_stride, j->prep,
              j->m, j->y, (size_t)w->rows);
}

static void matmul_rows(void *ctx, int64_t begin, int64_t end, int thread_index) {
    const matmul_job *j = ctx;
    if (batched(lk_kernels_dtype(j->kern, j->w->dtype), j->m)) rows_batched(j, begin, end, thread_index);
    else if (j->tile) rows_tiled(j, begin, end, thread_index);
    else rows_direct(j, begin, end);
}

void lk_matmul(lk_threadpool *tp, const lk_kernels *kern, const lk_matrix *w, const float *x,
               int64_t m, float *y, void *scratch) {
    const lk_dtype_kernels *dk = lk_kernels_dtype(kern, w->dtype);
    matmul_job j = {.w = w, .kern = kern, .dot = dk->vec_dot, .tile = dk->dot_tile, .m = m, .y = y};
    if (f16_decode(w->dtype, dk, m)) {
        for (int64_t t = 0; t < m; t++)
            dk->from_f32(w->cols, x + t * w->cols, (uint16_t *)scratch + (size_t)t * (size_t)w->cols);
        j.dot = kern->vec_dot_f16_f16;
        j.xa = scratch;
        j.xa_stride = (size_t)w->cols * sizeof(uint16_t);
    } else if (dk->act_dtype == LK_DTYPE_F32) {
        j.xa = (const char *)x;
        j.xa_stride = (size_t)w->cols * sizeof(float);
        j.wblock = scratch;
    } else {
        const lk_dtype_kernels *ak = lk_kernels_dtype(kern, dk->act_dtype);
        uint64_t rb = 0;
        lk_dtype_row_bytes(dk->act_dtype, w->cols, &rb);
        for (int64_t t = 0; t < m; t++)
            ak->from_f32(w->cols, x + t * w->cols, (char *)scratch + (size_t)t * rb);
        j.xa = scratch;
        j.xa_stride = (size_t)rb;
        if (w->packed && dk->packed_matmul) {
            lk_pack_act *prep = (lk_pack_act *)((char *)scratch + round_up64((size_t)rb * (size_t)m));
            const int64_t nb = w->cols / 32;
            for (int64_t t = 0; t < m; t++)
                lk_pack_prepare(w->dtype, w->cols, j.xa + (size_t)t * rb, prep + t * nb);
            j.packed = dk->packed_matmul;
            j.prep = prep;
            /* as below: enough work per chunk to be worth a thread */
            int64_t group_macs = LK_PACK_ROWS * w->cols * (m > 0 ? m : 1);
            int64_t grain = (MIN_CHUNK_MACS + group_macs - 1) / group_macs;
            lk_parallel_for(tp, lk_pack_n_groups(w->rows), grain, groups_packed, &j);
            return;
        }
        j.tile8 = widen_tile(kern, w->dtype, m);
        j.widened = (char *)scratch + round_up64((size_t)rb * (size_t)m);
    }
    /* Each thread takes a contiguous range of W's rows: its slice of the
     * weights streams through one core's caches once. A chunk must hold
     * enough work (~64k multiply-adds) to be worth waking a thread for, so
     * tiny models stay on one thread. */
    int64_t macs_per_row = w->cols * (m > 0 ? m : 1);
    int64_t grain = (MIN_CHUNK_MACS + macs_per_row - 1) / macs_per_row;
    if (grain < ROW_BLOCK) grain = ROW_BLOCK;
    lk_parallel_for(tp, w->rows, grain, matmul_rows, &j);
}
