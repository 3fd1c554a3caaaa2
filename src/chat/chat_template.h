/* The chat-template API for callers inside llmkit that already hold a cJSON
 * context (the server, the chat command): no JSON text round trip. */
#ifndef LK_CHAT_CHAT_TEMPLATE_H
#define LK_CHAT_CHAT_TEMPLATE_H

#include <cjson/cJSON.h>

#include "llmkit.h"

lk_status lk_chat_template_render_cjson(const lk_chat_template *t, const cJSON *context,
                                        const lk_chat_template_options *opt, char **out, size_t *out_len,
                                        lk_error *err);

/* The prompt for the model's next answer: messages rendered with vars
 * (bos_token, ...), no tools or documents, add_generation_prompt true.
 * messages is read, not copied. *out is malloc'd. */
lk_status lk_chat_render_generation_prompt(const lk_chat_template *t, const cJSON *vars,
                                           const cJSON *messages, char **out, size_t *out_len,
                                           lk_error *err);

/* Texts that end an assistant turn in common templates (NULL-terminated);
 * those a template uses become stop strings / end-of-turn tokens. */
extern const char *const lk_chat_turn_markers[];

#endif
