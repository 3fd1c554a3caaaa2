/* Writes random-weight GGUF files with the exact shapes of real models, for
 * timing llmkit and llama.cpp side by side (bench/compare_llamacpp.sh).
 *
 *   make_models [--dir bench/models] [--model qwen2.5-0.5b,tinyllama-1.1b]
 *               [--type f16,q8_0,q4_0,q4_k_m] [--force] [--list]
 *
 * Shapes:
 *   qwen2.5-0.5b   arch qwen2: hidden 896, 24 layers, 14 heads, 2 KV heads,
 *                  ffn 4864, vocab 151936, tied embeddings, q/k/v bias,
 *                  rope theta 1e6.
 *   tinyllama-1.1b arch llama: hidden 2048, 22 layers, 32 heads, 4 KV heads,
 *                  ffn 5632, vocab 32000, separate output matrix, theta 1e4.
 *
 * Per-tensor types follow llama-quantize's rule (lk_quant_mix_type): norms and
 * biases stay F32, the output (or the tied embedding) gets Q6_K under Q4_0
 * and Q4_K_M, and so on, so the bytes read per token match what a
 * llama.cpp-quantized file of the same model would make llama.cpp read.
 *
 * llama.cpp refuses a file without a tokenizer, so each file carries a
 * synthetic one of the right size: for qwen2 a byte-level BPE ("gpt2", pre
 * "qwen2") whose first 256 tokens are GPT-2's byte alphabet, one merge and
 * <|endoftext|> / <|im_start|> / <|im_end|> as control tokens; for llama a
 * SentencePiece vocabulary ("llama") with <unk> <s> </s>, the 256 <0xXX>
 * byte tokens and scores. The weights are uniform noise: the text is
 * meaningless, only the speed is measured.
 *
 * A file that already exists is kept (they are 0.3-2.2 GB); --force
 * rewrites it. Each file is written to NAME.tmp and renamed. --list prints
 * the sizes the roofline needs without writing anything. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/gguf.h"
#include "llmkit.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/quant_mix.h"

typedef struct {
    const char *name; /* file name stem */
    const char *arch;
    int n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    float rope_theta, rms_eps;
    bool tied, qkv_bias;
    const char *tokenizer; /* "gpt2" or "llama" */
} model_shape;

static const model_shape SHAPES[] = {
    {"qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.0f, 1e-6f, true, true,
     "gpt2"},
    {"tinyllama-1.1b", "llama", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.0f, 1e-5f, false, false,
     "llama"},
};

/* ---------------------------------------------------------------- random numbers */

typedef struct {
    uint64_t s;
} rng;

static uint32_t rng_u32(rng *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 32);
}

