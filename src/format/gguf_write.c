/* GGUF writer: collects keys and tensors, then writes them in one pass.
 *
 * The output is deterministic: keys in the order first set, tensors in the
 * order added, each tensor's data at the next multiple of the alignment,
 * every gap (after the tensor infos and after each tensor, the last one
 * included, as ggml and gguf-py write it) filled with zeros; a file without
 * tensors ends right after its metadata, as gguf-py's vocab-only files do. The file is written to
 * "<path>.tmp" and renamed over path only when every byte reached the disk,
 * so a failed write never leaves a half file under either name.
 *
 * Values are deep-copied when set; tensor data is only referenced. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/utf8.h"
#include "format/gguf.h"
#include "tensor/dtype.h"

/* The reader refuses deeper nesting; refuse to write what it cannot read. */
#define GGUF_MAX_ARRAY_NESTING 16
#define ALIGNMENT_KEY "general.alignment"

typedef struct {
    char *key;
    lk_gguf_value value; /* owns its strings, arrays and items */
} writer_kv;

typedef struct {
    char *name;
    lk_dtype type;
    uint32_t n_dims;
    int64_t ne[LK_GGUF_MAX_DIMS]; /* GGUF order; unused dims are 1 */
    const void *data; /* the caller's */
    uint64_t nbytes;
} writer_tensor;

struct lk_gguf_writer {
    uint32_t version;
    uint32_t alignment;
    writer_kv *kvs;
    size_t n_kv, cap_kv;
    writer_tensor *tensors;
    size_t n_tensors, cap_tensors;
};

lk_gguf_writer *lk_gguf_writer_new(uint32_t version, uint32_t alignment) {
    if (version != 2 && version != 3) return NULL;
    if (alignment == 0) alignment = LK_GGUF_DEFAULT_ALIGNMENT;
    if ((alignment & (alignment - 1)) != 0) return NULL;
    lk_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->version = version;
    w->alignment = alignment;
    return w;
}

/* ---------------------------------------------------------------- values */

