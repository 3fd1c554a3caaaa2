/* llama2.c checkpoints: stories260K.bin gives the published header, hparams
 * and a tensor table whose data matches what an independent stdio read of
 * the file at hand-computed offsets finds; a synthetic unshared-classifier
 * file gets output.weight; corrupted headers and sizes fail with
 * LK_ERR_FORMAT naming the file. When the GGUF reader and stories260K.gguf
 * are there, every tensor is also compared with the GGUF bytes. */
#include <stdint.h>

#include "base/mmap.h"
#include "format/gguf.h"
#include "format/llama2c.h"
#include "test.h"

/* Reads n floats at byte offset off of path with stdio, independently of the reader. */
static bool read_floats(const char *path, long off, float *out, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    bool ok = fseek(f, off, SEEK_SET) == 0 && fread(out, 4, n, f) == n;
    fclose(f);
    return ok;
}

static void check_tensor_at(const char *path, const lk_tensor_info *t, long off) {
    CHECK(t != NULL);
    if (!t) return;
    float want[4], got[4];
    CHECK(read_floats(path, off, want, 4));
    memcpy(got, t->data, sizeof got);
    CHECK_MSG(memcmp(want, got, sizeof got) == 0, "%s: first floats differ", t->name);
    /* And its last float. */
    CHECK(read_floats(path, off + (long)t->nbytes - 4, want, 1));
    memcpy(got, (const uint8_t *)t->data + t->nbytes - 4, 4);
    CHECK_MSG(want[0] == got[0], "%s: last float differs", t->name);
}

