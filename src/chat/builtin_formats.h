/* Built-in chat formats for models that carry no chat template: short Jinja
 * templates that render plain system/user/assistant conversations exactly
 * like the official template of each family, selected by name
 * (`llmkit chat --chat-format NAME`). */
#ifndef LK_CHAT_BUILTIN_FORMATS_H
#define LK_CHAT_BUILTIN_FORMATS_H

#include <stddef.h>

typedef struct {
    const char *name;         /* "chatml", ... */
    const char *description;  /* which models use it */
    const char *jinja;        /* the template */
    const char *end_of_turn;  /* text that ends an assistant turn, "" when eos_token does */
} lk_chat_format;

/* NULL when no format has that name. */
const lk_chat_format *lk_chat_format_find(const char *name);
/* The i-th format, NULL past the last. */
const lk_chat_format *lk_chat_format_at(size_t i);

#endif
