/* llmkit: a local large-language-model toolkit in C.
 *
 * This header is the public C API. The `llmkit` command-line program is one
 * client of it; your program can be another. Every public name starts with
 * `lk_` (types) or `LK_` (constants). Objects are opaque handles created by
 * an `*_open`/`*_new` function and released by the matching `*_close`/`*_free`.
 *
 * Errors are values: a function that can fail returns an lk_status and fills
 * the lk_error you pass (or ignores it when you pass NULL). The library never
 * prints and never exits.
 *
 * A worked example, printing what a model file holds:
 *
 *     lk_error err;
 *     lk_model_file *mf;
 *     if (lk_model_file_open("stories260K.gguf", &mf, &err) != LK_OK) {
 *         fprintf(stderr, "%s\n", err.msg);
 *         return 1;
 *     }
 *     const lk_hparams *hp = lk_model_file_hparams(mf);
 *     printf("%s: %d layers, dim %d\n", hp->arch, hp->n_layer, hp->n_embd);
 *     lk_model_file_close(mf);
 */
#ifndef LLMKIT_H
#define LLMKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LK_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------- errors */

typedef enum {
    LK_OK = 0,
    LK_ERR_IO,          /* a file could not be opened, read or written */
    LK_ERR_FORMAT,      /* a file's contents are malformed */
    LK_ERR_NOMEM,       /* an allocation failed */
    LK_ERR_UNSUPPORTED, /* valid, but llmkit does not handle it (yet) */
    LK_ERR_ARG,         /* the caller passed something invalid */
    LK_ERR_NOT_FOUND,   /* a named thing (key, tensor, file) is absent */
    LK_ERR_RANGE,       /* a value is outside what is allowed */
    LK_ERR_INTERNAL     /* a bug in llmkit */
} lk_status;

typedef struct {
    lk_status code;
    char msg[1024]; /* "path: what was wrong (hint)" */
} lk_error;

const char *lk_status_name(lk_status s);

/* ---------------------------------------------------------------- build */

/* "0.1.0" */
const char *lk_version(void);
/* Space-separated CPU features found at run time, e.g. "sse4.2 avx2 fma f16c". */
const char *lk_cpu_features_string(void);

/* ---------------------------------------------------------------- dtypes */

/* Element types. The numbers of the types GGUF knows are GGML's own, so a
 * GGUF type id is an lk_dtype; types only safetensors has start at 100. */
typedef enum {
    LK_DTYPE_F32 = 0,
    LK_DTYPE_F16 = 1,
    LK_DTYPE_Q4_0 = 2,
    LK_DTYPE_Q4_1 = 3,
    LK_DTYPE_Q5_0 = 6,
    LK_DTYPE_Q5_1 = 7,
    LK_DTYPE_Q8_0 = 8,
    LK_DTYPE_Q8_1 = 9,
    LK_DTYPE_Q2_K = 10,
    LK_DTYPE_Q3_K = 11,
    LK_DTYPE_Q4_K = 12,
    LK_DTYPE_Q5_K = 13,
    LK_DTYPE_Q6_K = 14,
    LK_DTYPE_Q8_K = 15,
    LK_DTYPE_I8 = 24,
    LK_DTYPE_I16 = 25,
    LK_DTYPE_I32 = 26,
    LK_DTYPE_I64 = 27,
    LK_DTYPE_F64 = 28,
    LK_DTYPE_BF16 = 30,
    LK_DTYPE_U8 = 100,
    LK_DTYPE_U16,
    LK_DTYPE_U32,
    LK_DTYPE_U64,
    LK_DTYPE_BOOL,
    LK_DTYPE_F8_E4M3,
    LK_DTYPE_F8_E5M2,
    LK_DTYPE_INVALID = -1
} lk_dtype;

/* "f32", "q4_k", ...; NULL for an unknown type. */
const char *lk_dtype_name(lk_dtype t);

/* ---------------------------------------------------------------- model files */

typedef enum {
    LK_FORMAT_GGUF = 1,
    LK_FORMAT_HF_DIR,  /* config.json + *.safetensors */
    LK_FORMAT_LLAMA2C, /* llama2.c legacy .bin checkpoint */
    LK_FORMAT_SAFETENSORS /* a lone .safetensors file, no config */
} lk_format;

