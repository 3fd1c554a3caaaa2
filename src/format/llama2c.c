/* llama2.c legacy checkpoint reader (layout and checks in llama2c.h).
 *
 * The file has no names and no per-tensor sizes: everything follows from the
 * seven header numbers. So the header is checked first, the total size is
 * computed with overflow-checked arithmetic and must equal the file size,
 * and only then is the tensor table carved out of the mapping in file order. */
#include "format/llama2c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mmap.h"

#define HEADER_BYTES 28
/* Larger than any real model's, small enough that products of two stay far
 * from overflow in int64 shapes. */
#define MAX_SIDE (1 << 24)
#define NAME_LEN 40

struct lk_llama2c {
    lk_mmap map; /* empty for a caller's buffer */
    lk_llama2c_config cfg;
    lk_hparams hp;
    lk_tensor_info *tensors;
    char (*names)[NAME_LEN]; /* tensors[i].name points at names[i] */
    size_t n_tensors;
};

void lk_llama2c_close(lk_llama2c *m) {
    if (!m) return;
    lk_mmap_close(&m->map);
    free(m->tensors);
    free(m->names);
    free(m);
}

static int32_t read_i32(const uint8_t *p) {
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    int32_t v;
    memcpy(&v, &u, 4);
    return v;
}

static lk_status check_config(const lk_llama2c_config *c, const char *path, lk_error *err) {
    const struct {
        const char *name;
        int32_t v;
    } f[] = {{"dim", c->dim},           {"hidden_dim", c->hidden_dim}, {"n_layers", c->n_layers},
             {"n_heads", c->n_heads},   {"n_kv_heads", c->n_kv_heads}, {"vocab_size", c->vocab_size},
             {"seq_len", c->seq_len}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v <= 0 || f[i].v > MAX_SIDE)
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: header %s = %d is not in 1..%d (not a llama2.c checkpoint?)",
                                path, f[i].name, (int)f[i].v, MAX_SIDE);
    if (c->dim % c->n_heads != 0)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: n_heads = %d does not divide dim = %d", path,
                            (int)c->n_heads, (int)c->dim);
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: n_kv_heads = %d does not divide n_heads = %d",
                            path, (int)c->n_kv_heads, (int)c->n_heads);
    if ((c->dim / c->n_heads) % 2 != 0)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: head size %d is odd; RoPE needs pairs of dimensions", path,
                            (int)(c->dim / c->n_heads));
    return LK_OK;
}

/* a * b, false on overflow. */
static bool mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}

static void fill_hparams(lk_hparams *hp, const lk_llama2c_config *c) {
    memset(hp, 0, sizeof *hp);
    snprintf(hp->arch, sizeof hp->arch, "llama");
    hp->n_vocab = c->vocab_size;
    hp->n_embd = c->dim;
    hp->n_layer = c->n_layers;
    hp->n_head = c->n_heads;
    hp->n_head_kv = c->n_kv_heads;
    hp->head_dim = c->dim / c->n_heads;
    hp->n_ff = c->hidden_dim;
    hp->n_ctx_train = c->seq_len;
    hp->norm = LK_NORM_RMS;
    hp->norm_eps = 1e-5f; /* run.c's rmsnorm */
    hp->act = LK_ACT_SILU;
    hp->rope_layout = LK_ROPE_INTERLEAVED;
    hp->rope_theta = 10000.0f;
    hp->n_rot = hp->head_dim;
    hp->rope_scaling = LK_ROPE_SCALING_NONE;
    hp->rope_factor = 1.0f;
    hp->tied_embeddings = c->shared_classifier;
    hp->bos_id = 1; /* the Llama 2 SentencePiece convention llama2.c follows */
    hp->eos_ids[0] = 2;
    hp->n_eos = 1;
    hp->pad_id = -1;
}

/* Appends tensor `name` of shape dims (F32) at *pos and advances it. */
static void carve(lk_llama2c *m, const uint8_t *base, uint64_t *pos, const char *name, int n_dims,
                  int64_t d0, int64_t d1) {
    size_t i = m->n_tensors++;
    snprintf(m->names[i], NAME_LEN, "%s", name);
    lk_tensor_info *t = &m->tensors[i];
    memset(t, 0, sizeof *t);
    t->name = m->names[i];
    t->dtype = LK_DTYPE_F32;
    t->n_dims = n_dims;
    t->shape[0] = d0;
    t->shape[1] = n_dims > 1 ? d1 : 0;
    t->nbytes = (uint64_t)d0 * (uint64_t)(n_dims > 1 ? d1 : 1) * 4;
    t->data = base + *pos;
    *pos += t->nbytes;
}

/* Tensors are carved per kind (all layers' wq together, ...), as stored. */
static void build_table(lk_llama2c *m, const uint8_t *base) {
    const lk_llama2c_config *c = &m->cfg;
    int64_t dim = c->dim, hidden = c->hidden_dim, vocab = c->vocab_size;
    int64_t kv_dim = (int64_t)c->n_kv_heads * (c->dim / c->n_heads);
    int64_t half_head = c->dim / c->n_heads / 2;
    uint64_t pos = HEADER_BYTES;
    char name[NAME_LEN];
    carve(m, base, &pos, "token_embd.weight", 2, vocab, dim);
    static const char *const kinds[] = {"attn_norm", "attn_q",   "attn_k",   "attn_v",  "attn_output",
                                        "ffn_norm",  "ffn_gate", "ffn_down", "ffn_up"};
    for (int k = 0; k < 9; k++) {
        for (int l = 0; l < c->n_layers; l++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, kinds[k]);
            switch (k) {
            case 0: case 5: carve(m, base, &pos, name, 1, dim, 0); break;
            case 1: case 4: carve(m, base, &pos, name, 2, dim, dim); break;
            case 2: case 3: carve(m, base, &pos, name, 2, kv_dim, dim); break;
            case 6: case 8: carve(m, base, &pos, name, 2, hidden, dim); break;
            case 7: carve(m, base, &pos, name, 2, dim, hidden); break;
            }
        }
    }
    carve(m, base, &pos, "output_norm.weight", 1, dim, 0);
    pos += 2 * (uint64_t)c->seq_len * (uint64_t)half_head * 4; /* freq_cis_real, freq_cis_imag */
    if (!c->shared_classifier) carve(m, base, &pos, "output.weight", 2, vocab, dim);
}

