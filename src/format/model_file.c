/* One model-file abstraction over GGUF files, HF model directories
 * (config.json + safetensors), lone safetensors files and llama2.c
 * checkpoints. Whatever the source, callers see one tensor table with
 * internal (GGUF-style) names and row-major shapes, and one lk_hparams.
 *
 * Tensor data stays in the source's mmap. The one exception is a tensor
 * stored in another layout than the internal one (gpt2's Conv1D weights are
 * [in, out]): those are transposed once into buffers this object owns. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/mmap.h"
#include "format/gguf.h"
#include "format/model_file_pages.h"
#include "format/gguf_hparams.h"
#include "format/hf_config.h"
#include "format/llama2c.h"
#include "format/safetensors.h"
#include "format/tensor_names.h"
#include "tensor/dtype.h"

struct lk_model_file {
    lk_format format;
    char *path;
    lk_hparams hp;
    lk_model_meta meta;
    lk_tensor_info *tensors; /* n_tensors, names in `strings` */
    size_t n_tensors;
    lk_arena strings;        /* tensor names, meta strings */
    void **owned;            /* transposed copies */
    size_t n_owned;
    bool inspect_only;       /* opened by lk_model_file_inspect */
    char unsupported[512];   /* why llmkit cannot run it ("" when it can) */
    lk_gguf *gguf;
    lk_safetensors *st;
    lk_llama2c *l2c;
};

static const char *keep(lk_model_file *mf, const char *s, size_t n) {
    const char *r = lk_arena_strndup(&mf->strings, s, n);
    return r ? r : "";
}

static uint64_t count_params(const lk_model_file *mf) {
    uint64_t n = 0;
    for (size_t i = 0; i < mf->n_tensors; i++) {
        uint64_t e = 1;
        for (int d = 0; d < mf->tensors[i].n_dims; d++) e *= (uint64_t)mf->tensors[i].shape[d];
        n += e;
    }
    return n;
}

/* ---------------------------------------------------------------- GGUF */

static const char *gguf_token_text(lk_model_file *mf, const lk_gguf *g, int32_t id) {
    const lk_gguf_value *items;
    uint64_t n;
    if (id < 0 || !lk_gguf_get_str_array(g, "tokenizer.ggml.tokens", &items, &n) ||
        (uint64_t)id >= n)
        return "";
    return keep(mf, items[id].str.ptr, (size_t)items[id].str.len);
}

/* Best effort, for architectures llmkit does not run: "<arch>.*" size keys. */
static void read_generic_gguf_hparams(const lk_gguf *g, lk_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    hp->bos_id = hp->pad_id = -1;
    lk_gguf_str arch;
    if (!lk_gguf_get_str(g, "general.architecture", &arch)) return;
    snprintf(hp->arch, sizeof hp->arch, "%.*s", (int)(arch.len < 31 ? arch.len : 31), arch.ptr);
    struct { const char *suffix; int32_t *dst; } keys[] = {
        {"context_length", &hp->n_ctx_train}, {"embedding_length", &hp->n_embd},
        {"block_count", &hp->n_layer},        {"attention.head_count", &hp->n_head},
        {"attention.head_count_kv", &hp->n_head_kv}, {"feed_forward_length", &hp->n_ff},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char key[128];
        uint32_t v;
        snprintf(key, sizeof key, "%s.%s", hp->arch, keys[i].suffix);
        if (lk_gguf_get_u32(g, key, &v) && v <= INT32_MAX) *keys[i].dst = (int32_t)v;
    }
    const lk_gguf_value *items;
    uint64_t n;
    if (lk_gguf_get_str_array(g, "tokenizer.ggml.tokens", &items, &n) && n <= INT32_MAX)
        hp->n_vocab = (int32_t)n;
    uint32_t id;
    if (lk_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &id) && id < (uint32_t)hp->n_vocab) hp->bos_id = (int32_t)id;
    if (lk_gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &id) && id < (uint32_t)hp->n_vocab) {
        hp->eos_ids[0] = (int32_t)id;
        hp->n_eos = 1;
    }
    if (hp->n_head > 0 && hp->n_embd % hp->n_head == 0) hp->head_dim = hp->n_embd / hp->n_head;
}

