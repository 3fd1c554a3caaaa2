/* GGUF v2/v3 reader and writer.
 *
 * The reader mmaps the file and checks every count, size and offset against
 * the file size before it uses it; tensor data is used in place. Split files
 * (NAME-00001-of-00003.gguf) are opened as one: pass any shard's path and
 * the tensors of all shards appear in one table (metadata comes from the
 * first shard).
 *
 * Shapes here are GGUF's own: ne[0] is the fastest-varying dimension.
 * Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md */
#ifndef LK_FORMAT_GGUF_H
#define LK_FORMAT_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

#define LK_GGUF_MAX_DIMS 4
#define LK_GGUF_DEFAULT_ALIGNMENT 32

typedef enum {
    LK_GGUF_UINT8 = 0,
    LK_GGUF_INT8 = 1,
    LK_GGUF_UINT16 = 2,
    LK_GGUF_INT16 = 3,
    LK_GGUF_UINT32 = 4,
    LK_GGUF_INT32 = 5,
    LK_GGUF_FLOAT32 = 6,
    LK_GGUF_BOOL = 7,
    LK_GGUF_STRING = 8,
    LK_GGUF_ARRAY = 9,
    LK_GGUF_UINT64 = 10,
    LK_GGUF_INT64 = 11,
    LK_GGUF_FLOAT64 = 12
} lk_gguf_type;

/* A string inside the file: not NUL-terminated, may hold any bytes. */
typedef struct {
    const char *ptr;
    uint64_t len;
} lk_gguf_str;

typedef struct lk_gguf_value lk_gguf_value;
struct lk_gguf_value {
    lk_gguf_type type;
    union {
        uint64_t u64;   /* UINT8/16/32/64 */
        int64_t i64;    /* INT8/16/32/64 */
        double f64;     /* FLOAT32/64 */
        bool b;         /* BOOL */
        lk_gguf_str str; /* STRING */
        struct {
            lk_gguf_type elem_type;
            uint64_t n;
            /* Numeric/bool elements: n packed little-endian elements, aligned
             * for the element type (copied when the file's bytes are not). */
            const void *data;
            /* STRING or ARRAY elements: n parsed items (NULL otherwise). */
            const lk_gguf_value *items;
        } arr;
    };
};

typedef struct {
    const char *name; /* NUL-terminated copy */
    uint32_t n_dims;
    int64_t ne[LK_GGUF_MAX_DIMS]; /* unused dims are 1 */
    lk_dtype type;
    uint64_t offset;  /* relative to the data section of its shard */
    const void *data; /* into the mmap */
    uint64_t nbytes;
    uint32_t shard;   /* 0-based shard index */
} lk_gguf_tensor;

typedef struct lk_gguf lk_gguf;

/* Errors: LK_ERR_FORMAT for a malformed file (the message names the file,
 * the byte offset or key/tensor, and what is wrong), LK_ERR_UNSUPPORTED for a
 * tensor type GGML has but llmkit lacks (iq*, tq*, mxfp4), LK_ERR_NOT_FOUND
 * for a missing file or shard, LK_ERR_IO. What is checked: docs/formats.md. */
lk_status lk_gguf_open(const char *path, lk_gguf **out, lk_error *err);
/* Parses a buffer the caller keeps alive (fuzzing, tests). name is used in messages. */
lk_status lk_gguf_open_memory(const void *data, size_t size, const char *name, lk_gguf **out,
                              lk_error *err);
void lk_gguf_close(lk_gguf *g);

/* lk_mmap_release over the file mappings of every shard (a GGUF read from a
 * caller's buffer has none: nothing is released). */
void lk_gguf_release_pages(const lk_gguf *g, const void *p, size_t n);

uint32_t lk_gguf_version(const lk_gguf *g);
uint32_t lk_gguf_alignment(const lk_gguf *g);
uint32_t lk_gguf_shard_count(const lk_gguf *g);

/* Metadata: key/value pairs in file order. */
size_t lk_gguf_kv_count(const lk_gguf *g);
const char *lk_gguf_kv_key(const lk_gguf *g, size_t i);
const lk_gguf_value *lk_gguf_kv_value(const lk_gguf *g, size_t i);
/* NULL when absent. */
const lk_gguf_value *lk_gguf_get(const lk_gguf *g, const char *key);