static void test_stories260k(void) {
    const char *path = lk_test_fixture("llama2c/stories260K.bin");
    if (!path) {
        printf("  (llama2c/stories260K.bin absent; skipped)\n");
        return;
    }
    lk_error err;
    lk_llama2c *m = NULL;
    CHECK_OK(lk_llama2c_open(path, &m, &err), &err);
    if (!m) return;
    const lk_llama2c_config *c = lk_llama2c_config_of(m);
    CHECK_EQ_INT(c->dim, 64);
    CHECK_EQ_INT(c->hidden_dim, 172);
    CHECK_EQ_INT(c->n_layers, 5);
    CHECK_EQ_INT(c->n_heads, 8);
    CHECK_EQ_INT(c->n_kv_heads, 4);
    CHECK_EQ_INT(c->vocab_size, 512);
    CHECK_EQ_INT(c->seq_len, 512);
    CHECK(c->shared_classifier);

    const lk_hparams *hp = lk_llama2c_hparams(m);
    CHECK_EQ_STR(hp->arch, "llama");
    CHECK_EQ_INT(hp->n_vocab, 512);
    CHECK_EQ_INT(hp->n_embd, 64);
    CHECK_EQ_INT(hp->n_layer, 5);
    CHECK_EQ_INT(hp->n_head, 8);
    CHECK_EQ_INT(hp->n_head_kv, 4);
    CHECK_EQ_INT(hp->head_dim, 8);
    CHECK_EQ_INT(hp->n_rot, 8);
    CHECK_EQ_INT(hp->n_ff, 172);
    CHECK_EQ_INT(hp->n_ctx_train, 512);
    CHECK_EQ_INT(hp->rope_layout, LK_ROPE_INTERLEAVED);
    CHECK_NEAR(hp->rope_theta, 10000.0, 0);
    CHECK_NEAR(hp->norm_eps, 1e-5, 1e-12);
    CHECK_EQ_INT(hp->norm, LK_NORM_RMS);
    CHECK_EQ_INT(hp->act, LK_ACT_SILU);
    CHECK(hp->tied_embeddings);
    CHECK_EQ_INT(hp->bos_id, 1);
    CHECK_EQ_INT(hp->n_eos, 1);
    CHECK_EQ_INT(hp->eos_ids[0], 2);

    CHECK_EQ_INT(lk_llama2c_tensor_count(m), 1 + 9 * 5 + 1);
    CHECK(lk_llama2c_find_tensor(m, "output.weight") == NULL);
    const lk_tensor_info *emb = lk_llama2c_find_tensor(m, "token_embd.weight");
    CHECK(emb && emb->dtype == LK_DTYPE_F32 && emb->n_dims == 2 && emb->shape[0] == 512 &&
          emb->shape[1] == 64 && emb->nbytes == 512 * 64 * 4);
    const lk_tensor_info *wk = lk_llama2c_find_tensor(m, "blk.2.attn_k.weight");
    CHECK(wk && wk->n_dims == 2 && wk->shape[0] == 32 && wk->shape[1] == 64);
    const lk_tensor_info *down = lk_llama2c_find_tensor(m, "blk.4.ffn_down.weight");
    CHECK(down && down->shape[0] == 64 && down->shape[1] == 172);
    const lk_tensor_info *gate = lk_llama2c_find_tensor(m, "blk.0.ffn_gate.weight");
    CHECK(gate && gate->shape[0] == 172 && gate->shape[1] == 64);
    const lk_tensor_info *onorm = lk_llama2c_find_tensor(m, "output_norm.weight");
    CHECK(onorm && onorm->n_dims == 1 && onorm->shape[0] == 64);

    /* Offsets by hand, from llama2.c's run.c memory_map_weights: 28-byte
     * header, then kinds in order, each all layers at once (floats). */
    long L = 5, D = 64, H = 172, V = 512, KV = 32;
    long o_emb = 28;
    long o_rms_att = o_emb + 4 * V * D;
    long o_wq = o_rms_att + 4 * L * D;
    long o_wk = o_wq + 4 * L * D * D;
    long o_wv = o_wk + 4 * L * KV * D;
    long o_wo = o_wv + 4 * L * KV * D;
    long o_rms_ffn = o_wo + 4 * L * D * D;
    long o_w1 = o_rms_ffn + 4 * L * D;
    long o_w2 = o_w1 + 4 * L * H * D;
    long o_w3 = o_w2 + 4 * L * D * H;
    long o_final = o_w3 + 4 * L * H * D;
    check_tensor_at(path, emb, o_emb);
    check_tensor_at(path, lk_llama2c_find_tensor(m, "blk.3.attn_norm.weight"), o_rms_att + 4 * 3 * D);
    check_tensor_at(path, lk_llama2c_find_tensor(m, "blk.1.attn_q.weight"), o_wq + 4 * 1 * D * D);
    check_tensor_at(path, wk, o_wk + 4 * 2 * KV * D);
    check_tensor_at(path, lk_llama2c_find_tensor(m, "blk.4.attn_v.weight"), o_wv + 4 * 4 * KV * D);
    check_tensor_at(path, lk_llama2c_find_tensor(m, "blk.0.attn_output.weight"), o_wo);
    check_tensor_at(path, lk_llama2c_find_tensor(m, "blk.2.ffn_norm.weight"), o_rms_ffn + 4 * 2 * D);
    check_tensor_at(path, gate, o_w1);
    check_tensor_at(path, down, o_w2 + 4 * 4 * D * H);
    check_tensor_at(path, lk_llama2c_find_tensor(m, "blk.3.ffn_up.weight"), o_w3 + 4 * 3 * H * D);
    check_tensor_at(path, onorm, o_final);
    /* The RoPE tables follow: freq_cis_real[0][0] = cos(0) = 1. */
    float cis;
    CHECK(read_floats(path, o_final + 4 * D, &cis, 1) && cis == 1.0f);
    /* RMSNorm weights of a trained model are positive, embeddings are not all zero. */
    float w0;
    memcpy(&w0, onorm->data, 4);
    CHECK(w0 > 0.0f);
    lk_llama2c_close(m);
}

/* ---------------------------------------------------------------- synthetic files */

/* A checkpoint with the given header; every float is its own index, so the
 * test can tell where each tensor starts. extra_floats pads or trims. */
static uint8_t *make_ckpt(const int32_t h[7], long extra_floats, size_t *size) {
    int32_t vocab = h[5] < 0 ? -h[5] : h[5];
    long dim = h[0], hid = h[1], L = h[2], head = h[0] / h[3], kv = (long)h[4] * head;
    long floats = vocab * dim + L * (2 * dim + 2 * dim * dim + 2 * kv * dim + 3 * hid * dim) + dim +
                  (long)h[6] * head + (h[5] < 0 ? vocab * dim : 0) + extra_floats;
    *size = 28 + 4 * (size_t)floats;
    uint8_t *b = malloc(*size);
    memcpy(b, h, 28);
    for (long i = 0; i < floats; i++) {
        float v = (float)i;
        memcpy(b + 28 + 4 * i, &v, 4);
    }
    return b;
}

