/* safetensors reader and writer (see safetensors.h for the format and what is
 * checked).
 *
 * Design note. One lk_safetensors holds any number of shards; a single file
 * is the one-shard case, so the index reader, the folder reader and the
 * fuzzer all go through the same parse_shard(). Each shard is parsed on its
 * own (header, dtypes, sizes, tiling of its byte buffer); then one sort of
 * the whole table by name finds duplicates, within a file or across shards,
 * and serves lookups by binary search. */
#include "format/safetensors.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/mmap.h"
#include "base/utf8.h"
#include "tensor/dtype.h"

/* ---------------------------------------------------------------- dtypes */

static const struct {
    const char *name;
    lk_dtype t;
} k_dtypes[] = {
    {"F64", LK_DTYPE_F64},         {"F32", LK_DTYPE_F32},         {"F16", LK_DTYPE_F16},
    {"BF16", LK_DTYPE_BF16},       {"I64", LK_DTYPE_I64},         {"I32", LK_DTYPE_I32},
    {"I16", LK_DTYPE_I16},         {"I8", LK_DTYPE_I8},           {"U64", LK_DTYPE_U64},
    {"U32", LK_DTYPE_U32},         {"U16", LK_DTYPE_U16},         {"U8", LK_DTYPE_U8},
    {"BOOL", LK_DTYPE_BOOL},       {"F8_E4M3", LK_DTYPE_F8_E4M3}, {"F8_E5M2", LK_DTYPE_F8_E5M2},
};

lk_dtype lk_safetensors_dtype_from_name(const char *name) {
    for (size_t i = 0; i < sizeof k_dtypes / sizeof k_dtypes[0]; i++)
        if (strcmp(k_dtypes[i].name, name) == 0) return k_dtypes[i].t;
    return LK_DTYPE_INVALID;
}

const char *lk_safetensors_dtype_name(lk_dtype t) {
    for (size_t i = 0; i < sizeof k_dtypes / sizeof k_dtypes[0]; i++)
        if (k_dtypes[i].t == t) return k_dtypes[i].name;
    return NULL;
}

/* ---------------------------------------------------------------- the object */

typedef struct {
    char *path;
    lk_mmap map;          /* empty for a caller's buffer */
    const uint8_t *bytes; /* the byte buffer after the header */
    uint64_t nbytes;
} st_shard;

typedef struct {
    const char *name;
    size_t index; /* into tensors[] */
} st_name_key;

struct lk_safetensors {
    st_shard *shards;
    uint32_t n_shards;
    lk_safetensors_tensor *tensors;
    size_t n_tensors, cap_tensors;
    st_name_key *by_name; /* sorted by name */
    char **meta_keys, **meta_values;
    size_t n_meta;
};

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void lk_safetensors_close(lk_safetensors *st) {
    if (!st) return;
    for (uint32_t i = 0; i < st->n_shards; i++) {
        lk_mmap_close(&st->shards[i].map);
        free(st->shards[i].path);
    }
    free(st->shards);
    for (size_t i = 0; i < st->n_tensors; i++) free((char *)st->tensors[i].info.name);
    free(st->tensors);
    free(st->by_name);
    for (size_t i = 0; i < st->n_meta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->meta_keys);
    free(st->meta_values);
    free(st);
}

static lk_status add_shards(lk_safetensors *st, uint32_t n, lk_error *err) {
    st->shards = calloc(n ? n : 1, sizeof *st->shards);
    if (!st->shards) return lk_error_set(err, LK_ERR_NOMEM, "safetensors: out of memory");
    st->n_shards = n;
    return LK_OK;
}

/* ---------------------------------------------------------------- header checks */

/* Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). With
 * json_text, also no raw control bytes other than JSON whitespace: JSON
 * allows none, and a NUL would silently cut a name short. Returns the offset
 * of the first bad byte, or len when all is well. */
static size_t first_bad_utf8(const uint8_t *s, size_t len, bool json_text) {
    size_t bad = lk_utf8_validate((const char *)s, len);
    if (json_text)
        for (size_t i = 0; i < bad; i++)
            if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return i;
    return bad;
}

/* A JSON number that is a whole number a double holds exactly. (cJSON keeps
 * only the double, so "2.0" passes as 2; nothing writes that in practice.) */
static bool json_u64(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= 9007199254740992.0)) return false; /* also rejects NaN */
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return false;
    *out = u;
    return true;
}

