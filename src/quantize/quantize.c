/* lk_quantize_model: read a model, choose each tensor's type, convert the
 * rows on a thread pool, write a GGUF through a temporary file.
 *
 * Inputs are reduced to one table of source tensors in GGUF terms (name, ne
 * with ne[0] the row length, type, data). A GGUF is read with the GGUF
 * reader directly so that every key and every tensor (also ones llmkit
 * cannot run) is carried over unchanged; other formats go through
 * lk_model_file and get convert's metadata. HF llama/mistral q/k weights are
 * stored rotate-half; llama.cpp's "llama" architecture wants them in the
 * interleaved (Meta) order, so those rows are permuted on the way (as
 * convert_hf_to_gguf.py's LlamaModel.permute does). */
#include "quantize/quantize.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/threadpool.h"
#include "format/gguf.h"
#include "format/gguf_meta_write.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"

const char *lk_quantize_type_names(void) {
    return "f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k_m q4_k_s q4_k_m q5_k_s q5_k_m q6_k";
}

/* One tensor to write. ne in GGUF order (ne[0] = row length). */
typedef struct {
    const char *name;
    uint32_t n_dims;
    int64_t ne[LK_GGUF_MAX_DIMS];
    lk_dtype src_type;
    const void *src;
    uint64_t src_bytes;
    int32_t perm_heads; /* > 0: permute rows rotate-half -> interleaved, per head */
    bool plus_one;      /* Gemma norm: store 1 + w, as llama.cpp's converter does */
    lk_dtype dst_type;
    void *dst;          /* owned */
    void *owned_src;    /* a tensor made here (rope_freqs.weight), owned */
    uint64_t dst_bytes;
} job_tensor;

typedef struct {
    job_tensor *t;
    size_t n;
    lk_gguf *gguf;       /* GGUF input */
    lk_model_file *mf;   /* other inputs */
    const char *in_path;
} job;

static void job_free(job *j) {
    for (size_t i = 0; i < j->n; i++) {
        free(j->t[i].dst);
        free(j->t[i].owned_src);
    }
    free(j->t);
    lk_gguf_close(j->gguf);
    lk_model_file_close(j->mf);
}

static int64_t n_rows_of(const job_tensor *t) {
    int64_t r = 1;
    for (uint32_t d = 1; d < LK_GGUF_MAX_DIMS; d++) r *= t->ne[d];
    return r;
}

/* ---------------------------------------------------------------- sources */

static lk_status from_gguf(job *j, lk_error *err) {
    const size_t n = lk_gguf_tensor_count(j->gguf);
    j->t = calloc(n ? n : 1, sizeof *j->t);
    if (!j->t) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", j->in_path);
    for (size_t i = 0; i < n; i++) {
        const lk_gguf_tensor *g = lk_gguf_tensor_at(j->gguf, i);
        job_tensor *t = &j->t[j->n++];
        t->name = g->name;
        t->n_dims = g->n_dims;
        memcpy(t->ne, g->ne, sizeof t->ne);
        t->src_type = g->type;
        t->src = g->data;
        t->src_bytes = g->nbytes;
    }
    return LK_OK;
}

/* HF llama-family q/k projections need llama.cpp's permutation. */
static int32_t perm_heads_for(const lk_hparams *hp, const char *name) {
    if (hp->rope_layout != LK_ROPE_HALF || !lk_gguf_meta_arch_is_llama(hp->arch)) return 0;
    const char *dot = strncmp(name, "blk.", 4) == 0 ? strchr(name + 4, '.') : NULL;
    if (!dot) return 0;
    if (strcmp(dot, ".attn_q.weight") == 0 || strcmp(dot, ".attn_q.bias") == 0) return hp->n_head;
    if (strcmp(dot, ".attn_k.weight") == 0 || strcmp(dot, ".attn_k.bias") == 0)
        return hp->n_head_kv;
    return 0;
}

/* Llama 3.1 rope scaling as llama.cpp stores it: a rope_freqs.weight
 * tensor [n_rot/2] of per-frequency divisors (convert_hf_to_gguf.py's
 * LlamaModel rule: 1 for short wavelengths, factor for long ones, a smooth
 * blend between), made in float32 as torch does there. */
