/* Hugging Face config.json (+ generation_config.json) -> lk_hparams.
 *
 * Supported model_type values: llama, mistral, qwen2, qwen3, gemma, gemma2,
 * phi3, gpt2, bert. For a key that is absent the default of the matching
 * transformers config class applies (LlamaConfig, MistralConfig, ...), so a
 * config that loads in transformers gives the same numbers here. The keys that
 * fix tensor shapes (vocab_size, hidden size, layer count, head count,
 * intermediate size) are the exception: they are required, because a class
 * default (4096, 32 layers, ...) would only fail later on the weight shapes.
 * A JSON null means Python None (e.g. num_key_value_heads: null = as many as
 * attention heads; sliding_window: null = no window), which can differ from
 * an absent key (MistralConfig: absent num_key_value_heads = 8). When a key
 * appears twice the last one wins, as with Python's json module.
 *
 * generation_config.json, when given, overrides bos/eos/pad token ids, as
 * transformers' generate() does. docs/formats.md ("HF model directories")
 * lists every default and rule. These functions only parse text; see
 * lk_hf_config_load for the one that reads files. */
#ifndef LK_FORMAT_HF_CONFIG_H
#define LK_FORMAT_HF_CONFIG_H

#include <stddef.h>

#include "llmkit.h"

/* A JSON document held in memory. name is used in error messages (normally
 * the file's path, e.g. "models/qwen/config.json"). */
typedef struct {
    const char *text; /* need not be NUL-terminated */
    size_t len;
    const char *name;
} lk_json_doc;

/* config: config.json (required). generation: generation_config.json, or
 * NULL when the directory has none. On success *out is complete and has
 * passed lk_hparams_check. Errors:
 *   LK_ERR_FORMAT       not JSON, not an object, a key of the wrong JSON type
 *                       or a required key missing (the message names key and file)
 *   LK_ERR_UNSUPPORTED  unknown model_type (the message lists the supported
 *                       ones), rope_scaling type other than linear/llama3,
 *                       an activation or position embedding llmkit lacks
 *   LK_ERR_RANGE        sizes out of range, heads that do not divide, ...
 *   LK_ERR_NOMEM */
lk_status lk_hf_config_parse(const lk_json_doc *config, const lk_json_doc *generation,
                             lk_hparams *out, lk_error *err);

/* Reads dir/config.json and, when present, dir/generation_config.json, then
 * parses them as lk_hf_config_parse does. */
lk_status lk_hf_config_load(const char *dir, lk_hparams *out, lk_error *err);

/* "llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, gpt2, bert" */
const char *lk_hf_supported_model_types(void);

#endif