static lk_status open_gguf(lk_model_file *mf, lk_error *err) {
    lk_status st = lk_gguf_open(mf->path, &mf->gguf, err);
    if (st != LK_OK) return st;
    const lk_gguf *g = mf->gguf;
    mf->n_tensors = lk_gguf_tensor_count(g);
    mf->tensors = calloc(mf->n_tensors ? mf->n_tensors : 1, sizeof *mf->tensors);
    if (!mf->tensors) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", mf->path);
    for (size_t i = 0; i < mf->n_tensors; i++) {
        const lk_gguf_tensor *t = lk_gguf_tensor_at(g, i);
        lk_tensor_info *o = &mf->tensors[i];
        o->name = t->name;
        o->dtype = t->type;
        o->n_dims = (int32_t)t->n_dims;
        for (uint32_t d = 0; d < t->n_dims; d++) o->shape[d] = t->ne[t->n_dims - 1 - d];
        o->data = t->data;
        o->nbytes = t->nbytes;
    }
    st = lk_gguf_hparams(g, mf->path, &mf->hp, err);
    if (st == LK_ERR_UNSUPPORTED && mf->inspect_only) {
        /* Still show what the file holds: the architecture name and the
         * size keys every llama.cpp architecture writes. */
        snprintf(mf->unsupported, sizeof mf->unsupported, "%s", err ? err->msg : "unsupported");
        read_generic_gguf_hparams(g, &mf->hp);
    } else if (st != LK_OK) {
        return st;
    }

    lk_gguf_str s;
    if (lk_gguf_get_str(g, "general.name", &s)) mf->meta.name = keep(mf, s.ptr, (size_t)s.len);
    if (lk_gguf_get_str(g, "tokenizer.ggml.model", &s))
        mf->meta.tokenizer_model = keep(mf, s.ptr, (size_t)s.len);
    if (lk_gguf_get_str(g, "tokenizer.ggml.pre", &s))
        mf->meta.tokenizer_pre = keep(mf, s.ptr, (size_t)s.len);
    if (lk_gguf_get_str(g, "tokenizer.chat_template", &s))
        mf->meta.chat_template = keep(mf, s.ptr, (size_t)s.len);
    const lk_gguf_value *items;
    uint64_t n;
    if (lk_gguf_get_str_array(g, "tokenizer.ggml.tokens", &items, &n))
        mf->meta.tokenizer_vocab = (int32_t)(n > INT32_MAX ? INT32_MAX : n);
    mf->meta.bos_text = gguf_token_text(mf, g, mf->hp.bos_id);
    if (mf->hp.n_eos > 0) mf->meta.eos_text = gguf_token_text(mf, g, mf->hp.eos_ids[0]);
    return LK_OK;
}

/* ---------------------------------------------------------------- llama2.c */

static lk_status open_llama2c(lk_model_file *mf, lk_error *err) {
    lk_status st = lk_llama2c_open(mf->path, &mf->l2c, err);
    if (st != LK_OK) return st;
    mf->hp = *lk_llama2c_hparams(mf->l2c);
    mf->n_tensors = lk_llama2c_tensor_count(mf->l2c);
    mf->tensors = calloc(mf->n_tensors ? mf->n_tensors : 1, sizeof *mf->tensors);
    if (!mf->tensors) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", mf->path);
    for (size_t i = 0; i < mf->n_tensors; i++) mf->tensors[i] = *lk_llama2c_tensor_at(mf->l2c, i);
    return LK_OK;
}

/* ---------------------------------------------------------------- HF directory */

/* Reads the bits of tokenizer.json / tokenizer_config.json that `info`
 * shows. A missing or unreadable file just leaves the fields empty: the
 * tokenizer loader reports its own errors when a tokenizer is needed. */