/* Uniform in [-a, a). */
static float rng_uniform(rng *r, float a) {
    return ((float)(rng_u32(r) >> 8) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * a;
}

/* ---------------------------------------------------------------- tensors */

#define MAX_TENSORS 512

/* Every tensor's bytes stay alive until the writer has written the file. */
typedef struct {
    void *data[MAX_TENSORS];
    size_t n;
} owned_buffers;

static void owned_free(owned_buffers *o) {
    for (size_t i = 0; i < o->n; i++) free(o->data[i]);
    o->n = 0;
}

/* Adds tensor `name` of GGUF shape ne[0..n_dims) (ne[0] the row length),
 * filled with noise of amplitude `amp` (or all `fill` when amp is 0), stored
 * in the type llama-quantize would give it under ftype. With w == NULL only
 * the byte counts are computed: *weight_bytes (all tensors) and
 * *read_bytes (what one generated token reads: everything but the
 * embedding table, of which one row is read, unless it is the tied output). */
static int add_tensor(lk_gguf_writer *w, owned_buffers *o, rng *r, lk_ftype ftype,
                      const lk_quant_mix_model *mix, const char *name, uint32_t n_dims,
                      const int64_t *ne, float amp, float fill, uint64_t *weight_bytes,
                      uint64_t *read_bytes) {
    lk_dtype type = n_dims == 1 ? LK_DTYPE_F32
                                : lk_quant_mix_type(ftype, mix, name, n_dims, ne, LK_DTYPE_F32);
    if (ftype == LK_FTYPE_F16 && n_dims > 1) type = LK_DTYPE_F16;
    if (type == LK_DTYPE_INVALID) {
        fprintf(stderr, "make_models: no type for %s\n", name);
        return 1;
    }
    int64_t row = ne[0], rows = 1;
    for (uint32_t d = 1; d < n_dims; d++) rows *= ne[d];
    uint64_t row_bytes = 0;
    if (!lk_dtype_row_bytes(type, row, &row_bytes)) {
        fprintf(stderr, "make_models: %s: row of %lld does not fit type %d\n", name,
                (long long)row, (int)type);
        return 1;
    }
    uint64_t nbytes = row_bytes * (uint64_t)rows;
    *weight_bytes += nbytes;
    bool lookup_only = strcmp(name, "token_embd.weight") == 0 && !mix->tied_embeddings;
    *read_bytes += lookup_only ? row_bytes : nbytes;
    if (!w) return 0;
    unsigned char *buf = malloc(nbytes);
    float *x = malloc(sizeof(float) * (size_t)row);
    if (!buf || !x || o->n == MAX_TENSORS) {
        fprintf(stderr, "make_models: out of memory at %s\n", name);
        free(buf);
        free(x);
        return 1;
    }
    o->data[o->n++] = buf;
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < row; j++) x[j] = amp != 0.0f ? rng_uniform(r, amp) : fill;
        if (lk_quantize_row(type, x, buf + (uint64_t)i * row_bytes, row) != LK_OK) {
            fprintf(stderr, "make_models: cannot store %s as type %d\n", name, (int)type);
            free(x);
            return 1;
        }
    }
    free(x);
    lk_error err = {0};
    if (lk_gguf_writer_add_tensor(w, name, type, n_dims, ne, buf, nbytes, &err) != LK_OK) {
        fprintf(stderr, "make_models: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- tokenizer */

/* GPT-2's byte-level alphabet: byte b as the UTF-8 of the code point
 * byte-level BPE uses for it (printable Latin-1 bytes map to themselves,
 * the rest to 256 + k in order). */
static void byte_level_char(int b, char out[4]) {
    int cp;
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) {
        cp = b;
    } else {
        int k = 0;
        for (int c = 0; c < b; c++)
            if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255))) k++;
        cp = 256 + k;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = 0;
    }
}

static int set_tokenizer(lk_gguf_writer *w, const model_shape *m) {
    uint64_t n = (uint64_t)m->n_vocab;
    char **tokens = calloc(n, sizeof *tokens);
    int32_t *types = calloc(n, sizeof *types);
    float *scores = calloc(n, sizeof *scores);
    int rc = 1;
    if (!tokens || !types || !scores) goto done;
    char buf[32];
    uint32_t bos = 0, eos = 0;
    bool spm = strcmp(m->tokenizer, "llama") == 0;
    for (uint64_t i = 0; i < n; i++) {
        types[i] = 1; /* normal */
        scores[i] = -(float)i;
        if (spm) {
            if (i == 0) snprintf(buf, sizeof buf, "<unk>"), types[i] = 2;
            else if (i == 1) snprintf(buf, sizeof buf, "<s>"), types[i] = 3;
            else if (i == 2) snprintf(buf, sizeof buf, "</s>"), types[i] = 3;
            else if (i < 3 + 256) snprintf(buf, sizeof buf, "<0x%02X>", (unsigned)(i - 3)), types[i] = 6;
            else snprintf(buf, sizeof buf, "\xE2\x96\x81tok%llu", (unsigned long long)i);
        } else {
            /* Qwen2.5's layout: ordinary tokens, then <|endoftext|> at 151643
             * and further control tokens up to the padded embedding size. */
            uint64_t eot = n > 300 ? n - 293 : n - 3;
            if (i < 256) byte_level_char((int)i, buf);
            else if (i == eot) snprintf(buf, sizeof buf, "<|endoftext|>"), types[i] = 3;
            else if (i == eot + 1) snprintf(buf, sizeof buf, "<|im_start|>"), types[i] = 3;
            else if (i == eot + 2) snprintf(buf, sizeof buf, "<|im_end|>"), types[i] = 3;
            else if (i > eot) snprintf(buf, sizeof buf, "<|extra_%llu|>", (unsigned long long)i), types[i] = 3;
            else snprintf(buf, sizeof buf, "tok%llu", (unsigned long long)i);
            if (i == eot) bos = eos = (uint32_t)i;
        }
        if (!(tokens[i] = strdup(buf))) goto done;
    }
    if (spm) bos = 1, eos = 2;
    if (lk_gguf_writer_set_str(w, "tokenizer.ggml.model", m->tokenizer) ||
        lk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n) ||
        lk_gguf_writer_set_num_array(w, "tokenizer.ggml.token_type", LK_GGUF_INT32, types, n) ||
        lk_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", bos) ||
        lk_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", eos))
        goto done;
    if (spm) {
        if (lk_gguf_writer_set_num_array(w, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, scores, n) ||
            lk_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0) ||
            lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true))
            goto done;
    } else {
        /* "Ġ t" -> "Ġt": one merge is enough for llama.cpp's loader. */
        const char *merges[] = {"\xC4\xA0 t"};
        if (lk_gguf_writer_set_str(w, "tokenizer.ggml.pre", "qwen2") ||
            lk_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", merges, 1) ||
            lk_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", eos) ||
            lk_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", false))
            goto done;
    }
    rc = 0;
done:
    if (tokens)
        for (uint64_t i = 0; i < n; i++) free(tokens[i]);
    free(tokens);
    free(types);
    free(scores);
    if (rc) fprintf(stderr, "make_models: cannot write the tokenizer metadata\n");
    return rc;
}

