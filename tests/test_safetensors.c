/* safetensors: the fixtures parse with the right dtypes, shapes and values;
 * the writer round-trips every dtype and the metadata byte for byte; sharded
 * checkpoints open as one table; a file written by an independent Python
 * writer (tests/ref/safetensors_ref.py, json+struct only) reads back; and a
 * battery of corrupted files each fails with LK_ERR_FORMAT and a message
 * naming the file and the culprit. */
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mmap.h"
#include "format/safetensors.h"
#include "tensor/dtype.h"
#include "test.h"

static const char *tmp_path(const char *name) {
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, 1024, "%s/%s", lk_test_tmpdir(), name);
    return b;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Whole file into memory (test helper; small files only). */
static uint8_t *slurp(const char *path, size_t *size) {
    char *buf = NULL;
    lk_error err;
    if (lk_read_file(path, 1u << 26, &buf, size, &err) != LK_OK) return NULL;
    return (uint8_t *)buf;
}

static void spit(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, size, f) == size);
    fclose(f);
}

/* ---------------------------------------------------------------- fixtures */

static void check_fixture(const char *rel, lk_dtype dtype, int n_dims, const int64_t *shape,
                          const double *values, int n_values) {
    const char *path = lk_test_fixture(rel);
    if (!path) {
        printf("  (fixture %s missing; skipped)\n", rel);
        return;
    }
    lk_error err;
    lk_safetensors *st = NULL;
    CHECK_OK(lk_safetensors_open(path, &st, &err), &err);
    if (!st) return;
    CHECK_EQ_INT(lk_safetensors_tensor_count(st), 1);
    const lk_safetensors_tensor *t = lk_safetensors_find_tensor(st, "embedding");
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ_STR(t->info.name, "embedding");
        CHECK_EQ_INT(t->info.dtype, dtype);
        CHECK_EQ_INT(t->info.n_dims, n_dims);
        for (int i = 0; i < n_dims; i++) CHECK_EQ_INT(t->info.shape[i], shape[i]);
        CHECK_EQ_INT(t->offset, 0);
        CHECK_EQ_INT(t->shard, 0);
        for (int i = 0; i < n_values; i++) {
            double v = dtype == LK_DTYPE_I32   ? ((const int32_t *)t->info.data)[i]
                       : dtype == LK_DTYPE_F64 ? ((const double *)t->info.data)[i]
                                               : ((const float *)t->info.data)[i];
            CHECK_NEAR(v, values[i], 0);
        }
    }
    CHECK(lk_safetensors_find_tensor(st, "nope") == NULL);
    CHECK_EQ_INT(lk_safetensors_metadata_count(st), 0);
    lk_safetensors_close(st);

    /* These files were written by the HF library; ours must rewrite them
     * byte for byte (same compact JSON, same padding). */
    size_t size;
    uint8_t *orig = slurp(path, &size);
    lk_safetensors *again = NULL;
    CHECK_OK(lk_safetensors_open(path, &again, &err), &err);
    lk_safetensors_writer *w = lk_safetensors_writer_new();
    const lk_tensor_info *ti = &lk_safetensors_tensor_at(again, 0)->info;
    CHECK_OK(lk_safetensors_writer_add_tensor(w, ti->name, ti->dtype, ti->n_dims, ti->shape,
                                              ti->data, ti->nbytes, &err),
             &err);
    const char *out = tmp_path("rewrite.safetensors");
    CHECK_OK(lk_safetensors_writer_write(w, out, &err), &err);
    size_t size2;
    uint8_t *copy = slurp(out, &size2);
    CHECK_MSG(orig && copy && size == size2 && memcmp(orig, copy, size) == 0,
              "%s: rewrite differs", rel);
    free(orig);
    free(copy);
    lk_safetensors_writer_free(w);
    lk_safetensors_close(again);
}

