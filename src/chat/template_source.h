/* Where a model's chat template comes from: a GGUF model
 * (tokenizer.chat_template[.NAME], special tokens from its vocabulary), a .jinja file, the
 * chat_template of a tokenizer_config.json or chat_template.json (a string,
 * or a list of named variants such as "default" and "tool_use"), or a
 * Hugging Face model directory holding those. The special tokens the
 * template refers to (bos_token, eos_token, ...) come from the
 * tokenizer_config.json beside it, as transformers passes them. */
#ifndef LK_CHAT_TEMPLATE_SOURCE_H
#define LK_CHAT_TEMPLATE_SOURCE_H

#include <cjson/cJSON.h>

#include "llmkit.h"

typedef struct {
    char *text;              /* the template (malloc'd) */
    char path[1024];         /* the file it came from, for messages */
    cJSON *special_tokens;   /* {"bos_token": "<s>", ...}; an empty object when unknown */
} lk_template_source;

/* variant: the name to pick from a list of templates (NULL: "tool_use" when
 * want_tools and present, else "default", as transformers picks). */
lk_status lk_template_source_load(const char *path, const char *variant, bool want_tools, lk_template_source *out,
                                  lk_error *err);
void lk_template_source_free(lk_template_source *s);

#endif