typedef enum { LK_NORM_RMS = 0, LK_NORM_LAYER } lk_norm_kind;
typedef enum { LK_ACT_SILU = 0, LK_ACT_GELU, LK_ACT_GELU_TANH } lk_activation;
typedef enum {
    LK_ROPE_NONE = 0,        /* learned positions (gpt2) or none (bert) */
    LK_ROPE_INTERLEAVED,     /* rotate pairs (x0,x1),(x2,x3): Meta / llama.cpp-permuted */
    LK_ROPE_HALF             /* rotate-half (x_i, x_{i+d/2}): HF / NeoX layout */
} lk_rope_layout;
typedef enum { LK_ROPE_SCALING_NONE = 0, LK_ROPE_SCALING_LINEAR, LK_ROPE_SCALING_LLAMA3 } lk_rope_scaling;

#define LK_MAX_EOS 8

/* One hyper-parameter struct for every architecture and source format. */
typedef struct {
    char arch[32];        /* "llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2",
                             "phi3", "gpt2", "bert" */
    int32_t n_vocab;
    int32_t n_embd;       /* hidden size */
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t head_dim;     /* usually n_embd / n_head; gemma sets its own */
    int32_t n_ff;         /* feed-forward (intermediate) size */
    int32_t n_ctx_train;  /* context length the model was trained for */
    lk_norm_kind norm;
    float norm_eps;
    lk_activation act;
    lk_rope_layout rope_layout;
    float rope_theta;
    int32_t n_rot;        /* dimensions rotated per head (head_dim unless partial) */
    lk_rope_scaling rope_scaling;
    float rope_factor;
    float rope_low_freq_factor, rope_high_freq_factor; /* llama3 scaling */
    int32_t rope_orig_ctx;                             /* llama3 scaling */
    bool tied_embeddings; /* output projection shares token_embd */
    bool attn_qkv_bias;   /* qwen2 */
    bool qk_norm;         /* qwen3 */
    float attn_softcap;   /* gemma2; 0 = none */
    float final_softcap;  /* gemma2; 0 = none */
    int32_t sliding_window; /* 0 = none */
    float query_pre_attn_scalar; /* gemma2; 0 = head_dim */
    bool embd_scale;      /* gemma: scale embeddings by sqrt(n_embd) */
    bool norm_plus_one;   /* gemma: RMSNorm weight is (1 + w) */
    int32_t bos_id;       /* -1 when unknown */
    int32_t eos_ids[LK_MAX_EOS];
    int32_t n_eos;
    int32_t pad_id;       /* -1 when unknown */
} lk_hparams;

/* One tensor of a model file. Names follow one internal scheme whatever the
 * source (GGUF's: "token_embd.weight", "blk.0.attn_q.weight", ...).
 * shape[] is row-major, slowest dimension first, as in PyTorch and safetensors
 * (a GGUF ne[] is the reverse). data points into the mmap'd file. */
typedef struct {
    const char *name;
    lk_dtype dtype;
    int32_t n_dims;
    int64_t shape[4];
    const void *data;
    uint64_t nbytes;
} lk_tensor_info;

typedef struct lk_model_file lk_model_file;

/* path: a GGUF file (first shard of a split is enough), an HF model directory,
 * a lone .safetensors file, or a llama2.c .bin checkpoint. */
lk_status lk_model_file_open(const char *path, lk_model_file **out, lk_error *err);
void lk_model_file_close(lk_model_file *mf);
/* Like lk_model_file_open, but a GGUF of an architecture llmkit cannot run
 * still opens (hyper-parameters best effort), for tools that only look. */
lk_status lk_model_file_inspect(const char *path, lk_model_file **out, lk_error *err);
/* Why llmkit cannot run this model, or NULL when it can. */
const char *lk_model_file_unsupported(const lk_model_file *mf);

