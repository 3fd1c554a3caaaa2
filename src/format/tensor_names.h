/* Tensor names: Hugging Face checkpoint names <-> llmkit's internal scheme.
 *
 * Internally every tensor has the name llama.cpp gives it in GGUF
 * ("token_embd.weight", "blk.3.attn_q.weight", ...), whatever file it came
 * from, so the model code looks tensors up one way. This module translates
 * the names of HF safetensors checkpoints for the architectures llmkit runs
 * (llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, gpt2, bert), both ways.
 * docs/formats.md ("HF model directories") has the full table.
 *
 * Both functions are pure string work: no file is read, and the block index
 * is not checked against the layer count (the caller knows it).
 *
 * Fused tensors keep their fusion, as in llama.cpp: phi3's qkv_proj becomes
 * blk.N.attn_qkv (rows: q, then k, then v) and its gate_up_proj becomes
 * blk.N.ffn_up (rows: gate, then up); gpt2's c_attn becomes blk.N.attn_qkv. */
#ifndef LK_FORMAT_TENSOR_NAMES_H
#define LK_FORMAT_TENSOR_NAMES_H

#include "llmkit.h"

#define LK_TNAME_MAX 128

typedef enum {
    LK_TNAME_MAPPED = 0, /* name holds the translation */
    LK_TNAME_IGNORED,    /* a known tensor with no use at inference: rotary inv_freq
                            buffers, gpt2's attention-mask buffers, bert's
                            position_ids, pooler and pre-training heads */
    LK_TNAME_UNKNOWN     /* not a tensor of this architecture */
} lk_tname_kind;

/* transform flags */
enum {
    /* The tensor is stored transposed relative to a torch.nn.Linear weight:
     * gpt2's Conv1D weights are [in, out] in HF files, while the internal
     * scheme (like llama.cpp's GGUF) holds [out, in]. Transpose when mapping
     * in either direction. Only 2-D .weight tensors carry it. */
    LK_TNAME_TRANSPOSE = 1u << 0
};

typedef struct {
    lk_tname_kind kind;
    unsigned transform;       /* LK_TNAME_* flags; 0 unless kind is MAPPED */
    char name[LK_TNAME_MAX];  /* empty unless kind is MAPPED */
} lk_tensor_name;

/* HF name -> internal name. arch is an lk_hparams arch ("llama", ...).
 * Accepts the prefixes transformers writes or strips ("model." for the
 * decoder-only models, "transformer." for gpt2, "bert." for bert, or none),
 * and the old LayerNorm suffixes .gamma/.beta as .weight/.bias.
 * Returns LK_OK with out->kind set, LK_ERR_UNSUPPORTED for an unknown arch,
 * LK_ERR_ARG for NULL arguments. An unknown tensor name is not an error:
 * out->kind is LK_TNAME_UNKNOWN and the caller decides. */
lk_status lk_tensor_name_from_hf(const char *arch, const char *hf_name, lk_tensor_name *out,
                                 lk_error *err);

/* Internal name -> HF name, for writing HF directories: the layout
 * AutoModelForCausalLM saves for decoder-only models ("model.layers...",
 * "lm_head.weight"), the hub gpt2 layout (no prefix, "lm_head.weight" for
 * an untied output), and BertModel's (no prefix) for bert. */
lk_status lk_tensor_name_to_hf(const char *arch, const char *name, lk_tensor_name *out,
                               lk_error *err);

#endif
