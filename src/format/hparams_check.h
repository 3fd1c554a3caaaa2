/* Checks shared by every source of lk_hparams (HF config.json, GGUF
 * metadata): one place that says what "a sane set of hyper-parameters" is, so
 * the forward pass can trust the sizes it allocates from. */
#ifndef LK_FORMAT_HPARAMS_CHECK_H
#define LK_FORMAT_HPARAMS_CHECK_H

#include "llmkit.h"

/* Upper bounds, far above any released model, that keep products such as
 * n_head * head_dim or n_ctx * n_embd inside int64 arithmetic. */
#define LK_HP_MAX_VOCAB (1 << 24)
#define LK_HP_MAX_EMBD (1 << 20)
#define LK_HP_MAX_LAYER (1 << 16)
#define LK_HP_MAX_HEAD (1 << 14)
#define LK_HP_MAX_HEAD_DIM (1 << 14)
#define LK_HP_MAX_FF (1 << 24)
#define LK_HP_MAX_CTX (1 << 30)

/* Empty hparams: every size 0, every token id -1 (unknown), no rope scaling
 * (factor 1). */
void lk_hparams_init(lk_hparams *hp);

/* Returns LK_ERR_RANGE naming `where` and the offending field when a size is
 * out of range, heads do not divide evenly, the rotary part does not fit in a
 * head, an epsilon/theta/factor is not a positive finite number, or a token id
 * is neither -1 nor inside the vocabulary. */
lk_status lk_hparams_check(const lk_hparams *hp, const char *where, lk_error *err);

#endif