static void test_fixtures(void) {
    if (!lk_test_fixtures()) {
        printf("  (fixtures folder absent; fixture checks skipped)\n");
        return;
    }
    check_fixture("safetensors/tensor-1d-int32.safetensors", LK_DTYPE_I32, 1, (int64_t[]){3},
                  (double[]){1, 2, 3}, 3);
    check_fixture("safetensors/tensor-2d-float64.safetensors", LK_DTYPE_F64, 2,
                  (int64_t[]){2, 3}, (double[]){1, 2, 3, 24, 25, 26}, 6);
    check_fixture("safetensors/tensor-3d-float32.safetensors", LK_DTYPE_F32, 3,
                  (int64_t[]){2, 2, 3}, (double[]){22, 23, 24, 11, 12, 13, 2, 3, 4, 1, 2, 3}, 12);
    check_fixture("safetensors/tensor-4d-float32.safetensors", LK_DTYPE_F32, 4,
                  (int64_t[]){2, 3, 1, 3},
                  (double[]){11, 12, 13, 1, 2, 3, 4, 5, 6, 22, 23, 24, 15, 16, 17, 17, 18, 19}, 18);
}

/* ---------------------------------------------------------------- round trip */

static const struct {
    const char *st_name;
    lk_dtype dtype;
    int size;
} k_all[] = {
    {"F64", LK_DTYPE_F64, 8},  {"F32", LK_DTYPE_F32, 4},         {"F16", LK_DTYPE_F16, 2},
    {"BF16", LK_DTYPE_BF16, 2}, {"I64", LK_DTYPE_I64, 8},        {"I32", LK_DTYPE_I32, 4},
    {"I16", LK_DTYPE_I16, 2},  {"I8", LK_DTYPE_I8, 1},           {"U64", LK_DTYPE_U64, 8},
    {"U32", LK_DTYPE_U32, 4},  {"U16", LK_DTYPE_U16, 2},         {"U8", LK_DTYPE_U8, 1},
    {"BOOL", LK_DTYPE_BOOL, 1}, {"F8_E4M3", LK_DTYPE_F8_E4M3, 1}, {"F8_E5M2", LK_DTYPE_F8_E5M2, 1},
};
#define N_ALL (int)(sizeof k_all / sizeof k_all[0])

static void test_dtype_names(void) {
    for (int i = 0; i < N_ALL; i++) {
        CHECK_EQ_INT(lk_safetensors_dtype_from_name(k_all[i].st_name), k_all[i].dtype);
        CHECK_EQ_STR(lk_safetensors_dtype_name(k_all[i].dtype), k_all[i].st_name);
        const lk_dtype_traits *tr = lk_dtype_traits_of(k_all[i].dtype);
        CHECK(tr && tr->block_size == 1 && tr->type_size == k_all[i].size);
    }
    CHECK(lk_safetensors_dtype_from_name("f32") == LK_DTYPE_INVALID); /* case matters */
    CHECK(lk_safetensors_dtype_from_name("Q4_0") == LK_DTYPE_INVALID);
    CHECK(lk_safetensors_dtype_name(LK_DTYPE_Q4_K) == NULL);
}