static void read_hf_tokenizer_meta(lk_model_file *mf) {
    char path[4096];
    char *text;
    size_t len;
    snprintf(path, sizeof path, "%s/tokenizer.json", mf->path);
    if (lk_read_file(path, (size_t)1 << 30, &text, &len, NULL) == LK_OK) {
        cJSON *root = cJSON_ParseWithLength(text, len);
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
        const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
        const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
        if (cJSON_IsString(type)) mf->meta.tokenizer_model = keep(mf, type->valuestring, strlen(type->valuestring));
        else if (model) mf->meta.tokenizer_model = "BPE";
        int n = cJSON_GetArraySize(vocab);
        /* Added tokens may extend the vocabulary beyond model.vocab. */
        const cJSON *a;
        cJSON_ArrayForEach(a, added) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
            if (cJSON_IsNumber(id) && id->valueint + 1 > n) n = id->valueint + 1;
        }
        mf->meta.tokenizer_vocab = n;
        cJSON_Delete(root);
        free(text);
    }
    snprintf(path, sizeof path, "%s/tokenizer_config.json", mf->path);
    if (lk_read_file(path, (size_t)64 << 20, &text, &len, NULL) == LK_OK) {
        cJSON *root = cJSON_ParseWithLength(text, len);
        const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(root, "chat_template");
        if (cJSON_IsString(tpl)) {
            mf->meta.chat_template = keep(mf, tpl->valuestring, strlen(tpl->valuestring));
        } else if (cJSON_IsArray(tpl)) { /* [{name, template}]: "default" first */
            const cJSON *e;
            cJSON_ArrayForEach(e, tpl) {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "template");
                const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
                if (cJSON_IsString(t) && (!mf->meta.chat_template ||
                                          (cJSON_IsString(nm) && strcmp(nm->valuestring, "default") == 0)))
                    mf->meta.chat_template = keep(mf, t->valuestring, strlen(t->valuestring));
            }
        }
        const char *keys[2] = {"bos_token", "eos_token"};
        const char **dst[2] = {&mf->meta.bos_text, &mf->meta.eos_text};
        for (int k = 0; k < 2; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[k]);
            if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
            if (cJSON_IsString(v)) *dst[k] = keep(mf, v->valuestring, strlen(v->valuestring));
        }
        cJSON_Delete(root);
        free(text);
    }
    if (!mf->meta.chat_template) {
        snprintf(path, sizeof path, "%s/chat_template.jinja", mf->path);
        if (lk_read_file(path, (size_t)16 << 20, &text, &len, NULL) == LK_OK) {
            mf->meta.chat_template = keep(mf, text, len);
            free(text);
        }
    }
}

static lk_status transpose_2d(lk_model_file *mf, lk_tensor_info *t, lk_error *err) {
    const lk_dtype_traits *tr = lk_dtype_traits_of(t->dtype);
    if (t->n_dims != 2 || !tr || tr->block_size != 1)
        return lk_error_set(err, LK_ERR_UNSUPPORTED, "%s: tensor %s: cannot transpose a %s tensor",
                            mf->path, t->name, lk_dtype_name(t->dtype) ? lk_dtype_name(t->dtype) : "?");
    size_t rows = (size_t)t->shape[0], cols = (size_t)t->shape[1], es = (size_t)tr->type_size;
    void **grown = realloc(mf->owned, (mf->n_owned + 1) * sizeof *grown);
    if (!grown) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", mf->path);
    mf->owned = grown;
    unsigned char *dst = malloc((rows * cols * es) > 0 ? rows * cols * es : 1);
    if (!dst) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", mf->path);
    mf->owned[mf->n_owned++] = dst;
    const unsigned char *src = t->data;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) memcpy(dst + (c * rows + r) * es, src + (r * cols + c) * es, es);
    t->data = dst;
    t->shape[0] = (int64_t)cols;
    t->shape[1] = (int64_t)rows;
    return LK_OK;
}