static void test_unshared(void) {
    /* dim 8, hidden 12, 2 layers, 2 heads, 1 kv head, vocab -10 (unshared), seq 4. */
    const int32_t h[7] = {8, 12, 2, 2, 1, -10, 4};
    size_t size;
    uint8_t *b = make_ckpt(h, 0, &size);
    lk_error err;
    lk_llama2c *m = NULL;
    CHECK_OK(lk_llama2c_open_memory(b, size, "unshared.bin", &m, &err), &err);
    if (m) {
        CHECK(!lk_llama2c_config_of(m)->shared_classifier);
        CHECK_EQ_INT(lk_llama2c_config_of(m)->vocab_size, 10);
        CHECK(!lk_llama2c_hparams(m)->tied_embeddings);
        CHECK_EQ_INT(lk_llama2c_tensor_count(m), 1 + 18 + 2);
        const lk_tensor_info *out = lk_llama2c_find_tensor(m, "output.weight");
        CHECK(out && out->shape[0] == 10 && out->shape[1] == 8);
        /* wcls is the last vocab*dim floats. */
        if (out) {
            float first;
            memcpy(&first, out->data, 4);
            CHECK_EQ_INT((long)first, (long)((size - 28) / 4 - 80));
            CHECK((const uint8_t *)out->data + out->nbytes == b + size);
        }
        /* token_embd at float 0; blk.1.attn_q after the 2 rms_att rows and blk.0's wq. */
        const lk_tensor_info *q1 = lk_llama2c_find_tensor(m, "blk.1.attn_q.weight");
        float v;
        memcpy(&v, q1->data, 4);
        CHECK_EQ_INT((long)v, 80 + 2 * 8 + 64);
        const lk_tensor_info *k0 = lk_llama2c_find_tensor(m, "blk.0.attn_k.weight");
        CHECK(k0 && k0->shape[0] == 4 && k0->shape[1] == 8);
        lk_llama2c_close(m);
    }
    free(b);
}

static void expect_bad(const int32_t h[7], long extra, lk_status want, const char *key) {
    size_t size;
    uint8_t *b;
    /* For headers make_ckpt cannot size (bad values), write only the header. */
    bool sane = h[0] > 0 && h[1] > 0 && h[2] > 0 && h[3] > 0 && h[4] > 0 && h[5] != 0 &&
                h[6] > 0 && h[0] % h[3] == 0 && h[0] < 4096 && h[1] < 4096 && h[2] < 64 &&
                h[5] < 4096 && h[5] > -4096 && h[6] < 4096;
    if (sane) {
        b = make_ckpt(h, extra, &size);
    } else {
        size = 28 + 4096;
        b = calloc(1, size);
        memcpy(b, h, 28);
    }
    lk_error err;
    lk_llama2c *m = (lk_llama2c *)1;
    lk_status s = lk_llama2c_open_memory(b, size, "bad.bin", &m, &err);
    CHECK_MSG(s == want, "header {%d %d %d %d %d %d %d}%+ld: got %s (%s)", h[0], h[1], h[2], h[3],
              h[4], h[5], h[6], extra, lk_status_name(s), s ? err.msg : "");
    CHECK(m == NULL);
    if (s != LK_OK) {
        CHECK_MSG(strstr(err.msg, "bad.bin") != NULL, "no file name: %s", err.msg);
        CHECK_MSG(!key || strstr(err.msg, key) != NULL, "lacks '%s': %s", key, err.msg);
    }
    if (s == LK_OK) lk_llama2c_close(m);
    free(b);
}