lk_format lk_model_file_format(const lk_model_file *mf);
const char *lk_model_file_path(const lk_model_file *mf);
const lk_hparams *lk_model_file_hparams(const lk_model_file *mf);
size_t lk_model_file_tensor_count(const lk_model_file *mf);
const lk_tensor_info *lk_model_file_tensor(const lk_model_file *mf, size_t i);
/* NULL when absent. */
const lk_tensor_info *lk_model_file_find_tensor(const lk_model_file *mf, const char *name);

/* What else the file says about itself (for `llmkit info` and loaders).
 * Strings are owned by the model file; "" when unknown. */
typedef struct {
    const char *name;            /* general.name or the folder name */
    const char *tokenizer_model; /* GGUF tokenizer.ggml.model ("llama", "gpt2", "bert",
                                    "t5"), or tokenizer.json's model.type ("BPE",
                                    "WordPiece", "Unigram"); "" when none is bundled */
    const char *tokenizer_pre;   /* GGUF tokenizer.ggml.pre, "" otherwise */
    int32_t tokenizer_vocab;     /* tokens in the bundled tokenizer, 0 when none */
    const char *bos_text;        /* text of the BOS/EOS tokens, when known */
    const char *eos_text;
    const char *chat_template;   /* NULL when the model has none */
    uint64_t n_params;           /* elements of all weight tensors */
} lk_model_meta;

const lk_model_meta *lk_model_file_meta(const lk_model_file *mf);

/* ---------------------------------------------------------------- tokenizers */

/* A tokenizer turns text (UTF-8 bytes) into token ids and back, agreeing
 * token for token with the reference implementation of its source:
 * llama.cpp for GGUF vocabularies and llama2.c tok*.bin files, Hugging Face
 * `tokenizers` for tokenizer.json. Kinds: SentencePiece-style BPE (Llama-2),
 * byte-level BPE (GPT-2, Llama-3, Qwen2, ...), WordPiece (BERT).
 *
 *     lk_tokenizer *tok;
 *     if (lk_tokenizer_load("tokenizer.json", &tok, &err) != LK_OK) ...
 *     int32_t *ids; size_t n;
 *     lk_tokenizer_encode(tok, "你好, world", 13, true, false, &ids, &n, &err);
 *     char *text; size_t len;
 *     lk_tokenizer_decode(tok, ids, n, true, &text, &len, &err);
 *     free(ids); free(text); lk_tokenizer_free(tok);
 *
 * A loaded tokenizer is read-only: threads may encode and decode with one
 * tokenizer at the same time. docs/tokenizers.md lists what is supported
 * and how it is verified.
 */
typedef struct lk_tokenizer lk_tokenizer;

/* Token types; the numbers are GGUF's tokenizer.ggml.token_type values. */
typedef enum {
    LK_TOKEN_NORMAL = 1,
    LK_TOKEN_UNKNOWN = 2,
    LK_TOKEN_CONTROL = 3,      /* <s>, </s>, <|eot_id|>: special, never from plain text */
    LK_TOKEN_USER_DEFINED = 4, /* added tokens matched whole in the text */
    LK_TOKEN_UNUSED = 5,
    LK_TOKEN_BYTE = 6          /* <0x0A>: byte fallback */
} lk_token_type;

/* path: a GGUF file, a tokenizer.json, an HF model directory (tokenizer.json
 * and tokenizer_config.json inside), or a llama2.c tok*.bin. */
lk_status lk_tokenizer_load(const char *path, lk_tokenizer **out, lk_error *err);
/* From memory: a tokenizer.json and (optional, may be NULL) the model's
 * tokenizer_config.json. name appears in error messages. */
lk_status lk_tokenizer_from_hf_json(const char *json, size_t json_len, const char *config_json,
                                    size_t config_len, const char *name, lk_tokenizer **out,
                                    lk_error *err);
/* From the bytes of a llama2.c tokenizer file (tok512.bin, tokenizer.bin). */
lk_status lk_tokenizer_from_llama2c(const void *data, size_t size, const char *name,
                                    lk_tokenizer **out, lk_error *err);
void lk_tokenizer_free(lk_tokenizer *tok);

int32_t lk_tokenizer_n_vocab(const lk_tokenizer *tok);
/* "spm", "bpe", "wordpiece" or "unigram". */
const char *lk_tokenizer_kind(const lk_tokenizer *tok);