static lk_status parse(lk_llama2c *m, const uint8_t *data, size_t size, const char *path,
                       lk_error *err) {
    if (size < HEADER_BYTES)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: %zu bytes is too short for a llama2.c checkpoint (28-byte header)",
                            path, size);
    if (memcmp(data, "24ka", 4) == 0) /* export.py's version 1/2 magic 0x616b3432 */
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: a llama2.c version 1/2 export; only the legacy (version 0) format "
                            "is supported (re-export with --version 0)",
                            path);
    lk_llama2c_config *c = &m->cfg;
    int32_t h[7];
    for (int i = 0; i < 7; i++) h[i] = read_i32(data + 4 * i);
    c->dim = h[0], c->hidden_dim = h[1], c->n_layers = h[2], c->n_heads = h[3];
    c->n_kv_heads = h[4], c->seq_len = h[6];
    c->shared_classifier = h[5] > 0;
    c->vocab_size = h[5] == INT32_MIN ? 0 : (h[5] < 0 ? -h[5] : h[5]);
    lk_status s = check_config(c, path, err);
    if (s != LK_OK) return s;

    /* Total floats, overflow-checked (each side <= 2^24, so products of two
     * fit; the layer multiples and sums are checked). */
    uint64_t dim = (uint64_t)c->dim, hidden = (uint64_t)c->hidden_dim;
    uint64_t layers = (uint64_t)c->n_layers, vocab = (uint64_t)c->vocab_size;
    uint64_t head = dim / (uint64_t)c->n_heads, kv_dim = (uint64_t)c->n_kv_heads * head;
    uint64_t per_layer = dim                 /* rms_att */
                         + dim * dim         /* wq */
                         + 2 * kv_dim * dim  /* wk, wv */
                         + dim * dim         /* wo */
                         + dim               /* rms_ffn */
                         + 3 * hidden * dim; /* w1, w2, w3 */
    uint64_t layers_total, floats;
    bool ok = mul_u64(per_layer, layers, &layers_total);
    floats = vocab * dim + dim + (uint64_t)c->seq_len * head /* both freq_cis halves */;
    if (!c->shared_classifier) floats += vocab * dim;
    ok = ok && !__builtin_add_overflow(floats, layers_total, &floats);
    uint64_t want;
    ok = ok && mul_u64(floats, 4, &want) && !__builtin_add_overflow(want, HEADER_BYTES, &want);
    if (!ok)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: header sizes overflow (not a llama2.c checkpoint?)",
                            path);
    if (want != size)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: file is %zu bytes but its header (dim %d, hidden %d, %d layers, "
                            "vocab %d, %s classifier) implies %llu%s",
                            path, size, (int)c->dim, (int)c->hidden_dim, (int)c->n_layers,
                            (int)c->vocab_size, c->shared_classifier ? "shared" : "separate",
                            (unsigned long long)want, want > size ? " (truncated?)" : "");

    size_t n = 1 + 9 * (size_t)c->n_layers + 1 + (c->shared_classifier ? 0 : 1);
    m->tensors = calloc(n, sizeof *m->tensors);
    m->names = calloc(n, sizeof *m->names);
    if (!m->tensors || !m->names) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    build_table(m, data);
    fill_hparams(&m->hp, c);
    return LK_OK;
}

lk_status lk_llama2c_open_memory(const void *data, size_t size, const char *name,
                                 lk_llama2c **out, lk_error *err) {
    *out = NULL;
    lk_llama2c *m = calloc(1, sizeof *m);
    if (!m) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", name);
    lk_status s = parse(m, data, size, name ? name : "(memory)", err);
    if (s != LK_OK) {
        lk_llama2c_close(m);
        return s;
    }
    *out = m;
    return LK_OK;
}

lk_status lk_llama2c_open(const char *path, lk_llama2c **out, lk_error *err) {
    *out = NULL;
    lk_llama2c *m = calloc(1, sizeof *m);
    if (!m) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    lk_status s = lk_mmap_open(path, &m->map, err);
    if (s == LK_OK) s = parse(m, m->map.data, m->map.size, path, err);
    if (s != LK_OK) {
        lk_llama2c_close(m);
        return s;
    }
    *out = m;
    return LK_OK;
}

const lk_llama2c_config *lk_llama2c_config_of(const lk_llama2c *m) { return &m->cfg; }
const lk_hparams *lk_llama2c_hparams(const lk_llama2c *m) { return &m->hp; }
size_t lk_llama2c_tensor_count(const lk_llama2c *m) { return m->n_tensors; }

const lk_tensor_info *lk_llama2c_tensor_at(const lk_llama2c *m, size_t i) {
    return i < m->n_tensors ? &m->tensors[i] : NULL;
}

const lk_tensor_info *lk_llama2c_find_tensor(const lk_llama2c *m, const char *name) {
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}
