/* stories260K end to end: greedy generation from BOS reproduces the output
 * Karpathy published for llama2.c's run.c (fixtures/llama2c/stories260K.md),
 * token for token. Also: batched prefill equals token-by-token decode, F16
 * and F32 KV caches agree, and a full context is refused before compute.
 *
 * The llama2.c checkpoint is read here by a few lines of test code (header +
 * tensors in a fixed order) into a tensor table for lk_model_from_tensors,
 * so this test does not depend on the format readers; the tokenizer file
 * tok512.bin is read likewise, only to decode the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "test.h"

#define MAX_TENSORS 64

typedef struct {
    lk_mmap map;
    lk_hparams hp;
    lk_tensor_info t[MAX_TENSORS];
    char names[MAX_TENSORS][48];
    size_t n;
} llama2c_file;

static const float *g_cursor;
static const float *g_end;

static void add(llama2c_file *f, const char *name, int64_t rows, int64_t cols) {
    lk_tensor_info *t = &f->t[f->n];
    snprintf(f->names[f->n], sizeof f->names[0], "%s", name);
    t->name = f->names[f->n];
    t->dtype = LK_DTYPE_F32;
    t->n_dims = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    int64_t count = cols ? rows * cols : rows;
    t->data = g_cursor;
    t->nbytes = (uint64_t)count * 4;
    g_cursor += count;
    f->n++;
}

/* Per-layer tensors are stored layer-major by kind: all layers' wq, then wk... */
static void add_layers(llama2c_file *f, const char *kind, int64_t rows, int64_t cols) {
    char name[48];
    for (int32_t l = 0; l < f->hp.n_layer; l++) {
        snprintf(name, sizeof name, "blk.%d.%s.weight", l, kind);
        add(f, name, rows, cols);
    }
}

static int load_llama2c(const char *path, llama2c_file *f) {
    memset(f, 0, sizeof *f);
    lk_error err;
    if (lk_mmap_open(path, &f->map, &err) != LK_OK || f->map.size < 28) return -1;
    int32_t h[7];
    memcpy(h, f->map.data, sizeof h);
    lk_hparams *hp = &f->hp;
    snprintf(hp->arch, sizeof hp->arch, "llama");
    hp->n_embd = h[0];
    hp->n_ff = h[1];
    hp->n_layer = h[2];
    hp->n_head = h[3];
    hp->n_head_kv = h[4];
    bool shared = h[5] > 0;
    hp->n_vocab = shared ? h[5] : -h[5];
    hp->n_ctx_train = h[6];
    hp->head_dim = hp->n_embd / hp->n_head;
    hp->n_rot = hp->head_dim;
    hp->norm = LK_NORM_RMS;
    hp->norm_eps = 1e-5f;
    hp->act = LK_ACT_SILU;
    hp->rope_layout = LK_ROPE_INTERLEAVED;
    hp->rope_theta = 10000.0f;
    hp->tied_embeddings = shared;
    hp->bos_id = 1;
    hp->eos_ids[0] = 2;
    hp->n_eos = 1;
    int64_t D = hp->n_embd, kv = (int64_t)hp->n_head_kv * hp->head_dim, F = hp->n_ff;
    g_cursor = (const float *)((const char *)f->map.data + 28);
    g_end = (const float *)((const char *)f->map.data + f->map.size);
    add(f, "token_embd.weight", hp->n_vocab, D);
    add_layers(f, "attn_norm", D, 0);
    add_layers(f, "attn_q", D, D);
    add_layers(f, "attn_k", kv, D);
    add_layers(f, "attn_v", kv, D);
    add_layers(f, "attn_output", D, D);
    add_layers(f, "ffn_norm", D, 0);
    add_layers(f, "ffn_gate", F, D);
    add_layers(f, "ffn_down", D, F);
    add_layers(f, "ffn_up", F, D);
    add(f, "output_norm.weight", D, 0);
    g_cursor += (int64_t)hp->n_ctx_train * hp->head_dim; /* freq_cis_real, freq_cis_imag */
    if (!shared) add(f, "output.weight", hp->n_vocab, D);
    return g_cursor <= g_end ? 0 : -1;
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

int main(void) {
    const char *bin = lk_test_fixture("llama2c/stories260K.bin");
    const char *tok = lk_test_fixture("llama2c/tok512.bin");
    const char *md = lk_test_fixture("llama2c/stories260K.md");
    if (!bin || !tok || !md) lk_test_skip("fixtures llama2c/stories260K.bin, tok512.bin, .md not found");
    static llama2c_file f;
    CHECK(load_llama2c(bin, &f) == 0);
    vocab v;
    CHECK(load_vocab(tok, &v) == 0);
    char *want = expected_text(md);
    CHECK(want != NULL);
    if (lk_test_failures) return lk_test_finish("test_stories260k");
    lk_model *m;
    lk_error err;
    CHECK_OK(lk_model_from_tensors(&f.hp, f.t, f.n, NULL, &m, &err), &err);
    if (m) {
        test_greedy(m, &v, want, LK_DTYPE_F32);
        test_greedy(m, &v, want, LK_DTYPE_F16);
        test_prefill_matches_decode(m);
        lk_model_free(m);
    }
    free(want);
    for (int i = 0; i < v.n; i++) free(v.piece[i]);
    lk_mmap_close(&f.map);
    return lk_test_finish("test_stories260k");
}