/* Encodes len bytes of text (invalid UTF-8 is tokenized as its bytes, or
 * as <unk> where the vocabulary has no byte tokens; it never fails on it).
 * add_special: add the BOS/EOS/[CLS]/[SEP] the model's configuration asks for.
 * parse_special: let special-token text in the input ("<|im_start|>") become
 * special tokens; leave it false for untrusted input. *ids is malloc'd: free it. */
lk_status lk_tokenizer_encode(const lk_tokenizer *tok, const char *text, size_t len,
                              bool add_special, bool parse_special, int32_t **ids, size_t *n_ids,
                              lk_error *err);
/* The exact inverse of encode (byte fallback and byte-level bytes restored).
 * skip_special drops control tokens (BOS, EOS, ...). *text is malloc'd and
 * NUL-terminated; it holds raw bytes, so a sequence cut mid-character may
 * not be valid UTF-8. */
lk_status lk_tokenizer_decode(const lk_tokenizer *tok, const int32_t *ids, size_t n_ids,
                              bool skip_special, char **text, size_t *len, lk_error *err);

/* The vocabulary string of a token as stored (e.g. "\u2581the", "\u0120the",
 * "<0x0A>", "##ing"); NULL for an id out of range. */
const char *lk_tokenizer_piece(const lk_tokenizer *tok, int32_t id, size_t *len);
/* The id of an exact vocabulary string, or -1. */
int32_t lk_tokenizer_find(const lk_tokenizer *tok, const char *piece, size_t len);
lk_token_type lk_tokenizer_token_type(const lk_tokenizer *tok, int32_t id);
/* Special ids, -1 when the vocabulary has none. */
int32_t lk_tokenizer_bos(const lk_tokenizer *tok);
int32_t lk_tokenizer_eos(const lk_tokenizer *tok);
int32_t lk_tokenizer_unk(const lk_tokenizer *tok);
int32_t lk_tokenizer_pad(const lk_tokenizer *tok);
/* True for control (and unknown) tokens: what skip_special drops. */
bool lk_tokenizer_is_special(const lk_tokenizer *tok, int32_t id);

/* Streaming decoder: feed ids one at a time as a model produces them; each
 * push returns the text that is now final. It never returns part of a UTF-8
 * sequence: a Chinese character split over two byte tokens comes out once,
 * whole, with the second. Bytes that can never form a character come out
 * as U+FFFD. The returned pointer is valid until the next call. */
typedef struct lk_detokenizer lk_detokenizer;
/* NULL when out of memory. One stream per sequence; tok must outlive it. */
lk_detokenizer *lk_detokenizer_new(const lk_tokenizer *tok, bool skip_special);
const char *lk_detokenizer_push(lk_detokenizer *d, int32_t id, size_t *len);
/* Ends the stream: whatever is held back (an unfinished sequence: U+FFFD). */
const char *lk_detokenizer_flush(lk_detokenizer *d, size_t *len);
void lk_detokenizer_free(lk_detokenizer *d);

/* ---------------------------------------------------------------- chat templates */

/* A model's chat template (Jinja2, as in tokenizer_config.json) rendered
 * exactly as Hugging Face transformers' apply_chat_template renders it:
 *
 *     lk_chat_template *t;
 *     if (lk_chat_template_parse(text, strlen(text), "tokenizer_config.json", &t, &err) != LK_OK) ...
 *     char *prompt;
 *     lk_chat_template_render(t, "{\"messages\": [...], \"add_generation_prompt\": true,"
 *                                " \"bos_token\": \"<s>\"}", NULL, &prompt, NULL, &err);
 *     ...
 *     free(prompt);
 *     lk_chat_template_free(t);
 *
 * The context is a JSON object whose members become template variables
 * (messages, tools, documents, add_generation_prompt, bos_token, eos_token,
 * enable_thinking, ...). Errors (syntax, raise_exception(), undefined
 * values used) name the template, line and column. docs/chat-templates.md
 * lists the supported Jinja subset. */
typedef struct lk_chat_template lk_chat_template;

