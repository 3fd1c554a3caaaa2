/* stories260K end to end: greedy generation from BOS reproduces the output
 * Karpathy published for llama2.c's run.c (fixtures/llama2c/stories260K.md),
 * token for token. Also: batched prefill equals token-by-token decode, F16
 * and F32 KV caches agree, and a full context is refused before compute.
 *
 * The checkpoint comes through the llama2.c reader, and once more through
 * the GGUF reader from stories260K.gguf (same weights); both feed
 * lk_model_from_tensors. The tokenizer file tok512.bin is read by a few
 * lines of test code, only to decode the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "format/gguf.h"
#include "format/llama2c.h"
#include "test.h"

/* stories260K.gguf's tensors as an internal table: GGUF's ne[] (fastest
 * first) reversed into row-major shapes. */
#define MAX_TENSORS 64
typedef struct {
    lk_tensor_info t[MAX_TENSORS];
    size_t n;
} table;

static int gguf_table(const lk_gguf *g, table *out) {
    out->n = 0;
    for (size_t i = 0; i < lk_gguf_tensor_count(g) && out->n < MAX_TENSORS; i++) {
        const lk_gguf_tensor *gt = lk_gguf_tensor_at(g, i);
        lk_tensor_info *t = &out->t[out->n++];
        memset(t, 0, sizeof *t);
        t->name = gt->name;
        t->dtype = gt->type;
        t->n_dims = (int32_t)gt->n_dims;
        for (uint32_t d = 0; d < gt->n_dims; d++) t->shape[d] = gt->ne[gt->n_dims - 1 - d];
        t->data = gt->data;
        t->nbytes = gt->nbytes;
    }
    return out->n == lk_gguf_tensor_count(g) ? 0 : -1;
}

/* tok512.bin: max_len, then per token: float score, int32 len, bytes. */
typedef struct {
    char *piece[512];
    int n;
} vocab;

static int load_vocab(const char *path, vocab *v) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    int32_t max_len;
    if (fread(&max_len, 4, 1, fp) != 1) return fclose(fp), -1;
    for (v->n = 0; v->n < 512; v->n++) {
        float score;
        int32_t len;
        if (fread(&score, 4, 1, fp) != 1 || fread(&len, 4, 1, fp) != 1 || len < 0 || len > 64) break;
        v->piece[v->n] = calloc(1, (size_t)len + 1);
        if (fread(v->piece[v->n], 1, (size_t)len, fp) != (size_t)len) break;
    }
    fclose(fp);
    return v->n == 512 ? 0 : -1;
}

/* run.c's decode: strip the space after BOS, turn <0xNN> into its byte. */
static void append_piece(const vocab *v, int prev, int tok, char *out, size_t cap) {
    const char *p = v->piece[tok];
    if (prev == 1 && p[0] == ' ') p++;
    unsigned byte;
    char one[2] = {0, 0};
    if (sscanf(p, "<0x%02X>", &byte) == 1) {
        one[0] = (char)byte;
        p = one;
    }
    strncat(out, p, cap - strlen(out) - 1);
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* The greedy block from stories260K.md (between the "./run" line and ```). */
static char *expected_text(const char *md_path) {
    char *md;
    size_t size;
    lk_error err;
    if (lk_read_file(md_path, 1 << 20, &md, &size, &err) != LK_OK) return NULL;
    char *start = strstr(md, "-t 0.0\n");
    if (!start) return free(md), NULL;
    start += strlen("-t 0.0\n");
    char *end = strstr(start, "\n```");
    if (!end) return free(md), NULL;
    *end = '\0';
    char *text = strdup(start);
    free(md);
    return text;
}

static void test_greedy(lk_model *m, const vocab *v, const char *want, lk_dtype kv) {
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = 256;
    cp.kv_type = kv;
    lk_context *c;
    lk_error err;
    CHECK_OK(lk_context_new(m, &cp, &c, &err), &err);
    if (!c) return;
    static const int k_first[24] = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421,
                                    395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292};
    float logits[512];
    static char text[8192];
    text[0] = '\0';
    int tok = 1, n_gen = 0, first_bad = -1;
    /* run.c: 256 steps (each evaluates one token and prints the next), stop
     * when BOS comes again. */
    for (int pos = 0; pos < 256; pos++) {
        CHECK_OK(lk_eval(c, &tok, 1, LK_LOGITS_LAST, logits, &err), &err);
        int next = argmax(logits, 512);
        if (n_gen < 24 && next != k_first[n_gen] && first_bad < 0) first_bad = n_gen;
        if (next == 1) break;
        append_piece(v, tok, next, text, sizeof text);
        tok = next;
        n_gen++;
    }
    CHECK_MSG(first_bad < 0, "kv %s: token %d differs from PROVENANCE's first 24", lk_dtype_name(kv),
              first_bad);
    CHECK_MSG(n_gen >= 200, "kv %s: only %d tokens generated", lk_dtype_name(kv), n_gen);
    CHECK_MSG(strcmp(text, want) == 0, "kv %s: text differs:\n--- got\n%s\n--- want\n%s",
              lk_dtype_name(kv), text, want);
    /* The context is now full: one more token is refused, with a message. */
    int32_t more[2] = {1, 1};
    lk_status st = lk_eval(c, more, 2, LK_LOGITS_LAST, logits, &err);
    CHECK(st == LK_ERR_RANGE);
    CHECK(strstr(err.msg, "context full") != NULL);
    lk_context_free(c);
}

