/* Kernels: every SIMD table entry against its scalar twin on random data of
 * odd sizes, the matrix product against a double-precision loop, and the
 * scalar-only ops against known values. Run it under LLMKIT_CPU_MAX=scalar
 * and =avx2 too: the dispatcher must then hand out those tables. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cpu.h"
#include "base/threadpool.h"
#include "tensor/dtype.h"
#include "tensor/kernels.h"
#include "tensor/matmul.h"
#include "tensor/rope.h"
#include "test.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static float frand(void) { /* uniform in [-1, 1) */
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((g_rng >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

static const int64_t k_sizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257, 1001, 4099};
#define N_SIZES (sizeof k_sizes / sizeof k_sizes[0])
#define MAXN 4099

/* |simd - ref| must stay within float rounding of a sum of |terms|. */
static void check_dot(const char *isa, const char *what, int64_t n, float got, float want,
                      double abs_sum) {
    double tol = 1e-5 * abs_sum + 1e-6;
    CHECK_MSG(fabs((double)got - (double)want) <= tol, "%s %s n=%lld: %.9g vs ref %.9g", isa,
              what, (long long)n, got, want);
}

static void test_table(const lk_kernels *k) {
    const lk_kernels *ref = lk_kernels_ref();
    static float x[MAXN], w32[MAXN], y1[MAXN], y2[MAXN], o1[MAXN], o2[MAXN];
    static uint16_t w16[MAXN], wb16[MAXN], h1[MAXN], h2[MAXN];
    for (size_t si = 0; si < N_SIZES; si++) {
        int64_t n = k_sizes[si];
        for (int64_t i = 0; i < n; i++) {
            x[i] = frand() * 3.0f;
            w32[i] = frand();
            w16[i] = lk_f32_to_f16(frand());
            wb16[i] = lk_f32_to_bf16(frand());
        }
        double s32 = 0, s16 = 0, sb16 = 0;
        for (int64_t i = 0; i < n; i++) {
            s32 += fabs(w32[i] * x[i]);
            s16 += fabs(lk_f16_to_f32(w16[i]) * x[i]);
            sb16 += fabs(lk_bf16_to_f32(wb16[i]) * x[i]);
        }
        check_dot(k->isa, "dot f32", n, k->f32.vec_dot(n, w32, x), ref->f32.vec_dot(n, w32, x), s32);
        check_dot(k->isa, "dot f16", n, k->f16.vec_dot(n, w16, x), ref->f16.vec_dot(n, w16, x), s16);
        check_dot(k->isa, "dot bf16", n, k->bf16.vec_dot(n, wb16, x), ref->bf16.vec_dot(n, wb16, x),
                  sb16);
        { /* F16 x F16 (decode with F16 weights): x rounded to F16 first */
            static uint16_t x16[MAXN];
            double shh = 0, exact = 0;
            for (int64_t i = 0; i < n; i++) {
                x16[i] = lk_f32_to_f16(x[i]);
                double term = (double)lk_f16_to_f32(w16[i]) * lk_f16_to_f32(x16[i]);
                shh += fabs(term);
                exact += term;
            }
            float want = ref->vec_dot_f16_f16(n, w16, x16);
            check_dot(k->isa, "dot f16 x f16", n, k->vec_dot_f16_f16(n, w16, x16), want, shh);
            /* the reference itself: the exact sum of the F16 products */
            check_dot("scalar", "dot f16 x f16 vs double", n, want, (float)exact, shh);
        }

        /* One row against four activation rows. */
        {
            static float xs[4 * MAXN];
            for (int64_t i = 0; i < 4 * n; i++) xs[i] = frand();
            float got[4], want[4];
            k->dot_f32_x4(n, w32, xs, n, got);
            ref->dot_f32_x4(n, w32, xs, n, want);
            for (int r = 0; r < 4; r++) {
                double a = 0;
                for (int64_t i = 0; i < n; i++) a += fabs(w32[i] * xs[r * n + i]);
                check_dot(k->isa, "dot_f32_x4", n, got[r], want[r], a);
            }
        }

        /* Four rows against four activation rows (w rows at stride n+1). */
        {
            static float xs[4 * MAXN], ws[4 * (MAXN + 1)];
            for (int64_t i = 0; i < 4 * n; i++) xs[i] = frand();
            for (int64_t i = 0; i < 4 * (n + 1); i++) ws[i] = frand();
            float got[16], want[16];
            k->dot_f32_4x4(n, ws, n + 1, xs, n, got);
            ref->dot_f32_4x4(n, ws, n + 1, xs, n, want);
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++) {
                    double a = 0;
                    for (int64_t i = 0; i < n; i++) a += fabs(ws[r * (n + 1) + i] * xs[c * n + i]);
                    check_dot(k->isa, "dot_f32_4x4", n, got[r * 4 + c], want[r * 4 + c], a);
                }
        }

        /* Conversions are exact: bit-identical to the scalar ones. */
        k->f16.to_f32(n, w16, o1);
        ref->f16.to_f32(n, w16, o2);
        CHECK_MSG(memcmp(o1, o2, (size_t)n * 4) == 0, "%s f16 to_f32 n=%lld", k->isa, (long long)n);
        k->f16.from_f32(n, x, h1);
        ref->f16.from_f32(n, x, h2);
        CHECK_MSG(memcmp(h1, h2, (size_t)n * 2) == 0, "%s f16 from_f32 n=%lld", k->isa, (long long)n);
        k->bf16.to_f32(n, wb16, o1);
        ref->bf16.to_f32(n, wb16, o2);
        CHECK_MSG(memcmp(o1, o2, (size_t)n * 4) == 0, "%s bf16 to_f32 n=%lld", k->isa, (long long)n);

        /* axpy: one fma vs mul+add per element. */
        for (int64_t i = 0; i < n; i++) y1[i] = y2[i] = frand();
        k->axpy_f32(n, 0.75f, x, y1);
        ref->axpy_f32(n, 0.75f, x, y2);
        int bad = 0;
        for (int64_t i = 0; i < n; i++) bad += fabsf(y1[i] - y2[i]) > 1e-6f * (1 + fabsf(y2[i]));
        CHECK_MSG(bad == 0, "%s axpy_f32 n=%lld: %d differ", k->isa, (long long)n, bad);
        k->axpy_f16(n, -1.5f, w16, y1);
        ref->axpy_f16(n, -1.5f, w16, y2);
        bad = 0;
        for (int64_t i = 0; i < n; i++) bad += fabsf(y1[i] - y2[i]) > 1e-5f * (1 + fabsf(y2[i]));
        CHECK_MSG(bad == 0, "%s axpy_f16 n=%lld: %d differ", k->isa, (long long)n, bad);

        /* rmsnorm with and without weights, and in place. */
        k->rmsnorm(n, x, w32, 1e-5f, o1);
        ref->rmsnorm(n, x, w32, 1e-5f, o2);
        bad = 0;
        for (int64_t i = 0; i < n; i++) bad += fabsf(o1[i] - o2[i]) > 1e-5f * (1 + fabsf(o2[i]));
        CHECK_MSG(bad == 0, "%s rmsnorm n=%lld: %d differ", k->isa, (long long)n, bad);
        memcpy(o1, x, (size_t)n * 4);
        k->rmsnorm(n, o1, NULL, 1e-6f, o1);
        ref->rmsnorm(n, x, NULL, 1e-6f, o2);
        bad = 0;
        for (int64_t i = 0; i < n; i++) bad += fabsf(o1[i] - o2[i]) > 1e-5f * (1 + fabsf(o2[i]));
        CHECK_MSG(bad == 0, "%s rmsnorm in place n=%lld: %d differ", k->isa, (long long)n, bad);

        /* add / mul are exact. */
        for (int64_t i = 0; i < n; i++) y1[i] = y2[i] = frand();
        k->add(n, x, y1);
        ref->add(n, x, y2);
        k->mul(n, w32, y1);
        ref->mul(n, w32, y2);
        CHECK_MSG(memcmp(y1, y2, (size_t)n * 4) == 0, "%s add/mul n=%lld", k->isa, (long long)n);
    }
}

