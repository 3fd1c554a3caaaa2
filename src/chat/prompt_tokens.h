/* Token ids of a prompt a chat template rendered. The rendered text is
 * trusted, so its special-token text ("<|im_start|>") becomes special tokens;
 * the tokenizer's BOS is added unless the template already wrote bos_token
 * (then the doubled BOS is dropped), as transformers' apply_chat_template
 * with tokenize=True does for templates that emit it. */
#ifndef LK_CHAT_PROMPT_TOKENS_H
#define LK_CHAT_PROMPT_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

/* *ids is malloc'd; the caller frees it. */
lk_status lk_chat_prompt_tokens(const lk_tokenizer *tok, const char *text, size_t len, int32_t **ids,
                                size_t *n_ids, lk_error *err);

#endif