/* ---------------------------------------------------------------- a model */

/* Writes the file, or with dry_run only prints its sizes:
 * "PATH WEIGHT_BYTES READ_BYTES_PER_TOKEN". */
static int write_model(const model_shape *m, lk_ftype ftype, const char *path, bool dry_run) {
    lk_gguf_writer *w = dry_run ? NULL : lk_gguf_writer_new(3, 0);
    if (!w && !dry_run) return 1;
    owned_buffers owned = {.n = 0};
    rng r = {.s = 0x9E3779B97F4A7C15ull ^ (uint64_t)ftype};
    int rc = 1;
    char key[128], name[96];
    int head_dim = m->n_embd / m->n_head;
    int kv_dim = head_dim * m->n_head_kv;
    float amp = 0.05f;

#define KEY(suffix) (snprintf(key, sizeof key, "%s." suffix, m->arch), key)
    if (w && (lk_gguf_writer_set_str(w, "general.architecture", m->arch) ||
        lk_gguf_writer_set_str(w, "general.name", m->name) ||
        lk_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype) ||
        lk_gguf_writer_set_u32(w, "general.quantization_version", 2) ||
        lk_gguf_writer_set_u32(w, KEY("context_length"), (uint32_t)m->n_ctx) ||
        lk_gguf_writer_set_u32(w, KEY("embedding_length"), (uint32_t)m->n_embd) ||
        lk_gguf_writer_set_u32(w, KEY("block_count"), (uint32_t)m->n_layer) ||
        lk_gguf_writer_set_u32(w, KEY("feed_forward_length"), (uint32_t)m->n_ff) ||
        lk_gguf_writer_set_u32(w, KEY("attention.head_count"), (uint32_t)m->n_head) ||
        lk_gguf_writer_set_u32(w, KEY("attention.head_count_kv"), (uint32_t)m->n_head_kv) ||
        lk_gguf_writer_set_u32(w, KEY("rope.dimension_count"), (uint32_t)head_dim) ||
        lk_gguf_writer_set_f32(w, KEY("rope.freq_base"), m->rope_theta) ||
        lk_gguf_writer_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), m->rms_eps) ||
        lk_gguf_writer_set_u32(w, KEY("vocab_size"), (uint32_t)m->n_vocab) ||
              set_tokenizer(w, m)))
        goto done;
