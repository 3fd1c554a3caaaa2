/* Log-probabilities of a generated token and its most likely alternatives,
 * from the raw logits (before bias, penalties, top-k/p or temperature), as
 * OpenAI's logprobs report them. */
#ifndef LK_SERVER_LOGPROBS_H
#define LK_SERVER_LOGPROBS_H

#include "server/scheduler.h"

/* out->chosen: `chosen` and its log-softmax value; out->top: the n_top
 * (clamped to 0..SRV_MAX_TOP_LOGPROBS) most likely tokens, most likely first,
 * ties to the lower id. */
void srv_logprobs(const float *logits, int32_t n_vocab, int32_t chosen, int32_t n_top,
                  srv_token_info *out);

#endif