static lk_status grow_tensors(lk_safetensors *st, const char *path, lk_error *err) {
    if (st->n_tensors < st->cap_tensors) return LK_OK;
    size_t cap = st->cap_tensors ? st->cap_tensors * 2 : 16;
    lk_safetensors_tensor *t = realloc(st->tensors, cap * sizeof *t);
    if (!t) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    st->tensors = t;
    st->cap_tensors = cap;
    return LK_OK;
}

static int cmp_cstr_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "__metadata__": string -> string, no key twice (found by sorting, so a
 * hostile header with many keys costs n log n). Copied into st when keep. */
static lk_status parse_metadata(lk_safetensors *st, const cJSON *meta, bool keep,
                                const char *path, lk_error *err) {
    if (cJSON_IsNull(meta)) return LK_OK;
    if (!cJSON_IsObject(meta))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: \"__metadata__\" is not an object", path);
    size_t n = 0;
    for (const cJSON *kv = meta->child; kv; kv = kv->next) {
        if (!cJSON_IsString(kv))
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: \"__metadata__\" key '%s': value is not a string (the format "
                                "allows only string -> string)",
                                path, kv->string);
        n++;
    }
    if (n == 0) return LK_OK;
    const char **keys = malloc(n * sizeof *keys);
    if (!keys) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    size_t i = 0;
    for (const cJSON *kv = meta->child; kv; kv = kv->next) keys[i++] = kv->string;
    qsort(keys, n, sizeof *keys, cmp_cstr_ptr);
    for (i = 1; i < n; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            lk_status s = lk_error_set(err, LK_ERR_FORMAT,
                                       "%s: \"__metadata__\" key '%s' appears twice", path, keys[i]);
            free(keys);
            return s;
        }
    free(keys);
    if (!keep) return LK_OK;
    st->meta_keys = calloc(n, sizeof *st->meta_keys);
    st->meta_values = calloc(n, sizeof *st->meta_values);
    if (!st->meta_keys || !st->meta_values)
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    for (const cJSON *kv = meta->child; kv; kv = kv->next) {
        char *k = dup_str(kv->string), *v = dup_str(kv->valuestring);
        if (!k || !v) {
            free(k);
            free(v);
            return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
        }
        st->meta_keys[st->n_meta] = k;
        st->meta_values[st->n_meta] = v;
        st->n_meta++;
    }
    return LK_OK;
}

/* One header entry -> one table row (offsets checked against the buffer). */
static lk_status parse_entry(lk_safetensors *st, uint32_t shard, const cJSON *e,
                             const char *path, lk_error *err) {
    const char *name = e->string;
    if (!cJSON_IsObject(e))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: tensor '%s': entry is not an object", path, name);
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const cJSON *f = e->child; f; f = f->next) {
        const cJSON **slot = strcmp(f->string, "dtype") == 0          ? &dtype
                             : strcmp(f->string, "shape") == 0        ? &shape
                             : strcmp(f->string, "data_offsets") == 0 ? &offsets
                                                                      : NULL;
        if (!slot) continue; /* unknown fields are ignored, as the HF library does */
        if (*slot)
            return lk_error_set(err, LK_ERR_FORMAT, "%s: tensor '%s': field \"%s\" appears twice",
                                path, name, f->string);
        *slot = f;
    }
    if (!dtype || !shape || !offsets)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: tensor '%s': missing \"%s\"", path, name,
                            !dtype ? "dtype" : !shape ? "shape" : "data_offsets");

    if (!cJSON_IsString(dtype))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: tensor '%s': \"dtype\" is not a string", path,
                            name);
    lk_dtype t = lk_safetensors_dtype_from_name(dtype->valuestring);
    if (t == LK_DTYPE_INVALID)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: tensor '%s': unknown dtype \"%s\" (expected F64, F32, F16, BF16, "
                            "I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3 or F8_E5M2)",
                            path, name, dtype->valuestring);

    if (!cJSON_IsArray(shape))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: tensor '%s': \"shape\" is not an array", path,
                            name);
    int n_dims = cJSON_GetArraySize(shape);
    if (n_dims > LK_SAFETENSORS_MAX_DIMS)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "%s: tensor '%s': %d dimensions; llmkit handles at most %d", path, name,
                            n_dims, LK_SAFETENSORS_MAX_DIMS);
    int64_t dims[LK_SAFETENSORS_MAX_DIMS];
    uint64_t count = 1;
    bool count_overflow = false, has_zero = false;
    int d = 0;
    for (const cJSON *v = shape->child; v; v = v->next, d++) {
        uint64_t u;
        if (!json_u64(v, &u))
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: tensor '%s': shape[%d] is not a non-negative integer", path,
                                name, d);
        dims[d] = (int64_t)u;
        if (u == 0) has_zero = true;
        else if (count > UINT64_MAX / u) count_overflow = true;
        count *= u;
    }
    uint64_t want = 0;
    /* A zero dimension makes the count 0 whatever the others multiply to. */
    if (!has_zero && (count_overflow || count > INT64_MAX || !lk_dtype_row_bytes(t, (int64_t)count, &want)))
        return lk_error_set(err, LK_ERR_FORMAT, "%s: tensor '%s': shape's byte size overflows", path,
                            name);

    uint64_t begin, end;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !json_u64(offsets->child, &begin) || !json_u64(offsets->child->next, &end))
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: tensor '%s': \"data_offsets\" is not two non-negative integers",
                            path, name);
    const st_shard *sh = &st->shards[shard];
    if (begin > end)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu) end before they begin", path,
                            name, (unsigned long long)begin, (unsigned long long)end);
    if (end > sh->nbytes)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu) run past the %llu-byte data "
                            "section (file truncated?)",
                            path, name, (unsigned long long)begin, (unsigned long long)end,
                            (unsigned long long)sh->nbytes);
    if (end - begin != want)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu) hold %llu bytes but dtype %s "
                            "and its shape need %llu",
                            path, name, (unsigned long long)begin, (unsigned long long)end,
                            (unsigned long long)(end - begin), dtype->valuestring,
                            (unsigned long long)want);

    lk_status s = grow_tensors(st, path, err);
    if (s != LK_OK) return s;
    char *copy = dup_str(name);
    if (!copy) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    lk_safetensors_tensor *row = &st->tensors[st->n_tensors++];
    memset(row, 0, sizeof *row);
    row->info.name = copy;
    row->info.dtype = t;
    row->info.n_dims = n_dims;
    for (int i = 0; i < n_dims; i++) row->info.shape[i] = dims[i];
    row->info.data = sh->bytes ? sh->bytes + begin : NULL;
    row->info.nbytes = want;
    row->offset = begin;
    row->shard = shard;
    return LK_OK;
}

