/* Writing a model file as a GGUF of another type: `llmkit quantize` and
 * `llmkit convert` both end here.
 *
 * The input is anything lk_model_file_open reads (a GGUF, an HF folder, a
 * llama2.c checkpoint). A GGUF keeps all its metadata; other inputs get the
 * metadata llama.cpp's convert_hf_to_gguf.py would write (format/gguf_meta_write.h).
 * Each tensor's type is llama.cpp's choice for the file type
 * (tensor/quant_mix.h): norms and other 1-D tensors are not quantized, K
 * types fall back to block-32 types where rows do not divide by 256. Rows are
 * quantized on a thread pool with the scalar reference quantizers, so the
 * bytes equal llama-quantize's (no importance matrix).
 *
 * The output is written to "<out>.tmp" in the output folder and renamed over
 * out only when complete: a failed run leaves no file behind. The quantized
 * tensors are held in memory until then (the whole output model). */
#ifndef LK_QUANTIZE_QUANTIZE_H
#define LK_QUANTIZE_QUANTIZE_H

#include <stdint.h>

#include "llmkit.h"
#include "tensor/quant_mix.h"

/* Called on the caller's thread after each tensor: bytes of input read so far
 * of total. */
typedef void (*lk_quantize_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct {
    lk_ftype ftype;      /* the file type to write (LK_FTYPE_Q4_K_M, LK_FTYPE_F16, ...) */
    int32_t n_threads;   /* <= 0: one per online CPU */
    lk_quantize_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    /* A tokenizer file to write as tokenizer.ggml.* (a llama2.c
     * tokenizer.bin for a checkpoint that has none; see
     * lk_gguf_meta_write_tokenizer_file); NULL: the model's own. Not for GGUF
     * inputs, which keep theirs. */
    const char *tokenizer;
} lk_quantize_params;

/* Summary of what was written, for the CLI. */
typedef struct {
    uint64_t n_tensors;
    uint64_t n_quantized;  /* tensors whose type changed */
    uint64_t in_bytes;     /* tensor data read */
    uint64_t out_bytes;    /* tensor data written */
} lk_quantize_stats;

/* Errors: those of lk_model_file_open / lk_gguf_open for the input;
 * LK_ERR_ARG for an unknown file type; LK_ERR_UNSUPPORTED when a tensor's
 * row length fits no type (the message names the tensor, its row length and
 * the block size); LK_ERR_NOT_FOUND when the output folder does not exist;
 * LK_ERR_IO for a failed write (full disk: the message says so). stats may
 * be NULL. */
lk_status lk_quantize_model(const char *in_path, const char *out_path,
                            const lk_quantize_params *p, lk_quantize_stats *stats,
                            lk_error *err);

/* The file types `llmkit quantize` accepts, as one line: "f32 f16 bf16 q8_0 ...". */
const char *lk_quantize_type_names(void);

#endif