static size_t fixed_size(lk_gguf_type t) {
    switch (t) {
    case LK_GGUF_UINT8: case LK_GGUF_INT8: case LK_GGUF_BOOL: return 1;
    case LK_GGUF_UINT16: case LK_GGUF_INT16: return 2;
    case LK_GGUF_UINT32: case LK_GGUF_INT32: case LK_GGUF_FLOAT32: return 4;
    case LK_GGUF_UINT64: case LK_GGUF_INT64: case LK_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static void free_value(lk_gguf_value *v) {
    if (v->type == LK_GGUF_STRING) {
        free((void *)v->str.ptr);
    } else if (v->type == LK_GGUF_ARRAY) {
        free((void *)v->arr.data);
        if (v->arr.items) {
            lk_gguf_value *items = (lk_gguf_value *)v->arr.items;
            for (uint64_t i = 0; i < v->arr.n; i++) free_value(&items[i]);
            free(items);
        }
    }
    memset(v, 0, sizeof *v);
}

/* Deep copy with validation. On failure dst holds what was copied so far and
 * can be passed to free_value. */
static lk_status copy_value(lk_gguf_value *dst, const lk_gguf_value *src, unsigned depth) {
    memset(dst, 0, sizeof *dst);
    if ((unsigned)src->type > LK_GGUF_FLOAT64) return LK_ERR_ARG;
    if (src->type == LK_GGUF_STRING) {
        if (!src->str.ptr && src->str.len) return LK_ERR_ARG;
        if (src->str.len >= SIZE_MAX) return LK_ERR_ARG;
        char *s = malloc((size_t)src->str.len + 1);
        if (!s) return LK_ERR_NOMEM;
        if (src->str.len) memcpy(s, src->str.ptr, (size_t)src->str.len);
        s[src->str.len] = '\0';
        dst->type = LK_GGUF_STRING;
        dst->str.ptr = s;
        dst->str.len = src->str.len;
        return LK_OK;
    }
    if (src->type != LK_GGUF_ARRAY) {
        *dst = *src;
        return LK_OK;
    }
    lk_gguf_type elem = src->arr.elem_type;
    uint64_t n = src->arr.n;
    if ((unsigned)elem > LK_GGUF_FLOAT64) return LK_ERR_ARG;
    if (elem == LK_GGUF_ARRAY && depth + 1 >= GGUF_MAX_ARRAY_NESTING) return LK_ERR_ARG;
    dst->type = LK_GGUF_ARRAY;
    dst->arr.elem_type = elem;
    size_t es = fixed_size(elem);
    if (es) {
        if (n && !src->arr.data) return LK_ERR_ARG;
        if (n > SIZE_MAX / es - 1) return LK_ERR_ARG;
        size_t nbytes = (size_t)n * es;
        if (elem == LK_GGUF_BOOL)
            for (size_t i = 0; i < nbytes; i++)
                if (((const uint8_t *)src->arr.data)[i] > 1) return LK_ERR_ARG;
        void *data = malloc(nbytes ? nbytes : 1);
        if (!data) return LK_ERR_NOMEM;
        if (nbytes) memcpy(data, src->arr.data, nbytes);
        dst->arr.data = data;
        dst->arr.n = n;
        return LK_OK;
    }
    if (n == 0) return LK_OK;
    if (!src->arr.items || n > SIZE_MAX / sizeof(lk_gguf_value)) return LK_ERR_ARG;
    lk_gguf_value *items = calloc((size_t)n, sizeof *items);
    if (!items) return LK_ERR_NOMEM;
    dst->arr.items = items;
    dst->arr.n = n; /* calloc'd items are empty uint8 values: safe to free */
    for (uint64_t i = 0; i < n; i++) {
        if (src->arr.items[i].type != elem) return LK_ERR_ARG;
        lk_status st = copy_value(&items[i], &src->arr.items[i], depth + 1);
        if (st != LK_OK) return st;
    }
    return LK_OK;
}

static bool valid_utf8(const char *s) {
    size_t n = strlen(s);
    return lk_utf8_validate(s, n) == n;
}

/* Stores a copy of v under key, replacing an earlier value in place. */
lk_status lk_gguf_writer_set_value(lk_gguf_writer *w, const char *key, const lk_gguf_value *v) {
    if (!w || !key || !v || !valid_utf8(key)) return LK_ERR_ARG;
    if (strcmp(key, ALIGNMENT_KEY) == 0) {
        /* The reader insists on a uint32 power of two; so does the writer. */
        if (v->type != LK_GGUF_UINT32 || v->u64 == 0 || v->u64 > UINT32_MAX ||
            (v->u64 & (v->u64 - 1)) != 0)
            return LK_ERR_ARG;
    }
    lk_gguf_value copy;
    lk_status st = copy_value(&copy, v, 0);
    if (st != LK_OK) {
        free_value(&copy);
        return st;
    }
    if (strcmp(key, ALIGNMENT_KEY) == 0) w->alignment = (uint32_t)v->u64;
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, key) == 0) {
            free_value(&w->kvs[i].value);
            w->kvs[i].value = copy;
            return LK_OK;
        }
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        writer_kv *kvs = realloc(w->kvs, cap * sizeof *kvs);
        if (!kvs) {
            free_value(&copy);
            return LK_ERR_NOMEM;
        }
        w->kvs = kvs;
        w->cap_kv = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free_value(&copy);
        return LK_ERR_NOMEM;
    }
    w->kvs[w->n_kv].key = k;
    w->kvs[w->n_kv].value = copy;
    w->n_kv++;
    return LK_OK;
}

lk_status lk_gguf_writer_set_u32(lk_gguf_writer *w, const char *key, uint32_t v) {
    lk_gguf_value val = {.type = LK_GGUF_UINT32, .u64 = v};
    return lk_gguf_writer_set_value(w, key, &val);
}

lk_status lk_gguf_writer_set_i32(lk_gguf_writer *w, const char *key, int32_t v) {
    lk_gguf_value val = {.type = LK_GGUF_INT32, .i64 = v};
    return lk_gguf_writer_set_value(w, key, &val);
}

lk_status lk_gguf_writer_set_u64(lk_gguf_writer *w, const char *key, uint64_t v) {
    lk_gguf_value val = {.type = LK_GGUF_UINT64, .u64 = v};
    return lk_gguf_writer_set_value(w, key, &val);
}