static lk_status add_rope_freqs(job *j, const lk_hparams *hp, lk_error *err) {
    const int32_t half = hp->n_rot / 2;
    float *f = malloc((size_t)(half > 0 ? half : 1) * sizeof *f);
    if (!f) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", j->in_path);
    const double old_ctx = hp->rope_orig_ctx > 0 ? hp->rope_orig_ctx : 8192;
    const double lo = hp->rope_low_freq_factor, hi = hp->rope_high_freq_factor;
    const double low_wavelen = old_ctx / lo, high_wavelen = old_ctx / hi;
    for (int32_t i = 0; i < half; i++) {
        const float freq = 1.0f / powf(hp->rope_theta, (float)(2 * i) / (float)hp->n_rot);
        const double wavelen = 2.0 * M_PI / (double)freq;
        if (wavelen < high_wavelen) {
            f[i] = 1.0f;
        } else if (wavelen > low_wavelen) {
            f[i] = hp->rope_factor;
        } else {
            const double smooth = (old_ctx / wavelen - lo) / (hi - lo);
            f[i] = (float)(1.0 / ((1.0 - smooth) / hp->rope_factor + smooth));
        }
    }
    job_tensor *t = &j->t[j->n++];
    t->name = "rope_freqs.weight";
    t->n_dims = 1;
    t->ne[0] = half;
    t->ne[1] = t->ne[2] = t->ne[3] = 1;
    t->src_type = LK_DTYPE_F32;
    t->src = t->owned_src = f;
    t->src_bytes = (uint64_t)half * sizeof *f;
    return LK_OK;
}

static lk_status from_model_file(job *j, lk_error *err) {
    const size_t n = lk_model_file_tensor_count(j->mf);
    const lk_hparams *hp = lk_model_file_hparams(j->mf);
    j->t = calloc(n + 1, sizeof *j->t);
    if (!j->t) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", j->in_path);
    for (size_t i = 0; i < n; i++) {
        const lk_tensor_info *ti = lk_model_file_tensor(j->mf, i);
        if (ti->n_dims < 1 || ti->n_dims > LK_GGUF_MAX_DIMS)
            return lk_error_set(err, LK_ERR_UNSUPPORTED, "%s: tensor %s has %d dimensions",
                                j->in_path, ti->name, (int)ti->n_dims);
        job_tensor *t = &j->t[j->n++];
        t->name = ti->name;
        t->n_dims = (uint32_t)ti->n_dims;
        for (int d = 0; d < LK_GGUF_MAX_DIMS; d++)
            t->ne[d] = d < ti->n_dims ? ti->shape[ti->n_dims - 1 - d] : 1;
        t->src_type = ti->dtype;
        t->src = ti->data;
        t->src_bytes = ti->nbytes;
        t->perm_heads = perm_heads_for(hp, ti->name);
        const size_t len = strlen(ti->name);
        t->plus_one = hp->norm_plus_one && ti->n_dims == 1 && len >= 11 &&
                      strcmp(ti->name + len - 11, "norm.weight") == 0;
        if (t->perm_heads > 0) {
            /* Rows (or bias elements) come in whole heads of even size. */
            const int64_t rows = t->n_dims == 1 ? t->ne[0] : n_rows_of(t);
            if (rows % t->perm_heads != 0 || (rows / t->perm_heads) % 2 != 0)
                return lk_error_set(err, LK_ERR_FORMAT,
                                    "%s: %s has %lld rows, not %d heads of even size",
                                    j->in_path, t->name, (long long)rows, (int)t->perm_heads);
        }
    }
    if (hp->rope_scaling == LK_ROPE_SCALING_LLAMA3 && !lk_model_file_find_tensor(j->mf, "rope_freqs.weight"))
        return add_rope_freqs(j, hp, err);
    return LK_OK;
}

/* llama.cpp's tensor order (its model loader's weight_name_comparer): by
 * layer number, tensors outside "blk.N." first, then by name. Writing in
 * that order makes the whole file equal llama-quantize's. */
static int layer_of(const char *name) {
    int layer = -1;
    if (strncmp(name, "blk.", 4) == 0) {
        char *end;
        long v = strtol(name + 4, &end, 10);
        if (end != name + 4 && *end == '.' && v >= 0 && v < 1000000) layer = (int)v;
    }
    return layer;
}

