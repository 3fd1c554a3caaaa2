/* A server request between srv_sched_submit and its last release: what the
 * worker needs to run it, and the output channel from the worker (producer)
 * to the HTTP thread (consumer).
 *
 * Two references: the caller's (dropped by srv_request_release) and the
 * scheduler's (dropped when the worker finishes the request). The last one
 * frees it, so a caller may keep reading a request whose scheduler is gone.
 *
 * Locks: a request's mutex guards its output and its `sched` link; a thread
 * holding it may take the scheduler's mutex (cancel wakes the worker), never
 * the other way round. */
#ifndef LK_SERVER_REQUEST_H
#define LK_SERVER_REQUEST_H

#include <pthread.h>
#include <stdatomic.h>

#include "generate/stop.h"
#include "server/scheduler.h"

/* Text and tokens posted and not yet handed out, or handed out by the last
 * srv_request_wait (the two swap). */
typedef struct {
    char *text;
    size_t len, cap;
    srv_token_info *tokens;
    int32_t n_tokens, cap_tokens;
} srv_chunk;

struct srv_request {
    /* Set by submit, read-only afterwards. */
    int32_t *prompt;
    int32_t n_prompt;
    int32_t max_tokens;
    bool logprobs;
    int32_t top_logprobs;
    double time_limit_s;
    bool ignore_eos;
    int32_t stop_tokens[SRV_MAX_STOPS];
    int32_t n_stop_tokens;
    double t_submit; /* srv_now() */

    /* The worker's alone once queued (the caller never touches them). */
    lk_sampler *sampler;
    lk_stop_matcher *stop;
    lk_detokenizer *detok;
    srv_request *next; /* queue link, under the scheduler's mutex */

    atomic_bool cancelled;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* output posted or finished */
    int refs;
    srv_sched *sched;  /* NULL once the worker is done with the request */
    srv_chunk posted;
    srv_chunk handed;
    srv_finish finish;
    srv_usage usage;
    char error[512];
};

/* Seconds on a monotonic clock. */
double srv_now(void);

/* A request with two references, empty output, finish NONE. NULL when out of memory. */
srv_request *srv_request_alloc(void);
/* Drops one reference; frees the request (and what it owns) at the last. */
void srv_request_unref(srv_request *r);

/* Worker side. Appends text and (when tok is not NULL) one token's info,
 * and updates the running usage. False when out of memory. */
bool srv_request_post(srv_request *r, const char *text, size_t len, const srv_token_info *tok,
                      const srv_usage *usage);
/* The request is over: posts the finish, the final usage and (for
 * SRV_FINISH_ERROR) the message, and unlinks it from the scheduler. */
void srv_request_finish(srv_request *r, srv_finish finish, const srv_usage *usage,
                        const char *error);

/* Wakes the scheduler's worker (implemented in scheduler.c). */
void srv_sched_wake(srv_sched *s);

#endif