/* qsort has no context argument, so the sort keys travel with the index. */
typedef struct {
    uint64_t offset, nbytes;
    size_t index;
} st_offset_key;

static int cmp_by_offset(const void *a, const void *b) {
    const st_offset_key *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The spec wants the tensors to tile the byte buffer: sorted by offset, each
 * begins where the previous one ended, and the last ends at the buffer's end.
 * This one check rules out overlaps, holes and trailing garbage. */
static lk_status check_tiling(lk_safetensors *st, uint32_t shard, size_t first, const char *path,
                              lk_error *err) {
    size_t n = st->n_tensors - first;
    const st_shard *sh = &st->shards[shard];
    if (n == 0) {
        if (sh->nbytes != 0)
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: %llu data bytes but no tensors (the buffer must be fully "
                                "indexed)",
                                path, (unsigned long long)sh->nbytes);
        return LK_OK;
    }
    st_offset_key *order = malloc(n * sizeof *order);
    if (!order) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        const lk_safetensors_tensor *t = &st->tensors[first + i];
        order[i] = (st_offset_key){t->offset, t->info.nbytes, first + i};
    }
    qsort(order, n, sizeof *order, cmp_by_offset);
    uint64_t pos = 0;
    const char *prev = NULL;
    lk_status s = LK_OK;
    for (size_t i = 0; i < n && s == LK_OK; i++) {
        const lk_safetensors_tensor *t = &st->tensors[order[i].index];
        if (t->offset < pos)
            s = lk_error_set(err, LK_ERR_FORMAT,
                             "%s: tensor '%s': data_offsets [%llu, %llu) overlap tensor '%s'", path,
                             t->info.name, (unsigned long long)t->offset,
                             (unsigned long long)(t->offset + t->info.nbytes), prev);
        else if (t->offset > pos)
            s = lk_error_set(err, LK_ERR_FORMAT,
                             "%s: tensor '%s': %llu unused bytes before it at offset %llu (the "
                             "buffer must be fully indexed)",
                             path, t->info.name, (unsigned long long)(t->offset - pos),
                             (unsigned long long)pos);
        pos = t->offset + t->info.nbytes;
        prev = t->info.name;
    }
    free(order);
    if (s == LK_OK && pos != sh->nbytes)
        s = lk_error_set(err, LK_ERR_FORMAT,
                         "%s: %llu bytes after the last tensor '%s' belong to no tensor", path,
                         (unsigned long long)(sh->nbytes - pos), prev);
    return s;
}