static int llama_order(const void *a, const void *b) {
    const job_tensor *x = a, *y = b;
    const int lx = layer_of(x->name), ly = layer_of(y->name);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* ---------------------------------------------------------------- types */

static lk_quant_mix_model mix_model(const job *j, const char *arch, int32_t n_layer,
                                    int32_t n_head, int32_t n_head_kv, int32_t n_expert) {
    lk_quant_mix_model m = {0};
    m.n_layer = n_layer;
    m.n_gqa = n_head_kv > 0 ? n_head / n_head_kv : 1;
    m.n_expert = n_expert;
    m.falcon = strcmp(arch, "falcon") == 0;
    m.is_70b = n_layer == 80;
    m.tied_embeddings = true;
    for (size_t i = 0; i < j->n; i++) {
        const char *name = j->t[i].name;
        if (strcmp(name, "output.weight") == 0) m.tied_embeddings = false;
        if (strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight") ||
            strstr(name, "attn_kv_b.weight"))
            m.n_attn_v++;
    }
    return m;
}

static lk_status choose_types(job *j, lk_ftype ftype, const lk_quant_mix_model *mm,
                              bool gguf_input, lk_error *err) {
    for (size_t i = 0; i < j->n; i++) {
        job_tensor *t = &j->t[i];
        lk_dtype d = lk_quant_mix_type(ftype, mm, t->name, t->n_dims, t->ne, t->src_type);
        if (d == LK_DTYPE_INVALID) {
            const lk_dtype want = lk_ftype_default_type(ftype);
            const lk_dtype_traits *tr = lk_dtype_traits_of(want);
            return lk_error_set(err, LK_ERR_UNSUPPORTED,
                                "%s: tensor %s has rows of %lld elements, not a multiple of "
                                "%s's block size %d, and no fallback type applies (llama.cpp "
                                "refuses this too; choose another type)",
                                j->in_path, t->name, (long long)t->ne[0], lk_dtype_name(want),
                                tr ? (int)tr->block_size : 0);
        }
        /* Not quantized: a GGUF keeps the type; a converted model stores
         * 1-D tensors as F32, as convert_hf_to_gguf.py does. */
        if (d == t->src_type && !gguf_input && t->n_dims == 1) d = LK_DTYPE_F32;
        if (!lk_quant_supported(d) || !lk_quant_supported(t->src_type)) {
            if (d == t->src_type && t->perm_heads == 0 && !t->plus_one) {
                t->dst_type = d; /* copied as it is */
                continue;
            }
            return lk_error_set(err, LK_ERR_UNSUPPORTED, "%s: tensor %s: cannot convert %s to %s",
                                j->in_path, t->name, lk_dtype_name(t->src_type),
                                lk_dtype_name(d));
        }
        t->dst_type = d;
    }
    return LK_OK;
}

/* ---------------------------------------------------------------- rows */

typedef struct {
    const job_tensor *t;
    uint64_t src_row_bytes, dst_row_bytes;
    atomic_int status;
} row_ctx;

/* Source row of output row r: within each head of hd rows, output row
 * 2*i + k is input row k*hd/2 + i (rotate-half pairs (i, i+hd/2) become
 * adjacent). */
static int64_t source_row(const job_tensor *t, int64_t r, int64_t n_rows) {
    if (t->perm_heads <= 0) return r;
    const int64_t hd = n_rows / t->perm_heads;
    const int64_t h = r / hd, w = r % hd;
    return h * hd + (w % 2) * (hd / 2) + w / 2;
}

static void convert_rows(void *ctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    row_ctx *c = ctx;
    const job_tensor *t = c->t;
    const int64_t n_rows = n_rows_of(t);
    for (int64_t r = begin; r < end; r++) {
        const int64_t s = source_row(t, r, n_rows);
        lk_status st = lk_convert_row(t->src_type, (const uint8_t *)t->src + s * c->src_row_bytes,
                                      t->dst_type, (uint8_t *)t->dst + r * c->dst_row_bytes,
                                      t->ne[0]);
        if (st != LK_OK) {
            int expected = LK_OK;
            atomic_compare_exchange_strong(&c->status, &expected, (int)st);
            return;
        }
    }
}

/* A vector changed on the way (a q/k bias permuted, a Gemma norm plus
 * one): through floats. */
static lk_status convert_vector(job_tensor *t, const char *in_path, lk_error *err) {
    const int64_t n = t->ne[0];
    float *x = malloc((size_t)n * 2 * sizeof *x);
    if (!x) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", in_path);
    lk_status st = lk_dequantize_row(t->src_type, t->src, x, n);
    if (st == LK_OK) {
        for (int64_t i = 0; i < n; i++)
            x[n + i] = x[source_row(t, i, n)] + (t->plus_one ? 1.0f : 0.0f);
        st = lk_quantize_row(t->dst_type, x + n, t->dst, n);
    }
    free(x);
    if (st != LK_OK)
        return lk_error_set(err, st, "%s: tensor %s: conversion failed", in_path, t->name);
    return LK_OK;
}

static lk_status convert_tensor(job_tensor *t, lk_threadpool *tp, const char *in_path,
                                lk_error *err) {
    int64_t n_elem = 1;
    for (uint32_t d = 0; d < LK_GGUF_MAX_DIMS; d++) n_elem *= t->ne[d];
    uint64_t src_row = 0, dst_row = 0, dst_total = 0;
    if (!lk_dtype_row_bytes(t->src_type, t->ne[0], &src_row) ||
        !lk_dtype_row_bytes(t->dst_type, t->ne[0], &dst_row) ||
        !lk_dtype_row_bytes(t->dst_type, n_elem, &dst_total) ||
        src_row * (uint64_t)n_rows_of(t) != t->src_bytes)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: tensor %s: %lld-element rows do not fit %s / %s blocks or the "
                            "data size",
                            in_path, t->name, (long long)t->ne[0], lk_dtype_name(t->src_type),
                            lk_dtype_name(t->dst_type));
    t->dst_bytes = dst_total;
    /* Unchanged tensors are referenced, not copied. */
    if (t->dst_type == t->src_type && t->perm_heads == 0 && !t->plus_one) return LK_OK;
    t->dst = malloc(dst_total ? dst_total : 1);
    if (!t->dst) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory for %s", in_path, t->name);
    if ((t->perm_heads > 0 || t->plus_one) && t->n_dims == 1) return convert_vector(t, in_path, err);
    row_ctx c = {.t = t, .src_row_bytes = src_row, .dst_row_bytes = dst_row};
    atomic_init(&c.status, LK_OK);
    /* Chunks of about 64 KiB of floats keep threads busy without much overhead. */
    int64_t grain = 16384 / (t->ne[0] > 0 ? t->ne[0] : 1);
    if (grain < 1) grain = 1;
    lk_parallel_for(tp, n_rows_of(t), grain, convert_rows, &c);
    const int st = atomic_load(&c.status);
    if (st != LK_OK)
        return lk_error_set(err, (lk_status)st, "%s: tensor %s: converting %s to %s failed",
                            in_path, t->name, lk_dtype_name(t->src_type),
                            lk_dtype_name(t->dst_type));
    return LK_OK;
}

