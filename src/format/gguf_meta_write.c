/* lk_hparams -> GGUF keys (see gguf_meta_write.h).
 *
 * What each key means and which are required is llama.cpp's
 * (llama_model::load_hparams); format/gguf_hparams.c reads them back, and
 * tests/test_convert.c checks the round trip through the model's logits. */
#include "format/gguf_meta_write.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"

bool lk_gguf_meta_arch_is_llama(const char *arch) {
    return strcmp(arch, "llama") == 0 || strcmp(arch, "mistral") == 0;
}

/* llmkit's arch name -> llama.cpp's general.architecture. */
static const char *gguf_arch(const char *arch) {
    return lk_gguf_meta_arch_is_llama(arch) ? "llama" : arch;
}

lk_status lk_gguf_meta_set_file_type(lk_gguf_writer *w, lk_ftype ftype) {
    lk_status st = lk_gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (st == LK_OK) st = lk_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype);
    return st;
}

typedef struct {
    lk_gguf_writer *w;
    const char *arch;
    lk_status st; /* first failure */
} kw;

static void set_u32(kw *k, const char *suffix, int32_t v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", k->arch, suffix);
    if (k->st == LK_OK) k->st = lk_gguf_writer_set_u32(k->w, key, (uint32_t)v);
}

static void set_f32(kw *k, const char *suffix, float v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", k->arch, suffix);
    if (k->st == LK_OK) k->st = lk_gguf_writer_set_f32(k->w, key, v);
}

static lk_status write_hparams(lk_gguf_writer *w, const lk_hparams *hp) {
    kw k = {w, gguf_arch(hp->arch), LK_OK};
    set_u32(&k, "context_length", hp->n_ctx_train);
    set_u32(&k, "embedding_length", hp->n_embd);
    set_u32(&k, "block_count", hp->n_layer);
    set_u32(&k, "feed_forward_length", hp->n_ff);
    set_u32(&k, "attention.head_count", hp->n_head);
    set_u32(&k, "attention.head_count_kv", hp->n_head_kv);
    if (hp->n_head > 0 && hp->head_dim != hp->n_embd / hp->n_head) {
        set_u32(&k, "attention.key_length", hp->head_dim);
        set_u32(&k, "attention.value_length", hp->head_dim);
    }
    set_f32(&k, hp->norm == LK_NORM_RMS ? "attention.layer_norm_rms_epsilon"
                                        : "attention.layer_norm_epsilon",
            hp->norm_eps);
    if (hp->rope_layout != LK_ROPE_NONE) {
        set_f32(&k, "rope.freq_base", hp->rope_theta);
        set_u32(&k, "rope.dimension_count", hp->n_rot);
        if (hp->rope_scaling == LK_ROPE_SCALING_LINEAR) {
            char key[128];
            snprintf(key, sizeof key, "%s.rope.scaling.type", k.arch);
            if (k.st == LK_OK) k.st = lk_gguf_writer_set_str(w, key, "linear");
            set_f32(&k, "rope.scaling.factor", hp->rope_factor);
        }
    }
    if (hp->sliding_window > 0) set_u32(&k, "attention.sliding_window", hp->sliding_window);
    if (hp->attn_softcap > 0) set_f32(&k, "attn_logit_softcapping", hp->attn_softcap);
    if (hp->final_softcap > 0) set_f32(&k, "final_logit_softcapping", hp->final_softcap);
    set_u32(&k, "vocab_size", hp->n_vocab);
    return k.st;
}

lk_status lk_gguf_meta_write(lk_gguf_writer *w, const lk_model_file *mf, lk_ftype ftype,
                             lk_error *err) {
    const lk_hparams *hp = lk_model_file_hparams(mf);
    const lk_model_meta *meta = lk_model_file_meta(mf);
    const char *path = lk_model_file_path(mf);
    /* llama3 rope scaling needs no keys: it travels as the rope_freqs.weight
     * tensor (quantize/quantize.c makes it). */
    /* GGUF has no key for Gemma 2's query scale: llama.cpp derives it from
     * the layer count (n_embd / n_head for the 46-layer 27B, head_dim
     * otherwise). A model with another one cannot be written faithfully. */
    if (strcmp(hp->arch, "gemma2") == 0 && hp->query_pre_attn_scalar > 0) {
        const float implied =
            hp->n_layer == 46 ? (float)(hp->n_embd / hp->n_head) : (float)hp->head_dim;
        if (hp->query_pre_attn_scalar != implied)
            return lk_error_set(err, LK_ERR_UNSUPPORTED,
                                "%s: query_pre_attn_scalar %g differs from the %g llama.cpp "
                                "assumes for this Gemma 2 size, and GGUF has no key for it",
                                path, (double)hp->query_pre_attn_scalar, (double)implied);
    }
    lk_status st = lk_gguf_writer_set_str(w, "general.architecture", gguf_arch(hp->arch));
    if (st == LK_OK)
        st = lk_gguf_writer_set_str(w, "general.name",
                                    meta->name && meta->name[0] ? meta->name : hp->arch);
    if (st == LK_OK) st = lk_gguf_meta_set_file_type(w, ftype);
    if (st == LK_OK) st = write_hparams(w, hp);
    if (st != LK_OK) return lk_error_set(err, st, "%s: cannot write the metadata", path);
    return lk_gguf_meta_write_tokenizer(w, mf, err);
}
