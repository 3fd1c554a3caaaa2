/* What the GGUF reader (gguf_read.c) shares with the split-file opener
 * (gguf_split.c): an lk_gguf is built one shard at a time, then finished. */
#ifndef LK_FORMAT_GGUF_INTERNAL_H
#define LK_FORMAT_GGUF_INTERNAL_H

#include "base/mmap.h"
#include "format/gguf.h"

/* An empty lk_gguf (no shards yet); NULL when out of memory. */
lk_gguf *gguf_new(void);

/* Parses one shard held in data[0, size) and appends it (and its tensors).
 * map, when not NULL, is taken over and unmapped by lk_gguf_close, also when
 * this fails. name is copied and used in messages. */
lk_status gguf_add_shard(lk_gguf *g, const void *data, size_t size, lk_mmap *map,
                         const char *name, lk_error *err);

/* After the last shard: indexes tensor names across shards and rejects duplicates. */
lk_status gguf_finish(lk_gguf *g, lk_error *err);

/* A key of one shard (the public lk_gguf_get sees shard 0 only). */
const lk_gguf_value *gguf_shard_get(const lk_gguf *g, uint32_t shard, const char *key);
size_t gguf_shard_tensor_count(const lk_gguf *g, uint32_t shard);
const char *gguf_shard_name(const lk_gguf *g, uint32_t shard);

#endif
