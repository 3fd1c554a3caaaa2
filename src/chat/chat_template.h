/* The chat-template API for callers inside llmkit that already hold a cJSON
 * context (the server, the chat command): no JSON text round trip. */
#ifndef LK_CHAT_CHAT_TEMPLATE_H
#define LK_CHAT_CHAT_TEMPLATE_H

#include <cjson/cJSON.h>

#include "llmkit.h"

lk_status lk_chat_template_render_cjson(const lk_chat_template *t, const cJSON *context,
                                        const lk_chat_template_options *opt, char **out, size_t *out_len,
                                        lk_error *err);

#endif
