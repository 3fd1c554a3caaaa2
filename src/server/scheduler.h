/* The server's scheduler: N slots (one lk_context each) over one model,
 * decoded together with continuous batching. One worker thread owns every
 * evaluation; HTTP threads submit requests and read their output.
 *
 * Each step the worker (1) admits queued requests into free slots, choosing
 * the free slot whose cached tokens share the longest prefix with the new
 * prompt and keeping that KV (chat clients resend the whole history); (2)
 * evaluates at most one chunk of pending prompt per prefilling slot, so a
 * long prompt never stalls the others for long; (3) runs one lk_eval_multi
 * for every generating slot, samples, and posts text. A request joins or
 * leaves between steps. A cancelled request (client gone, time limit) frees
 * its slot at the next step.
 *
 * Text posted to a request is whole UTF-8 characters (lk_detokenizer, special
 * tokens skipped), with stop strings held back and cut (lk_stop_matcher). */
#ifndef LK_SERVER_SCHEDULER_H
#define LK_SERVER_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

#define SRV_MAX_TOP_LOGPROBS 20
#define SRV_MAX_STOPS 16

typedef struct srv_sched srv_sched;
typedef struct srv_request srv_request;

typedef struct {
    int32_t n_slots;    /* sequences decoded together (--parallel); default 4 */
    int32_t n_ctx;      /* KV positions per slot; 0: the model's, capped as lk_context_new does */
    int32_t max_queue;  /* requests waiting for a slot before submit refuses; default 64 */
    int32_t n_prefill;  /* prompt tokens per slot per step; default 256 */
    lk_dtype kv_type;   /* default LK_DTYPE_F16 */
} srv_sched_params;

void srv_sched_params_default(srv_sched_params *p);

/* Starts the worker. The model and tokenizer must outlive the scheduler. */
lk_status srv_sched_new(const lk_model *m, const lk_tokenizer *tok, const srv_sched_params *p,
                        srv_sched **out, lk_error *err);
/* Cancels everything, joins the worker, frees the slots. Requests still
 * held by callers stay valid (finished, reason CANCELLED) until released. */
void srv_sched_free(srv_sched *s);
int32_t srv_sched_n_ctx(const srv_sched *s);

typedef struct {
    const int32_t *prompt;   /* token ids, copied; n_prompt >= 1 */
    int32_t n_prompt;
    int32_t max_tokens;      /* generated tokens at most; <= 0: until the context is full */
    lk_sampler_params sampling; /* logit_bias copied */
    const char *stops[SRV_MAX_STOPS]; /* copied */
    size_t n_stops;
    bool logprobs;           /* report each generated token's logprob */
    int32_t top_logprobs;    /* and this many alternatives (0..SRV_MAX_TOP_LOGPROBS) */
    double time_limit_s;     /* <= 0: none; past it the request finishes with SRV_FINISH_TIMEOUT */
    bool ignore_eos;         /* keep going past end-of-sequence tokens */
    int32_t stop_tokens[SRV_MAX_STOPS]; /* more ids that end the request like EOS (a chat
                                           template's end-of-turn token, when not the EOS) */
    int32_t n_stop_tokens;
} srv_request_params;

void srv_request_params_default(srv_request_params *p);

typedef enum {
    SRV_SUBMIT_OK = 0,
    SRV_SUBMIT_TOO_LONG,   /* prompt (+1) longer than a slot's context: HTTP 400 */
    SRV_SUBMIT_QUEUE_FULL, /* HTTP 503 */
    SRV_SUBMIT_INVALID,    /* bad token id, bad params: HTTP 400 */
    SRV_SUBMIT_NOMEM       /* HTTP 500 */
} srv_submit_result;

/* Queues a request. On SRV_SUBMIT_OK *out is a new handle (release it with
 * srv_request_release); otherwise err says why, with the numbers ("the prompt
 * has 5000 tokens; the context holds 4096"). OpenAI's n > 1 is n requests. */
srv_submit_result srv_sched_submit(srv_sched *s, const srv_request_params *p, srv_request **out,
                                   lk_error *err);

typedef enum {
    SRV_FINISH_NONE = 0,  /* still running */
    SRV_FINISH_STOP,      /* EOS token or a stop string */
    SRV_FINISH_LENGTH,    /* max_tokens reached or the context is full */
    SRV_FINISH_TIMEOUT,   /* time_limit_s passed */
    SRV_FINISH_CANCELLED, /* srv_request_cancel or the scheduler shut down */
    SRV_FINISH_ERROR      /* evaluation failed; error says why */
} srv_finish;

typedef struct {
    int32_t token;
    float logprob;
} srv_token_logprob;

typedef struct {
    srv_token_logprob chosen;
    int32_t n_top;
    srv_token_logprob top[SRV_MAX_TOP_LOGPROBS]; /* most likely first */
} srv_token_info;

typedef struct {
    int32_t prompt_tokens;    /* tokens of the prompt */
    int32_t cached_tokens;    /* of those, reused from the slot's KV cache */
    int32_t completion_tokens;
    double queue_s;           /* submit -> slot */
    double prompt_s;          /* slot -> first generated token */
    double generation_s;      /* first generated token -> finish */
} srv_usage;

/* What srv_request_wait returns: everything posted since the previous call.
 * Pointers stay valid until the next srv_request_wait or release. */
typedef struct {
    const char *text;        /* new text (whole UTF-8 characters, stop strings cut) */
    size_t text_len;
    const srv_token_info *tokens; /* tokens generated since the last call (logprobs filled
                                     only when asked); n_tokens may be 0 with text (a
                                     held-back tail released) or > 0 without text */
    int32_t n_tokens;
    srv_finish finish;       /* != NONE: the request is over and this is its last output */
    srv_usage usage;         /* final when finish != NONE; counts so far otherwise */
    const char *error;       /* for SRV_FINISH_ERROR */
} srv_output;

/* Blocks until the request has new output or finishes, or timeout_ms
 * passes (< 0: no limit). Returns false on timeout with nothing new.
 * Once the finish has been returned, later calls return it again at once
 * (no new text). The end-of-sequence token is counted in usage but not
 * posted as a token. */
bool srv_request_wait(srv_request *r, int timeout_ms, srv_output *out);
/* Asks the worker to drop the request (client disconnected); its slot is
 * free by the end of the next step. Safe from any thread, more than once. */
void srv_request_cancel(srv_request *r);
/* The caller's handle is gone (cancels the request if still running). */
void srv_request_release(srv_request *r);

/* A consistent snapshot for /metrics and /health. */
typedef struct {
    int32_t n_slots, busy_slots, queued;
    uint64_t requests_finished;
    uint64_t prompt_tokens, cached_tokens, completion_tokens; /* totals */
    double prompt_s, generation_s;                            /* totals */
    uint64_t decode_steps; /* batched decode passes (lk_eval_multi calls) */
    uint64_t decode_rows;  /* sequences decoded in them: rows / steps = mean batch */
} srv_sched_stats;

void srv_sched_get_stats(srv_sched *s, srv_sched_stats *out);

#endif