static lk_status open_hf_dir(lk_model_file *mf, lk_error *err) {
    lk_status st = lk_hf_config_load(mf->path, &mf->hp, err);
    if (st != LK_OK) return st;
    st = lk_safetensors_open_dir(mf->path, &mf->st, err);
    if (st == LK_ERR_NOT_FOUND)
        return lk_error_set(err, st, "%s: no model.safetensors, model.safetensors.index.json or "
                            "*.safetensors file in this folder (llmkit reads safetensors weights, "
                            "not PyTorch .bin)", mf->path);
    if (st != LK_OK) return st;
    size_t n = lk_safetensors_tensor_count(mf->st);
    mf->tensors = calloc(n ? n : 1, sizeof *mf->tensors);
    if (!mf->tensors) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", mf->path);
    for (size_t i = 0; i < n; i++) {
        const lk_tensor_info *src = &lk_safetensors_tensor_at(mf->st, i)->info;
        lk_tensor_name tn;
        st = lk_tensor_name_from_hf(mf->hp.arch, src->name, &tn, err);
        if (st != LK_OK) return lk_error_wrap(err, "%s", mf->path);
        if (tn.kind == LK_TNAME_IGNORED) continue;
        if (tn.kind == LK_TNAME_UNKNOWN)
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: tensor '%s' is not part of a %s model (is config.json's "
                                "model_type right?)", mf->path, src->name, mf->hp.arch);
        lk_tensor_info *o = &mf->tensors[mf->n_tensors++];
        *o = *src;
        o->name = keep(mf, tn.name, strlen(tn.name));
        if (tn.transform & LK_TNAME_TRANSPOSE) {
            st = transpose_2d(mf, o, err);
            if (st != LK_OK) return st;
        }
    }
    mf->hp.tied_embeddings = mf->hp.tied_embeddings || !lk_model_file_find_tensor(mf, "output.weight");
    const char *slash = strrchr(mf->path, '/');
    const char *base = slash && slash[1] ? slash + 1 : mf->path;
    mf->meta.name = keep(mf, base, strlen(base));
    read_hf_tokenizer_meta(mf);
    return LK_OK;
}

/* ---------------------------------------------------------------- lone safetensors */

static lk_status open_safetensors_file(lk_model_file *mf, lk_error *err) {
    lk_status st = lk_safetensors_open(mf->path, &mf->st, err);
    if (st != LK_OK) return st;
    size_t n = lk_safetensors_tensor_count(mf->st);
    mf->tensors = calloc(n ? n : 1, sizeof *mf->tensors);
    if (!mf->tensors) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", mf->path);
    for (size_t i = 0; i < n; i++) mf->tensors[i] = lk_safetensors_tensor_at(mf->st, i)->info;
    mf->n_tensors = n;
    snprintf(mf->hp.arch, sizeof mf->hp.arch, "%s", "");
    return LK_OK;
}

/* ---------------------------------------------------------------- dispatch */

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Decides the format from what the path is and, for files, its first bytes. */
static lk_status detect_format(const char *path, lk_format *out, lk_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return lk_error_set(err, LK_ERR_NOT_FOUND,
                            "%s: no such file or folder (expected a .gguf file, a Hugging Face "
                            "model folder or a llama2.c .bin)", path);
    if (S_ISDIR(sb.st_mode)) {
        char cfg[4096];
        snprintf(cfg, sizeof cfg, "%s/config.json", path);
        if (access(cfg, R_OK) != 0)
            return lk_error_set(err, LK_ERR_NOT_FOUND,
                                "%s: folder has no config.json (expected a Hugging Face model "
                                "folder: config.json + *.safetensors + tokenizer.json)", path);
        *out = LK_FORMAT_HF_DIR;
        return LK_OK;
    }
    FILE *f = fopen(path, "rb");
    if (!f) return lk_error_set(err, LK_ERR_IO, "%s: cannot open", path);
    unsigned char head[4] = {0};
    size_t got = fread(head, 1, 4, f);
    fclose(f);
    if (got == 4 && memcmp(head, "GGUF", 4) == 0) *out = LK_FORMAT_GGUF;
    else if (has_suffix(path, ".safetensors")) *out = LK_FORMAT_SAFETENSORS;
    else if (has_suffix(path, ".gguf"))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: not a GGUF file (bad magic)", path);
    else if (has_suffix(path, ".bin")) *out = LK_FORMAT_LLAMA2C;
    else
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: unknown model format (llmkit reads .gguf files, Hugging Face "
                            "model folders, .safetensors files and llama2.c .bin checkpoints)", path);
    return LK_OK;
}