typedef struct {
    int64_t now;         /* clock for strftime_now(), seconds since the epoch (UTC); 0 = now */
    uint64_t max_steps;  /* render budget in evaluation steps; 0 = 10 million */
    size_t max_output;   /* longest output in bytes; 0 = 16 MiB */
    size_t max_memory;   /* render memory limit in bytes; 0 = 512 MiB */
} lk_chat_template_options;

/* Parses template text (len bytes, UTF-8); name is used in error messages. */
lk_status lk_chat_template_parse(const char *text, size_t len, const char *name, lk_chat_template **out,
                                 lk_error *err);
/* Renders with the variables in context_json (a JSON object). *out is a
 * NUL-terminated string for free(); out_len may be NULL; opt may be NULL. */
lk_status lk_chat_template_render(const lk_chat_template *t, const char *context_json,
                                  const lk_chat_template_options *opt, char **out, size_t *out_len,
                                  lk_error *err);
void lk_chat_template_free(lk_chat_template *t);


/* ---------------------------------------------------------------- running models
 *
 * An lk_model holds weights (pointing into the mmap'd file, no copies when
 * the dtype allows) and is read-only once loaded; an lk_context is one
 * sequence: its KV cache and scratch. Several contexts may share one model
 * (a server keeps one per conversation). Calls on one context, and
 * evaluations (lk_eval, lk_eval_multi) on contexts of the same model, must
 * not run at the same time: they share the model's thread pool.
 *
 *     lk_model *m;   lk_context *c;   lk_error err;
 *     lk_model_load("model.gguf", NULL, &m, &err);
 *     lk_context_new(m, NULL, &c, &err);
 *     float *logits = malloc(lk_model_hparams(m)->n_vocab * sizeof *logits);
 *     lk_eval(c, prompt, n_prompt, LK_LOGITS_LAST, logits, &err);
 *     ... sample a token, lk_eval(c, &token, 1, ...) ...
 *     lk_context_free(c);   lk_model_free(m);
 */

typedef struct lk_model lk_model;
typedef struct lk_context lk_context;

typedef struct {
    int32_t n_threads; /* 0: one per online CPU; 1: the caller's thread only */
    /* Q4_0 / Q5_0 / Q8_0 / Q4_K matrices are copied at load into a
     * row-interleaved layout the AVX-512 VNNI / AVX2 kernels multiply faster
     * (the mapped file pages are let go after each); true keeps them as
     * stored. */
    bool no_repack;
} lk_model_params;

void lk_model_params_default(lk_model_params *p);

/* Opens a model file (see lk_model_file_open) and builds the model over it;
 * the model owns the file. p may be NULL (defaults). */
lk_status lk_model_load(const char *path, const lk_model_params *p, lk_model **out, lk_error *err);
/* Builds a model over an open file, which must outlive the model. */
lk_status lk_model_load_file(const lk_model_file *mf, const lk_model_params *p, lk_model **out,
                             lk_error *err);
/* Builds a model from hyper-parameters and a tensor table (internal names,
 * row-major shapes). The table need not outlive the call; the tensor data
 * must outlive the model. */
lk_status lk_model_from_tensors(const lk_hparams *hp, const lk_tensor_info *tensors, size_t n,
                                const lk_model_params *p, lk_model **out, lk_error *err);
void lk_model_free(lk_model *m);
const lk_hparams *lk_model_hparams(const lk_model *m);
/* Elements and stored bytes of the weights the model uses (a tied output
 * matrix counted once). */
uint64_t lk_model_n_params(const lk_model *m);
uint64_t lk_model_size(const lk_model *m);
/* Threads evaluation runs on; the kernel set in use ("avx512", "avx2", "scalar"). */
int32_t lk_model_n_threads(const lk_model *m);
const char *lk_model_kernels(const lk_model *m);

typedef struct {
    int32_t n_ctx;    /* positions in the KV cache; 0: the model's training context, halved
                         until the cache fits in a quarter of physical memory (compare
                         lk_context_n_ctx with hparams n_ctx_train to tell the user) */
    int32_t n_batch;  /* tokens per forward step of a long prompt; 0: 256 */
    lk_dtype kv_type; /* LK_DTYPE_F16 (the default) or LK_DTYPE_F32 (= 0: start from
                         lk_context_params_default, not a zeroed struct) */
} lk_context_params;

