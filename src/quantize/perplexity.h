/* Perplexity the way llama.cpp's llama-perplexity computes it, so numbers
 * from the two tools compare directly (and quantization types can be
 * ranked by them).
 *
 * The token stream (the whole text, tokenized once) is cut into chunks of
 * n_ctx tokens; each chunk is evaluated from an empty context with its first
 * token replaced by BOS (when the vocabulary adds one), and only the second
 * half is scored: the logits at positions first = n_ctx/2 .. n_ctx-2 predict
 * tokens first+1 .. n_ctx-1, so every scored token has at least n_ctx/2
 * tokens of context. NLL is -log softmax(logits)[next], softmax in double
 * over expf(logit - max). PPL = exp(mean NLL); the ± is llama.cpp's error
 * estimate: PPL * sqrt((mean(NLL^2) - mean(NLL)^2) / (count - 1)). */
#ifndef LK_QUANTIZE_PERPLEXITY_H
#define LK_QUANTIZE_PERPLEXITY_H

#include <stdint.h>

#include "llmkit.h"

typedef struct {
    int32_t n_ctx;   /* tokens per chunk (llama-perplexity's -c); >= 4, even */
    int32_t bos_id;  /* put in each chunk's first position; < 0: tokens kept as they are */
    int32_t max_chunks; /* <= 0: all whole chunks */
    /* Called after each chunk with the running estimate (may be NULL). */
    void (*on_chunk)(void *ctx, int32_t chunk, int32_t n_chunks, double running_ppl);
    void *on_chunk_ctx;
} lk_perplexity_params;

typedef struct {
    double ppl;       /* exp(mean NLL) */
    double ppl_error; /* llama.cpp's "+/-" (0 when count < 2) */
    double mean_nll;
    int64_t count;    /* tokens scored */
    int32_t n_chunks;
} lk_perplexity_result;

/* LK_ERR_RANGE when there are fewer than 2 * n_ctx tokens (llama.cpp's
 * requirement too: the message says how many are needed); LK_ERR_ARG for a
 * bad n_ctx; evaluation errors as lk_eval's. */
lk_status lk_perplexity(const lk_model *m, const int32_t *tokens, int64_t n_tokens,
                        const lk_perplexity_params *p, lk_perplexity_result *out, lk_error *err);

/* -log softmax(logits[0..n_vocab))[target], computed as llama.cpp does. */
double lk_nll_of(const float *logits, int32_t n_vocab, int32_t target);

#endif
