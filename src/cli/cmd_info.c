/* `llmkit info PATH`: what a model file holds: architecture, parameter
 * count, hyper-parameters, tensors by dtype, tokenizer, chat template. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hub/store.h"
#include "tensor/dtype.h"

static const char *format_name(lk_format f) {
    switch (f) {
    case LK_FORMAT_GGUF: return "gguf";
    case LK_FORMAT_HF_DIR: return "hf";
    case LK_FORMAT_LLAMA2C: return "llama2c";
    case LK_FORMAT_SAFETENSORS: return "safetensors";
    }
    return "?";
}

static const char *rope_name(lk_rope_layout r) {
    return r == LK_ROPE_INTERLEAVED ? "interleaved" : r == LK_ROPE_HALF ? "half" : "none";
}

typedef struct {
    lk_dtype dtype;
    uint64_t count, bytes;
} dtype_total;

/* Totals per dtype, in order of first appearance. Returns how many. */
static size_t dtype_totals(const lk_model_file *mf, dtype_total *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < lk_model_file_tensor_count(mf); i++) {
        const lk_tensor_info *t = lk_model_file_tensor(mf, i);
        size_t k = 0;
        while (k < n && out[k].dtype != t->dtype) k++;
        if (k == n) {
            if (n == cap) continue;
            out[n++] = (dtype_total){t->dtype, 0, 0};
        }
        out[k].count++;
        out[k].bytes += t->nbytes;
    }
    return n;
}

static void shape_string(const lk_tensor_info *t, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (int d = 0; d < t->n_dims; d++)
        len += (size_t)snprintf(buf + len, size > len ? size - len : 0, "%s%lld", d ? ", " : "",
                                (long long)t->shape[d]);
}

static void print_text(const lk_model_file *mf, bool tensors) {
    const lk_hparams *hp = lk_model_file_hparams(mf);
    const lk_model_meta *m = lk_model_file_meta(mf);
    printf("file:          %s (%s)\n", lk_model_file_path(mf), format_name(lk_model_file_format(mf)));
    if (m->name[0]) printf("name:          %s\n", m->name);
    printf("architecture:  %s\n", hp->arch[0] ? hp->arch : "(unknown)");
    if (lk_model_file_unsupported(mf))
        printf("runnable:      no (%s)\n", lk_model_file_unsupported(mf));
    printf("parameters:    %llu (%.2f M)\n", (unsigned long long)m->n_params, m->n_params / 1e6);
    if (hp->arch[0]) {
        printf("context:       %d\n", hp->n_ctx_train);
        printf("dim:           %d\n", hp->n_embd);
        printf("layers:        %d\n", hp->n_layer);
        printf("heads:         %d\n", hp->n_head);
        printf("kv heads:      %d\n", hp->n_head_kv);
        printf("head dim:      %d\n", hp->head_dim);
        printf("ffn dim:       %d\n", hp->n_ff);
        printf("vocab:         %d\n", hp->n_vocab);
        if (!lk_model_file_unsupported(mf))
            printf("norm:          %s, eps %g\n", hp->norm == LK_NORM_RMS ? "rms" : "layer", hp->norm_eps);
        if (hp->rope_layout != LK_ROPE_NONE && !lk_model_file_unsupported(mf))
            printf("rope:          %s, theta %g\n", rope_name(hp->rope_layout), hp->rope_theta);
        printf("tied output:   %s\n", hp->tied_embeddings ? "yes" : "no");
    }
    dtype_total totals[32];
    size_t nt = dtype_totals(mf, totals, 32);
    printf("tensors:       %zu\n", lk_model_file_tensor_count(mf));
    for (size_t i = 0; i < nt; i++) {
        const char *name = lk_dtype_name(totals[i].dtype);
        printf("  %-8s %5llu tensors, %llu bytes\n", name ? name : "?",
               (unsigned long long)totals[i].count, (unsigned long long)totals[i].bytes);
    }
    if (m->tokenizer_model[0]) {
        printf("tokenizer:     %s%s%s, %d tokens\n", m->tokenizer_model, m->tokenizer_pre[0] ? " / " : "",
               m->tokenizer_pre, m->tokenizer_vocab);
    } else {
        printf("tokenizer:     none bundled%s\n",
               lk_model_file_format(mf) == LK_FORMAT_LLAMA2C ? " (llama2.c: pass its tok*.bin)" : "");
    }
    printf("bos:           %d%s%s%s\n", hp->bos_id, m->bos_text[0] ? " '" : "", m->bos_text,
           m->bos_text[0] ? "'" : "");
    printf("eos:          ");
    for (int i = 0; i < hp->n_eos; i++) printf(" %d", hp->eos_ids[i]);
    if (hp->n_eos == 0) printf(" (none)");
    if (m->eos_text[0]) printf(" '%s'", m->eos_text);
    printf("\n");
    printf("chat template: %s\n", m->chat_template ? "yes" : "no");
    if (tensors) {
        printf("\n%-40s %-8s %-24s %s\n", "tensor", "dtype", "shape", "bytes");
        for (size_t i = 0; i < lk_model_file_tensor_count(mf); i++) {
            const lk_tensor_info *t = lk_model_file_tensor(mf, i);
            char shape[96];
            shape_string(t, shape, sizeof shape);
            const char *dn = lk_dtype_name(t->dtype);
            printf("%-40s %-8s [%s]%*s %llu\n", t->name, dn ? dn : "?", shape,
                   (int)(22 - strlen(shape) > 0 ? 22 - strlen(shape) : 0), "",
                   (unsigned long long)t->nbytes);
        }
    }
}

