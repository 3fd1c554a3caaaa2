/* Pieces of gguf_meta_tokenizer.c that live in files of their own: the
 * WordPiece and Unigram vocabulary writers and gguf-py's SpecialVocab.
 * For src/format/ only. */
#ifndef LK_FORMAT_GGUF_META_TOKENIZER_HF_H
#define LK_FORMAT_GGUF_META_TOKENIZER_HF_H

#include <stdint.h>

#include "format/gguf.h"
#include "llmkit.h"

struct cJSON;

/* Special-token ids and add_bos/eos/sep flags from tokenizer_config.json
 * (may be NULL) and the tokenizer.json post-processor, as SpecialVocab
 * does (gguf_meta_special_vocab.c). Ids >= n_vocab are left out. */
lk_status lk_gguf_meta_write_special_vocab(lk_gguf_writer *w, const struct cJSON *tokenizer_json,
                                           const struct cJSON *tokenizer_config, int64_t n_vocab,
                                           const char *path, lk_error *err);

/* A WordPiece tokenizer.json as llama.cpp's "bert" vocabulary. config:
 * config.json (may be NULL; type_vocab_size). */
lk_status lk_gguf_meta_write_wordpiece(lk_gguf_writer *w, const struct cJSON *tokenizer_json,
                                       const struct cJSON *tokenizer_config, const struct cJSON *config,
                                       int32_t n_vocab, const char *path, lk_error *err);

/* A Unigram tokenizer.json as llama.cpp's "t5" vocabulary. dir: the
 * folder, loaded again through llmkit's tokenizer for the decoded
 * precompiled charsmap. */
lk_status lk_gguf_meta_write_unigram(lk_gguf_writer *w, const struct cJSON *tokenizer_json,
                                     const struct cJSON *tokenizer_config, int32_t n_vocab, const char *dir,
                                     lk_error *err);

#endif