/* Typed getters: true when the key exists and converts exactly (any integer
 * type in range for the integer getters; F32/F64 for floats). */
bool lk_gguf_get_u32(const lk_gguf *g, const char *key, uint32_t *out);
bool lk_gguf_get_i64(const lk_gguf *g, const char *key, int64_t *out);
bool lk_gguf_get_f32(const lk_gguf *g, const char *key, float *out);
bool lk_gguf_get_bool(const lk_gguf *g, const char *key, bool *out);
bool lk_gguf_get_str(const lk_gguf *g, const char *key, lk_gguf_str *out);
/* A string array (tokenizer.ggml.tokens): n items. */
bool lk_gguf_get_str_array(const lk_gguf *g, const char *key, const lk_gguf_value **items,
                           uint64_t *n);
/* A numeric array of the given element type (e.g. FLOAT32 scores): packed data. */
bool lk_gguf_get_num_array(const lk_gguf *g, const char *key, lk_gguf_type elem_type,
                           const void **data, uint64_t *n);

/* Tensors of all shards. */
size_t lk_gguf_tensor_count(const lk_gguf *g);
const lk_gguf_tensor *lk_gguf_tensor_at(const lk_gguf *g, size_t i);
const lk_gguf_tensor *lk_gguf_find_tensor(const lk_gguf *g, const char *name);

const char *lk_gguf_type_name(lk_gguf_type t);

/* The path of shard `no` (1-based) of `count` as llama.cpp's gguf-split names
 * it: "<prefix>-00002-of-00003.gguf". False when buf is too small. */
bool lk_gguf_split_path(char *buf, size_t size, const char *prefix, uint32_t no, uint32_t count);

/* ---------------------------------------------------------------- writer */

typedef struct lk_gguf_writer lk_gguf_writer;

/* version 2 or 3; alignment 0 means 32 (then general.alignment is not written
 * unless set explicitly). Any other alignment that is not 32 is written as
 * general.alignment (after the other keys, unless set as a key). NULL for a
 * bad version, an alignment that is not a power of two, or no memory. */
lk_gguf_writer *lk_gguf_writer_new(uint32_t version, uint32_t alignment);
void lk_gguf_writer_free(lk_gguf_writer *w);

/* Setting a key twice replaces the value (keeping the key's first position).
 * Keys and strings are copied. LK_ERR_ARG for a key that is not UTF-8, a
 * malformed value, or a general.alignment that is not a uint32 power of two
 * (setting it changes the writer's alignment). */
lk_status lk_gguf_writer_set_u32(lk_gguf_writer *w, const char *key, uint32_t v);
lk_status lk_gguf_writer_set_i32(lk_gguf_writer *w, const char *key, int32_t v);
lk_status lk_gguf_writer_set_u64(lk_gguf_writer *w, const char *key, uint64_t v);
lk_status lk_gguf_writer_set_f32(lk_gguf_writer *w, const char *key, float v);
lk_status lk_gguf_writer_set_bool(lk_gguf_writer *w, const char *key, bool v);
lk_status lk_gguf_writer_set_str(lk_gguf_writer *w, const char *key, const char *v);
lk_status lk_gguf_writer_set_str_array(lk_gguf_writer *w, const char *key,
                                       const char *const *v, uint64_t n);
/* Numeric array: n packed elements of elem_type. */
lk_status lk_gguf_writer_set_num_array(lk_gguf_writer *w, const char *key,
                                       lk_gguf_type elem_type, const void *v, uint64_t n);
/* Any value, including nested arrays (deep-copied). */
lk_status lk_gguf_writer_set_value(lk_gguf_writer *w, const char *key, const lk_gguf_value *v);

/* ne in GGUF order. data is referenced, not copied: keep it alive until write.
 * nbytes must equal the size the type and shape imply. */
lk_status lk_gguf_writer_add_tensor(lk_gguf_writer *w, const char *name, lk_dtype type,
                                    uint32_t n_dims, const int64_t *ne, const void *data,
                                    uint64_t nbytes, lk_error *err);

/* Writes to "<path>.tmp" and renames on success; on failure nothing is left. */
lk_status lk_gguf_writer_write(lk_gguf_writer *w, const char *path, lk_error *err);

#endif