/* Parses shard `shard` of st from data/size (a file's mmap or a caller's buffer). */
static lk_status parse_shard(lk_safetensors *st, uint32_t shard, const uint8_t *data, size_t size,
                             lk_error *err) {
    st_shard *sh = &st->shards[shard];
    const char *path = sh->path;
    if (size < 8)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: %zu bytes is too short for a safetensors file (8-byte header "
                            "length missing)",
                            path, size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | data[i];
    if (hlen > LK_SAFETENSORS_MAX_HEADER)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: header length %llu exceeds the %u-byte limit (not a safetensors "
                            "file?)",
                            path, (unsigned long long)hlen, LK_SAFETENSORS_MAX_HEADER);
    if (hlen > size - 8)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: header length %llu runs past the end of the %zu-byte file "
                            "(truncated?)",
                            path, (unsigned long long)hlen, size);
    if (hlen < 2)
        return lk_error_set(err, LK_ERR_FORMAT, "%s: header length %llu is too short for JSON",
                            path, (unsigned long long)hlen);
    const uint8_t *header = data + 8;
    size_t bad = first_bad_utf8(header, (size_t)hlen, true);
    if (bad != hlen)
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: header byte %zu (0x%02x) is not valid UTF-8 JSON text", path, bad,
                            header[bad]);
    sh->bytes = data + 8 + hlen;
    sh->nbytes = size - 8 - hlen;

    /* cJSON gets a NUL-terminated copy: it then cannot read past the header
     * whatever the bytes (the system cJSON is not sanitizer-instrumented, so
     * the fuzzer would not see it overrun a bare mmap). */
    char *text = malloc((size_t)hlen + 1);
    if (!text) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory for the header", path);
    memcpy(text, header, (size_t)hlen);
    text[hlen] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, (size_t)hlen + 1, &end, 0);
    if (!root) {
        size_t off = end && end >= text && end <= text + hlen ? (size_t)(end - text) : 0;
        free(text);
        return lk_error_set(err, LK_ERR_FORMAT, "%s: header is not valid JSON (near byte %zu)",
                            path, off);
    }
    lk_status s = LK_OK;
    /* After the JSON value only whitespace may follow (writers pad with spaces). */
    for (const char *p = end; p && p < text + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            s = lk_error_set(err, LK_ERR_FORMAT, "%s: header has bytes after its JSON object",
                             path);
            break;
        }
    if (s == LK_OK && !cJSON_IsObject(root))
        s = lk_error_set(err, LK_ERR_FORMAT, "%s: header is not a JSON object", path);

    size_t first = st->n_tensors;
    bool seen_meta = false;
    for (const cJSON *e = root->child; e && s == LK_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (seen_meta)
                s = lk_error_set(err, LK_ERR_FORMAT, "%s: \"__metadata__\" appears twice", path);
            else
                s = parse_metadata(st, e, shard == 0, path, err);
            seen_meta = true;
        } else {
            s = parse_entry(st, shard, e, path, err);
        }
    }
    cJSON_Delete(root);
    free(text);
    if (s == LK_OK) s = check_tiling(st, shard, first, path, err);
    return s;
}