void lk_context_params_default(lk_context_params *p);
/* p may be NULL (defaults). */
lk_status lk_context_new(const lk_model *m, const lk_context_params *p, lk_context **out,
                         lk_error *err);
void lk_context_free(lk_context *c);
int32_t lk_context_n_ctx(const lk_context *c);
/* Tokens in the KV cache so far. */
int32_t lk_context_n_past(const lk_context *c);
/* Forgets all tokens. */
void lk_context_reset(lk_context *c);
/* Forgets all tokens after the first n_keep (0 <= n_keep <= n_past). */
lk_status lk_context_truncate(lk_context *c, int32_t n_keep, lk_error *err);
/* Makes dst hold the first n tokens of src (same model, same KV type), e.g.
 * a shared system prompt evaluated once and copied into each conversation. */
lk_status lk_context_copy(lk_context *dst, const lk_context *src, int32_t n, lk_error *err);

typedef enum {
    LK_LOGITS_LAST = 0, /* logits[n_vocab] for the last token */
    LK_LOGITS_ALL,      /* logits[n][n_vocab], one row per token */
    LK_LOGITS_NONE      /* only fill the KV cache */
} lk_logits_mode;

/* Appends n tokens to the sequence and runs them through the model.
 * LK_ERR_RANGE (before any compute) when they do not fit in the context;
 * LK_ERR_ARG for a token id outside the vocabulary. */
lk_status lk_eval(lk_context *c, const int32_t *tokens, int32_t n, lk_logits_mode mode,
                  float *logits, lk_error *err);

/* One decode step for n sequences at once: tokens[i] is appended to ctxs[i]
 * (distinct contexts of one model) and logits[i][n_vocab] receives its next-
 * token logits. The weights are read once for all the sequences, which is
 * what makes serving many conversations cheap. Nothing is evaluated when
 * any sequence is refused (full context, bad id). */
lk_status lk_eval_multi(lk_context *const *ctxs, const int32_t *tokens, int32_t n, float *logits,
                        lk_error *err);

/* ---------------------------------------------------------------- sampling
 *
 * Order (llama.cpp's): logit bias, penalties, then greedy when
 * temperature <= 0, else top-k, top-p, min-p, temperature, draw. */

typedef struct {
    int32_t token;
    float bias; /* added to the logit; -INFINITY bans the token */
} lk_logit_bias;

typedef struct {
    float temperature;       /* <= 0: greedy (argmax); default 0.8 */
    int32_t top_k;           /* <= 0: off; default 40 */
    float top_p;             /* >= 1: off; default 0.95 */
    float min_p;             /* <= 0: off; default 0.05 */
    float repeat_penalty;    /* 1: off (default); logits of recent tokens: >0 divided, <0 multiplied */
    float presence_penalty;  /* 0: off; subtracted once from each recent token's logit */
    float frequency_penalty; /* 0: off; subtracted per occurrence among recent tokens */
    int32_t penalty_last_n;  /* how many recent tokens the penalties see; default 64 */
    uint64_t seed;           /* same seed, same draws */
    const lk_logit_bias *logit_bias; /* copied by lk_sampler_new */
    int32_t n_logit_bias;
} lk_sampler_params;

typedef struct lk_sampler lk_sampler;

void lk_sampler_params_default(lk_sampler_params *p);
lk_status lk_sampler_new(const lk_sampler_params *p, int32_t n_vocab, lk_sampler **out,
                         lk_error *err);
void lk_sampler_free(lk_sampler *s);
/* Picks a token from logits[n_vocab] (left unchanged). */
int32_t lk_sampler_sample(lk_sampler *s, const float *logits);
/* Records a token of the sequence (prompt or generated) for the penalties. */
void lk_sampler_accept(lk_sampler *s, int32_t token);
/* Forgets recorded tokens and restarts the random stream from the seed. */
void lk_sampler_reset(lk_sampler *s);

#ifdef __cplusplus
}
#endif
#endif