#undef KEY

    lk_quant_mix_model mix = {.n_layer = m->n_layer,
                              .n_attn_v = m->n_layer,
                              .n_gqa = m->n_head / m->n_head_kv,
                              .n_expert = 0,
                              .tied_embeddings = m->tied};
    uint64_t wb = 0, rb = 0;
    int64_t ne_embd[2] = {m->n_embd, m->n_vocab};
    int64_t ne_norm[1] = {m->n_embd};
    if (add_tensor(w, &owned, &r, ftype, &mix, "token_embd.weight", 2, ne_embd, amp, 0, &wb, &rb) ||
        add_tensor(w, &owned, &r, ftype, &mix, "output_norm.weight", 1, ne_norm, 0, 1, &wb, &rb))
        goto done;
    if (!m->tied &&
        add_tensor(w, &owned, &r, ftype, &mix, "output.weight", 2, ne_embd, amp, 0, &wb, &rb))
        goto done;
    for (int l = 0; l < m->n_layer; l++) {
        struct {
            const char *suffix;
            uint32_t n_dims;
            int64_t ne0, ne1;
            bool is_norm, bias;
        } spec[] = {
            {"attn_norm.weight", 1, m->n_embd, 1, true, false},
            {"attn_q.weight", 2, m->n_embd, m->n_embd, false, false},
            {"attn_q.bias", 1, m->n_embd, 1, false, true},
            {"attn_k.weight", 2, m->n_embd, kv_dim, false, false},
            {"attn_k.bias", 1, kv_dim, 1, false, true},
            {"attn_v.weight", 2, m->n_embd, kv_dim, false, false},
            {"attn_v.bias", 1, kv_dim, 1, false, true},
            {"attn_output.weight", 2, m->n_embd, m->n_embd, false, false},
            {"ffn_norm.weight", 1, m->n_embd, 1, true, false},
            {"ffn_gate.weight", 2, m->n_embd, m->n_ff, false, false},
            {"ffn_up.weight", 2, m->n_embd, m->n_ff, false, false},
            {"ffn_down.weight", 2, m->n_ff, m->n_embd, false, false},
        };
        for (size_t s = 0; s < sizeof spec / sizeof spec[0]; s++) {
            if (spec[s].bias && !m->qkv_bias) continue;
            snprintf(name, sizeof name, "blk.%d.%s", l, spec[s].suffix);
            int64_t ne[2] = {spec[s].ne0, spec[s].ne1};
            if (add_tensor(w, &owned, &r, ftype, &mix, name, spec[s].n_dims, ne,
                           spec[s].is_norm ? 0.0f : amp, 1.0f, &wb, &rb))
                goto done;
        }
    }
    if (dry_run) {
        printf("%s %llu %llu\n", path, (unsigned long long)wb, (unsigned long long)rb);
        rc = 0;
        goto done;
    }
    lk_error err = {0};
    if (lk_gguf_writer_write(w, path, &err) != LK_OK) {
        fprintf(stderr, "make_models: %s\n", err.msg);
        goto done;
    }
    printf("wrote %s (%.1f MB of tensors)\n", path, (double)wb / 1e6);
    rc = 0;
done:
    if (w) lk_gguf_writer_free(w);
    owned_free(&owned);
    return rc;
}

static bool in_list(const char *list, const char *item) {
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, item, n) == 0) return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: make_models [--dir DIR] [--model LIST] [--type LIST] [--force] [--list]\n"
            "  --dir DIR     output directory (default bench/models)\n"
            "  --model LIST  comma-separated: qwen2.5-0.5b,tinyllama-1.1b (default both)\n"
            "  --type LIST   comma-separated: f16,q8_0,q4_0,q4_k_m (default all)\n"
            "  --force       rewrite files that exist\n"
            "  --list        write nothing; print each file's path, its tensor bytes and the\n"
            "                bytes one generated token reads (all weights but the\n"
            "                embedding table, of which one row, unless tied)\n");
}

int main(int argc, char **argv) {
    const char *dir = "bench/models", *models = "qwen2.5-0.5b,tinyllama-1.1b";
    const char *types = "f16,q8_0,q4_0,q4_k_m";
    bool force = false, list = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) models = argv[++i];
        else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) types = argv[++i];
        else if (strcmp(argv[i], "--force") == 0) force = true;
        else if (strcmp(argv[i], "--list") == 0) list = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!list && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_models: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    static const char *const TYPE_NAMES[] = {"f16", "q8_0", "q4_0", "q4_k_m"};
    for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++) {
        if (!in_list(models, SHAPES[s].name)) continue;
        for (size_t t = 0; t < sizeof TYPE_NAMES / sizeof TYPE_NAMES[0]; t++) {
            if (!in_list(types, TYPE_NAMES[t])) continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s-%s.gguf", dir, SHAPES[s].name, TYPE_NAMES[t]);
            if (list) {
                if (write_model(&SHAPES[s], lk_ftype_from_name(TYPE_NAMES[t]), path, true))
                    return 1;
                continue;
            }
            struct stat st;
            if (!force && stat(path, &st) == 0) {
                printf("kept %s\n", path);
                continue;
            }
            if (write_model(&SHAPES[s], lk_ftype_from_name(TYPE_NAMES[t]), path, false)) return 1;
        }
    }
    return 0;
}
