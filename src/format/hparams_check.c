/* Range and consistency checks for lk_hparams, whatever file they came from. */
#include "format/hparams_check.h"

#include <math.h>
#include <string.h>

#include "base/error.h"

void lk_hparams_init(lk_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    hp->rope_factor = 1.0f;
    hp->bos_id = -1;
    hp->pad_id = -1;
    for (int i = 0; i < LK_MAX_EOS; i++) hp->eos_ids[i] = -1;
}

static lk_status check_size(const char *where, const char *field, int32_t v, int32_t max,
                            lk_error *err) {
    if (v < 1 || v > max)
        return lk_error_set(err, LK_ERR_RANGE, "%s: %s = %d is out of range (expected 1..%d)",
                            where, field, (int)v, (int)max);
    return LK_OK;
}

static lk_status check_positive(const char *where, const char *field, float v, lk_error *err) {
    if (!(v > 0.0f) || !isfinite(v))
        return lk_error_set(err, LK_ERR_RANGE, "%s: %s = %g must be a positive finite number",
                            where, field, (double)v);
    return LK_OK;
}

static lk_status check_token(const char *where, const char *field, int32_t id, int32_t n_vocab,
                             lk_error *err) {
    if (id < -1 || id >= n_vocab)
        return lk_error_set(err, LK_ERR_RANGE,
                            "%s: %s = %d is not a token id (vocabulary has %d tokens)", where,
                            field, (int)id, (int)n_vocab);
    return LK_OK;
}

lk_status lk_hparams_check(const lk_hparams *hp, const char *where, lk_error *err) {
    lk_status st;
    if ((st = check_size(where, "n_vocab", hp->n_vocab, LK_HP_MAX_VOCAB, err))) return st;
    if ((st = check_size(where, "n_embd", hp->n_embd, LK_HP_MAX_EMBD, err))) return st;
    if ((st = check_size(where, "n_layer", hp->n_layer, LK_HP_MAX_LAYER, err))) return st;
    if ((st = check_size(where, "n_head", hp->n_head, LK_HP_MAX_HEAD, err))) return st;
    if ((st = check_size(where, "n_head_kv", hp->n_head_kv, LK_HP_MAX_HEAD, err))) return st;
    if ((st = check_size(where, "head_dim", hp->head_dim, LK_HP_MAX_HEAD_DIM, err))) return st;
    if ((st = check_size(where, "n_ff", hp->n_ff, LK_HP_MAX_FF, err))) return st;
    if ((st = check_size(where, "n_ctx_train", hp->n_ctx_train, LK_HP_MAX_CTX, err))) return st;
    if (hp->n_head % hp->n_head_kv != 0)
        return lk_error_set(err, LK_ERR_RANGE,
                            "%s: %d key/value heads do not divide %d attention heads evenly "
                            "(grouped-query attention needs n_head %% n_head_kv == 0)",
                            where, (int)hp->n_head_kv, (int)hp->n_head);
    if ((st = check_positive(where, "norm_eps", hp->norm_eps, err))) return st;
    if (hp->rope_layout != LK_ROPE_NONE) {
        if ((st = check_positive(where, "rope_theta", hp->rope_theta, err))) return st;
        if (hp->n_rot < 2 || hp->n_rot > hp->head_dim || hp->n_rot % 2 != 0)
            return lk_error_set(err, LK_ERR_RANGE,
                                "%s: %d rotary dimensions do not fit a head of %d (need an even "
                                "number in 2..head_dim)",
                                where, (int)hp->n_rot, (int)hp->head_dim);
    }
    if (hp->rope_scaling != LK_ROPE_SCALING_NONE &&
        (st = check_positive(where, "rope_factor", hp->rope_factor, err)))
        return st;
    if (hp->rope_scaling == LK_ROPE_SCALING_LLAMA3) {
        if ((st = check_positive(where, "rope low_freq_factor", hp->rope_low_freq_factor, err)))
            return st;
        if (!(hp->rope_high_freq_factor > hp->rope_low_freq_factor) ||
            !isfinite(hp->rope_high_freq_factor))
            return lk_error_set(err, LK_ERR_RANGE,
                                "%s: llama3 rope scaling needs high_freq_factor (%g) > "
                                "low_freq_factor (%g)",
                                where, (double)hp->rope_high_freq_factor,
                                (double)hp->rope_low_freq_factor);
        if ((st = check_size(where, "rope original_max_position_embeddings", hp->rope_orig_ctx,
                             LK_HP_MAX_CTX, err)))
            return st;
    }
    if (hp->attn_softcap < 0 || !isfinite(hp->attn_softcap) || hp->final_softcap < 0 ||
        !isfinite(hp->final_softcap))
        return lk_error_set(err, LK_ERR_RANGE, "%s: logit soft-capping must be >= 0 (0 = off)",
                            where);
    if (hp->sliding_window < 0)
        return lk_error_set(err, LK_ERR_RANGE, "%s: sliding_window = %d must be >= 0 (0 = off)",
                            where, (int)hp->sliding_window);
    if (hp->query_pre_attn_scalar < 0 || !isfinite(hp->query_pre_attn_scalar))
        return lk_error_set(err, LK_ERR_RANGE, "%s: query_pre_attn_scalar must be > 0", where);
    if ((st = check_token(where, "bos_token_id", hp->bos_id, hp->n_vocab, err))) return st;
    if ((st = check_token(where, "pad_token_id", hp->pad_id, hp->n_vocab, err))) return st;
    if (hp->n_eos < 0 || hp->n_eos > LK_MAX_EOS)
        return lk_error_set(err, LK_ERR_INTERNAL, "%s: n_eos = %d", where, (int)hp->n_eos);
    for (int i = 0; i < hp->n_eos; i++)
        if (hp->eos_ids[i] < 0 || hp->eos_ids[i] >= hp->n_vocab)
            return lk_error_set(err, LK_ERR_RANGE,
                                "%s: eos_token_id %d is not a token id (vocabulary has %d "
                                "tokens)",
                                where, (int)hp->eos_ids[i], (int)hp->n_vocab);
    return LK_OK;
}