static int print_json(const lk_model_file *mf, bool tensors) {
    const lk_hparams *hp = lk_model_file_hparams(mf);
    const lk_model_meta *m = lk_model_file_meta(mf);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", lk_model_file_path(mf));
    cJSON_AddStringToObject(o, "format", format_name(lk_model_file_format(mf)));
    cJSON_AddStringToObject(o, "name", m->name);
    cJSON_AddStringToObject(o, "architecture", hp->arch);
    cJSON_AddBoolToObject(o, "runnable", lk_model_file_unsupported(mf) == NULL);
    cJSON_AddNumberToObject(o, "n_params", (double)m->n_params);
    cJSON *h = cJSON_AddObjectToObject(o, "hparams");
    cJSON_AddNumberToObject(h, "context_length", hp->n_ctx_train);
    cJSON_AddNumberToObject(h, "dim", hp->n_embd);
    cJSON_AddNumberToObject(h, "n_layers", hp->n_layer);
    cJSON_AddNumberToObject(h, "n_heads", hp->n_head);
    cJSON_AddNumberToObject(h, "n_kv_heads", hp->n_head_kv);
    cJSON_AddNumberToObject(h, "head_dim", hp->head_dim);
    cJSON_AddNumberToObject(h, "ffn_dim", hp->n_ff);
    cJSON_AddNumberToObject(h, "vocab_size", hp->n_vocab);
    cJSON_AddStringToObject(h, "norm", hp->norm == LK_NORM_RMS ? "rms" : "layer");
    cJSON_AddNumberToObject(h, "norm_eps", hp->norm_eps);
    cJSON_AddStringToObject(h, "rope", rope_name(hp->rope_layout));
    cJSON_AddNumberToObject(h, "rope_theta", hp->rope_theta);
    cJSON_AddBoolToObject(h, "tied_embeddings", hp->tied_embeddings);
    cJSON *dt = cJSON_AddObjectToObject(o, "dtypes");
    dtype_total totals[32];
    size_t nt = dtype_totals(mf, totals, 32);
    for (size_t i = 0; i < nt; i++) {
        const char *name = lk_dtype_name(totals[i].dtype);
        cJSON *e = cJSON_AddObjectToObject(dt, name ? name : "?");
        cJSON_AddNumberToObject(e, "tensors", (double)totals[i].count);
        cJSON_AddNumberToObject(e, "bytes", (double)totals[i].bytes);
    }
    cJSON_AddNumberToObject(o, "n_tensors", (double)lk_model_file_tensor_count(mf));
    cJSON *tok = cJSON_AddObjectToObject(o, "tokenizer");
    cJSON_AddStringToObject(tok, "model", m->tokenizer_model);
    cJSON_AddStringToObject(tok, "pre", m->tokenizer_pre);
    cJSON_AddNumberToObject(tok, "vocab_size", m->tokenizer_vocab);
    cJSON_AddNumberToObject(tok, "bos_id", hp->bos_id);
    cJSON_AddStringToObject(tok, "bos", m->bos_text);
    cJSON *eos = cJSON_AddArrayToObject(tok, "eos_ids");
    for (int i = 0; i < hp->n_eos; i++) cJSON_AddItemToArray(eos, cJSON_CreateNumber(hp->eos_ids[i]));
    cJSON_AddStringToObject(tok, "eos", m->eos_text);
    cJSON_AddBoolToObject(o, "chat_template", m->chat_template != NULL);
    if (tensors) {
        cJSON *arr = cJSON_AddArrayToObject(o, "tensors");
        for (size_t i = 0; i < lk_model_file_tensor_count(mf); i++) {
            const lk_tensor_info *t = lk_model_file_tensor(mf, i);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", t->name);
            const char *dn = lk_dtype_name(t->dtype);
            cJSON_AddStringToObject(e, "dtype", dn ? dn : "?");
            cJSON *sh = cJSON_AddArrayToObject(e, "shape");
            for (int d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->shape[d]));
            cJSON_AddNumberToObject(e, "bytes", (double)t->nbytes);
            cJSON_AddItemToArray(arr, e);
        }
    }
    char *s = cJSON_Print(o);
    int rc = s ? 0 : 1;
    if (s) puts(s);
    free(s);
    cJSON_Delete(o);
    return rc;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit info MODEL [--json] [--tensors]\n"
            "\n"
            "Shows what a model file holds: architecture, parameter count, hyper-parameters,\n"
            "tensor counts and bytes per dtype, tokenizer, special tokens, chat template.\n"
            "PATH is a .gguf file (any shard of a split model), a Hugging Face model folder\n"
            "(config.json + *.safetensors), a .safetensors file or a llama2.c .bin checkpoint;\n"
            "MODEL is such a PATH, or a REPO_ID[@REVISION] pulled with `llmkit pull`.\n"
            "\n"
            "  --json     machine-readable output\n"
            "  --tensors  list every tensor (name, dtype, shape, bytes)\n");
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    bool json = false, tensors = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (strcmp(argv[i], "--tensors") == 0) tensors = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("info: unknown option %s", argv[i]);
            usage(stderr);
            return 2;
        } else if (!path) path = argv[i];
        else {
            cli_error("info: one PATH only (got '%s' and '%s')", path, argv[i]);
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    lk_error err;
    lk_model_file *mf;
    char resolved[LK_STORE_PATH_MAX]; /* a path, or a repo id pulled into the store */
    if (lk_store_resolve(path, resolved, sizeof resolved, &err) != LK_OK ||
        lk_model_file_inspect(resolved, &mf, &err) != LK_OK)
        return cli_fail(&err);
    int rc = 0;
    if (json) rc = print_json(mf, tensors);
    else print_text(mf, tensors);
    lk_model_file_close(mf);
    return rc;
}