static lk_status open_model_file(const char *path, bool inspect_only, lk_model_file **out,
                                 lk_error *err) {
    *out = NULL;
    lk_format fmt;
    lk_status st = detect_format(path, &fmt, err);
    if (st != LK_OK) return st;
    lk_model_file *mf = calloc(1, sizeof *mf);
    if (!mf) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    lk_arena_init(&mf->strings, 4096);
    mf->format = fmt;
    mf->inspect_only = inspect_only;
    mf->path = strdup(path);
    /* Drop trailing slashes so messages and folder names read well. */
    for (size_t n = mf->path ? strlen(mf->path) : 0; n > 1 && mf->path[n - 1] == '/'; n--)
        mf->path[n - 1] = '\0';
    mf->meta.name = mf->meta.tokenizer_model = mf->meta.tokenizer_pre = "";
    mf->meta.bos_text = mf->meta.eos_text = "";
    if (!mf->path) st = lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    else if (fmt == LK_FORMAT_GGUF) st = open_gguf(mf, err);
    else if (fmt == LK_FORMAT_LLAMA2C) st = open_llama2c(mf, err);
    else if (fmt == LK_FORMAT_HF_DIR) st = open_hf_dir(mf, err);
    else st = open_safetensors_file(mf, err);
    if (st != LK_OK) {
        lk_model_file_close(mf);
        return st;
    }
    mf->meta.n_params = count_params(mf);
    *out = mf;
    return LK_OK;
}

lk_status lk_model_file_open(const char *path, lk_model_file **out, lk_error *err) {
    return open_model_file(path, false, out, err);
}

lk_status lk_model_file_inspect(const char *path, lk_model_file **out, lk_error *err) {
    return open_model_file(path, true, out, err);
}

const char *lk_model_file_unsupported(const lk_model_file *mf) {
    return mf->unsupported[0] ? mf->unsupported : NULL;
}

void lk_model_file_close(lk_model_file *mf) {
    if (!mf) return;
    if (mf->gguf) lk_gguf_close(mf->gguf);
    if (mf->st) lk_safetensors_close(mf->st);
    if (mf->l2c) lk_llama2c_close(mf->l2c);
    for (size_t i = 0; i < mf->n_owned; i++) free(mf->owned[i]);
    free(mf->owned);
    free(mf->tensors);
    lk_arena_free(&mf->strings);
    free(mf->path);
    free(mf);
}

lk_format lk_model_file_format(const lk_model_file *mf) { return mf->format; }
const char *lk_model_file_path(const lk_model_file *mf) { return mf->path; }
const lk_hparams *lk_model_file_hparams(const lk_model_file *mf) { return &mf->hp; }
const lk_model_meta *lk_model_file_meta(const lk_model_file *mf) { return &mf->meta; }
size_t lk_model_file_tensor_count(const lk_model_file *mf) { return mf->n_tensors; }

const lk_tensor_info *lk_model_file_tensor(const lk_model_file *mf, size_t i) {
    return i < mf->n_tensors ? &mf->tensors[i] : NULL;
}

const lk_tensor_info *lk_model_file_find_tensor(const lk_model_file *mf, const char *name) {
    for (size_t i = 0; i < mf->n_tensors; i++)
        if (strcmp(mf->tensors[i].name, name) == 0) return &mf->tensors[i];
    return NULL;
}

void lk_model_file_release_pages(const lk_model_file *mf, const void *p, size_t n) {
    /* Only GGUF files hold the quantized matrices that get packed. */
    if (mf && mf->gguf) lk_gguf_release_pages(mf->gguf, p, n);
}
