/* The served model's chat template: OpenAI messages to prompt token ids.
 * The template comes from --chat-template, --chat-format, the model itself,
 * or, for a model without one, the built-in chatml format (logged), so
 * /v1/chat/completions works on any model. The texts that end an assistant
 * turn in that template become stop strings, as `llmkit chat` does. */
#ifndef LK_SERVER_CHAT_PROMPT_H
#define LK_SERVER_CHAT_PROMPT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "llmkit.h"

#define SRV_MAX_TURN_MARKERS 8

typedef struct srv_chat_prompt srv_chat_prompt;

/* model_path: the model (its template and special tokens); template_file
 * and format_name: overrides, NULL when not given. */
lk_status srv_chat_prompt_new(const char *model_path, const lk_model_file *mf, const char *template_file,
                              const char *format_name, srv_chat_prompt **out, lk_error *err);
void srv_chat_prompt_free(srv_chat_prompt *c);
/* Where the template came from, for the log. */
const char *srv_chat_prompt_name(const srv_chat_prompt *c);

/* Renders messages (normalized by srv_openai_request_parse) with the
 * generation prompt and tokenizes the result. *ids is malloc'd. A template
 * that refuses the conversation (raise_exception) gives LK_ERR_ARG. */
lk_status srv_chat_prompt_tokens(const srv_chat_prompt *c, const lk_tokenizer *tok, const cJSON *messages,
                                 int32_t **ids, size_t *n_ids, lk_error *err);

/* The end-of-turn stop strings. */
size_t srv_chat_prompt_stops(const srv_chat_prompt *c, const char **stops, size_t max);
/* The same markers as token ids, for those that are one special token of
 * tok: the detokenizer hides special tokens, so a stop string alone would
 * never see them. */
size_t srv_chat_prompt_stop_tokens(const srv_chat_prompt *c, const lk_tokenizer *tok, int32_t *ids,
                                   size_t max);

#endif
