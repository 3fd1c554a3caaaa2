/* lk_hparams (and what else a model file knows) -> GGUF metadata keys, the
 * way llama.cpp's convert_hf_to_gguf.py writes them, so that llama.cpp and
 * lk_gguf_hparams read back the same hyper-parameters. The reverse of
 * format/gguf_hparams.c. */
#ifndef LK_FORMAT_GGUF_META_WRITE_H
#define LK_FORMAT_GGUF_META_WRITE_H

#include <stdbool.h>

#include "format/gguf.h"
#include "llmkit.h"
#include "tensor/quant_mix.h"

/* True for the architectures llama.cpp files as "llama" (llama, mistral):
 * their q/k weights are stored permuted to the interleaved rope order. */
bool lk_gguf_meta_arch_is_llama(const char *arch);

/* general.file_type and general.quantization_version (2, ggml's current). */
lk_status lk_gguf_meta_set_file_type(lk_gguf_writer *w, lk_ftype ftype);

/* general.*, <arch>.* hyper-parameters and, when the model file bundles a
 * tokenizer (HF tokenizer.json), tokenizer.ggml.* and the chat template. */
lk_status lk_gguf_meta_write(lk_gguf_writer *w, const lk_model_file *mf, lk_ftype ftype,
                             lk_error *err);

/* The tokenizer part alone: tokenizer.ggml.* from the model folder's
 * tokenizer.json, the chat template from tokenizer_config.json; only the
 * special token ids from the hyper-parameters when there is no tokenizer. */
lk_status lk_gguf_meta_write_tokenizer(lk_gguf_writer *w, const lk_model_file *mf, lk_error *err);

/* The vocabulary of an HF folder's tokenizer.json (byte-level BPE,
 * SentencePiece-style BPE with byte_fallback, WordPiece, Unigram) and
 * tokenizer_config.json's chat template and add_bos_token; nothing
 * when the folder has no tokenizer.json. n_vocab: the model's rows (the
 * token list is padded to it). */
lk_status lk_gguf_meta_write_hf_tokenizer(lk_gguf_writer *w, const char *dir, int32_t n_vocab,
                                          lk_error *err);

/* A tokenizer file llmkit reads (lk_tokenizer_load: a llama2.c tokenizer.bin,
 * an HF folder or tokenizer.json) as tokenizer.ggml.* keys, replacing
 * earlier ones. SentencePiece-style vocabularies only (llama.cpp's "llama"
 * model); LK_ERR_UNSUPPORTED for others. n_vocab: the model's rows. */
lk_status lk_gguf_meta_write_tokenizer_file(lk_gguf_writer *w, const char *path, int32_t n_vocab,
                                            lk_error *err);

#endif