/* One call with 24 tokens (logits of every row) equals 24 single-token calls. */
static void test_prefill_matches_decode(lk_model *m) {
    static const int32_t toks[24] = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315,
                                     421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419};
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = 64;
    cp.n_batch = 10; /* forces 3 chunks */
    cp.kv_type = LK_DTYPE_F32;
    lk_context *a, *b;
    lk_error err;
    CHECK_OK(lk_context_new(m, &cp, &a, &err), &err);
    CHECK_OK(lk_context_new(m, &cp, &b, &err), &err);
    static float all[24 * 512], one[512];
    CHECK_OK(lk_eval(a, toks, 24, LK_LOGITS_ALL, all, &err), &err);
    CHECK_EQ_INT(lk_context_n_past(a), 24);
    double maxdiff = 0;
    for (int i = 0; i < 24; i++) {
        CHECK_OK(lk_eval(b, &toks[i], 1, LK_LOGITS_LAST, one, &err), &err);
        for (int j = 0; j < 512; j++) {
            double d = fabs((double)one[j] - all[i * 512 + j]);
            if (d > maxdiff) maxdiff = d;
        }
    }
    CHECK_MSG(maxdiff < 1e-4, "prefill vs decode max diff %g", maxdiff);
    /* Truncating and re-evaluating gives the same logits again. */
    CHECK_OK(lk_context_truncate(b, 23, &err), &err);
    CHECK_OK(lk_eval(b, &toks[23], 1, LK_LOGITS_LAST, all, &err), &err);
    CHECK(memcmp(all, one, sizeof one) == 0);
    /* Bad input is refused. */
    int32_t bad = 512;
    CHECK(lk_eval(b, &bad, 1, LK_LOGITS_LAST, one, &err) == LK_ERR_ARG);
    CHECK(lk_eval(b, toks, 0, LK_LOGITS_LAST, one, &err) == LK_ERR_ARG);
    lk_context_free(a);
    lk_context_free(b);
}

/* Three conversations decoded together (lk_eval_multi) give the logits each
 * gets alone (lk_eval), at different positions, with different KV types. */
