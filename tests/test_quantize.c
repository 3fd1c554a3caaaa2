/* lk_quantize_model (llmkit quantize) against llama-quantize.
 *
 * The fixtures stories260K-ffn192-<TYPE>.gguf were written by llama.cpp's
 * llama-quantize from stories260K-ffn192.gguf. Quantizing the same F32 file
 * must give the same file, byte for byte (metadata, tensor order, types and
 * data); the Q8_0 output must run and greedy-generate what the F32 model
 * does. Bad input (a row length no type fits, a missing output folder, a
 * write that fails) must give an error and leave no file behind. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/mmap.h"
#include "format/gguf.h"
#include "quantize/quantize.h"
#include "test.h"

static bool exists(const char *path) { return access(path, F_OK) == 0; }

static bool same_file(const char *a, const char *b) {
    lk_error err;
    lk_mmap x = {0}, y = {0};
    bool same = false;
    if (lk_mmap_open(a, &x, &err) == LK_OK && lk_mmap_open(b, &y, &err) == LK_OK)
        same = x.size == y.size && x.data && y.data && memcmp(x.data, y.data, x.size) == 0;
    lk_mmap_close(&x);
    lk_mmap_close(&y);
    return same;
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static void greedy(const char *path, int n, int *out) {
    lk_error err;
    lk_model *m = NULL;
    lk_context *c = NULL;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = 1;
    memset(out, -1, (size_t)n * sizeof *out);
    CHECK_OK(lk_model_load(path, &mp, &m, &err), &err);
    if (!m) return;
    CHECK_OK(lk_context_new(m, NULL, &c, &err), &err);
    const int V = lk_model_hparams(m)->n_vocab;
    float *logits = malloc((size_t)V * sizeof *logits);
    int32_t tok = lk_model_hparams(m)->bos_id >= 0 ? lk_model_hparams(m)->bos_id : 1;
    for (int i = 0; c && i < n; i++) {
        CHECK_OK(lk_eval(c, &tok, 1, LK_LOGITS_LAST, logits, &err), &err);
        out[i] = tok = argmax(logits, V);
    }
    free(logits);
    lk_context_free(c);
    lk_model_free(m);
}

static void test_same_as_llama_cpp(const char *src) {
    static const char *const types[] = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K_M", "Q6_K"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char rel[128], out[512];
        snprintf(rel, sizeof rel, "gguf/stories260K-ffn192-%s.gguf", types[i]);
        const char *want = lk_test_fixture(rel);
        if (!want) {
            fprintf(stderr, "test_quantize: %s missing, skipped\n", rel);
            continue;
        }
        snprintf(out, sizeof out, "%s/q-%s.gguf", lk_test_tmpdir(), types[i]);
        lk_quantize_params p = {.ftype = lk_ftype_from_name(types[i]), .n_threads = 2};
        lk_quantize_stats stats;
        lk_error err;
        CHECK_OK(lk_quantize_model(src, out, &p, &stats, &err), &err);
        const bool same = same_file(out, want);
        CHECK_MSG(same, "%s: llmkit's file differs from llama-quantize's", types[i]);
        printf("%-7s %s (%llu tensors, %llu quantized)\n", types[i],
               same ? "byte-identical to llama-quantize's file" : "DIFFERS",
               (unsigned long long)stats.n_tensors, (unsigned long long)stats.n_quantized);
        CHECK(!exists(strcat(out, ".tmp")));
    }
}

static void test_q8_0_generates(const char *src) {
    char out[512];
    snprintf(out, sizeof out, "%s/q-Q8_0.gguf", lk_test_tmpdir());
    if (!exists(out)) return;
    int a[20], b[20];
    greedy(src, 20, a);
    greedy(out, 20, b);
    int bad = -1;
    for (int i = 0; i < 20 && bad < 0; i++)
        if (a[i] != b[i]) bad = i;
    CHECK_MSG(bad < 0, "Q8_0 greedy token %d differs from F32's", bad);
}

/* Every other type (no llama.cpp fixture for these): the file loads, its
 * types follow the mix rule, and greedy generation starts as the F32
 * model's does (the first 3 tokens; low-bit types drift later). */
static void test_other_types(const char *src) {
    static const char *const types[] = {"f32", "f16", "bf16", "q2_k", "q3_k_m", "q4_k_s", "q5_k_s", "q5_k_m"};
    int want[3];
    greedy(src, 3, want);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char out[512];
        snprintf(out, sizeof out, "%s/other-%s.gguf", lk_test_tmpdir(), types[i]);
        lk_quantize_params p = {.ftype = lk_ftype_from_name(types[i]), .n_threads = 2};
        lk_error err;
        CHECK_OK(lk_quantize_model(src, out, &p, NULL, &err), &err);
        int got[3];
        greedy(out, 3, got);
        CHECK_MSG(memcmp(got, want, sizeof got) == 0, "%s: first greedy tokens differ", types[i]);
        lk_gguf *g = NULL;
        CHECK_OK(lk_gguf_open(out, &g, &err), &err);
        uint32_t ft = 99;
        if (g) CHECK(lk_gguf_get_u32(g, "general.file_type", &ft) && ft == (uint32_t)p.ftype);
        lk_gguf_close(g);
        remove(out);
    }
}