/* ---------------------------------------------------------------- output */

/* The output folder must exist: say so plainly instead of "cannot create x.tmp". */
static lk_status check_out_dir(const char *out_path, lk_error *err) {
    const char *slash = strrchr(out_path, '/');
    if (!slash) return LK_OK;
    size_t len = (size_t)(slash - out_path);
    char *dir = malloc(len + 2);
    if (!dir) return lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    if (len == 0) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, out_path, len);
        dir[len] = '\0';
    }
    struct stat sb;
    lk_status st = LK_OK;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        st = lk_error_set(err, LK_ERR_NOT_FOUND,
                          "%s: the output folder %s does not exist (create it first)", out_path,
                          dir);
    free(dir);
    return st;
}

static lk_status copy_gguf_meta(lk_gguf_writer *w, const lk_gguf *g, lk_ftype ftype,
                                lk_error *err) {
    for (size_t i = 0; i < lk_gguf_kv_count(g); i++) {
        const char *key = lk_gguf_kv_key(g, i);
        /* A split input becomes one file. */
        if (strncmp(key, "split.", 6) == 0) continue;
        /* Set again below, last, where llama-quantize puts them (its
         * gguf_set_val removes a key and appends it). */
        if (!strcmp(key, "general.quantization_version") || !strcmp(key, "general.file_type")) continue;
        lk_status st = lk_gguf_writer_set_value(w, key, lk_gguf_kv_value(g, i));
        if (st) return lk_error_set(err, st, "cannot copy metadata key %s", key);
    }
    lk_status st = lk_gguf_meta_set_file_type(w, ftype);
    if (st) return lk_error_set(err, st, "cannot set general.file_type");
    return LK_OK;
}

static bool starts_with_gguf_magic(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return false;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char magic[4] = {0};
    const bool ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "GGUF", 4) == 0;
    fclose(f);
    return ok;
}

