/* Packed copies of the Q4_0 / Q5_0 / Q8_0 / Q4_K linear weights
 * (quant_pack.h): made once at load time, all in one allocation the
 * weights own. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "model/weights.h"
#include "tensor/quant_pack.h"

void lk_weights_each_matrix(const lk_weights *w, void (*fn)(void *ctx, const lk_matrix *m),
                            void *ctx) {
    for (int32_t l = 0; l < w->hp.n_layer; l++) {
        const lk_layer_weights *L = &w->layers[l];
        const lk_matrix *ms[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
            if (ms[i]->data) fn(ctx, ms[i]);
    }
    if (w->output.data) fn(ctx, &w->output);
}

typedef struct {
    const lk_kernels *kern;
    size_t total;   /* bytes of every packed copy, 64-byte aligned each */
    char *store;    /* NULL while sizing */
    lk_threadpool *tp;
    lk_packed_fn done;
    void *done_ctx;
} pack_plan;

static size_t packed_bytes(const lk_kernels *kern, const lk_matrix *m) {
    const lk_dtype_kernels *dk = lk_kernels_dtype(kern, m->dtype);
    if (!dk || !dk->packed_matmul) return 0;
    return lk_pack_group_bytes(m->dtype, m->cols) * (size_t)lk_pack_n_groups(m->rows);
}

typedef struct {
    const lk_matrix *m;
    void *dst;
} pack_job;

static void pack_range(void *ctx, int64_t g0, int64_t g1, int thread_index) {
    (void)thread_index;
    const pack_job *j = ctx;
    lk_pack_groups(j->m->dtype, j->m->cols, j->m->data, (size_t)j->m->row_bytes, j->m->rows, g0,
                   g1, j->dst);
}

/* Sizes (store NULL), or packs, one matrix. The visitor hands out const
 * matrices; these are the weights lk_weights_pack was given to change. */
static void plan_matrix(void *ctx, const lk_matrix *m) {
    pack_plan *p = ctx;
    const size_t bytes = packed_bytes(p->kern, m);
    if (!bytes) return;
    if (p->store) {
        pack_job j = {m, p->store + p->total};
        lk_parallel_for(p->tp, lk_pack_n_groups(m->rows), 64, pack_range, &j);
        ((lk_matrix *)m)->packed = j.dst;
        if (p->done) p->done(p->done_ctx, m);
    }
    p->total += bytes; /* group sizes are multiples of 64 */
}

lk_status lk_weights_pack(lk_weights *w, const lk_kernels *kern, lk_threadpool *tp,
                          lk_packed_fn done, void *done_ctx, lk_error *err) {
    pack_plan p = {kern, 0, NULL, tp, done, done_ctx};
    lk_weights_each_matrix(w, plan_matrix, &p);
    if (p.total == 0) return LK_OK;
    char *store = lk_pack_alloc(p.total);
    if (!store)
        return lk_error_set(err, LK_ERR_NOMEM,
                            "weights: out of memory for the %.1f MB packed copy of the quantized "
                            "matrices (load with no_repack / --no-repack to multiply them as stored)",
                            (double)p.total / 1e6);
    p.total = 0;
    p.store = store;
    lk_weights_each_matrix(w, plan_matrix, &p);
    w->packed_store = store;
    return LK_OK;
}