/* A llama GGUF with one 2-D tensor of 48-element rows: Q8_0 has no
 * fallback for it. */
static void write_odd_gguf(const char *path) {
    lk_gguf_writer *w = lk_gguf_writer_new(3, 0);
    static float data[48 * 4];
    for (int i = 0; i < 48 * 4; i++) data[i] = (float)(i % 7) - 3.0f;
    const int64_t ne[2] = {48, 4};
    lk_error err;
    CHECK_EQ_INT(lk_gguf_writer_set_str(w, "general.architecture", "llama"), LK_OK);
    CHECK_OK(lk_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", LK_DTYPE_F32, 2, ne, data,
                                       sizeof data, &err),
             &err);
    CHECK_OK(lk_gguf_writer_write(w, path, &err), &err);
    lk_gguf_writer_free(w);
}

static void test_bad_input(const char *src) {
    lk_error err;
    char in[512], out[512], tmp[600];
    lk_quantize_params p = {.ftype = LK_FTYPE_Q8_0, .n_threads = 1};

    snprintf(in, sizeof in, "%s/odd.gguf", lk_test_tmpdir());
    snprintf(out, sizeof out, "%s/odd-q8.gguf", lk_test_tmpdir());
    write_odd_gguf(in);
    CHECK_EQ_INT(lk_quantize_model(in, out, &p, NULL, &err), LK_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "blk.0.attn_q.weight") && strstr(err.msg, "48"), "message: %s",
              err.msg);
    CHECK(!exists(out));
    /* Q4_K_M falls back to F16 there, as llama.cpp does. */
    p.ftype = LK_FTYPE_Q4_K_M;
    CHECK_OK(lk_quantize_model(in, out, &p, NULL, &err), &err);
    lk_gguf *g = NULL;
    CHECK_OK(lk_gguf_open(out, &g, &err), &err);
    if (g) CHECK_EQ_INT(lk_gguf_tensor_at(g, 0)->type, LK_DTYPE_F16);
    lk_gguf_close(g);

    snprintf(out, sizeof out, "%s/no/such/folder/x.gguf", lk_test_tmpdir());
    CHECK_EQ_INT(lk_quantize_model(src, out, &p, NULL, &err), LK_ERR_NOT_FOUND);
    CHECK_MSG(strstr(err.msg, "does not exist"), "message: %s", err.msg);

    p.ftype = (lk_ftype)99;
    snprintf(out, sizeof out, "%s/bad-type.gguf", lk_test_tmpdir());
    CHECK_EQ_INT(lk_quantize_model(src, out, &p, NULL, &err), LK_ERR_ARG);
    CHECK(!exists(out));

    /* A full disk, as a file size limit of 64 KiB: the write fails with
     * EFBIG (SIGXFSZ ignored), and neither out nor out.tmp remains. */
    p.ftype = LK_FTYPE_Q8_0;
    snprintf(out, sizeof out, "%s/full.gguf", lk_test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
        const lk_status st = lk_quantize_model(src, out, &p, NULL, &err);
        setrlimit(RLIMIT_FSIZE, &old);
        CHECK_EQ_INT(st, LK_ERR_IO);
        CHECK_MSG(strstr(err.msg, "write failed"), "message: %s", err.msg);
        CHECK(!exists(out));
        CHECK(!exists(tmp));
    }
    signal(SIGXFSZ, prev);
}

/* A llama2.c checkpoint converted to GGUF (F32, and Q8_0 through the same
 * path) generates what the checkpoint does. */
static void test_convert_llama2c(void) {
    const char *bin = lk_test_fixture("llama2c/stories260K.bin");
    if (!bin) {
        fprintf(stderr, "test_quantize: llama2c/stories260K.bin missing, skipped\n");
        return;
    }
    char out[512];
    snprintf(out, sizeof out, "%s/from-llama2c.gguf", lk_test_tmpdir());
    lk_quantize_params p = {.ftype = LK_FTYPE_ALL_F32, .n_threads = 2};
    lk_error err;
    CHECK_OK(lk_quantize_model(bin, out, &p, NULL, &err), &err);
    int a[20], b[20];
    greedy(bin, 20, a);
    greedy(out, 20, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    lk_gguf *g = NULL;
    CHECK_OK(lk_gguf_open(out, &g, &err), &err);
    if (g) {
        uint32_t v = 0;
        CHECK(lk_gguf_get_u32(g, "llama.embedding_length", &v) && v == 64);
        CHECK(lk_gguf_get_u32(g, "llama.attention.head_count_kv", &v) && v == 4);
        CHECK(lk_gguf_get_u32(g, "general.file_type", &v) && v == 0);
        lk_gguf_close(g);
    }
}

int main(void) {
    const char *src = lk_test_fixture("gguf/stories260K-ffn192.gguf");
    if (!src) lk_test_skip("fixture gguf/stories260K-ffn192.gguf not found");
    test_same_as_llama_cpp(src);
    test_q8_0_generates(src);
    test_other_types(src);
    test_bad_input(src);
    test_convert_llama2c();
    return lk_test_finish("test_quantize");
}
