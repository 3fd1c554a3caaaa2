/* Opening a GGUF path, and split models as llama.cpp's gguf-split writes them.
 *
 * A split model is NAME-00001-of-00003.gguf, NAME-00002-of-00003.gguf, ...
 * Each shard is a complete GGUF file holding some of the tensors; the first
 * holds all the model's metadata. Each shard also carries
 *   split.no            uint16  0-based shard index
 *   split.count         uint16  number of shards
 *   split.tensors.count int32   tensors in all shards together
 * Given any shard's path we derive the others' names from the pattern, open
 * them all, and check these keys agree with the names and with each other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "format/gguf_internal.h"

#define SPLIT_NO_KEY "split.no"
#define SPLIT_COUNT_KEY "split.count"
#define SPLIT_TENSORS_KEY "split.tensors.count"
#define SPLIT_MAX_SHARDS 65535 /* split.count is a uint16 */

bool lk_gguf_split_path(char *buf, size_t size, const char *prefix, uint32_t no, uint32_t count) {
    int n = snprintf(buf, size, "%s-%05u-of-%05u.gguf", prefix, no, count);
    return n >= 0 && (size_t)n < size;
}

/* Parses "PREFIX-0000N-of-0000M.gguf": fills prefix (a heap copy), no and
 * count. False when the path does not follow the pattern exactly. */
static bool parse_split_name(const char *path, char **prefix, uint32_t *no, uint32_t *count) {
    size_t len = strlen(path);
    static const char ext[] = ".gguf";
    if (len < sizeof ext - 1 || strcmp(path + len - (sizeof ext - 1), ext) != 0) return false;
    size_t end = len - (sizeof ext - 1); /* one past the count's digits */
    size_t i = end;
    while (i > 0 && path[i - 1] >= '0' && path[i - 1] <= '9') i--;
    size_t count_at = i;
    if (count_at == end || count_at < 4 || memcmp(path + count_at - 4, "-of-", 4) != 0)
        return false;
    size_t no_end = count_at - 4;
    i = no_end;
    while (i > 0 && path[i - 1] >= '0' && path[i - 1] <= '9') i--;
    size_t no_at = i;
    if (no_at == no_end || no_at == 0 || path[no_at - 1] != '-') return false;
    if (end - count_at > 9 || no_end - no_at > 9) return false; /* keep strtoul in range */
    unsigned long c = strtoul(path + count_at, NULL, 10);
    unsigned long k = strtoul(path + no_at, NULL, 10);
    if (c < 1 || c > SPLIT_MAX_SHARDS || k < 1 || k > c) return false;
    char *pre = strndup(path, no_at - 1);
    if (!pre) return false;
    /* Only names llama.cpp would write (5-digit zero padding) count as splits. */
    char check[8];
    snprintf(check, sizeof check, "%05lu", k);
    bool same = strlen(check) == no_end - no_at && memcmp(check, path + no_at, no_end - no_at) == 0;
    snprintf(check, sizeof check, "%05lu", c);
    same = same && strlen(check) == end - count_at &&
           memcmp(check, path + count_at, end - count_at) == 0;
    if (!same) {
        free(pre);
        return false;
    }
    *prefix = pre;
    *no = (uint32_t)k;
    *count = (uint32_t)c;
    return true;
}

static bool shard_int(const lk_gguf *g, uint32_t shard, const char *key, int64_t *out) {
    const lk_gguf_value *v = gguf_shard_get(g, shard, key);
    if (!v) return false;
    switch (v->type) {
    case LK_GGUF_UINT8: case LK_GGUF_UINT16: case LK_GGUF_UINT32: case LK_GGUF_UINT64:
        if (v->u64 > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)v->u64;
        return true;
    case LK_GGUF_INT8: case LK_GGUF_INT16: case LK_GGUF_INT32: case LK_GGUF_INT64:
        *out = v->i64;
        return true;
    default: return false;
    }
}