static int cmp_by_name(const void *a, const void *b) {
    const st_name_key *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts the name index and rejects a name that appears twice (in one file or
 * in two shards). */
static lk_status index_names(lk_safetensors *st, lk_error *err) {
    size_t n = st->n_tensors;
    st->by_name = malloc((n ? n : 1) * sizeof *st->by_name);
    if (!st->by_name) return lk_error_set(err, LK_ERR_NOMEM, "safetensors: out of memory");
    for (size_t i = 0; i < n; i++) st->by_name[i] = (st_name_key){st->tensors[i].info.name, i};
    qsort(st->by_name, n, sizeof *st->by_name, cmp_by_name);
    for (size_t i = 1; i < n; i++) {
        const lk_safetensors_tensor *a = &st->tensors[st->by_name[i - 1].index];
        const lk_safetensors_tensor *b = &st->tensors[st->by_name[i].index];
        if (strcmp(a->info.name, b->info.name) != 0) continue;
        if (a->shard == b->shard)
            return lk_error_set(err, LK_ERR_FORMAT, "%s: tensor '%s' appears twice in the header",
                                st->shards[a->shard].path, a->info.name);
        return lk_error_set(err, LK_ERR_FORMAT, "tensor '%s' appears in two shards: %s and %s",
                            a->info.name, st->shards[a->shard].path, st->shards[b->shard].path);
    }
    return LK_OK;
}

/* ---------------------------------------------------------------- opening */

static lk_status new_object(uint32_t n_shards, lk_safetensors **out, lk_error *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return lk_error_set(err, LK_ERR_NOMEM, "safetensors: out of memory");
    lk_status s = add_shards(*out, n_shards, err);
    if (s != LK_OK) {
        lk_safetensors_close(*out);
        *out = NULL;
    }
    return s;
}

lk_status lk_safetensors_open_memory(const void *data, size_t size, const char *name,
                                     lk_safetensors **out, lk_error *err) {
    lk_safetensors *st;
    lk_status s = new_object(1, &st, err);
    if (s != LK_OK) return s;
    st->shards[0].path = dup_str(name ? name : "(memory)");
    if (!st->shards[0].path) s = lk_error_set(err, LK_ERR_NOMEM, "safetensors: out of memory");
    if (s == LK_OK) s = parse_shard(st, 0, data, size, err);
    if (s == LK_OK) s = index_names(st, err);
    if (s != LK_OK) {
        lk_safetensors_close(st);
        st = NULL;
    }
    *out = st;
    return s;
}

/* Maps and parses every path as one shard each. */
static lk_status open_files(char *const *paths, uint32_t n, lk_safetensors **out, lk_error *err) {
    lk_safetensors *st;
    lk_status s = new_object(n, &st, err);
    if (s != LK_OK) return s;
    for (uint32_t i = 0; i < n && s == LK_OK; i++) {
        st_shard *sh = &st->shards[i];
        sh->path = dup_str(paths[i]);
        if (!sh->path) {
            s = lk_error_set(err, LK_ERR_NOMEM, "safetensors: out of memory");
            break;
        }
        s = lk_mmap_open(sh->path, &sh->map, err);
        if (s == LK_OK) s = parse_shard(st, i, sh->map.data, sh->map.size, err);
    }
    if (s == LK_OK) s = index_names(st, err);
    if (s != LK_OK) {
        lk_safetensors_close(st);
        st = NULL;
    }
    *out = st;
    return s;
}

lk_status lk_safetensors_open(const char *path, lk_safetensors **out, lk_error *err) {
    char *paths[1] = {(char *)path};
    return open_files(paths, 1, out, err);
}

static char *join_path(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static void free_paths(char **paths, size_t n) {
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

lk_status lk_safetensors_open_index(const char *index_path, lk_safetensors **out, lk_error *err) {
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    lk_status s = lk_read_file(index_path, LK_SAFETENSORS_MAX_HEADER, &text, &len, err);
    if (s != LK_OK) return s;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!root) return lk_error_set(err, LK_ERR_FORMAT, "%s: not valid JSON", index_path);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    char **paths = NULL;
    uint32_t n_paths = 0;
    char *dir = NULL;
    if (!cJSON_IsObject(map)) {
        s = lk_error_set(err, LK_ERR_FORMAT, "%s: no \"weight_map\" object", index_path);
        goto done;
    }
    /* The folder the shard names are relative to. */
    dir = dup_str(index_path);
    if (!dir) {
        s = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", index_path);
        goto done;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");

    /* Distinct shard names in order of first appearance; each is mapped once. */
    size_t n_entries = (size_t)cJSON_GetArraySize(map);
    char **names = calloc(n_entries ? n_entries : 1, sizeof *names); /* borrowed from root */
    paths = calloc(n_entries ? n_entries : 1, sizeof *paths);
    if (!names || !paths) {
        free(names);
        s = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", index_path);
        goto done;
    }
    for (const cJSON *e = map->child; e && s == LK_OK; e = e->next) {
        const char *file = cJSON_GetStringValue(e);
        if (!file || !*file || strchr(file, '/') || strcmp(file, ".") == 0 ||
            strcmp(file, "..") == 0) {
            s = lk_error_set(err, LK_ERR_FORMAT,
                             "%s: weight_map['%s'] is not a plain file name in the index's folder",
                             index_path, e->string);
            break;
        }
        uint32_t k = 0;
        while (k < n_paths && strcmp(names[k], file) != 0) k++;
        if (k < n_paths) continue;
        names[n_paths] = (char *)file;
        paths[n_paths] = join_path(dir, file);
        if (!paths[n_paths++]) s = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", index_path);
    }
    if (s == LK_OK && n_paths == 0)
        s = lk_error_set(err, LK_ERR_FORMAT, "%s: \"weight_map\" is empty", index_path);
    if (s == LK_OK) {
        s = open_files(paths, n_paths, out, err);
        if (s != LK_OK) lk_error_wrap(err, "%s: opening its shards", index_path);
    }
    /* Every tensor the index lists must be in the shard it names. */
    for (const cJSON *e = map->child; e && s == LK_OK; e = e->next) {
        const lk_safetensors_tensor *t = lk_safetensors_find_tensor(*out, e->string);
        uint32_t k = 0;
        while (k < n_paths && strcmp(names[k], e->valuestring) != 0) k++;
        if (!t || t->shard != k)
            s = lk_error_set(err, LK_ERR_FORMAT,
                             "%s: tensor '%s' is listed in shard %s but that file does not hold "
                             "it%s",
                             index_path, e->string, paths[k],
                             t ? " (it is in another shard)" : "");
    }
    free(names);
    if (s != LK_OK && *out) {
        lk_safetensors_close(*out);
        *out = NULL;
    }
done:
    free_paths(paths, n_paths);
    free(dir);
    cJSON_Delete(root);
    return s;
}

static bool is_regular_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

lk_status lk_safetensors_open_dir(const char *dir, lk_safetensors **out, lk_error *err) {
    *out = NULL;
    char *single = join_path(dir, "model.safetensors");
    char *index = join_path(dir, "model.safetensors.index.json");
    lk_status s = LK_OK;
    if (!single || !index) {
        s = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", dir);
    } else if (is_regular_file(single)) {
        s = lk_safetensors_open(single, out, err);
    } else if (is_regular_file(index)) {
        s = lk_safetensors_open_index(index, out, err);
    } else {
        /* Neither: every *.safetensors file in the folder, in name order. */
        DIR *d = opendir(dir);
        if (!d) {
            s = lk_error_set(err, errno == ENOENT ? LK_ERR_NOT_FOUND : LK_ERR_IO,
                             "%s: cannot open folder: %s", dir, strerror(errno));
            goto done;
        }
        char **paths = NULL;
        size_t n = 0, cap = 0;
        const char *suffix = ".safetensors";
        size_t slen = strlen(suffix);
        struct dirent *ent;
        while (s == LK_OK && (ent = readdir(d)) != NULL) {
            size_t len = strlen(ent->d_name);
            if (len <= slen || strcmp(ent->d_name + len - slen, suffix) != 0) continue;
            char *p = join_path(dir, ent->d_name);
            if (p && !is_regular_file(p)) {
                free(p);
                continue;
            }
            if (p && n == cap) {
                cap = cap ? cap * 2 : 8;
                char **np = realloc(paths, cap * sizeof *np);
                if (np) paths = np;
                else {
                    free(p);
                    p = NULL;
                }
            }
            if (!p) s = lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", dir);
            else paths[n++] = p;
        }
        closedir(d);
        if (s == LK_OK && n == 0)
            s = lk_error_set(err, LK_ERR_NOT_FOUND,
                             "%s: no model.safetensors, model.safetensors.index.json or "
                             "*.safetensors file in this folder",
                             dir);
        if (s == LK_OK && n > UINT32_MAX)
            s = lk_error_set(err, LK_ERR_RANGE, "%s: too many .safetensors files", dir);
        if (s == LK_OK) {
            qsort(paths, n, sizeof *paths, cmp_str);
            s = open_files(paths, (uint32_t)n, out, err);
        }
        free_paths(paths, n);
    }
done:
    free(single);
    free(index);
    return s;
}

/* ---------------------------------------------------------------- accessors */

uint32_t lk_safetensors_shard_count(const lk_safetensors *st) { return st->n_shards; }

const char *lk_safetensors_shard_path(const lk_safetensors *st, uint32_t i) {
    return i < st->n_shards ? st->shards[i].path : NULL;
}

size_t lk_safetensors_tensor_count(const lk_safetensors *st) { return st->n_tensors; }

const lk_safetensors_tensor *lk_safetensors_tensor_at(const lk_safetensors *st, size_t i) {
    return i < st->n_tensors ? &st->tensors[i] : NULL;
}

const lk_safetensors_tensor *lk_safetensors_find_tensor(const lk_safetensors *st,
                                                        const char *name) {
    size_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->by_name[mid].name, name);
        if (c == 0) return &st->tensors[st->by_name[mid].index];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t lk_safetensors_metadata_count(const lk_safetensors *st) { return st->n_meta; }

const char *lk_safetensors_metadata_key(const lk_safetensors *st, size_t i) {
    return i < st->n_meta ? st->meta_keys[i] : NULL;
}

const char *lk_safetensors_metadata_value(const lk_safetensors *st, size_t i) {
    return i < st->n_meta ? st->meta_values[i] : NULL;
}

const char *lk_safetensors_metadata_get(const lk_safetensors *st, const char *key) {
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

/* ---------------------------------------------------------------- writer */

typedef struct {
    char *name;
    lk_dtype dtype;
    int32_t n_dims;
    int64_t shape[LK_SAFETENSORS_MAX_DIMS];
    const void *data;
    uint64_t nbytes;
} st_pending;

struct lk_safetensors_writer {
    st_pending *tensors;
    size_t n_tensors, cap_tensors;
    char **meta_keys, **meta_values;
    size_t n_meta, cap_meta;
};

lk_safetensors_writer *lk_safetensors_writer_new(void) { return calloc(1, sizeof(lk_safetensors_writer)); }

void lk_safetensors_writer_free(lk_safetensors_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->tensors);
    for (size_t i = 0; i < w->n_meta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_values[i]);
    }
    free(w->meta_keys);
    free(w->meta_values);
    free(w);
}

/* Names and metadata must be UTF-8; control characters are fine (the writer escapes them). */
static bool valid_utf8_text(const char *s) {
    size_t n = strlen(s);
    return first_bad_utf8((const uint8_t *)s, n, false) == n;
}

lk_status lk_safetensors_writer_set_metadata(lk_safetensors_writer *w, const char *key,
                                             const char *value, lk_error *err) {
    if (!valid_utf8_text(key) || !valid_utf8_text(value))
        return lk_error_set(err, LK_ERR_ARG, "safetensors writer: metadata '%s' is not valid UTF-8",
                            key);
    char *v = dup_str(value);
    if (!v) return lk_error_set(err, LK_ERR_NOMEM, "safetensors writer: out of memory");
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta_keys[i], key) == 0) {
            free(w->meta_values[i]);
            w->meta_values[i] = v;
            return LK_OK;
        }
    if (w->n_meta == w->cap_meta) {
        size_t cap = w->cap_meta ? w->cap_meta * 2 : 8;
        char **k = realloc(w->meta_keys, cap * sizeof *k);
        if (k) w->meta_keys = k;
        char **vs = k ? realloc(w->meta_values, cap * sizeof *vs) : NULL;
        if (vs) w->meta_values = vs;
        if (!k || !vs) {
            free(v);
            return lk_error_set(err, LK_ERR_NOMEM, "safetensors writer: out of memory");
        }
        w->cap_meta = cap;
    }
    char *k = dup_str(key);
    if (!k) {
        free(v);
        return lk_error_set(err, LK_ERR_NOMEM, "safetensors writer: out of memory");
    }
    w->meta_keys[w->n_meta] = k;
    w->meta_values[w->n_meta] = v;
    w->n_meta++;
    return LK_OK;
}