lk_status lk_gguf_writer_set_f32(lk_gguf_writer *w, const char *key, float v) {
    lk_gguf_value val = {.type = LK_GGUF_FLOAT32, .f64 = v};
    return lk_gguf_writer_set_value(w, key, &val);
}

lk_status lk_gguf_writer_set_bool(lk_gguf_writer *w, const char *key, bool v) {
    lk_gguf_value val = {.type = LK_GGUF_BOOL, .b = v};
    return lk_gguf_writer_set_value(w, key, &val);
}

lk_status lk_gguf_writer_set_str(lk_gguf_writer *w, const char *key, const char *v) {
    if (!v) return LK_ERR_ARG;
    lk_gguf_value val = {.type = LK_GGUF_STRING, .str = {v, strlen(v)}};
    return lk_gguf_writer_set_value(w, key, &val);
}

lk_status lk_gguf_writer_set_str_array(lk_gguf_writer *w, const char *key,
                                       const char *const *v, uint64_t n) {
    if (n && !v) return LK_ERR_ARG;
    if (n > SIZE_MAX / sizeof(lk_gguf_value)) return LK_ERR_ARG;
    lk_gguf_value *items = n ? malloc((size_t)n * sizeof *items) : NULL;
    if (n && !items) return LK_ERR_NOMEM;
    for (uint64_t i = 0; i < n; i++) {
        if (!v[i]) {
            free(items);
            return LK_ERR_ARG;
        }
        items[i] = (lk_gguf_value){.type = LK_GGUF_STRING, .str = {v[i], strlen(v[i])}};
    }
    lk_gguf_value val = {.type = LK_GGUF_ARRAY};
    val.arr.elem_type = LK_GGUF_STRING;
    val.arr.n = n;
    val.arr.items = items;
    lk_status st = lk_gguf_writer_set_value(w, key, &val);
    free(items);
    return st;
}

lk_status lk_gguf_writer_set_num_array(lk_gguf_writer *w, const char *key,
                                       lk_gguf_type elem_type, const void *v, uint64_t n) {
    if (fixed_size(elem_type) == 0) return LK_ERR_ARG;
    lk_gguf_value val = {.type = LK_GGUF_ARRAY};
    val.arr.elem_type = elem_type;
    val.arr.n = n;
    val.arr.data = v;
    return lk_gguf_writer_set_value(w, key, &val);
}

/* ---------------------------------------------------------------- tensors */

lk_status lk_gguf_writer_add_tensor(lk_gguf_writer *w, const char *name, lk_dtype type,
                                    uint32_t n_dims, const int64_t *ne, const void *data,
                                    uint64_t nbytes, lk_error *err) {
    if (!w || !name)
        return lk_error_set(err, LK_ERR_ARG, "gguf writer: add_tensor needs a writer and a name");
    if (!name[0] || !valid_utf8(name))
        return lk_error_set(err, LK_ERR_ARG,
                            "gguf writer: tensor name is empty or not valid UTF-8");
    if (n_dims > LK_GGUF_MAX_DIMS || (n_dims && !ne))
        return lk_error_set(err, LK_ERR_ARG, "gguf writer: tensor '%s' has %u dimensions (0..%d)",
                            name, n_dims, LK_GGUF_MAX_DIMS);
    if ((int)type >= 100 || !lk_dtype_valid(type))
        return lk_error_set(err, LK_ERR_ARG, "gguf writer: tensor '%s' has type %d, which GGUF "
                                             "cannot hold", name, (int)type);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return lk_error_set(err, LK_ERR_ARG, "gguf writer: tensor '%s' added twice", name);
    writer_tensor t = {.type = type, .n_dims = n_dims, .data = data, .nbytes = nbytes};
    int64_t n_elements = 1;
    for (int d = 0; d < LK_GGUF_MAX_DIMS; d++) {
        t.ne[d] = (uint32_t)d < n_dims ? ne[d] : 1;
        if (t.ne[d] <= 0 || t.ne[d] > INT64_MAX / n_elements)
            return lk_error_set(err, LK_ERR_ARG,
                                "gguf writer: tensor '%s': dimension %d is %lld (must be >= 1, "
                                "and the element count must fit in 64 bits)",
                                name, d, (long long)t.ne[d]);
        n_elements *= t.ne[d];
    }
    uint64_t expect;
    bool ok = lk_dtype_row_bytes(type, t.ne[0], &expect);
    for (int d = 1; ok && d < LK_GGUF_MAX_DIMS; d++) {
        ok = expect <= UINT64_MAX / (uint64_t)t.ne[d];
        expect *= (uint64_t)t.ne[d];
    }
    if (!ok)
        return lk_error_set(err, LK_ERR_ARG,
                            "gguf writer: tensor '%s': ne[0] = %lld does not fit the %s block "
                            "size %d",
                            name, (long long)t.ne[0], lk_dtype_name(type),
                            lk_dtype_traits_of(type)->block_size);
    if (expect != nbytes)
        return lk_error_set(err, LK_ERR_ARG,
                            "gguf writer: tensor '%s': %llu bytes given, but its type and shape "
                            "make %llu",
                            name, (unsigned long long)nbytes, (unsigned long long)expect);
    if (!data)
        return lk_error_set(err, LK_ERR_ARG, "gguf writer: tensor '%s' has no data", name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 64;
        writer_tensor *ts = realloc(w->tensors, cap * sizeof *ts);
        if (!ts) return lk_error_set(err, LK_ERR_NOMEM, "gguf writer: out of memory");
        w->tensors = ts;
        w->cap_tensors = cap;
    }
    t.name = strdup(name);
    if (!t.name) return lk_error_set(err, LK_ERR_NOMEM, "gguf writer: out of memory");
    w->tensors[w->n_tensors++] = t;
    return LK_OK;
}

