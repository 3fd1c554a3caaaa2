/* safetensors reader and writer, including sharded HF checkpoints.
 *
 * A safetensors file is
 *     u64 N (little-endian) | N bytes of JSON header | byte buffer
 * The header maps each tensor name to {"dtype", "shape", "data_offsets":
 * [begin, end)} with offsets relative to the byte buffer, plus an optional
 * "__metadata__" object of string -> string.
 *
 * The reader mmaps the file and checks everything before use: N against the
 * file size and a 100 MB cap, the header is valid UTF-8 JSON with no
 * duplicate names, every dtype is known, end - begin equals the element count
 * times the element size (overflow-checked), and the tensors tile the byte
 * buffer exactly (no overlap, no hole, nothing past the end), as the spec
 * requires. Tensor data is used in place, never copied; data pointers are only
 * as aligned as the file makes them (files from the HF library and from our
 * writer put the buffer at a multiple of 8).
 *
 * Sharded checkpoints (model.safetensors.index.json with a "weight_map" of
 * tensor name -> shard file) open as one object: each shard is mapped once
 * and all tensors appear in one table, each tagged with its shard.
 *
 * Shapes are row-major, slowest dimension first, as in PyTorch and as
 * lk_tensor_info wants. A scalar has n_dims 0 (one element).
 * Spec: https://github.com/huggingface/safetensors (README, "Format"). */
#ifndef LK_FORMAT_SAFETENSORS_H
#define LK_FORMAT_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

/* lk_tensor_info holds 4 dimensions; a valid file with more is LK_ERR_UNSUPPORTED. */
#define LK_SAFETENSORS_MAX_DIMS 4
/* The HF library refuses headers above 100 MB; so do we. */
#define LK_SAFETENSORS_MAX_HEADER (100u * 1000u * 1000u)

typedef struct {
    lk_tensor_info info; /* name (NUL-terminated copy), dtype, shape, data (into the mmap), nbytes */
    uint64_t offset;     /* data_offsets[0]: relative to its shard's byte buffer */
    uint32_t shard;      /* 0-based shard index (0 for a single file) */
} lk_safetensors_tensor;

typedef struct lk_safetensors lk_safetensors;

/* One .safetensors file. */
lk_status lk_safetensors_open(const char *path, lk_safetensors **out, lk_error *err);
/* Parses a buffer the caller keeps alive (fuzzing, tests); name is used in messages. */
lk_status lk_safetensors_open_memory(const void *data, size_t size, const char *name,
                                     lk_safetensors **out, lk_error *err);
/* A sharded checkpoint: path is the index JSON (model.safetensors.index.json).
 * Shard file names are taken relative to the index's folder and must not
 * contain '/'. A missing shard, or a tensor the index places in a shard that
 * lacks it, is an error; a tensor found in two shards is an error. */
lk_status lk_safetensors_open_index(const char *index_path, lk_safetensors **out, lk_error *err);
/* A model folder: model.safetensors if present, else
 * model.safetensors.index.json, else every *.safetensors file in it (in name
 * order, as shards). LK_ERR_NOT_FOUND when it holds none. */
lk_status lk_safetensors_open_dir(const char *dir, lk_safetensors **out, lk_error *err);
void lk_safetensors_close(lk_safetensors *st);

uint32_t lk_safetensors_shard_count(const lk_safetensors *st);
/* The file path of shard i (the name given to open_memory for a buffer). */
const char *lk_safetensors_shard_path(const lk_safetensors *st, uint32_t i);

/* Tensors, shard by shard, each shard's in header order. */
size_t lk_safetensors_tensor_count(const lk_safetensors *st);
const lk_safetensors_tensor *lk_safetensors_tensor_at(const lk_safetensors *st, size_t i);
/* NULL when absent. */
const lk_safetensors_tensor *lk_safetensors_find_tensor(const lk_safetensors *st,
                                                        const char *name);

/* "__metadata__" pairs in header order (of the first shard, for a sharded
 * checkpoint). Keys and values are NUL-terminated copies. */
size_t lk_safetensors_metadata_count(const lk_safetensors *st);
const char *lk_safetensors_metadata_key(const lk_safetensors *st, size_t i);
const char *lk_safetensors_metadata_value(const lk_safetensors *st, size_t i);
/* NULL when absent. */
const char *lk_safetensors_metadata_get(const lk_safetensors *st, const char *key);

/* "F32" -> LK_DTYPE_F32, ... (exact, case-sensitive, as the spec spells them);
 * LK_DTYPE_INVALID when unknown. */
lk_dtype lk_safetensors_dtype_from_name(const char *name);
/* LK_DTYPE_F32 -> "F32"; NULL for a type safetensors cannot hold (quantized). */
const char *lk_safetensors_dtype_name(lk_dtype t);

/* ---------------------------------------------------------------- writer */

typedef struct lk_safetensors_writer lk_safetensors_writer;

lk_safetensors_writer *lk_safetensors_writer_new(void);
void lk_safetensors_writer_free(lk_safetensors_writer *w);

/* A "__metadata__" entry; setting a key twice replaces its value. Copied. */
lk_status lk_safetensors_writer_set_metadata(lk_safetensors_writer *w, const char *key,
                                             const char *value, lk_error *err);
/* shape is row-major (n_dims <= 4; 0 for a scalar). The name is copied; data
 * is referenced, not copied: keep it alive until write. nbytes must equal
 * what dtype and shape imply. Tensors are laid out in the byte buffer, and
 * listed in the header, in the order they are added. */
lk_status lk_safetensors_writer_add_tensor(lk_safetensors_writer *w, const char *name,
                                           lk_dtype dtype, int32_t n_dims, const int64_t *shape,
                                           const void *data, uint64_t nbytes, lk_error *err);
/* Writes compact JSON ("__metadata__" first when set) padded with spaces to a
 * multiple of 8 bytes, as the HF library does, then the data. Writes to
 * "<path>.tmp" and renames on success; on failure nothing is left behind. */
lk_status lk_safetensors_writer_write(lk_safetensors_writer *w, const char *path, lk_error *err);

#endif