static lk_status add_file(lk_gguf *g, const char *path, lk_error *err) {
    lk_mmap map;
    lk_status st = lk_mmap_open(path, &map, err);
    if (st != LK_OK) return st;
    return gguf_add_shard(g, map.data, map.size, &map, path, err);
}

/* Checks each shard's split.no / split.count against its place in the set. */
static lk_status check_split_keys(const lk_gguf *g, uint32_t count, lk_error *err) {
    for (uint32_t s = 0; s < count; s++) {
        const char *name = gguf_shard_name(g, s);
        int64_t no, n;
        if (!shard_int(g, s, SPLIT_NO_KEY, &no) || !shard_int(g, s, SPLIT_COUNT_KEY, &n))
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: shard %u of %u lacks the integer keys '" SPLIT_NO_KEY
                                "' and '" SPLIT_COUNT_KEY "' that llama.cpp's gguf-split writes",
                                name, s + 1, count);
        if (no != (int64_t)s || n != (int64_t)count)
            return lk_error_set(err, LK_ERR_FORMAT,
                                "%s: its keys say shard %lld (0-based) of %lld, but its name "
                                "says shard %u of %u",
                                name, (long long)no, (long long)n, s + 1, count);
    }
    return LK_OK;
}

/* split.tensors.count, where present, must match the tensors found. */
static lk_status check_tensor_total(const lk_gguf *g, lk_error *err) {
    uint32_t count = lk_gguf_shard_count(g);
    int64_t total;
    if (shard_int(g, 0, SPLIT_TENSORS_KEY, &total) && total != (int64_t)lk_gguf_tensor_count(g))
        return lk_error_set(err, LK_ERR_FORMAT,
                            "%s: '" SPLIT_TENSORS_KEY "' says %lld tensors, but the %u shard(s) "
                            "hold %zu",
                            gguf_shard_name(g, 0), (long long)total, count,
                            lk_gguf_tensor_count(g));
    return LK_OK;
}

static lk_status open_split(lk_gguf *g, const char *path, const char *prefix, uint32_t no,
                            uint32_t count, lk_error *err) {
    size_t cap = strlen(prefix) + 32;
    char *shard_path = malloc(cap);
    if (!shard_path) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    lk_status st = LK_OK;
    for (uint32_t s = 1; s <= count && st == LK_OK; s++) {
        lk_gguf_split_path(shard_path, cap, prefix, s, count);
        st = add_file(g, shard_path, err);
        if (st == LK_ERR_NOT_FOUND && s != no)
            lk_error_set(err, LK_ERR_NOT_FOUND,
                         "%s: shard %u of %u is missing (opening the split model through %s, "
                         "shard %u; all shards must sit in the same folder)",
                         shard_path, s, count, path, no);
    }
    free(shard_path);
    if (st == LK_OK && count > 1) st = check_split_keys(g, count, err);
    return st;
}

lk_status lk_gguf_open(const char *path, lk_gguf **out, lk_error *err) {
    *out = NULL;
    lk_gguf *g = gguf_new();
    if (!g) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    char *prefix = NULL;
    uint32_t no, count;
    lk_status st;
    if (parse_split_name(path, &prefix, &no, &count)) {
        st = open_split(g, path, prefix, no, count, err);
        free(prefix);
    } else {
        st = add_file(g, path, err);
        int64_t n;
        if (st == LK_OK && shard_int(g, 0, SPLIT_COUNT_KEY, &n) && n > 1)
            st = lk_error_set(err, LK_ERR_FORMAT,
                              "%s: this file is one shard of a model split in %lld, but its name "
                              "does not follow NAME-00001-of-%05lld.gguf, so the other shards "
                              "cannot be found (keep the names llama.cpp's gguf-split gave them)",
                              path, (long long)n, (long long)n);
    }
    if (st == LK_OK) st = check_tensor_total(g, err);
    if (st == LK_OK) st = gguf_finish(g, err);
    if (st != LK_OK) {
        lk_gguf_close(g);
        return st;
    }
    *out = g;
    return LK_OK;
}
