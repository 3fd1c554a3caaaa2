/* Forward-pass benchmark on a random-weight model with the exact shapes of
 * Qwen2.5-0.5B (hidden 896, 24 layers, 14 heads, 2 KV heads, ffn 4864,
 * vocab 151936, tied embeddings, qkv bias), weights in F16 by default.
 * Reports prompt processing and generation tokens/s, mean +- sd over -r runs,
 * in the style of llama-bench.
 *
 *   bench_forward [-p 128] [-n 32] [-r 3] [-t THREADS] [--dtype f16|bf16|f32] [--layers N]
 *                 [--seqs S]
 *
 * With --seqs S, a third test decodes S sequences together (lk_eval_multi)
 * and reports the tokens/s summed over them.
 *
 * The weights are made up (uniform noise), so the text is meaningless; only
 * the speed is. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "llmkit.h"
#include "tensor/dtype.h"
#include "tensor/kernels.h"

#define MAX_T 512

static uint64_t g_rng = 88172645463325252ull;
static uint32_t next_u32(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 16);
}

typedef struct {
    lk_tensor_info t[MAX_T];
    char names[MAX_T][48];
    void *data[MAX_T];
    size_t n;
    lk_dtype dtype;
} model_mem;

static void add(model_mem *m, const char *name, int64_t rows, int64_t cols, float scale) {
    size_t i = m->n++;
    snprintf(m->names[i], sizeof m->names[i], "%s", name);
    int64_t count = cols ? rows * cols : rows;
    lk_dtype dt = cols ? m->dtype : LK_DTYPE_F32;
    size_t es = dt == LK_DTYPE_F32 ? 4 : 2;
    void *p = malloc((size_t)count * es);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int64_t j = 0; j < count; j++) {
        float v = ((float)(next_u32() & 0xffff) / 32768.0f - 1.0f) * scale;
        if (!cols) v += 1.0f;
        if (dt == LK_DTYPE_F32) ((float *)p)[j] = v;
        else if (dt == LK_DTYPE_F16) ((uint16_t *)p)[j] = lk_f32_to_f16(v);
        else ((uint16_t *)p)[j] = lk_f32_to_bf16(v);
    }
    m->data[i] = p;
    lk_tensor_info *t = &m->t[i];
    t->name = m->names[i];
    t->dtype = dt;
    t->n_dims = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->data = p;
    t->nbytes = (uint64_t)count * es;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: on a busy shared machine it shows what the code
 * would do with a core to itself (wall time is what users see). Meaningful
 * with -t 1 only. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void stats(const double *x, int n, double *mean, double *sd) {
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) ss += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
}

int main(int argc, char **argv) {
    int n_prompt = 128, n_gen = 32, reps = 3, layers = 24, threads = 0, seqs = 0;
    lk_dtype dtype = LK_DTYPE_F16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-p") && i + 1 < argc) n_prompt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) n_gen = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--layers") && i + 1 < argc) layers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seqs") && i + 1 < argc) seqs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dtype") && i + 1 < argc) dtype = lk_dtype_from_name(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [-p N] [-n N] [-r N] [-t N] [--layers N] [--dtype f16|bf16|f32]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1 || n_prompt < 1 || n_gen < 1 || layers < 1 || seqs < 0 || seqs > 256 ||
        (dtype != LK_DTYPE_F16 && dtype != LK_DTYPE_BF16 && dtype != LK_DTYPE_F32)) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    lk_hparams hp;
    memset(&hp, 0, sizeof hp);
    snprintf(hp.arch, sizeof hp.arch, "qwen2");
    hp.n_vocab = 151936;
    hp.n_embd = 896;
    hp.n_layer = layers;
    hp.n_head = 14;
    hp.n_head_kv = 2;
    hp.head_dim = 64;
    hp.n_rot = 64;
    hp.n_ff = 4864;
    hp.n_ctx_train = 32768;
    hp.norm_eps = 1e-6f;
    hp.rope_layout = LK_ROPE_HALF;
    hp.rope_theta = 1000000.0f;
    hp.tied_embeddings = true;
    hp.attn_qkv_bias = true;
    static model_mem m;
    m.dtype = dtype;
    const int64_t D = 896, F = 4864, kv = 128;
    add(&m, "token_embd.weight", hp.n_vocab, D, 0.05f);
    add(&m, "output_norm.weight", D, 0, 0.1f);
    char name[48];
    for (int l = 0; l < layers; l++) {
#define L(s, r, c, sc) (snprintf(name, sizeof name, "blk.%d." s, l), add(&m, name, r, c, sc))
        L("attn_norm.weight", D, 0, 0.1f);
        L("attn_q.weight", D, D, 0.05f);
        L("attn_k.weight", kv, D, 0.05f);
        L("attn_v.weight", kv, D, 0.05f);
        L("attn_q.bias", D, 0, 0.1f);
        L("attn_k.bias", kv, 0, 0.1f);
        L("attn_v.bias", kv, 0, 0.1f);
        L("attn_output.weight", D, D, 0.05f);
        L("ffn_norm.weight", D, 0, 0.1f);
        L("ffn_gate.weight", F, D, 0.05f);
        L("ffn_up.weight", F, D, 0.05f);
        L("ffn_down.weight", D, F, 0.02f);
#undef L
    }
    lk_model *model;
    lk_error err;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = threads;
    if (lk_model_from_tensors(&hp, m.t, m.n, &mp, &model, &err) != LK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = n_prompt + n_gen + 1;
    cp.n_batch = n_prompt;
    lk_context *c;
    if (lk_context_new(model, &cp, &c, &err) != LK_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    float *logits = malloc((size_t)hp.n_vocab * sizeof *logits);
    int32_t *prompt = malloc((size_t)n_prompt * sizeof *prompt);
    for (int i = 0; i < n_prompt; i++) prompt[i] = (int32_t)(next_u32() % 151936);
    double pp[64], tg[64], pp_cpu[64], tg_cpu[64];
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        lk_context_reset(c);
        double t0 = now(), c0 = cpu_now();
        lk_eval(c, prompt, n_prompt, LK_LOGITS_LAST, logits, &err);
        double t1 = now(), c1 = cpu_now();
        lk_context_reset(c);
        int32_t tok = 1;
        double t2 = now(), c2 = cpu_now();
        for (int i = 0; i < n_gen; i++) {
            lk_eval(c, &tok, 1, LK_LOGITS_LAST, logits, &err);
            tok = (tok * 7 + 13) % 151936;
        }
        double t3 = now(), c3 = cpu_now();
        pp[r] = n_prompt / (t1 - t0);
        tg[r] = n_gen / (t3 - t2);
        pp_cpu[r] = n_prompt / (c1 - c0);
        tg_cpu[r] = n_gen / (c3 - c2);
    }
    double mean, sd, cmean, csd;
    int nt = threads;
    if (nt <= 0) nt = (int)sysconf(_SC_NPROCESSORS_ONLN);
    printf("| model | dtype | kernels | threads | test | t/s (wall) | t/s (main thread CPU time) |\n"
           "|---|---|---|---|---|---|---|\n");
    stats(pp, reps, &mean, &sd);
    stats(pp_cpu, reps, &cmean, &csd);
    printf("| qwen2.5-0.5B shapes, %d layers | %s | %s | %d | pp%d | %.2f ± %.2f | %.2f ± %.2f |\n",
           layers, lk_dtype_name(dtype), lk_kernels_best()->isa, nt, n_prompt, mean, sd, cmean, csd);
    stats(tg, reps, &mean, &sd);
    stats(tg_cpu, reps, &cmean, &csd);
    printf("| qwen2.5-0.5B shapes, %d layers | %s | %s | %d | tg%d | %.2f ± %.2f | %.2f ± %.2f |\n",
           layers, lk_dtype_name(dtype), lk_kernels_best()->isa, nt, n_gen, mean, sd, cmean, csd);
    if (seqs > 1) {
        lk_context *cs[256];
        lk_context_params sp = cp;
        sp.n_ctx = n_gen + 2;
        sp.n_batch = seqs;
        float *ml = malloc((size_t)seqs * (size_t)hp.n_vocab * sizeof *ml);
        int32_t toks[256];
        for (int i = 0; i < seqs; i++) {
            if (lk_context_new(model, &sp, &cs[i], &err) != LK_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            toks[i] = (int32_t)(next_u32() % 151936);
        }
        double ms[64];
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < seqs; i++) lk_context_reset(cs[i]);
            double t0 = now();
            for (int step = 0; step < n_gen; step++) lk_eval_multi(cs, toks, seqs, ml, &err);
            ms[r] = (double)seqs * n_gen / (now() - t0);
        }
        stats(ms, reps, &mean, &sd);
        printf("| qwen2.5-0.5B shapes, %d layers | %s | %s | %d | tg%d x %d seqs | %.2f ± %.2f | |\n",
               layers, lk_dtype_name(dtype), lk_kernels_best()->isa, nt, n_gen, seqs, mean, sd);
        for (int i = 0; i < seqs; i++) lk_context_free(cs[i]);
        free(ml);
    }
    free(logits);
    free(prompt);
    lk_context_free(c);
    lk_model_free(model);
    for (size_t i = 0; i < m.n; i++) free(m.data[i]);
    return 0;
}