lk_status lk_quantize_model(const char *in_path, const char *out_path,
                            const lk_quantize_params *p, lk_quantize_stats *stats,
                            lk_error *err) {
    if (!in_path || !out_path || !p)
        return lk_error_set(err, LK_ERR_ARG, "lk_quantize_model: missing argument");
    if (lk_ftype_default_type(p->ftype) == LK_DTYPE_INVALID)
        return lk_error_set(err, LK_ERR_ARG, "unknown file type %d (known: %s)", (int)p->ftype,
                            lk_quantize_type_names());
    lk_status st = check_out_dir(out_path, err);
    if (st) return st;

    job j = {.in_path = in_path};
    lk_gguf_writer *w = NULL;
    lk_threadpool *tp = NULL;
    const bool is_gguf = starts_with_gguf_magic(in_path);
    lk_quant_mix_model mm;
    if (is_gguf) {
        if ((st = lk_gguf_open(in_path, &j.gguf, err)) || (st = from_gguf(&j, err))) goto done;
        char arch[64] = "";
        lk_gguf_str s;
        if (lk_gguf_get_str(j.gguf, "general.architecture", &s))
            snprintf(arch, sizeof arch, "%.*s", (int)(s.len < 63 ? s.len : 63), s.ptr);
        char k[128];
        uint32_t n_layer = 0, n_head = 1, n_head_kv = 0, n_expert = 0;
        snprintf(k, sizeof k, "%s.block_count", arch);
        lk_gguf_get_u32(j.gguf, k, &n_layer);
        snprintf(k, sizeof k, "%s.attention.head_count", arch);
        lk_gguf_get_u32(j.gguf, k, &n_head);
        n_head_kv = n_head;
        snprintf(k, sizeof k, "%s.attention.head_count_kv", arch);
        lk_gguf_get_u32(j.gguf, k, &n_head_kv);
        snprintf(k, sizeof k, "%s.expert_count", arch);
        lk_gguf_get_u32(j.gguf, k, &n_expert);
        mm = mix_model(&j, arch, (int32_t)n_layer, (int32_t)n_head, (int32_t)n_head_kv,
                       (int32_t)n_expert);
    } else {
        if ((st = lk_model_file_open(in_path, &j.mf, err)) || (st = from_model_file(&j, err)))
            goto done;
        const lk_hparams *hp = lk_model_file_hparams(j.mf);
        mm = mix_model(&j, hp->arch, hp->n_layer, hp->n_head, hp->n_head_kv, 0);
    }
    if ((st = choose_types(&j, p->ftype, &mm, is_gguf, err))) goto done;
    qsort(j.t, j.n, sizeof *j.t, llama_order);

    w = lk_gguf_writer_new(3, is_gguf ? lk_gguf_alignment(j.gguf) : 0);
    if (!w) {
        st = lk_error_set(err, LK_ERR_NOMEM, "out of memory");
        goto done;
    }
    st = is_gguf ? copy_gguf_meta(w, j.gguf, p->ftype, err)
                 : lk_gguf_meta_write(w, j.mf, p->ftype, err);
    if (st) goto done;
    if (p->tokenizer) {
        if (is_gguf) {
            st = lk_error_set(err, LK_ERR_ARG, "%s: a GGUF keeps its own tokenizer", in_path);
            goto done;
        }
        if ((st = lk_gguf_meta_write_tokenizer_file(w, p->tokenizer,
                                                    lk_model_file_hparams(j.mf)->n_vocab, err)))
            goto done;
    }

    if ((st = lk_threadpool_new(p->n_threads, &tp, err))) goto done;
    uint64_t total = 0, done_bytes = 0;
    for (size_t i = 0; i < j.n; i++) total += j.t[i].src_bytes;
    lk_quantize_stats s = {.n_tensors = j.n, .in_bytes = total};
    for (size_t i = 0; i < j.n; i++) {
        job_tensor *t = &j.t[i];
        if ((st = convert_tensor(t, tp, in_path, err))) goto done;
        if ((st = lk_gguf_writer_add_tensor(w, t->name, t->dst_type, t->n_dims, t->ne,
                                            t->dst ? t->dst : t->src, t->dst_bytes, err)))
            goto done;
        if (t->dst_type != t->src_type || t->dst) s.n_quantized++;
        s.out_bytes += t->dst_bytes;
        done_bytes += t->src_bytes;
        if (p->progress) p->progress(p->progress_ctx, done_bytes, total);
    }
    if ((st = lk_gguf_writer_write(w, out_path, err))) goto done;
    if (stats) *stats = s;
done:
    lk_threadpool_free(tp);
    lk_gguf_writer_free(w);
    job_free(&j);
    return st;
}