lk_status lk_safetensors_writer_add_tensor(lk_safetensors_writer *w, const char *name,
                                           lk_dtype dtype, int32_t n_dims, const int64_t *shape,
                                           const void *data, uint64_t nbytes, lk_error *err) {
    if (!name || !*name || strcmp(name, "__metadata__") == 0 || !valid_utf8_text(name))
        return lk_error_set(err, LK_ERR_ARG,
                            "safetensors writer: tensor name '%s' is empty, reserved or not UTF-8",
                            name ? name : "(null)");
    if (!lk_safetensors_dtype_name(dtype))
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "safetensors writer: tensor '%s': dtype %s cannot be stored in "
                            "safetensors (quantized types are GGUF-only)",
                            name, lk_dtype_name(dtype) ? lk_dtype_name(dtype) : "(invalid)");
    if (n_dims < 0 || n_dims > LK_SAFETENSORS_MAX_DIMS)
        return lk_error_set(err, LK_ERR_ARG, "safetensors writer: tensor '%s': %d dimensions", name,
                            (int)n_dims);
    uint64_t count = 1;
    for (int i = 0; i < n_dims; i++) {
        if (shape[i] < 0)
            return lk_error_set(err, LK_ERR_ARG,
                                "safetensors writer: tensor '%s': negative dimension", name);
        uint64_t u = (uint64_t)shape[i];
        if (u && count > UINT64_MAX / u)
            return lk_error_set(err, LK_ERR_RANGE, "safetensors writer: tensor '%s': too large",
                                name);
        count *= u;
    }
    uint64_t want = 0;
    if (count > INT64_MAX || !lk_dtype_row_bytes(dtype, (int64_t)count, &want) || want != nbytes ||
        (nbytes && !data))
        return lk_error_set(err, LK_ERR_ARG,
                            "safetensors writer: tensor '%s': %llu bytes given, dtype and shape "
                            "need %llu",
                            name, (unsigned long long)nbytes, (unsigned long long)want);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return lk_error_set(err, LK_ERR_ARG, "safetensors writer: tensor '%s' added twice",
                                name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 16;
        st_pending *t = realloc(w->tensors, cap * sizeof *t);
        if (!t) return lk_error_set(err, LK_ERR_NOMEM, "safetensors writer: out of memory");
        w->tensors = t;
        w->cap_tensors = cap;
    }
    st_pending *p = &w->tensors[w->n_tensors];
    memset(p, 0, sizeof *p);
    p->name = dup_str(name);
    if (!p->name) return lk_error_set(err, LK_ERR_NOMEM, "safetensors writer: out of memory");
    p->dtype = dtype;
    p->n_dims = n_dims;
    for (int i = 0; i < n_dims; i++) p->shape[i] = shape[i];
    p->data = data;
    p->nbytes = nbytes;
    w->n_tensors++;
    return LK_OK;
}