/* y = x W^T against a double loop, for each dtype, odd M/N/K, on the
 * caller's thread (tp NULL) or split across a pool's threads. */
static void test_matmul(const lk_kernels *k, lk_threadpool *tp) {
    const int64_t M = 7, N = 53, K = 129; /* M >= 4: the batched path, with a tail */
    static float x[7 * 129], y[7 * 53], wf[53 * 129];
    static uint16_t wh[53 * 129];
    for (int64_t i = 0; i < M * K; i++) x[i] = frand();
    lk_dtype types[] = {LK_DTYPE_F32, LK_DTYPE_F16, LK_DTYPE_BF16};
    for (size_t ti = 0; ti < 3; ti++) {
        lk_dtype t = types[ti];
        for (int64_t i = 0; i < N * K; i++) {
            float v = frand();
            if (t == LK_DTYPE_F32) wf[i] = v;
            else if (t == LK_DTYPE_F16) { wh[i] = lk_f32_to_f16(v); wf[i] = lk_f16_to_f32(wh[i]); }
            else { wh[i] = lk_f32_to_bf16(v); wf[i] = lk_bf16_to_f32(wh[i]); }
        }
        uint64_t rb = 0;
        CHECK(lk_dtype_row_bytes(t, K, &rb));
        lk_matrix w = {t == LK_DTYPE_F32 ? (const void *)wf : (const void *)wh, t, N, K, rb, NULL};
        lk_error err;
        CHECK_OK(lk_matrix_check(k, &w, "w", &err), &err);
        int nt = lk_threadpool_size(tp);
        size_t sb = lk_matmul_scratch_bytes(k, t, M, K, nt);
        CHECK(sb == (t == LK_DTYPE_F32 ? 0 : (size_t)nt * 16 * (size_t)K * 4));
        /* decode: F16 weights take x rounded to F16 (K halves, 64-byte rounded) */
        CHECK(lk_matmul_scratch_bytes(k, t, 1, K, nt) == (t == LK_DTYPE_F16 ? 320 : 0));
        void *scratch = sb ? malloc(sb) : NULL;
        int bad = 0;
        for (int64_t mm = 1; mm <= M; mm += 3) { /* decode (1), batched with tails (4, 7) */
            lk_matmul(tp, k, &w, x, mm, y, scratch);
            for (int64_t m = 0; m < mm; m++)
                for (int64_t n = 0; n < N; n++) {
                    double s = 0, a = 0;
                    for (int64_t i = 0; i < K; i++) {
                        double xi = x[m * K + i];
                        if (t == LK_DTYPE_F16 && mm < 4) xi = lk_f16_to_f32(lk_f32_to_f16(x[m * K + i]));
                        s += xi * wf[n * K + i];
                        a += fabs(xi * wf[n * K + i]);
                    }
                    bad += fabs(y[m * N + n] - s) > 1e-5 * a + 1e-6;
                }
        }
        free(scratch);
        CHECK_MSG(bad == 0, "%s matmul %s: %d of %lld differ", k->isa, lk_dtype_name(t), bad,
                  (long long)(M * N));
    }
    /* An unsupported dtype is refused with a message naming it. */
    lk_matrix q = {wh, LK_DTYPE_Q8_K, 1, 256, 292, NULL}; /* an activation format, never weights */
    lk_error err;
    CHECK(lk_matrix_check(k, &q, "blk.0.ffn_up.weight", &err) == LK_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "q8_k") != NULL);
}

