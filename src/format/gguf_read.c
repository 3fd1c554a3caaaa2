/* GGUF reader: parses one file image (a shard) into keys, values and a
 * tensor table, and answers the lookups declared in format/gguf.h.
 *
 * Design note. A GGUF file is a header (magic, version, counts), then n_kv
 * key/value pairs, then n_tensors tensor infos, then padding to the file's
 * alignment, then the data section. Everything the reader returns points
 * into the file image, except:
 *   - keys and tensor names, copied NUL-terminated (so callers can strcmp);
 *   - the item tables of string/array arrays (lk_gguf_value per item);
 *   - numeric arrays whose bytes are not aligned for their element type in
 *     the file: these are copied, so callers may read them as float[] etc.
 * Those copies live in one arena freed by lk_gguf_close.
 *
 * Every count read from the file is checked against the bytes left before
 * anything is allocated for it, so a corrupt count cannot make us allocate
 * more than a small multiple of the file size. Host byte order is assumed
 * little-endian (numeric arrays are handed out as they are in the file). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/utf8.h"
#include "format/gguf_internal.h"
#include "tensor/dtype.h"

/* Deeper nesting than this is surely corrupt, and bounds the recursion. */
#define GGUF_MAX_ARRAY_NESTING 16
/* Smallest encodings, used to bound counts before allocating. */
#define GGUF_HEADER_BYTES 24   /* magic, version, n_tensors, n_kv */
#define GGUF_MIN_KV_BYTES 13   /* key length, empty key, type, 1-byte value */
#define GGUF_MIN_TENSOR_BYTES 24 /* name length, n_dims, type, offset */
#define GGUF_MIN_ARRAY_BYTES 12 /* element type, count */

/* ---------------------------------------------------------------- arena */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_block;

static void *arena_alloc(arena_block **head, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    arena_block *b = *head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = *head;
        b->used = 0;
        b->cap = cap;
        *head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static void arena_free(arena_block *b) {
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
}

/* ---------------------------------------------------------------- name index */

/* Open addressing over NUL-terminated names; finds keys and tensors in O(1)
 * and catches duplicates without an O(n^2) scan of hostile files. */
typedef struct {
    const char *name;
    size_t idx;
} index_slot;

typedef struct {
    index_slot *slots;
    size_t mask; /* capacity - 1; capacity is a power of two */
} name_index;

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool index_init(name_index *ix, size_t n) {
    size_t cap = 8;
    while (cap < 2 * n) cap *= 2;
    ix->slots = calloc(cap, sizeof *ix->slots);
    ix->mask = cap - 1;
    return ix->slots != NULL;
}

/* Inserts name -> idx; when the name is already there returns false and sets
 * *prev to the earlier index. */
static bool index_insert(name_index *ix, const char *name, size_t idx, size_t *prev) {
    for (size_t i = hash_name(name) & ix->mask;; i = (i + 1) & ix->mask) {
        index_slot *s = &ix->slots[i];
        if (!s->name) {
            s->name = name;
            s->idx = idx;
            return true;
        }
        if (strcmp(s->name, name) == 0) {
            *prev = s->idx;
            return false;
        }
    }
}

static bool index_find(const name_index *ix, const char *name, size_t *idx) {
    if (!ix->slots) return false;
    for (size_t i = hash_name(name) & ix->mask;; i = (i + 1) & ix->mask) {
        const index_slot *s = &ix->slots[i];
        if (!s->name) return false;
        if (strcmp(s->name, name) == 0) {
            *idx = s->idx;
            return true;
        }
    }
}

/* ---------------------------------------------------------------- the handle */

typedef struct {
    const char *key;
    lk_gguf_value value;
} gguf_kv;

typedef struct {
    char *name; /* path or caller's name, for messages */
    lk_mmap map; /* empty for caller-owned buffers */
    uint32_t version, alignment;
    uint64_t data_offset;
    gguf_kv *kvs; /* n_kv, in file order */
    size_t n_kv;
    name_index kv_index;
    size_t first_tensor, n_tensors; /* this shard's range of lk_gguf.tensors */
} gguf_shard;

struct lk_gguf {
    gguf_shard *shards;
    uint32_t n_shards;
    lk_gguf_tensor *tensors; /* all shards, shard by shard, in file order */
    size_t n_tensors;
    name_index tensor_index;
    arena_block *arena;
};

void lk_gguf_release_pages(const lk_gguf *g, const void *p, size_t n) {
    for (uint32_t i = 0; g && i < g->n_shards; i++) lk_mmap_release(&g->shards[i].map, p, n);
}

lk_gguf *gguf_new(void) { return calloc(1, sizeof(lk_gguf)); }

void lk_gguf_close(lk_gguf *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->n_shards; i++) {
        free(g->shards[i].name);
        free(g->shards[i].kv_index.slots);
        lk_mmap_close(&g->shards[i].map);
    }
    free(g->shards);
    free(g->tensors);
    free(g->tensor_index.slots);
    arena_free(g->arena);
    free(g);
}