/* A growable text buffer for the header; `failed` latches an allocation failure. */
typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} st_text;

static void text_add(st_text *t, const char *s, size_t n) {
    if (t->failed) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1) cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->failed = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void text_puts(st_text *t, const char *s) { text_add(t, s, strlen(s)); }

static void text_u64(st_text *t, uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    text_puts(t, buf);
}

/* A JSON string, escaped as serde_json does: ", \ and control characters;
 * everything else (UTF-8 included) verbatim. */
static void text_json_string(st_text *t, const char *s) {
    text_add(t, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            text_add(t, esc, 2);
        } else if (c < 0x20) {
            const char *short_form = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                                     : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
            if (short_form) {
                text_puts(t, short_form);
            } else {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                text_puts(t, esc);
            }
        } else {
            text_add(t, (const char *)&c, 1);
        }
    }
    text_add(t, "\"", 1);
}

static lk_status build_header(const lk_safetensors_writer *w, st_text *h) {
    text_puts(h, "{");
    bool first = true;
    if (w->n_meta) {
        text_puts(h, "\"__metadata__\":{");
        for (size_t i = 0; i < w->n_meta; i++) {
            if (i) text_puts(h, ",");
            text_json_string(h, w->meta_keys[i]);
            text_puts(h, ":");
            text_json_string(h, w->meta_values[i]);
        }
        text_puts(h, "}");
        first = false;
    }
    uint64_t pos = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const st_pending *p = &w->tensors[i];
        if (!first) text_puts(h, ",");
        first = false;
        text_json_string(h, p->name);
        text_puts(h, ":{\"dtype\":\"");
        text_puts(h, lk_safetensors_dtype_name(p->dtype));
        text_puts(h, "\",\"shape\":[");
        for (int d = 0; d < p->n_dims; d++) {
            if (d) text_puts(h, ",");
            text_u64(h, (uint64_t)p->shape[d]);
        }
        text_puts(h, "],\"data_offsets\":[");
        text_u64(h, pos);
        text_puts(h, ",");
        text_u64(h, pos + p->nbytes);
        text_puts(h, "]}");
        pos += p->nbytes;
    }
    text_puts(h, "}");
    /* Spaces up to a multiple of 8, so the byte buffer starts 8-aligned. */
    while (!h->failed && h->len % 8 != 0) text_puts(h, " ");
    return h->failed ? LK_ERR_NOMEM : LK_OK;
}