static void test_multi(lk_model *m) {
    static const int32_t prompts[3][5] = {{1, 403, 407, 261, 378},
                                          {1, 432, 383, 0, 0},
                                          {1, 286, 261, 376, 298}};
    static const int32_t lens[3] = {5, 3, 4};
    lk_context *together[3], *alone[3];
    lk_error err;
    for (int i = 0; i < 3; i++) {
        lk_context_params cp;
        lk_context_params_default(&cp);
        cp.n_ctx = 32 + 16 * i;
        cp.n_batch = 2; /* three sequences: two chunks */
        cp.kv_type = i == 1 ? LK_DTYPE_F32 : LK_DTYPE_F16;
        together[i] = alone[i] = NULL;
        CHECK_OK(lk_context_new(m, &cp, &together[i], &err), &err);
        CHECK_OK(lk_context_new(m, &cp, &alone[i], &err), &err);
        if (!together[i] || !alone[i]) return;
        CHECK_OK(lk_eval(together[i], prompts[i], lens[i], LK_LOGITS_NONE, NULL, &err), &err);
        CHECK_OK(lk_eval(alone[i], prompts[i], lens[i], LK_LOGITS_NONE, NULL, &err), &err);
    }
    static float multi[3 * 512], one[512];
    int32_t toks[3] = {100, 200, 300};
    double maxd = 0;
    for (int step = 0; step < 4; step++) {
        CHECK_OK(lk_eval_multi(together, toks, 3, multi, &err), &err);
        for (int i = 0; i < 3; i++) {
            CHECK_OK(lk_eval(alone[i], &toks[i], 1, LK_LOGITS_LAST, one, &err), &err);
            for (int j = 0; j < 512; j++) maxd = fmax(maxd, fabs(one[j] - multi[i * 512 + j]));
            CHECK_EQ_INT(lk_context_n_past(together[i]), lens[i] + step + 1);
            toks[i] = argmax(one, 512);
        }
    }
    CHECK_MSG(maxd < 1e-4, "multi vs single max diff %g", maxd);
    /* A copied prefix continues exactly like the original. */
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = 32;
    lk_context *copy = NULL;
    CHECK_OK(lk_context_new(m, &cp, &copy, &err), &err);
    if (copy) {
        CHECK_OK(lk_context_copy(copy, together[0], 5, &err), &err);
        CHECK_OK(lk_context_copy(alone[0], together[0], 5, &err), &err);
        int32_t t = 123;
        static float a[512], b2[512];
        CHECK_OK(lk_eval(copy, &t, 1, LK_LOGITS_LAST, a, &err), &err);
        CHECK_OK(lk_eval(alone[0], &t, 1, LK_LOGITS_LAST, b2, &err), &err);
        CHECK(memcmp(a, b2, sizeof a) == 0);
        CHECK(lk_context_copy(copy, together[0], 99, &err) == LK_ERR_RANGE);
        CHECK(lk_context_copy(together[1], together[0], 2, &err) == LK_ERR_ARG); /* f32 vs f16 */
        lk_context_free(copy);
    }
    /* Refusals: the same context twice, a bad id; nothing is evaluated. */
    lk_context *dup[2] = {together[0], together[0]};
    CHECK(lk_eval_multi(dup, toks, 2, multi, &err) == LK_ERR_ARG);
    toks[2] = 512;
    CHECK(lk_eval_multi(together, toks, 3, multi, &err) == LK_ERR_ARG);
    CHECK_EQ_INT(lk_context_n_past(together[0]), lens[0] + 4);
    for (int i = 0; i < 3; i++) {
        lk_context_free(together[i]);
        lk_context_free(alone[i]);
    }
}

int main(void) {
    const char *bin = lk_test_fixture("llama2c/stories260K.bin");
    const char *tok = lk_test_fixture("llama2c/tok512.bin");
    const char *md = lk_test_fixture("llama2c/stories260K.md");
    const char *gguf = lk_test_fixture("gguf/stories260K.gguf");
    if (!bin || !tok || !md) lk_test_skip("fixtures llama2c/stories260K.bin, tok512.bin, .md not found");
    lk_error err;
    lk_llama2c *l2c = NULL;
    CHECK_OK(lk_llama2c_open(bin, &l2c, &err), &err);
    vocab v;
    CHECK(load_vocab(tok, &v) == 0);
    char *want = expected_text(md);
    CHECK(want != NULL);
    if (lk_test_failures) return lk_test_finish("test_stories260k");
    static table t;
    t.n = lk_llama2c_tensor_count(l2c);
    for (size_t i = 0; i < t.n && i < MAX_TENSORS; i++) t.t[i] = *lk_llama2c_tensor_at(l2c, i);
    const lk_hparams *hp = lk_llama2c_hparams(l2c);
    lk_model *m;
    CHECK_OK(lk_model_from_tensors(hp, t.t, t.n, NULL, &m, &err), &err);
    if (m) {
        test_greedy(m, &v, want, LK_DTYPE_F32);
        test_greedy(m, &v, want, LK_DTYPE_F16);
        test_prefill_matches_decode(m);
        test_multi(m);
        /* Default context: the model's own (seq_len 512), it fits easily. */
        lk_context *c = NULL;
        CHECK_OK(lk_context_new(m, NULL, &c, &err), &err);
        if (c) CHECK_EQ_INT(lk_context_n_ctx(c), 512);
        lk_context_free(c);
        lk_model_free(m);
    }
    /* The GGUF holds the same weights (llama.cpp keeps llama2.c's interleaved
     * q/k layout): the same text must come out. Hyper-parameters are the
     * .bin's, as GGUF metadata mapping is not this test's subject. */
    if (gguf) {
        lk_gguf *g = NULL;
        CHECK_OK(lk_gguf_open(gguf, &g, &err), &err);
        if (g && gguf_table(g, &t) == 0) {
            CHECK_OK(lk_model_from_tensors(hp, t.t, t.n, NULL, &m, &err), &err);
            if (m) test_greedy(m, &v, want, LK_DTYPE_F16);
            lk_model_free(m);
        }
        lk_gguf_close(g);
    } else {
        printf("(gguf/stories260K.gguf not found: GGUF part skipped)\n");
    }
    free(want);
    for (int i = 0; i < v.n; i++) free(v.piece[i]);
    lk_llama2c_close(l2c);
    return lk_test_finish("test_stories260k");
}