void lk_gguf_writer_free(lk_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kvs[i].key);
        free_value(&w->kvs[i].value);
    }
    free(w->kvs);
    for (size_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->tensors);
    free(w);
}

/* ---------------------------------------------------------------- output */

typedef struct {
    FILE *f;
    uint64_t pos;
    int error; /* first errno seen, 0 when all went well */
} out_stream;

static void put_bytes(out_stream *o, const void *p, size_t n) {
    if (o->error || n == 0) return;
    if (fwrite(p, 1, n, o->f) != n) o->error = errno ? errno : EIO;
    o->pos += n;
}

static void put_u32(out_stream *o, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put_bytes(o, b, 4);
}

static void put_u64(out_stream *o, uint64_t v) {
    put_u32(o, (uint32_t)v);
    put_u32(o, (uint32_t)(v >> 32));
}

static void put_str(out_stream *o, const char *s, uint64_t len) {
    put_u64(o, len);
    put_bytes(o, s, (size_t)len);
}

static void put_zeros(out_stream *o, uint64_t n) {
    static const uint8_t zeros[4096];
    while (n) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        put_bytes(o, zeros, k);
        n -= k;
    }
}

static uint64_t padding(uint64_t pos, uint32_t alignment) {
    return (alignment - pos % alignment) % alignment;
}

/* The value's payload (its type id is written by the caller). */
static void put_value(out_stream *o, const lk_gguf_value *v) {
    switch (v->type) {
    case LK_GGUF_UINT8: case LK_GGUF_INT8: case LK_GGUF_BOOL: {
        uint8_t b = v->type == LK_GGUF_BOOL ? (uint8_t)v->b : (uint8_t)v->u64;
        put_bytes(o, &b, 1);
        break;
    }
    case LK_GGUF_UINT16: case LK_GGUF_INT16: {
        uint8_t b[2] = {(uint8_t)v->u64, (uint8_t)(v->u64 >> 8)};
        put_bytes(o, b, 2);
        break;
    }
    case LK_GGUF_UINT32: case LK_GGUF_INT32: put_u32(o, (uint32_t)v->u64); break;
    case LK_GGUF_UINT64: case LK_GGUF_INT64: put_u64(o, v->u64); break;
    case LK_GGUF_FLOAT32: {
        float f = (float)v->f64;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        put_u32(o, bits);
        break;
    }
    case LK_GGUF_FLOAT64: {
        uint64_t bits;
        memcpy(&bits, &v->f64, 8);
        put_u64(o, bits);
        break;
    }
    case LK_GGUF_STRING: put_str(o, v->str.ptr, v->str.len); break;
    case LK_GGUF_ARRAY:
        /* Items carry no type id of their own: the element type says it. */
        put_u32(o, (uint32_t)v->arr.elem_type);
        put_u64(o, v->arr.n);
        if (v->arr.items)
            for (uint64_t i = 0; i < v->arr.n; i++) put_value(o, &v->arr.items[i]);
        else if (v->arr.n)
            put_bytes(o, v->arr.data, (size_t)v->arr.n * fixed_size(v->arr.elem_type));
        break;
    }
}