static void test_scalar_ops(void) {
    float v[5] = {-2.0f, -0.5f, 0.0f, 1.0f, 3.0f};
    float s[5];
    memcpy(s, v, sizeof v);
    lk_silu(5, s);
    CHECK_NEAR(s[3], 0.7310585786f, 1e-6);
    CHECK_NEAR(s[0], -0.2384058440f, 1e-6);
    memcpy(s, v, sizeof v);
    lk_gelu(5, s);
    CHECK_NEAR(s[3], 0.8413447461f, 1e-6);
    CHECK_NEAR(s[1], -0.1542687694f, 1e-6);
    memcpy(s, v, sizeof v);
    lk_gelu_tanh(5, s);
    CHECK_NEAR(s[3], 0.8411919906f, 1e-6);
    CHECK_NEAR(s[4], 2.9963626862f, 1e-5);
    memcpy(s, v, sizeof v);
    lk_softmax(5, s);
    double sum = 0;
    for (int i = 0; i < 5; i++) sum += s[i];
    CHECK_NEAR(sum, 1.0, 1e-6);
    CHECK_NEAR(s[4], exp(3.0) / (exp(-2) + exp(-0.5) + 1 + exp(1) + exp(3)), 1e-6);
    float big[3] = {1000.0f, 1000.0f, -1000.0f}; /* no overflow */
    lk_softmax(3, big);
    CHECK_NEAR(big[0], 0.5, 1e-6);
    memcpy(s, v, sizeof v);
    float w[5] = {1, 2, 1, 1, 1}, b[5] = {0, 0, 0, 0, 1};
    lk_layernorm(5, s, w, b, 0.0f, s); /* mean 0.3, var 2.76 */
    CHECK_NEAR(s[1], 2.0 * (-0.8 / sqrt(2.76)), 1e-6);
    CHECK_NEAR(s[4], 2.7 / sqrt(2.76) + 1.0, 1e-6);
    memcpy(s, v, sizeof v);
    lk_softcap(5, s, 2.0f);
    CHECK_NEAR(s[4], 2.0 * tanh(1.5), 1e-6);
}

