/* Response bodies in OpenAI's exact shapes: chat.completion,
 * chat.completion.chunk, text_completion (whole and streamed), the usage
 * object, model lists and the error envelope
 * {"error": {"message", "type", "param", "code"}}. Every function returns
 * malloc'd JSON text (NULL when out of memory). */
#ifndef LK_SERVER_OPENAI_RESPONSE_H
#define LK_SERVER_OPENAI_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"
#include "server/openai_request.h"
#include "server/scheduler.h"

/* What every response of one request shares. */
typedef struct {
    srv_api api;
    char id[48];          /* "chatcmpl-..." or "cmpl-..." */
    long long created;    /* Unix seconds */
    const char *model;
    const lk_tokenizer *tok; /* token text for logprobs */
    bool logprobs;
} srv_response_meta;

/* Fills id (random) and created. */
void srv_response_meta_init(srv_response_meta *m, srv_api api, const char *model, const lk_tokenizer *tok,
                            bool logprobs);

/* One choice of a finished (or finishing) request. */
typedef struct {
    char *text;           /* the whole text (echoed prompt included) */
    size_t text_len;
    size_t text_offset;   /* where generated text starts (after an echoed prompt) */
    srv_token_info *tokens;
    int32_t n_tokens;
    srv_finish finish;
} srv_choice;

typedef struct {
    int64_t prompt_tokens, completion_tokens, cached_tokens;
} srv_usage_total;

/* "stop", "length" (a time limit counts as length), or NULL while running. */
const char *srv_finish_reason(srv_finish f);

char *srv_json_error(const char *message, const char *type, const char *param, const char *code);
char *srv_json_models(const char *model_id, long long created, int32_t n_ctx);
/* The whole response of a request that did not stream. */
char *srv_json_completion(const srv_response_meta *m, const srv_choice *choices, int32_t n_choices,
                          const srv_usage_total *usage);
/* One stream chunk for choice `index`: with_role puts role "assistant" in the
 * delta (chat's first chunk); finish != NONE makes it the closing chunk;
 * usage_null adds "usage": null (when the client asked for a usage chunk). */
char *srv_json_chunk(const srv_response_meta *m, int32_t index, bool with_role, const char *text, size_t len,
                     const srv_token_info *tokens, int32_t n_tokens, size_t text_offset, srv_finish finish,
                     bool usage_null);
/* The usage chunk: empty choices. */
char *srv_json_usage_chunk(const srv_response_meta *m, const srv_usage_total *usage);

#endif
