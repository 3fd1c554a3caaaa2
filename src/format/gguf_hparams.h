/* GGUF metadata -> lk_hparams.
 *
 * Reads general.architecture and the "<arch>.*" keys llama.cpp writes, the
 * tokenizer.ggml.* special-token ids, and looks at a few tensors (output.weight
 * present? token_embd shape for the vocabulary size when the file has no
 * token list). Architectures: llama (Mistral GGUFs are "llama" too), qwen2,
 * qwen3, gemma, gemma2, phi3, gpt2, bert.
 *
 * What differs from an HF config of the same model, because llama.cpp's
 * converter changed the weights:
 *   - rope_layout: LK_ROPE_INTERLEAVED for llama (the converter permuted the
 *     q/k rows into pair order), LK_ROPE_HALF for the NeoX-style archs, as
 *     llama.cpp's llama_model_rope_type; LK_ROPE_NONE for gpt2 and bert.
 *   - norm_plus_one is false for gemma/gemma2: the converter stored 1 + w.
 *   - Llama 3.1+ rope scaling is not in the metadata: the converter wrote the
 *     per-dimension frequency divisors as the tensor "rope_freqs.weight"
 *     (n_rot/2 floats), and rope_scaling stays NONE. Use that tensor when
 *     present. docs/formats.md has the full rules. */
#ifndef LK_FORMAT_GGUF_HPARAMS_H
#define LK_FORMAT_GGUF_HPARAMS_H

#include "format/gguf.h"
#include "llmkit.h"

/* name is used in messages (normally the file path). On success *out has
 * passed lk_hparams_check. Errors: LK_ERR_FORMAT (a key missing or of the
 * wrong type; the message names it), LK_ERR_UNSUPPORTED (an architecture or
 * rope scaling llmkit does not run), LK_ERR_RANGE. */
lk_status lk_gguf_hparams(const lk_gguf *g, const char *name, lk_hparams *out, lk_error *err);

/* "llama, qwen2, qwen3, gemma, gemma2, phi3, gpt2, bert" */
const char *lk_gguf_supported_archs(void);

#endif