/* ---------------------------------------------------------------- parsing */

typedef struct {
    const uint8_t *base;
    size_t size;
    size_t pos;
    const char *name;  /* file name for messages */
    char what[160];    /* "key 'x'" / "tensor 'y'": what is being read, for messages */
    lk_gguf *g;
    lk_error *err;
} parser;

#define TRY(call)                                                                        \
    do {                                                                                 \
        lk_status st_ = (call);                                                          \
        if (st_ != LK_OK) return st_;                                                    \
    } while (0)

static lk_status fail_code(parser *p, lk_status code, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static lk_status fail_code(parser *p, lk_status code, size_t at, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->what[0])
        return lk_error_set(p->err, code, "%s: %s (at byte %zu): %s", p->name, p->what, at, msg);
    return lk_error_set(p->err, code, "%s: at byte %zu: %s", p->name, at, msg);
}
#define fail(p, at, ...) fail_code((p), LK_ERR_FORMAT, (at), __VA_ARGS__)

static lk_status nomem(parser *p) {
    return lk_error_set(p->err, LK_ERR_NOMEM, "%s: out of memory while reading GGUF metadata",
                        p->name);
}

static size_t bytes_left(const parser *p) { return p->size - p->pos; }

static lk_status need(parser *p, size_t n, const char *field) {
    if (n <= bytes_left(p)) return LK_OK;
    return fail(p, p->pos, "the file ends inside %s (%zu bytes needed, %zu left; truncated?)",
                field, n, bytes_left(p));
}

