/* llama2.c legacy checkpoints (.bin, Karpathy's "version 0" export).
 *
 * The file is seven little-endian int32s
 *     dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
 * (vocab_size negative = the classifier is a separate matrix, not the token
 * embedding) followed by float32 arrays in this order, with
 * head_size = dim / n_heads and kv_dim = n_kv_heads * head_size:
 *     token_embedding  (vocab, dim)
 *     rms_att          (n_layers, dim)
 *     wq               (n_layers, dim, dim)      each layer out x in
 *     wk               (n_layers, kv_dim, dim)
 *     wv               (n_layers, kv_dim, dim)
 *     wo               (n_layers, dim, dim)
 *     rms_ffn          (n_layers, dim)
 *     w1               (n_layers, hidden_dim, dim)
 *     w2               (n_layers, dim, hidden_dim)
 *     w3               (n_layers, hidden_dim, dim)
 *     rms_final        (dim)
 *     freq_cis_real    (seq_len, head_size / 2)  unused: RoPE is recomputed
 *     freq_cis_imag    (seq_len, head_size / 2)  unused
 *     wcls             (vocab, dim)              only when vocab_size < 0
 *
 * The reader mmaps the file, checks the header (positive sizes, n_heads
 * divides dim, n_kv_heads divides n_heads, even head size) and that the file
 * is exactly as long as the header implies, and exposes the weights as a
 * tensor table with llmkit's internal (GGUF) names and row-major shapes:
 *     token_embd.weight            [vocab, dim]
 *     blk.N.attn_norm.weight       [dim]
 *     blk.N.attn_q.weight          [dim, dim]
 *     blk.N.attn_k.weight          [kv_dim, dim]
 *     blk.N.attn_v.weight          [kv_dim, dim]
 *     blk.N.attn_output.weight     [dim, dim]
 *     blk.N.ffn_norm.weight        [dim]
 *     blk.N.ffn_gate.weight        [hidden, dim]   (w1)
 *     blk.N.ffn_down.weight        [dim, hidden]   (w2)
 *     blk.N.ffn_up.weight          [hidden, dim]   (w3)
 *     output_norm.weight           [dim]
 *     output.weight                [vocab, dim]    only when unshared
 * All F32, data pointing into the mmap. Q and K are in llama2.c's (Meta's)
 * layout, so RoPE rotates interleaved pairs (LK_ROPE_INTERLEAVED).
 * Reference: karpathy/llama2.c, run.c (memory_map_weights) and export.py. */
#ifndef LK_FORMAT_LLAMA2C_H
#define LK_FORMAT_LLAMA2C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

/* The header as stored, except vocab_size made positive. */
typedef struct {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    bool shared_classifier; /* vocab_size was positive in the file */
} lk_llama2c_config;

typedef struct lk_llama2c lk_llama2c;

lk_status lk_llama2c_open(const char *path, lk_llama2c **out, lk_error *err);
/* Parses a buffer the caller keeps alive (fuzzing, tests); name is used in messages. */
lk_status lk_llama2c_open_memory(const void *data, size_t size, const char *name,
                                 lk_llama2c **out, lk_error *err);
void lk_llama2c_close(lk_llama2c *m);

const lk_llama2c_config *lk_llama2c_config_of(const lk_llama2c *m);
/* arch "llama", RMS norm eps 1e-5, SiLU, interleaved RoPE theta 10000,
 * n_ctx_train = seq_len, bos 1, eos 2, tied_embeddings = shared classifier. */
const lk_hparams *lk_llama2c_hparams(const lk_llama2c *m);

size_t lk_llama2c_tensor_count(const lk_llama2c *m);
const lk_tensor_info *lk_llama2c_tensor_at(const lk_llama2c *m, size_t i);
/* NULL when absent. */
const lk_tensor_info *lk_llama2c_find_tensor(const lk_llama2c *m, const char *name);

#endif
