/* An OpenAI API request body (POST /v1/chat/completions or /v1/completions)
 * parsed and checked into what the scheduler needs, without a model: the
 * prompt is still text or messages here (see chat_prompt.h and
 * srv_completion_prompt_tokens for the token ids). A bad field gives an
 * error whose message names it and `param` holding its path
 * ("messages[1].content", "temperature"), for OpenAI's error envelope.
 * Unknown fields are ignored, as OpenAI's clients send ones we lack. */
#ifndef LK_SERVER_OPENAI_REQUEST_H
#define LK_SERVER_OPENAI_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "llmkit.h"
#include "server/scheduler.h"

#define SRV_MAX_CHOICES 16   /* n times the number of prompts */
#define SRV_MAX_USER_STOPS 8 /* the rest of SRV_MAX_STOPS is for end-of-turn markers */

typedef enum { SRV_API_CHAT = 0, SRV_API_COMPLETION } srv_api;

/* One prompt of /v1/completions: text, or token ids. */
typedef struct {
    const char *text;  /* borrowed from the request's tree; NULL when tokens */
    size_t text_len;
    int32_t *tokens;   /* malloc'd */
    int32_t n_tokens;
} srv_text_prompt;

typedef struct {
    srv_api api;
    cJSON *root;             /* the parsed body, owned */
    cJSON *messages;         /* chat: normalized messages (content a string), owned */
    srv_text_prompt prompts[SRV_MAX_CHOICES]; /* completions */
    int32_t n_prompts;
    int32_t n;               /* choices per prompt */
    bool stream, include_usage, echo;
    bool logprobs;
    int32_t top_logprobs;
    int64_t max_tokens;      /* -1: not given */
    lk_sampler_params sampling; /* logit_bias points at `bias` */
    bool seed_given;
    lk_logit_bias *bias;     /* malloc'd */
    const char *stops[SRV_MAX_USER_STOPS]; /* borrowed from root */
    size_t n_stops;
    const char *model;       /* as asked; "" when absent */
} srv_openai_request;

/* Parses len bytes of body. On error *param holds the offending field's path
 * ("" for the body as a whole) and err the message. */
lk_status srv_openai_request_parse(const char *body, size_t len, srv_api api, srv_openai_request *out,
                                   char *param, size_t param_size, lk_error *err);
void srv_openai_request_free(srv_openai_request *r);

#endif