static void test_corrupted(void) {
    const int32_t good[7] = {8, 12, 2, 2, 1, 10, 4};
    expect_bad(good, -1, LK_ERR_FORMAT, "truncated"); /* one float short */
    expect_bad(good, 1, LK_ERR_FORMAT, "implies");    /* one float too many */
    expect_bad((int32_t[]){0, 12, 2, 2, 1, 10, 4}, 0, LK_ERR_FORMAT, "dim");
    expect_bad((int32_t[]){-8, 12, 2, 2, 1, 10, 4}, 0, LK_ERR_FORMAT, "dim");
    expect_bad((int32_t[]){8, 0, 2, 2, 1, 10, 4}, 0, LK_ERR_FORMAT, "hidden_dim");
    expect_bad((int32_t[]){8, 12, -1, 2, 1, 10, 4}, 0, LK_ERR_FORMAT, "n_layers");
    expect_bad((int32_t[]){8, 12, 2, 0, 1, 10, 4}, 0, LK_ERR_FORMAT, "n_heads");
    expect_bad((int32_t[]){8, 12, 2, 2, 0, 10, 4}, 0, LK_ERR_FORMAT, "n_kv_heads");
    expect_bad((int32_t[]){8, 12, 2, 2, 1, 0, 4}, 0, LK_ERR_FORMAT, "vocab_size");
    expect_bad((int32_t[]){8, 12, 2, 2, 1, INT32_MIN, 4}, 0, LK_ERR_FORMAT, "vocab_size");
    expect_bad((int32_t[]){8, 12, 2, 2, 1, 10, 0}, 0, LK_ERR_FORMAT, "seq_len");
    expect_bad((int32_t[]){8, 12, 2, 3, 1, 10, 4}, 0, LK_ERR_FORMAT, "does not divide dim");
    expect_bad((int32_t[]){8, 12, 2, 4, 3, 10, 4}, 0, LK_ERR_FORMAT, "n_kv_heads");
    expect_bad((int32_t[]){8, 12, 2, 2, 4, 10, 4}, 0, LK_ERR_FORMAT, "n_kv_heads");
    expect_bad((int32_t[]){6, 12, 2, 2, 1, 10, 4}, 0, LK_ERR_FORMAT, "odd");
    /* Absurd sizes: within the per-field cap, but the file is far too small. */
    expect_bad((int32_t[]){1 << 24, 1 << 24, 1 << 24, 1 << 10, 1 << 10, 1 << 24, 1 << 24}, 0,
               LK_ERR_FORMAT, "overflow");
    expect_bad((int32_t[]){1 << 12, 1 << 12, 1 << 8, 1 << 5, 1 << 5, 1 << 15, 1 << 12}, 0,
               LK_ERR_FORMAT, "implies");
    expect_bad((int32_t[]){INT32_MAX, 12, 2, 1, 1, 10, 4}, 0, LK_ERR_FORMAT, "dim");
    /* Too short for the header; a version-1 export. */
    lk_error err;
    lk_llama2c *m;
    CHECK(lk_llama2c_open_memory("\x08\0\0\0", 4, "short.bin", &m, &err) == LK_ERR_FORMAT);
    CHECK(strstr(err.msg, "short.bin") != NULL);
    uint8_t v1[256] = "24ka";
    CHECK(lk_llama2c_open_memory(v1, sizeof v1, "v1.bin", &m, &err) == LK_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "version") != NULL);
    CHECK(lk_llama2c_open("/nonexistent/x.bin", &m, &err) == LK_ERR_NOT_FOUND);
}

/* The same model as GGUF (ggml-org's stories260K.gguf): every tensor is
 * byte-identical, Q and K included (GGUF's llama layout is Meta's
 * interleaved one, as llama2.c's), and GGUF's ne[] is our shape reversed. */
static void test_against_gguf(void) {
    const char *bin = lk_test_fixture("llama2c/stories260K.bin");
    const char *gg = lk_test_fixture("gguf/stories260K.gguf");
    if (!bin || !gg) {
        printf("  (stories260K .bin or .gguf absent; GGUF cross-check skipped)\n");
        return;
    }
    lk_error err;
    lk_llama2c *m = NULL;
    lk_gguf *g = NULL;
    CHECK_OK(lk_llama2c_open(bin, &m, &err), &err);
    CHECK_OK(lk_gguf_open(gg, &g, &err), &err);
    if (m && g) {
        static const char *const names[] = {
            "token_embd.weight",      "output_norm.weight",     "blk.0.attn_norm.weight",
            "blk.4.attn_norm.weight", "blk.2.ffn_norm.weight",  "blk.1.attn_v.weight",
            "blk.3.attn_output.weight", "blk.0.ffn_gate.weight", "blk.4.ffn_down.weight",
            "blk.2.ffn_up.weight",    "blk.0.attn_q.weight",    "blk.3.attn_k.weight"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            const lk_tensor_info *a = lk_llama2c_find_tensor(m, names[i]);
            const lk_gguf_tensor *b = lk_gguf_find_tensor(g, names[i]);
            CHECK_MSG(a && b, "%s missing", names[i]);
            if (!a || !b) continue;
            CHECK_EQ_INT(b->type, LK_DTYPE_F32);
            CHECK_EQ_INT((int)b->n_dims, a->n_dims);
            for (int d = 0; d < a->n_dims; d++) CHECK_EQ_INT(b->ne[a->n_dims - 1 - d], a->shape[d]);
            CHECK_MSG(a->nbytes == b->nbytes && memcmp(a->data, b->data, a->nbytes) == 0,
                      "%s: bytes differ from the GGUF", names[i]);
        }
    }
    lk_gguf_close(g);
    lk_llama2c_close(m);
}

int main(void) {
    test_stories260k();
    test_against_gguf();
    test_unshared();
    test_corrupted();
    return lk_test_finish("test_llama2c");
}