static uint32_t load_u32(const uint8_t *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t load_u64(const uint8_t *b) {
    return (uint64_t)load_u32(b) | (uint64_t)load_u32(b + 4) << 32;
}

static lk_status read_u32(parser *p, const char *field, uint32_t *out) {
    TRY(need(p, 4, field));
    *out = load_u32(p->base + p->pos);
    p->pos += 4;
    return LK_OK;
}

static lk_status read_u64(parser *p, const char *field, uint64_t *out) {
    TRY(need(p, 8, field));
    *out = load_u64(p->base + p->pos);
    p->pos += 8;
    return LK_OK;
}

static lk_status read_str(parser *p, const char *field, lk_gguf_str *out) {
    size_t at = p->pos;
    uint64_t len;
    TRY(read_u64(p, field, &len));
    if (len > bytes_left(p))
        return fail(p, at, "%s has length %llu, but only %zu bytes are left in the file", field,
                    (unsigned long long)len, bytes_left(p));
    out->ptr = (const char *)p->base + p->pos;
    out->len = len;
    p->pos += (size_t)len;
    return LK_OK;
}

/* Keys and tensor names: valid UTF-8 without NUL, copied NUL-terminated. */
static lk_status read_name(parser *p, const char *field, const char **out) {
    size_t at = p->pos;
    lk_gguf_str s;
    TRY(read_str(p, field, &s));
    const uint8_t *b = (const uint8_t *)s.ptr;
    size_t bad = lk_utf8_validate(s.ptr, (size_t)s.len);
    if (bad < s.len)
        return fail(p, at, "%s is not valid UTF-8 (byte 0x%02x at position %zu of %llu)", field,
                    b[bad], bad, (unsigned long long)s.len);
    if (memchr(b, 0, (size_t)s.len))
        return fail(p, at, "%s contains a NUL byte", field);
    char *copy = arena_alloc(&p->g->arena, (size_t)s.len + 1);
    if (!copy) return nomem(p);
    memcpy(copy, s.ptr, (size_t)s.len);
    copy[s.len] = '\0';
    *out = copy;
    return LK_OK;
}

/* Bytes of one element of a fixed-size type; 0 for STRING and ARRAY. */
static size_t fixed_size(lk_gguf_type t) {
    switch (t) {
    case LK_GGUF_UINT8: case LK_GGUF_INT8: case LK_GGUF_BOOL: return 1;
    case LK_GGUF_UINT16: case LK_GGUF_INT16: return 2;
    case LK_GGUF_UINT32: case LK_GGUF_INT32: case LK_GGUF_FLOAT32: return 4;
    case LK_GGUF_UINT64: case LK_GGUF_INT64: case LK_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static lk_status read_type(parser *p, const char *field, lk_gguf_type *out) {
    size_t at = p->pos;
    uint32_t t;
    TRY(read_u32(p, field, &t));
    if (t > LK_GGUF_FLOAT64)
        return fail(p, at, "%s is %u, not a GGUF value type (0..12)", field, t);
    *out = (lk_gguf_type)t;
    return LK_OK;
}

static lk_status parse_value(parser *p, lk_gguf_type type, lk_gguf_value *v, unsigned depth);

static lk_status parse_array(parser *p, lk_gguf_value *v, unsigned depth) {
    size_t at = p->pos;
    lk_gguf_type elem = LK_GGUF_UINT8;
    uint64_t n;
    TRY(read_type(p, "the array element type", &elem));
    TRY(read_u64(p, "the array length", &n));
    v->arr.elem_type = elem;
    v->arr.n = n;
    v->arr.data = NULL;
    v->arr.items = NULL;
    size_t es = fixed_size(elem);
    size_t left = bytes_left(p);
    if (es) {
        if (n > left / es)
            return fail(p, at, "array of %llu %s values (%zu bytes each) runs past the end of "
                               "the file (%zu bytes left)",
                        (unsigned long long)n, lk_gguf_type_name(elem), es, left);
        const uint8_t *src = p->base + p->pos;
        size_t nbytes = (size_t)n * es;
        if (elem == LK_GGUF_BOOL)
            for (size_t i = 0; i < nbytes; i++)
                if (src[i] > 1)
                    return fail(p, p->pos + i, "bool array item %zu is %u, not 0 or 1", i, src[i]);
        if (nbytes && (uintptr_t)src % es != 0) {
            /* Callers may read the elements as float[], int32_t[]...: give them aligned memory. */
            void *copy = arena_alloc(&p->g->arena, nbytes);
            if (!copy) return nomem(p);
            memcpy(copy, src, nbytes);
            src = copy;
        }
        v->arr.data = src;
        p->pos += nbytes;
        return LK_OK;
    }
    size_t min_item = elem == LK_GGUF_STRING ? 8 : GGUF_MIN_ARRAY_BYTES;
    if (n > left / min_item)
        return fail(p, at, "array of %llu %s items (at least %zu bytes each) runs past the end "
                           "of the file (%zu bytes left)",
                    (unsigned long long)n, lk_gguf_type_name(elem), min_item, left);
    if (elem == LK_GGUF_ARRAY && depth + 1 >= GGUF_MAX_ARRAY_NESTING)
        return fail(p, at, "arrays nested more than %d deep", GGUF_MAX_ARRAY_NESTING);
    if (n == 0) return LK_OK;
    lk_gguf_value *items = arena_alloc(&p->g->arena, (size_t)n * sizeof *items);
    if (!items) return nomem(p);
    for (uint64_t i = 0; i < n; i++) {
        memset(&items[i], 0, sizeof items[i]);
        items[i].type = elem;
        TRY(parse_value(p, elem, &items[i], depth + 1));
    }
    v->arr.items = items;
    return LK_OK;
}

static lk_status parse_value(parser *p, lk_gguf_type type, lk_gguf_value *v, unsigned depth) {
    v->type = type;
    size_t es = fixed_size(type);
    if (es) TRY(need(p, es, "the value"));
    const uint8_t *b = p->base + p->pos;
    switch (type) {
    case LK_GGUF_UINT8: v->u64 = b[0]; break;
    case LK_GGUF_INT8: v->i64 = (int8_t)b[0]; break;
    case LK_GGUF_UINT16: v->u64 = (uint16_t)(b[0] | b[1] << 8); break;
    case LK_GGUF_INT16: v->i64 = (int16_t)(uint16_t)(b[0] | b[1] << 8); break;
    case LK_GGUF_UINT32: v->u64 = load_u32(b); break;
    case LK_GGUF_INT32: v->i64 = (int32_t)load_u32(b); break;
    case LK_GGUF_UINT64: v->u64 = load_u64(b); break;
    case LK_GGUF_INT64: v->i64 = (int64_t)load_u64(b); break;
    case LK_GGUF_FLOAT32: {
        uint32_t bits = load_u32(b);
        float f;
        memcpy(&f, &bits, 4);
        v->f64 = f;
        break;
    }
    case LK_GGUF_FLOAT64: {
        uint64_t bits = load_u64(b);
        memcpy(&v->f64, &bits, 8);
        break;
    }
    case LK_GGUF_BOOL:
        if (b[0] > 1) return fail(p, p->pos, "bool value is %u, not 0 or 1", b[0]);
        v->b = b[0] != 0;
        break;
    case LK_GGUF_STRING: return read_str(p, "the string", &v->str);
    case LK_GGUF_ARRAY: return parse_array(p, v, depth);
    }
    p->pos += es;
    return LK_OK;
}

/* Sets p->what to "key 'k'" / "tensor 't'", shortening long names. */
static void describe(parser *p, const char *kind, const char *name) {
    size_t len = strlen(name);
    if (len > 100)
        snprintf(p->what, sizeof p->what, "%s '%.100s...'", kind, name);
    else
        snprintf(p->what, sizeof p->what, "%s '%s'", kind, name);
}

static lk_status parse_header(parser *p, gguf_shard *sh, uint64_t *n_tensors, uint64_t *n_kv) {
    static const uint8_t magic[4] = {'G', 'G', 'U', 'F'};
    if (p->size < 4 || memcmp(p->base, magic, 4) != 0) {
        char shown[5] = "";
        for (size_t i = 0; i < 4 && i < p->size; i++) {
            uint8_t c = p->base[i];
            shown[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
            shown[i + 1] = '\0';
        }
        return fail(p, 0, "not a GGUF file (starts with \"%s\", expected \"GGUF\")", shown);
    }
    p->pos = 4;
    uint32_t version;
    TRY(read_u32(p, "the header", &version));
    uint32_t swapped = __builtin_bswap32(version);
    if (version == 1)
        return fail(p, 4, "GGUF version 1 is not supported (it predates 64-bit counts); "
                          "convert the model again with a current llama.cpp");
    if (version != 2 && version != 3) {
        if (swapped >= 1 && swapped <= 3)
            return fail(p, 4, "this is a big-endian GGUF file (version %u byte-swapped); "
                              "llmkit reads little-endian files only", swapped);
        return fail(p, 4, "unsupported GGUF version %u (llmkit reads versions 2 and 3)", version);
    }
    sh->version = version;
    TRY(read_u64(p, "the header", n_tensors));
    TRY(read_u64(p, "the header", n_kv));
    size_t left = bytes_left(p);
    if (*n_kv > left / GGUF_MIN_KV_BYTES)
        return fail(p, 16, "the header claims %llu metadata keys, but the %zu bytes after it "
                           "can hold at most %zu (corrupt count)",
                    (unsigned long long)*n_kv, left, left / GGUF_MIN_KV_BYTES);
    if (*n_tensors > left / GGUF_MIN_TENSOR_BYTES)
        return fail(p, 8, "the header claims %llu tensors, but the %zu bytes after it "
                          "can hold at most %zu (corrupt count)",
                    (unsigned long long)*n_tensors, left, left / GGUF_MIN_TENSOR_BYTES);
    return LK_OK;
}

static lk_status parse_kvs(parser *p, gguf_shard *sh, uint64_t n_kv) {
    sh->kvs = arena_alloc(&p->g->arena, (size_t)n_kv * sizeof *sh->kvs);
    if (!sh->kvs || !index_init(&sh->kv_index, (size_t)n_kv)) return nomem(p);
    for (size_t i = 0; i < n_kv; i++) {
        size_t at = p->pos;
        gguf_kv *kv = &sh->kvs[i];
        snprintf(p->what, sizeof p->what, "metadata entry %zu", i);
        TRY(read_name(p, "the key", &kv->key));
        describe(p, "key", kv->key);
        size_t prev;
        if (!index_insert(&sh->kv_index, kv->key, i, &prev))
            return fail(p, at, "duplicate key (also metadata entry %zu)", prev);
        lk_gguf_type type = LK_GGUF_UINT8;
        TRY(read_type(p, "the value type", &type));
        memset(&kv->value, 0, sizeof kv->value);
        TRY(parse_value(p, type, &kv->value, 0));
        sh->n_kv = i + 1;
    }
    p->what[0] = '\0';
    return LK_OK;
}

/* general.alignment: a u32 power of two; 32 when absent. */
static lk_status parse_alignment(parser *p, gguf_shard *sh) {
    sh->alignment = LK_GGUF_DEFAULT_ALIGNMENT;
    size_t i;
    if (!index_find(&sh->kv_index, "general.alignment", &i)) return LK_OK;
    const lk_gguf_value *v = &sh->kvs[i].value;
    if (v->type != LK_GGUF_UINT32)
        return lk_error_set(p->err, LK_ERR_FORMAT,
                            "%s: key 'general.alignment' has type %s, expected uint32", p->name,
                            lk_gguf_type_name(v->type));
    if (v->u64 == 0 || (v->u64 & (v->u64 - 1)) != 0)
        return lk_error_set(p->err, LK_ERR_FORMAT,
                            "%s: key 'general.alignment' is %llu, which is not a power of two",
                            p->name, (unsigned long long)v->u64);
    sh->alignment = (uint32_t)v->u64;
    return LK_OK;
}

/* GGML types that exist but that llmkit cannot compute with (yet). */
static const char *unsupported_ggml_type(uint32_t t) {
    switch (t) {
    case 16: return "iq2_xxs";
    case 17: return "iq2_xs";
    case 18: return "iq3_xxs";
    case 19: return "iq1_s";
    case 20: return "iq4_nl";
    case 21: return "iq3_s";
    case 22: return "iq2_s";
    case 23: return "iq4_xs";
    case 29: return "iq1_m";
    case 34: return "tq1_0";
    case 35: return "tq2_0";
    case 39: return "mxfp4";
    default: return NULL;
    }
}

static lk_status parse_tensor_info(parser *p, lk_gguf_tensor *t, uint32_t shard) {
    size_t at = p->pos;
    memset(t, 0, sizeof *t);
    t->shard = shard;
    TRY(read_name(p, "the tensor name", &t->name));
    if (!t->name[0]) return fail(p, at, "the tensor name is empty");
    describe(p, "tensor", t->name);
    uint32_t n_dims;
    TRY(read_u32(p, "the tensor's dimension count", &n_dims));
    if (n_dims > LK_GGUF_MAX_DIMS)
        return fail(p, at, "has %u dimensions; GGUF allows at most %d", n_dims, LK_GGUF_MAX_DIMS);
    t->n_dims = n_dims;
    int64_t n_elements = 1;
    for (int d = 0; d < LK_GGUF_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if ((uint32_t)d < n_dims) TRY(read_u64(p, "the tensor's shape", &ne));
        if (ne == 0 || ne > INT64_MAX)
            return fail(p, at, "dimension %d is %lld; each must be at least 1", d, (long long)ne);
        if ((int64_t)ne > INT64_MAX / n_elements)
            return fail(p, at, "the element count overflows 64 bits (dimension %d is %llu)", d,
                        (unsigned long long)ne);
        t->ne[d] = (int64_t)ne;
        n_elements *= (int64_t)ne;
    }
    size_t type_at = p->pos;
    uint32_t type;
    TRY(read_u32(p, "the tensor's type", &type));
    if (unsupported_ggml_type(type))
        return fail_code(p, LK_ERR_UNSUPPORTED, type_at,
                         "type %s (%u) is a GGML type llmkit does not support yet; "
                         "requantize the model to e.g. q4_k or q8_0",
                         unsupported_ggml_type(type), type);
    /* lk_dtype numbers >= 100 are safetensors-only types, never in GGUF. */
    if (type >= 100 || !lk_dtype_valid((lk_dtype)type))
        return fail(p, type_at, "unknown GGML type id %u", type);
    t->type = (lk_dtype)type;
    uint64_t row_bytes;
    if (!lk_dtype_row_bytes(t->type, t->ne[0], &row_bytes))
        return fail(p, at, "ne[0] = %lld is not a multiple of the %s block size %d",
                    (long long)t->ne[0], lk_dtype_name(t->type),
                    lk_dtype_traits_of(t->type)->block_size);
    uint64_t nbytes = row_bytes;
    for (int d = 1; d < LK_GGUF_MAX_DIMS; d++) {
        if (nbytes > UINT64_MAX / (uint64_t)t->ne[d])
            return fail(p, at, "the byte size overflows 64 bits");
        nbytes *= (uint64_t)t->ne[d];
    }
    t->nbytes = nbytes;
    TRY(read_u64(p, "the tensor's data offset", &t->offset));
    return LK_OK;
}

typedef struct {
    uint64_t begin, end;
    size_t idx;
} extent;

static int extent_cmp(const void *a, const void *b) {
    const extent *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Places each tensor in the data section: aligned, inside, not overlapping. */
static lk_status place_tensors(parser *p, gguf_shard *sh, lk_gguf_tensor *ts, size_t n) {
    uint64_t data_size = sh->data_offset <= p->size ? p->size - sh->data_offset : 0;
    if (n && sh->data_offset > p->size)
        return lk_error_set(p->err, LK_ERR_FORMAT,
                            "%s: the file ends at byte %zu, before its data section at byte %llu "
                            "(truncated?)",
                            p->name, p->size, (unsigned long long)sh->data_offset);
    for (size_t i = 0; i < n; i++) {
        lk_gguf_tensor *t = &ts[i];
        if (t->offset % sh->alignment != 0)
            return lk_error_set(p->err, LK_ERR_FORMAT,
                                "%s: tensor '%s': data offset %llu is not a multiple of the "
                                "alignment %u",
                                p->name, t->name, (unsigned long long)t->offset, sh->alignment);
        if (t->offset > data_size || t->nbytes > data_size - t->offset)
            return lk_error_set(p->err, LK_ERR_FORMAT,
                                "%s: tensor '%s': its %llu bytes at data offset %llu run past the "
                                "end of the file (the data section holds %llu bytes from byte "
                                "%llu; truncated?)",
                                p->name, t->name, (unsigned long long)t->nbytes,
                                (unsigned long long)t->offset, (unsigned long long)data_size,
                                (unsigned long long)sh->data_offset);
        t->data = p->base + sh->data_offset + t->offset;
    }
    if (n < 2) return LK_OK;
    extent *ex = malloc(n * sizeof *ex);
    if (!ex) return nomem(p);
    for (size_t i = 0; i < n; i++) ex[i] = (extent){ts[i].offset, ts[i].offset + ts[i].nbytes, i};
    qsort(ex, n, sizeof *ex, extent_cmp);
    for (size_t i = 1; i < n; i++) {
        if (ex[i].begin < ex[i - 1].end) {
            const lk_gguf_tensor *a = &ts[ex[i - 1].idx], *b = &ts[ex[i].idx];
            lk_status st = lk_error_set(
                p->err, LK_ERR_FORMAT,
                "%s: tensors '%s' (data offset %llu, %llu bytes) and '%s' (data offset %llu) "
                "overlap",
                p->name, a->name, (unsigned long long)a->offset, (unsigned long long)a->nbytes,
                b->name, (unsigned long long)b->offset);
            free(ex);
            return st;
        }
    }
    free(ex);
    return LK_OK;
}

lk_status gguf_add_shard(lk_gguf *g, const void *data, size_t size, lk_mmap *map,
                         const char *name, lk_error *err) {
    gguf_shard *shards = realloc(g->shards, (g->n_shards + 1) * sizeof *shards);
    if (!shards) {
        if (map) lk_mmap_close(map);
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", name);
    }
    g->shards = shards;
    gguf_shard *sh = &shards[g->n_shards];
    memset(sh, 0, sizeof *sh);
    if (map) {
        sh->map = *map;
        map->data = NULL;
        map->size = 0;
    }
    uint32_t shard_no = g->n_shards++;
    sh->name = strdup(name);
    sh->first_tensor = g->n_tensors;
    if (!sh->name) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", name);

    parser p = {.base = data, .size = size, .name = name, .g = g, .err = err};
    uint64_t n_tensors, n_kv;
    TRY(parse_header(&p, sh, &n_tensors, &n_kv));
    TRY(parse_kvs(&p, sh, n_kv));
    TRY(parse_alignment(&p, sh));

    /* Recheck against what is left now that the metadata is read. */
    if (n_tensors > bytes_left(&p) / GGUF_MIN_TENSOR_BYTES)
        return fail(&p, p.pos, "the header claims %llu tensors, but the %zu bytes left can hold "
                               "at most %zu tensor infos (corrupt count)",
                    (unsigned long long)n_tensors, bytes_left(&p),
                    bytes_left(&p) / GGUF_MIN_TENSOR_BYTES);
    lk_gguf_tensor *ts = realloc(g->tensors, (g->n_tensors + (size_t)n_tensors + 1) * sizeof *ts);
    if (!ts) return nomem(&p);
    g->tensors = ts;
    ts += g->n_tensors;
    for (size_t i = 0; i < n_tensors; i++) {
        snprintf(p.what, sizeof p.what, "tensor info %zu", i);
        TRY(parse_tensor_info(&p, &ts[i], shard_no));
        /* Counted as soon as parsed so the table stays consistent on failure. */
        g->n_tensors++;
        sh->n_tensors++;
    }
    p.what[0] = '\0';
    uint64_t a = sh->alignment;
    sh->data_offset = ((uint64_t)p.pos + a - 1) / a * a;
    return place_tensors(&p, sh, ts, (size_t)n_tensors);
}

lk_status gguf_finish(lk_gguf *g, lk_error *err) {
    if (!index_init(&g->tensor_index, g->n_tensors))
        return lk_error_set(err, LK_ERR_NOMEM, "out of memory indexing %zu tensors", g->n_tensors);
    for (size_t i = 0; i < g->n_tensors; i++) {
        const lk_gguf_tensor *t = &g->tensors[i];
        size_t prev;
        if (!index_insert(&g->tensor_index, t->name, i, &prev)) {
            const lk_gguf_tensor *o = &g->tensors[prev];
            if (o->shard == t->shard)
                return lk_error_set(err, LK_ERR_FORMAT, "%s: duplicate tensor name '%s'",
                                    g->shards[t->shard].name, t->name);
            return lk_error_set(err, LK_ERR_FORMAT, "tensor '%s' appears in two shards: %s and %s",
                                t->name, g->shards[o->shard].name, g->shards[t->shard].name);
        }
    }
    return LK_OK;
}

lk_status lk_gguf_open_memory(const void *data, size_t size, const char *name, lk_gguf **out,
                              lk_error *err) {
    *out = NULL;
    if (!name) name = "(memory)";
    if (!data && size) return lk_error_set(err, LK_ERR_ARG, "%s: NULL buffer", name);
    lk_gguf *g = gguf_new();
    if (!g) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", name);
    static const uint8_t empty[1];
    lk_status st = gguf_add_shard(g, data ? data : empty, size, NULL, name, err);
    if (st == LK_OK) st = gguf_finish(g, err);
    if (st != LK_OK) {
        lk_gguf_close(g);
        return st;
    }
    *out = g;
    return LK_OK;
}

/* ---------------------------------------------------------------- lookups */

const lk_gguf_value *gguf_shard_get(const lk_gguf *g, uint32_t shard, const char *key) {
    if (shard >= g->n_shards) return NULL;
    const gguf_shard *sh = &g->shards[shard];
    size_t i;
    return index_find(&sh->kv_index, key, &i) ? &sh->kvs[i].value : NULL;
}

size_t gguf_shard_tensor_count(const lk_gguf *g, uint32_t shard) {
    return shard < g->n_shards ? g->shards[shard].n_tensors : 0;
}

const char *gguf_shard_name(const lk_gguf *g, uint32_t shard) {
    return shard < g->n_shards ? g->shards[shard].name : NULL;
}

uint32_t lk_gguf_version(const lk_gguf *g) { return g->shards[0].version; }
uint32_t lk_gguf_alignment(const lk_gguf *g) { return g->shards[0].alignment; }
uint32_t lk_gguf_shard_count(const lk_gguf *g) { return g->n_shards; }

size_t lk_gguf_kv_count(const lk_gguf *g) { return g->shards[0].n_kv; }

const char *lk_gguf_kv_key(const lk_gguf *g, size_t i) {
    return i < g->shards[0].n_kv ? g->shards[0].kvs[i].key : NULL;
}

const lk_gguf_value *lk_gguf_kv_value(const lk_gguf *g, size_t i) {
    return i < g->shards[0].n_kv ? &g->shards[0].kvs[i].value : NULL;
}

const lk_gguf_value *lk_gguf_get(const lk_gguf *g, const char *key) {
    return gguf_shard_get(g, 0, key);
}

static bool is_unsigned(lk_gguf_type t) {
    return t == LK_GGUF_UINT8 || t == LK_GGUF_UINT16 || t == LK_GGUF_UINT32 ||
           t == LK_GGUF_UINT64;
}

static bool is_signed(lk_gguf_type t) {
    return t == LK_GGUF_INT8 || t == LK_GGUF_INT16 || t == LK_GGUF_INT32 || t == LK_GGUF_INT64;
}

bool lk_gguf_get_u32(const lk_gguf *g, const char *key, uint32_t *out) {
    const lk_gguf_value *v = lk_gguf_get(g, key);
    if (!v) return false;
    if (is_unsigned(v->type) && v->u64 <= UINT32_MAX) {
        *out = (uint32_t)v->u64;
        return true;
    }
    if (is_signed(v->type) && v->i64 >= 0 && v->i64 <= (int64_t)UINT32_MAX) {
        *out = (uint32_t)v->i64;
        return true;
    }
    return false;
}

bool lk_gguf_get_i64(const lk_gguf *g, const char *key, int64_t *out) {
    const lk_gguf_value *v = lk_gguf_get(g, key);
    if (!v) return false;
    if (is_unsigned(v->type) && v->u64 <= (uint64_t)INT64_MAX) {
        *out = (int64_t)v->u64;
        return true;
    }
    if (is_signed(v->type)) {
        *out = v->i64;
        return true;
    }
    return false;
}

bool lk_gguf_get_f32(const lk_gguf *g, const char *key, float *out) {
    const lk_gguf_value *v = lk_gguf_get(g, key);
    if (!v || (v->type != LK_GGUF_FLOAT32 && v->type != LK_GGUF_FLOAT64)) return false;
    *out = (float)v->f64;
    return true;
}

bool lk_gguf_get_bool(const lk_gguf *g, const char *key, bool *out) {
    const lk_gguf_value *v = lk_gguf_get(g, key);
    if (!v || v->type != LK_GGUF_BOOL) return false;
    *out = v->b;
    return true;
}

bool lk_gguf_get_str(const lk_gguf *g, const char *key, lk_gguf_str *out) {
    const lk_gguf_value *v = lk_gguf_get(g, key);
    if (!v || v->type != LK_GGUF_STRING) return false;
    *out = v->str;
    return true;
}

bool lk_gguf_get_str_array(const lk_gguf *g, const char *key, const lk_gguf_value **items,
                           uint64_t *n) {
    const lk_gguf_value *v = lk_gguf_get(g, key);
    if (!v || v->type != LK_GGUF_ARRAY || v->arr.elem_type != LK_GGUF_STRING) return false;
    *items = v->arr.items;
    *n = v->arr.n;
    return true;
}

bool lk_gguf_get_num_array(const lk_gguf *g, const char *key, lk_gguf_type elem_type,
                           const void **data, uint64_t *n) {
    const lk_gguf_value *v = lk_gguf_get(g, key);
    if (!v || v->type != LK_GGUF_ARRAY || v->arr.elem_type != elem_type ||
        fixed_size(elem_type) == 0)
        return false;
    *data = v->arr.data;
    *n = v->arr.n;
    return true;
}

size_t lk_gguf_tensor_count(const lk_gguf *g) { return g->n_tensors; }

const lk_gguf_tensor *lk_gguf_tensor_at(const lk_gguf *g, size_t i) {
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const lk_gguf_tensor *lk_gguf_find_tensor(const lk_gguf *g, const char *name) {
    size_t i;
    return index_find(&g->tensor_index, name, &i) ? &g->tensors[i] : NULL;
}

const char *lk_gguf_type_name(lk_gguf_type t) {
    static const char *names[] = {"uint8", "int8",  "uint16", "int16",  "uint32",
                                  "int32", "float32", "bool", "string", "array",
                                  "uint64", "int64", "float64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}