static void test_round_trip(void) {
    lk_error err;
    /* Every dtype, shape [2, 3] (a scalar and an empty tensor too), data a
     * byte pattern unique per tensor. */
    uint8_t data[N_ALL][48];
    lk_safetensors_writer *w = lk_safetensors_writer_new();
    CHECK(w != NULL);
    CHECK_OK(lk_safetensors_writer_set_metadata(w, "format", "pt", &err), &err);
    CHECK_OK(lk_safetensors_writer_set_metadata(w, "note", "中文 \"quoted\"\n\\ tab\t", &err), &err);
    CHECK_OK(lk_safetensors_writer_set_metadata(w, "format", "pt2", &err), &err); /* replaces */
    for (int i = 0; i < N_ALL; i++) {
        for (int b = 0; b < 48; b++) data[i][b] = (uint8_t)(i * 31 + b * 7);
        char name[64];
        snprintf(name, sizeof name, "layer.%s.权重", k_all[i].st_name);
        int64_t shape[2] = {2, 3};
        CHECK_OK(lk_safetensors_writer_add_tensor(w, name, k_all[i].dtype, 2, shape, data[i],
                                                  (uint64_t)(6 * k_all[i].size), &err),
                 &err);
    }
    float scalar = 3.5f;
    CHECK_OK(lk_safetensors_writer_add_tensor(w, "scalar", LK_DTYPE_F32, 0, NULL, &scalar, 4, &err),
             &err);
    CHECK_OK(lk_safetensors_writer_add_tensor(w, "empty", LK_DTYPE_F16, 2, (int64_t[]){0, 5}, NULL,
                                              0, &err),
             &err);
    /* Writer-side argument checks. */
    CHECK(lk_safetensors_writer_add_tensor(w, "scalar", LK_DTYPE_F32, 0, NULL, &scalar, 4, &err) ==
          LK_ERR_ARG); /* twice */
    CHECK(lk_safetensors_writer_add_tensor(w, "bad", LK_DTYPE_F32, 1, (int64_t[]){2}, &scalar, 4,
                                           &err) == LK_ERR_ARG); /* wrong nbytes */
    CHECK(lk_safetensors_writer_add_tensor(w, "q", LK_DTYPE_Q4_0, 1, (int64_t[]){32}, data, 18,
                                           &err) == LK_ERR_UNSUPPORTED);
    CHECK(lk_safetensors_writer_add_tensor(w, "__metadata__", LK_DTYPE_U8, 0, NULL, data, 1,
                                           &err) == LK_ERR_ARG);
    CHECK(lk_safetensors_writer_add_tensor(w, "bad\xff", LK_DTYPE_U8, 0, NULL, data, 1, &err) ==
          LK_ERR_ARG);

    const char *path = tmp_path("all.safetensors");
    CHECK_OK(lk_safetensors_writer_write(w, path, &err), &err);
    CHECK(!file_exists(tmp_path("all.safetensors.tmp")));
    lk_safetensors_writer_free(w);

    size_t size;
    uint8_t *bytes = slurp(path, &size);
    CHECK(bytes != NULL);
    if (!bytes) return;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | bytes[i];
    CHECK_EQ_INT(hlen % 8, 0);
    CHECK(bytes[8] == '{');
    CHECK(memcmp(bytes + 8, "{\"__metadata__\":{\"format\":\"pt2\",", 32) == 0);

    lk_safetensors *st = NULL;
    CHECK_OK(lk_safetensors_open(path, &st, &err), &err);
    if (!st) {
        free(bytes);
        return;
    }
    CHECK_EQ_INT(lk_safetensors_tensor_count(st), N_ALL + 2);
    CHECK_EQ_INT(lk_safetensors_metadata_count(st), 2);
    CHECK_EQ_STR(lk_safetensors_metadata_key(st, 0), "format");
    CHECK_EQ_STR(lk_safetensors_metadata_get(st, "format"), "pt2");
    CHECK_EQ_STR(lk_safetensors_metadata_get(st, "note"), "中文 \"quoted\"\n\\ tab\t");
    CHECK(lk_safetensors_metadata_get(st, "absent") == NULL);
    uint64_t pos = 0;
    for (int i = 0; i < N_ALL; i++) {
        const lk_safetensors_tensor *t = lk_safetensors_tensor_at(st, (size_t)i);
        char name[64];
        snprintf(name, sizeof name, "layer.%s.权重", k_all[i].st_name);
        CHECK_EQ_STR(t->info.name, name);
        CHECK(lk_safetensors_find_tensor(st, name) == t);
        CHECK_EQ_INT(t->info.dtype, k_all[i].dtype);
        CHECK_EQ_INT(t->info.n_dims, 2);
        CHECK_EQ_INT(t->info.shape[0], 2);
        CHECK_EQ_INT(t->info.shape[1], 3);
        CHECK_EQ_INT(t->info.nbytes, 6 * k_all[i].size);
        CHECK_EQ_INT(t->offset, pos); /* laid out in the order added */
        CHECK(memcmp(t->info.data, data[i], t->info.nbytes) == 0);
        /* Data points into the mapped file, not a copy. */
        CHECK((const uint8_t *)t->info.data - (const uint8_t *)lk_safetensors_tensor_at(st, 0)->info.data ==
              (ptrdiff_t)pos);
        pos += t->info.nbytes;
    }
    const lk_safetensors_tensor *sc = lk_safetensors_find_tensor(st, "scalar");
    float sc_value = 0;
    if (sc) memcpy(&sc_value, sc->info.data, 4); /* placed after 6-byte tensors: unaligned */
    CHECK(sc && sc->info.n_dims == 0 && sc->info.nbytes == 4 && sc_value == 3.5f);
    CHECK_EQ_INT(((uintptr_t)lk_safetensors_tensor_at(st, 0)->info.data) % 8, 0);
    const lk_safetensors_tensor *em = lk_safetensors_find_tensor(st, "empty");
    CHECK(em && em->info.n_dims == 2 && em->info.shape[0] == 0 && em->info.shape[1] == 5 &&
          em->info.nbytes == 0);

    /* Rewriting what was read gives identical bytes. */
    lk_safetensors_writer *w2 = lk_safetensors_writer_new();
    for (size_t i = 0; i < lk_safetensors_metadata_count(st); i++)
        CHECK_OK(lk_safetensors_writer_set_metadata(w2, lk_safetensors_metadata_key(st, i),
                                                    lk_safetensors_metadata_value(st, i), &err),
                 &err);
    for (size_t i = 0; i < lk_safetensors_tensor_count(st); i++) {
        const lk_tensor_info *ti = &lk_safetensors_tensor_at(st, i)->info;
        CHECK_OK(lk_safetensors_writer_add_tensor(w2, ti->name, ti->dtype, ti->n_dims, ti->shape,
                                                  ti->data, ti->nbytes, &err),
                 &err);
    }
    const char *path2 = tmp_path("all2.safetensors");
    CHECK_OK(lk_safetensors_writer_write(w2, path2, &err), &err);
    size_t size2;
    uint8_t *bytes2 = slurp(path2, &size2);
    CHECK(bytes2 && size2 == size && memcmp(bytes, bytes2, size) == 0);
    free(bytes2);

    /* A failed write leaves nothing behind. */
    CHECK(lk_safetensors_writer_write(w2, "/nonexistent-dir/x.safetensors", &err) == LK_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent-dir/x.safetensors") != NULL);
    CHECK(!file_exists("/nonexistent-dir/x.safetensors.tmp"));
    if (file_exists("/dev/full")) {
        /* A full disk: the tmp file cannot be made in /dev, so write via a
         * symlink to /dev/full in our tmpdir. */
        const char *link_path = tmp_path("full.safetensors.tmp");
        if (symlink("/dev/full", link_path) == 0) {
            CHECK(lk_safetensors_writer_write(w2, tmp_path("full.safetensors"), &err) == LK_ERR_IO);
            CHECK(!file_exists(tmp_path("full.safetensors")));
            struct stat lst;
            CHECK(lstat(link_path, &lst) != 0); /* the tmp (here a link) is removed */
        }
    }
    lk_safetensors_writer_free(w2);

    /* open_memory reads the same. */
    lk_safetensors *mem = NULL;
    CHECK_OK(lk_safetensors_open_memory(bytes, size, "mem", &mem, &err), &err);
    CHECK(mem && lk_safetensors_tensor_count(mem) == (size_t)N_ALL + 2);
    lk_safetensors_close(mem);
    lk_safetensors_close(st);
    free(bytes);

    /* An empty writer makes a valid empty file ("{}" padded to 8). */
    lk_safetensors_writer *w3 = lk_safetensors_writer_new();
    const char *path3 = tmp_path("empty.safetensors");
    CHECK_OK(lk_safetensors_writer_write(w3, path3, &err), &err);
    lk_safetensors_writer_free(w3);
    CHECK_OK(lk_safetensors_open(path3, &st, &err), &err);
    CHECK(st && lk_safetensors_tensor_count(st) == 0);
    lk_safetensors_close(st);
}


/* ---------------------------------------------------------------- corrupted files */

/* Writes u64 length | header | data_len bytes of data, and returns the path. */
static const char *make_file(const char *name, const char *header, size_t data_len) {
    size_t hlen = strlen(header);
    size_t size = 8 + hlen + data_len;
    uint8_t *b = calloc(1, size);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(b + 8, header, hlen);
    const char *path = tmp_path(name);
    spit(path, b, size);
    free(b);
    return path;
}

/* Opening must fail with `want`, and the message must name the file and `key`. */
static void expect_bad(const char *path, lk_status want, const char *key) {
    lk_error err;
    lk_safetensors *st = (lk_safetensors *)1;
    lk_status s = lk_safetensors_open(path, &st, &err);
    CHECK_MSG(s == want, "%s: got %s, want %s (%s)", path, lk_status_name(s), lk_status_name(want),
              s == LK_OK ? "" : err.msg);
    CHECK(st == NULL);
    if (s != LK_OK) {
        CHECK_MSG(strstr(err.msg, path) != NULL, "message lacks the path: %s", err.msg);
        CHECK_MSG(!key || strstr(err.msg, key) != NULL, "message lacks '%s': %s", key, err.msg);
    }
    if (s == LK_OK) lk_safetensors_close(st);
}

static void test_corrupted(void) {
    const char *ok_header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    lk_error err;
    lk_safetensors *st = NULL;
    CHECK_OK(lk_safetensors_open(make_file("ok.st", ok_header, 8), &st, &err), &err);
    lk_safetensors_close(st);

    /* Truncated: the data section is short, then the header itself is cut. */
    expect_bad(make_file("trunc-data.st", ok_header, 4), LK_ERR_FORMAT, "'w'");
    {
        const char *path = tmp_path("trunc-len.st");
        spit(path, "\x10\x00\x00", 3);
        expect_bad(path, LK_ERR_FORMAT, "too short");
        path = tmp_path("empty.st");
        spit(path, "", 0);
        expect_bad(path, LK_ERR_FORMAT, "too short");
    }
    /* Header length beyond the file, and an absurd one. */
    {
        const char *path = make_file("hlen.st", ok_header, 8);
        size_t size;
        uint8_t *b = slurp(path, &size);
        b[0] = (uint8_t)(size - 7); /* one past the end */
        b[1] = (uint8_t)((size - 7) >> 8);
        spit(path, b, size);
        expect_bad(path, LK_ERR_FORMAT, "header length");
        memset(b, 0xff, 8);
        spit(path, b, size);
        expect_bad(path, LK_ERR_FORMAT, "exceeds");
        free(b);
    }
    expect_bad(make_file("json.st", "{\"w\":{\"dtype\":\"F32\",", 8), LK_ERR_FORMAT, "JSON");
    expect_bad(make_file("json2.st", "[1,2,3]", 0), LK_ERR_FORMAT, "object");
    expect_bad(make_file("json3.st", "{} x", 0), LK_ERR_FORMAT, "after");
    expect_bad(make_file("dtype.st", "{\"w\":{\"dtype\":\"F31\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "F31");
    expect_bad(make_file("mismatch.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "'w'");
    expect_bad(make_file("overlap.st",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                         12),
               LK_ERR_FORMAT, "overlap");
    expect_bad(make_file("hole.st",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                         12),
               LK_ERR_FORMAT, "'b'");
    expect_bad(make_file("trailing.st", ok_header, 12), LK_ERR_FORMAT, "after the last tensor");
    expect_bad(make_file("range.st", "{\"w\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[4,12]}}", 8),
               LK_ERR_FORMAT, "'w'");
    expect_bad(make_file("range2.st",
                         "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551615,0]}}", 8),
               LK_ERR_FORMAT, "'w'");
    expect_bad(make_file("reversed.st", "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8),
               LK_ERR_FORMAT, "'w'");
    expect_bad(make_file("negdim.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "shape[0]");
    expect_bad(make_file("fracdim.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "shape[0]");
    expect_bad(make_file("strdim.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "shape[0]");
    expect_bad(make_file("bigdims.st",
                         "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "overflow");
    expect_bad(make_file("5dims.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_UNSUPPORTED, "'w'");
    expect_bad(make_file("nooffsets.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8),
               LK_ERR_FORMAT, "data_offsets");
    expect_bad(make_file("badoffsets.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8),
               LK_ERR_FORMAT, "data_offsets");
    expect_bad(make_file("dup.st",
                         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                         8),
               LK_ERR_FORMAT, "'a'");
    expect_bad(make_file("utf8.st", "{\"w\xc3\x28\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "UTF-8");
    expect_bad(make_file("surrogate.st", "{\"w\xed\xa0\x80\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "UTF-8");
    expect_bad(make_file("meta.st",
                         "{\"__metadata__\":{\"format\":1},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "'format'");
    expect_bad(make_file("meta2.st", "{\"__metadata__\":[],\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "__metadata__");
    expect_bad(make_file("meta3.st",
                         "{\"__metadata__\":{\"k\":\"1\",\"j\":\"2\",\"k\":\"3\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
               LK_ERR_FORMAT, "'k'");
    expect_bad(make_file("entry.st", "{\"w\":[1]}", 0), LK_ERR_FORMAT, "'w'");
    expect_bad(make_file("nodata.st", "{}", 4), LK_ERR_FORMAT, "no tensors");
    {
        /* A NUL inside the header would cut the name short: rejected. */
        static const char h[] = "{\"w\0x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        size_t hlen = sizeof h - 1, size = 8 + hlen + 8;
        uint8_t *b = calloc(1, size);
        b[0] = (uint8_t)hlen;
        memcpy(b + 8, h, hlen);
        const char *path = tmp_path("nul.st");
        spit(path, b, size);
        free(b);
        expect_bad(path, LK_ERR_FORMAT, "UTF-8");
    }
    /* Missing file: not found, with the path. */
    expect_bad(tmp_path("does-not-exist.st"), LK_ERR_NOT_FOUND, NULL);
}

/* ---------------------------------------------------------------- independent writer */

/* tests/ref/safetensors_ref.safetensors, written by tests/ref/safetensors_ref.py
 * (json + struct only): pretty-printed header, fields and tensors in another
 * order, metadata last, unaligned data. Values are the script's. */
static void test_reference_file(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/ref/safetensors_ref.safetensors", lk_test_source_dir());
    lk_error err;
    lk_safetensors *st = NULL;
    CHECK_OK(lk_safetensors_open(path, &st, &err), &err);
    if (!st) return;
    CHECK_EQ_INT(lk_safetensors_tensor_count(st), 9);
    CHECK_EQ_STR(lk_safetensors_tensor_at(st, 0)->info.name, "中文.权重"); /* header order */
    CHECK_EQ_STR(lk_safetensors_metadata_get(st, "source"), "safetensors_ref.py");
    CHECK_EQ_STR(lk_safetensors_metadata_get(st, "语言"), "中文");

    const lk_safetensors_tensor *t;
    int64_t i64[6];
    t = lk_safetensors_find_tensor(st, "b.i64");
    CHECK(t && t->info.dtype == LK_DTYPE_I64 && t->info.n_dims == 2 && t->info.shape[0] == 2 &&
          t->info.shape[1] == 3 && t->offset == 0);
    if (t) {
        memcpy(i64, t->info.data, sizeof i64);
        CHECK(i64[0] == -3 && i64[3] == 0 && i64[5] == (int64_t)1 << 40);
    }
    float f32[4];
    t = lk_safetensors_find_tensor(st, "a.f32");
    CHECK(t && t->info.dtype == LK_DTYPE_F32 && t->info.shape[0] == 4 && t->offset == 48);
    if (t) {
        memcpy(f32, t->info.data, sizeof f32);
        CHECK(f32[0] == 0.5f && f32[1] == -1.25f && f32[2] == 3.0e-5f && f32[3] == 65504.0f);
    }
    uint16_t h[4];
    t = lk_safetensors_find_tensor(st, "c.f16");
    CHECK(t && t->info.dtype == LK_DTYPE_F16 && t->info.n_dims == 2);
    if (t) {
        memcpy(h, t->info.data, sizeof h);
        CHECK(lk_f16_to_f32(h[0]) == 1.0f && lk_f16_to_f32(h[1]) == -2.0f &&
              lk_f16_to_f32(h[2]) == 0.333251953125f && lk_f16_to_f32(h[3]) == 65504.0f);
    }
    t = lk_safetensors_find_tensor(st, "d.u8");
    CHECK(t && t->info.dtype == LK_DTYPE_U8 && memcmp(t->info.data, "\x00\x80\xff", 3) == 0);
    t = lk_safetensors_find_tensor(st, "e.bool");
    CHECK(t && t->info.dtype == LK_DTYPE_BOOL && memcmp(t->info.data, "\x01\x00", 2) == 0);
    t = lk_safetensors_find_tensor(st, "f.bf16");
    CHECK(t && t->info.dtype == LK_DTYPE_BF16);
    if (t) {
        memcpy(h, t->info.data, 4);
        CHECK(lk_bf16_to_f32(h[0]) == 1.0f && lk_bf16_to_f32(h[1]) == 3.140625f);
    }
    double f64;
    t = lk_safetensors_find_tensor(st, "g.f64");
    CHECK(t && t->info.dtype == LK_DTYPE_F64 && t->info.n_dims == 0 && t->info.nbytes == 8);
    if (t) {
        memcpy(&f64, t->info.data, 8);
        CHECK(f64 == 2.718281828459045);
    }
    t = lk_safetensors_find_tensor(st, "h.i8");
    CHECK(t && t->info.dtype == LK_DTYPE_I8 && t->info.n_dims == 3 && t->info.shape[1] == 2 &&
          memcmp(t->info.data, "\x80\x7f", 2) == 0);
    int32_t i32[2];
    t = lk_safetensors_find_tensor(st, "中文.权重");
    CHECK(t && t->info.dtype == LK_DTYPE_I32);
    if (t) {
        memcpy(i32, t->info.data, sizeof i32);
        CHECK(i32[0] == -7 && i32[1] == 123456789);
    }
    lk_safetensors_close(st);
}

/* ---------------------------------------------------------------- shards */

static void write_shard(const char *path, const char *const *names, const float *values, int n) {
    lk_error err;
    lk_safetensors_writer *w = lk_safetensors_writer_new();
    CHECK_OK(lk_safetensors_writer_set_metadata(w, "format", "pt", &err), &err);
    for (int i = 0; i < n; i++)
        CHECK_OK(lk_safetensors_writer_add_tensor(w, names[i], LK_DTYPE_F32, 1, (int64_t[]){2},
                                                  values + 2 * i, 8, &err),
                 &err);
    CHECK_OK(lk_safetensors_writer_write(w, path, &err), &err);
    lk_safetensors_writer_free(w);
}

static void write_text(const char *path, const char *text) { spit(path, text, strlen(text)); }

static const char *make_dir(const char *name) {
    const char *d = tmp_path(name);
    mkdir(d, 0755);
    return d;
}

static void test_shards(void) {
    static const float values[] = {1, 2, 3, 4, 5, 6, 7, 8};
    char p1[1024], p2[1024], idx[1024];
    const char *dir = make_dir("sharded");
    snprintf(p1, sizeof p1, "%s/model-00001-of-00002.safetensors", dir);
    snprintf(p2, sizeof p2, "%s/model-00002-of-00002.safetensors", dir);
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
    write_shard(p1, (const char *const[]){"a", "b"}, values, 2);
    write_shard(p2, (const char *const[]){"c", "d"}, values + 4, 2);
    write_text(idx, "{\"metadata\":{\"total_size\":32},\"weight_map\":{"
                    "\"a\":\"model-00001-of-00002.safetensors\","
                    "\"c\":\"model-00002-of-00002.safetensors\","
                    "\"b\":\"model-00001-of-00002.safetensors\","
                    "\"d\":\"model-00002-of-00002.safetensors\"}}");
    lk_error err;
    lk_safetensors *st = NULL;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0)
            CHECK_OK(lk_safetensors_open_index(idx, &st, &err), &err);
        else
            CHECK_OK(lk_safetensors_open_dir(dir, &st, &err), &err);
        if (!st) continue;
        CHECK_EQ_INT(lk_safetensors_shard_count(st), 2);
        CHECK_EQ_STR(lk_safetensors_shard_path(st, 1), p2);
        CHECK_EQ_INT(lk_safetensors_tensor_count(st), 4);
        const char *names[] = {"a", "b", "c", "d"};
        for (int i = 0; i < 4; i++) {
            const lk_safetensors_tensor *t = lk_safetensors_find_tensor(st, names[i]);
            CHECK(t && t->shard == (uint32_t)(i / 2) && t->offset == (uint64_t)(8 * (i % 2)));
            CHECK(t && memcmp(t->info.data, values + 2 * i, 8) == 0);
        }
        CHECK_EQ_STR(lk_safetensors_metadata_get(st, "format"), "pt");
        lk_safetensors_close(st);
        st = NULL;
    }

    /* A tensor listed in the index but absent from its shard. */
    write_text(idx, "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                    "\"zz\":\"model-00002-of-00002.safetensors\"}}");
    CHECK(lk_safetensors_open_index(idx, &st, &err) == LK_ERR_FORMAT && st == NULL);
    CHECK(strstr(err.msg, "'zz'") && strstr(err.msg, "model-00002-of-00002") && strstr(err.msg, idx));
    /* Listed in the wrong shard. */
    write_text(idx, "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\","
                    "\"c\":\"model-00001-of-00002.safetensors\"}}");
    CHECK(lk_safetensors_open_index(idx, &st, &err) == LK_ERR_FORMAT && st == NULL);
    CHECK(strstr(err.msg, "'a'") && strstr(err.msg, "another shard"));
    /* A missing shard. */
    write_text(idx, "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                    "\"x\":\"model-00003-of-00003.safetensors\"}}");
    CHECK(lk_safetensors_open_index(idx, &st, &err) == LK_ERR_NOT_FOUND && st == NULL);
    CHECK(strstr(err.msg, "model-00003-of-00003.safetensors") && strstr(err.msg, idx));
    /* Path escapes and a malformed index. */
    write_text(idx, "{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}}");
    CHECK(lk_safetensors_open_index(idx, &st, &err) == LK_ERR_FORMAT && strstr(err.msg, "'a'"));
    write_text(idx, "{\"weight_map\":[]}");
    CHECK(lk_safetensors_open_index(idx, &st, &err) == LK_ERR_FORMAT && strstr(err.msg, "weight_map"));
    write_text(idx, "{\"weight_map\":");
    CHECK(lk_safetensors_open_index(idx, &st, &err) == LK_ERR_FORMAT && strstr(err.msg, "JSON"));
    /* The same tensor in two shards (found when opening the folder's files). */
    write_shard(p2, (const char *const[]){"c", "a"}, values + 4, 2);
    unlink(idx);
    CHECK(lk_safetensors_open_dir(dir, &st, &err) == LK_ERR_FORMAT && st == NULL);
    CHECK(strstr(err.msg, "'a'") && strstr(err.msg, "two shards"));

    /* A folder with no index: every *.safetensors in name order. */
    write_shard(p2, (const char *const[]){"c", "d"}, values + 4, 2);
    CHECK_OK(lk_safetensors_open_dir(dir, &st, &err), &err);
    CHECK(st && lk_safetensors_shard_count(st) == 2 && lk_safetensors_tensor_count(st) == 4);
    CHECK(st && strcmp(lk_safetensors_tensor_at(st, 0)->info.name, "a") == 0);
    lk_safetensors_close(st);

    /* A folder with model.safetensors: just that file. */
    const char *single = make_dir("single");
    char sp[1024];
    snprintf(sp, sizeof sp, "%s/model.safetensors", single);
    write_shard(sp, (const char *const[]){"x"}, values, 1);
    CHECK_OK(lk_safetensors_open_dir(single, &st, &err), &err);
    CHECK(st && lk_safetensors_shard_count(st) == 1 && lk_safetensors_find_tensor(st, "x"));
    lk_safetensors_close(st);

    /* An empty folder, a missing one. */
    const char *empty = make_dir("emptydir");
    CHECK(lk_safetensors_open_dir(empty, &st, &err) == LK_ERR_NOT_FOUND && strstr(err.msg, empty));
    CHECK(lk_safetensors_open_dir(tmp_path("nope"), &st, &err) == LK_ERR_NOT_FOUND);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(void) {
    test_dtype_names();
    test_fixtures();
    test_round_trip();
    test_corrupted();
    test_reference_file();
    test_shards();
    nftw(lk_test_tmpdir(), remove_entry, 16, FTW_DEPTH | FTW_PHYS); /* only our files */
    return lk_test_finish("test_safetensors");
}