static void write_all(const lk_gguf_writer *w, out_stream *o, const uint64_t *offsets) {
    bool add_alignment = w->alignment != LK_GGUF_DEFAULT_ALIGNMENT;
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kvs[i].key, ALIGNMENT_KEY) == 0) add_alignment = false;

    static const uint8_t magic[4] = {'G', 'G', 'U', 'F'};
    put_bytes(o, magic, 4);
    put_u32(o, w->version);
    put_u64(o, w->n_tensors);
    put_u64(o, w->n_kv + (add_alignment ? 1 : 0));
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(o, w->kvs[i].key, strlen(w->kvs[i].key));
        put_u32(o, (uint32_t)w->kvs[i].value.type);
        put_value(o, &w->kvs[i].value);
    }
    if (add_alignment) {
        put_str(o, ALIGNMENT_KEY, strlen(ALIGNMENT_KEY));
        put_u32(o, LK_GGUF_UINT32);
        put_u32(o, w->alignment);
    }
    for (size_t i = 0; i < w->n_tensors; i++) {
        const writer_tensor *t = &w->tensors[i];
        put_str(o, t->name, strlen(t->name));
        put_u32(o, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(o, (uint64_t)t->ne[d]);
        put_u32(o, (uint32_t)t->type);
        put_u64(o, offsets[i]);
    }
    /* gguf-py leaves a tensor-less (vocab-only) file unpadded; so do we. */
    if (w->n_tensors) put_zeros(o, padding(o->pos, w->alignment));
    for (size_t i = 0; i < w->n_tensors; i++) {
        const writer_tensor *t = &w->tensors[i];
        /* fwrite takes size_t; feed huge tensors in pieces. */
        const uint8_t *p = t->data;
        for (uint64_t left = t->nbytes; left;) {
            size_t k = left > (1u << 30) ? (size_t)1 << 30 : (size_t)left;
            put_bytes(o, p, k);
            p += k;
            left -= k;
        }
        put_zeros(o, padding(t->nbytes, w->alignment));
    }
}

lk_status lk_gguf_writer_write(lk_gguf_writer *w, const char *path, lk_error *err) {
    if (!w || !path) return lk_error_set(err, LK_ERR_ARG, "gguf writer: no writer or path");
    /* Data offsets, relative to the data section. */
    uint64_t *offsets = malloc((w->n_tensors ? w->n_tensors : 1) * sizeof *offsets);
    if (!offsets) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    uint64_t next = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        uint64_t size = w->tensors[i].nbytes + padding(w->tensors[i].nbytes, w->alignment);
        if (size < w->tensors[i].nbytes || next > UINT64_MAX - size) {
            free(offsets);
            return lk_error_set(err, LK_ERR_RANGE, "%s: the tensors' total size overflows 64 bits",
                                path);
        }
        offsets[i] = next;
        next += size;
    }

    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    if (!tmp) {
        free(offsets);
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);

    lk_status st = LK_OK;
    out_stream o = {.f = fopen(tmp, "wb")};
    if (!o.f) {
        st = lk_error_set(err, LK_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto done;
    }
    errno = 0;
    write_all(w, &o, offsets);
    if (!o.error && fflush(o.f) != 0) o.error = errno ? errno : EIO;
    if (!o.error && fsync(fileno(o.f)) != 0 && errno != EINVAL) o.error = errno;
    if (fclose(o.f) != 0 && !o.error) o.error = errno ? errno : EIO;
    if (o.error) {
        st = lk_error_set(err, LK_ERR_IO, "%s: write failed after %llu bytes: %s%s", tmp,
                          (unsigned long long)o.pos, strerror(o.error),
                          o.error == ENOSPC ? " (the disk is full)" : "");
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        st = lk_error_set(err, LK_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp,
                          strerror(errno));
        unlink(tmp);
    }
done:
    free(tmp);
    free(offsets);
    return st;
}