static void test_rope(void) {
    lk_hparams hp;
    memset(&hp, 0, sizeof hp);
    hp.rope_theta = 10000.0f;
    hp.rope_layout = LK_ROPE_INTERLEAVED;
    const int32_t hd = 8;
    lk_rope ri, rh;
    lk_error err;
    CHECK_OK(lk_rope_init(&ri, &hp, hd, &err), &err);
    hp.rope_layout = LK_ROPE_HALF;
    CHECK_OK(lk_rope_init(&rh, &hp, hd, &err), &err);
    CHECK_NEAR(ri.inv_freq[1], pow(10000.0, -2.0 / 8), 1e-7);
    /* Same angles, different pairing: interleaving a vector's halves maps
     * one layout onto the other. */
    float a[2 * 8], b[2 * 8], cs[8];
    for (int i = 0; i < 16; i++) a[i] = frand();
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 4; i++) {
            b[h * 8 + i] = a[h * 8 + 2 * i];
            b[h * 8 + i + 4] = a[h * 8 + 2 * i + 1];
        }
    lk_rope_apply(&ri, a, 2, hd, 7, cs);
    lk_rope_apply(&rh, b, 2, hd, 7, cs);
    int bad = 0;
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 4; i++) {
            bad += fabsf(b[h * 8 + i] - a[h * 8 + 2 * i]) > 1e-6f;
            bad += fabsf(b[h * 8 + i + 4] - a[h * 8 + 2 * i + 1]) > 1e-6f;
        }
    CHECK_EQ_INT(bad, 0);
    /* Known rotation: pair 0 turns by pos radians. */
    float e[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    lk_rope_apply(&ri, e, 1, hd, 2, cs);
    CHECK_NEAR(e[0], cos(2.0), 1e-6);
    CHECK_NEAR(e[1], sin(2.0), 1e-6);
    /* Partial rotary: dims past n_rot are untouched. */
    hp.n_rot = 4;
    lk_rope rp;
    CHECK_OK(lk_rope_init(&rp, &hp, hd, &err), &err);
    float f[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    lk_rope_apply(&rp, f, 1, hd, 3, cs);
    CHECK(f[4] == 5 && f[7] == 8);
    /* Linear scaling divides frequencies by the factor. */
    hp.n_rot = 0;
    hp.rope_scaling = LK_ROPE_SCALING_LINEAR;
    hp.rope_factor = 4.0f;
    lk_rope rl;
    CHECK_OK(lk_rope_init(&rl, &hp, hd, &err), &err);
    CHECK_NEAR(rl.inv_freq[1], pow(10000.0, -2.0 / 8) / 4, 1e-8);
    /* llama3: high frequencies stay, low ones divide by factor (Llama 3.1
     * values: factor 8, low 1, high 4, original context 8192). */
    hp.rope_scaling = LK_ROPE_SCALING_LLAMA3;
    hp.rope_factor = 8.0f;
    hp.rope_low_freq_factor = 1.0f;
    hp.rope_high_freq_factor = 4.0f;
    hp.rope_orig_ctx = 8192;
    hp.rope_theta = 500000.0f;
    lk_rope r3;
    CHECK_OK(lk_rope_init(&r3, &hp, 128, &err), &err);
    CHECK_NEAR(r3.inv_freq[0], 1.0, 1e-7);
    double f63 = pow(500000.0, -126.0 / 128);
    CHECK_NEAR(r3.inv_freq[63], f63 / 8, 1e-12);
    /* Odd n_rot is refused. */
    hp.n_rot = 5;
    CHECK(lk_rope_init(&rp, &hp, hd, &err) == LK_ERR_UNSUPPORTED);
}

/* Runs this same test again with the CPU capped, so the scalar and AVX2
 * dispatch paths are exercised on any machine. */
static void rerun_capped(const char *cap) {
    pid_t pid = fork();
    if (pid == 0) {
        setenv("LLMKIT_CPU_MAX", cap, 1);
        execl("/proc/self/exe", "test_kernels", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "run with LLMKIT_CPU_MAX=%s failed",
              cap);
}

int main(void) {
    const char *cap = getenv("LLMKIT_CPU_MAX");
    const lk_kernels *best = lk_kernels_best();
    printf("cpu: %s; best kernels: %s\n", lk_cpu_features_string(), best->isa);
    if (cap && strcmp(cap, "scalar") == 0) CHECK_EQ_STR(best->isa, "scalar");
    if (cap && strcmp(cap, "avx2") == 0) CHECK(strcmp(best->isa, "avx512") != 0);
    lk_threadpool *pool = NULL;
    lk_error err;
    CHECK_OK(lk_threadpool_new(3, &pool, &err), &err);
    const lk_kernels *tables[] = {lk_kernels_ref(), lk_kernels_avx2(), lk_kernels_avx512()};
    for (size_t i = 0; i < 3; i++) {
        if (!tables[i]) {
            printf("(%s kernels not available on this CPU)\n", i == 1 ? "avx2" : "avx512");
            continue;
        }
        test_table(tables[i]);
        test_matmul(tables[i], NULL);
        test_matmul(tables[i], pool);
    }
    lk_threadpool_free(pool);
    test_scalar_ops();
    test_rope();
    if (!cap) {
        fflush(stdout);
        rerun_capped("avx2");
        rerun_capped("scalar");
    }
    return lk_test_finish("test_kernels");
}