lk_status lk_safetensors_writer_write(lk_safetensors_writer *w, const char *path, lk_error *err) {
    st_text h = {0};
    if (build_header(w, &h) != LK_OK) {
        free(h.p);
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory building the header", path);
    }
    if (h.len > LK_SAFETENSORS_MAX_HEADER) {
        free(h.p);
        return lk_error_set(err, LK_ERR_RANGE, "%s: header of %zu bytes exceeds the %u-byte limit",
                            path, h.len, LK_SAFETENSORS_MAX_HEADER);
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        free(h.p);
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    lk_status s = LK_OK;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        s = lk_error_set(err, LK_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    bool ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.p, 1, h.len, f) == h.len;
    for (size_t i = 0; ok && i < w->n_tensors; i++) {
        const st_pending *p = &w->tensors[i];
        /* fwrite takes size_t; write a huge tensor in pieces. */
        const uint8_t *src = p->data;
        uint64_t left = p->nbytes;
        while (ok && left) {
            size_t chunk = left > (1u << 30) ? (1u << 30) : (size_t)left;
            ok = fwrite(src, 1, chunk, f) == chunk;
            src += chunk;
            left -= chunk;
        }
    }
    int saved = errno;
    if (fflush(f) != 0) ok = false, saved = errno;
    if (fclose(f) != 0) ok = false, saved = errno;
    if (!ok) {
        s = lk_error_set(err, LK_ERR_IO, "%s: write failed: %s (disk full?)", tmp, strerror(saved));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        s = lk_error_set(err, LK_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
    }
out:
    free(tmp);
    free(h.p);
    return s;
}
