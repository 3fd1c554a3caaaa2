/* Quantization against llama.cpp's own output, plus edge cases.
 *
 * tests/golden/quant/ holds bytes and dequantization hashes written by
 * llama.cpp's libggml-base (make_golden.py there says how): for every type
 * llmkit must write the same bytes from the same floats and decode any
 * block, including random ones, to the very same floats. The fixtures test
 * (test_quant_fixtures.c) does the same on real model files. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "test.h"

static const lk_dtype k_types[] = {LK_DTYPE_F16,  LK_DTYPE_BF16, LK_DTYPE_Q4_0, LK_DTYPE_Q4_1,
                                   LK_DTYPE_Q5_0, LK_DTYPE_Q5_1, LK_DTYPE_Q8_0, LK_DTYPE_Q8_1,
                                   LK_DTYPE_Q2_K, LK_DTYPE_Q3_K, LK_DTYPE_Q4_K, LK_DTYPE_Q5_K,
                                   LK_DTYPE_Q6_K, LK_DTYPE_Q8_K};
#define N_TYPES (sizeof k_types / sizeof k_types[0])

static uint64_t fnv1a64(const void *data, size_t n) {
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A golden file as a heap buffer (NULL and a failed check if unreadable). */
static char *read_golden(const char *name, size_t *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/quant/%s", lk_test_source_dir(), name);
    char *data = NULL;
    lk_error err;
    lk_status st = lk_read_file(path, 1 << 20, &data, size, &err);
    CHECK_MSG(st == LK_OK, "%s", err.msg);
    return st == LK_OK ? data : NULL;
}

typedef struct {
    char name[16];
    size_t qbytes, rbytes;
    bool has_dequant;
    uint64_t qhash, rhash;
} golden_entry;

static bool find_manifest_entry(const char *manifest, const char *name, golden_entry *e) {
    const char *line = manifest;
    while (line && *line) {
        char h1[32], h2[32];
        unsigned long long qb, rb;
        if (line[0] != '#' &&
            sscanf(line, "%15s %llu %31s %llu %31s", e->name, &qb, h1, &rb, h2) == 5 &&
            strcmp(e->name, name) == 0) {
            e->qbytes = (size_t)qb;
            e->rbytes = (size_t)rb;
            e->has_dequant = strcmp(h1, "-") != 0;
            e->qhash = e->has_dequant ? strtoull(h1, NULL, 16) : 0;
            e->rhash = e->has_dequant ? strtoull(h2, NULL, 16) : 0;
            return true;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return false;
}

/* Index of the first differing block, or -1. */
static long first_bad_block(const uint8_t *a, const uint8_t *b, size_t n, size_t block_bytes) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return (long)(i / block_bytes);
    return -1;
}

static void test_golden(void) {
    size_t input_size, manifest_size;
    char *input = read_golden("input.f32", &input_size);
    char *manifest = read_golden("manifest.txt", &manifest_size);
    if (!input || !manifest) {
        free(input);
        free(manifest);
        return;
    }
    const float *x = (const float *)(void *)input;
    const int64_t n = (int64_t)(input_size / sizeof(float));
    for (size_t t = 0; t < N_TYPES; t++) {
        const lk_dtype type = k_types[t];
        const lk_dtype_traits *tr = lk_dtype_traits_of(type);
        golden_entry e;
        if (!find_manifest_entry(manifest, tr->name, &e)) {
            CHECK_MSG(false, "%s missing from manifest.txt", tr->name);
            continue;
        }
        char fname[64];
        size_t ref_size, rnd_size;
        snprintf(fname, sizeof fname, "%s.bin", tr->name);
        char *ref = read_golden(fname, &ref_size);
        snprintf(fname, sizeof fname, "random_%s.bin", tr->name);
        char *rnd = read_golden(fname, &rnd_size);
        uint64_t nbytes = 0;
        CHECK(lk_dtype_row_bytes(type, n, &nbytes));
        if (ref && rnd && ref_size == nbytes && rnd_size == e.rbytes) {
            /* Quantize: same bytes. */
            uint8_t *q = malloc(nbytes);
            CHECK_EQ_INT(lk_quantize_row(type, x, q, n), LK_OK);
            long bad = first_bad_block(q, (const uint8_t *)ref, nbytes, (size_t)tr->type_size);
            CHECK_MSG(bad < 0, "%s: quantized block %ld differs from llama.cpp's", tr->name, bad);
            /* Dequantize llama.cpp's bytes and random blocks: same floats. */
            if (e.has_dequant) {
                float *y = malloc((size_t)n * sizeof(float));
                CHECK_EQ_INT(lk_dequantize_row(type, ref, y, n), LK_OK);
                CHECK_MSG(fnv1a64(y, (size_t)n * sizeof(float)) == e.qhash,
                          "%s: dequantized floats differ from llama.cpp's", tr->name);
                const int64_t nr = (int64_t)(rnd_size / (size_t)tr->type_size) * tr->block_size;
                float *yr = malloc((size_t)nr * sizeof(float));
                CHECK_EQ_INT(lk_dequantize_row(type, rnd, yr, nr), LK_OK);
                CHECK_MSG(fnv1a64(yr, (size_t)nr * sizeof(float)) == e.rhash,
                          "%s: dequantized random blocks differ from llama.cpp's", tr->name);
                free(yr);
                free(y);
            }
            free(q);
        } else {
            CHECK_MSG(false, "%s: golden files have the wrong size", tr->name);
        }
        free(ref);
        free(rnd);
    }
    free(input);
    free(manifest);
}

/* ------------------------------------------------------------ edge cases */

static uint32_t rng_state = 12345;
static float rand_unit(void) { return lk_test_rand_unit(&rng_state); }

/* Quantizes x, dequantizes, and returns the RMSE relative to x's RMS (or the
 * absolute RMSE when x is all zero); fails the check on any non-finite output. */
static double roundtrip(lk_dtype type, const float *x, int64_t n, float *y) {
    uint64_t nbytes = 0;
    CHECK(lk_dtype_row_bytes(type, n, &nbytes));
    uint8_t *q = malloc(nbytes ? nbytes : 1);
    CHECK_EQ_INT(lk_quantize_row(type, x, q, n), LK_OK);
    CHECK_EQ_INT(lk_dequantize_row(type, q, y, n), LK_OK);
    free(q);
    double se = 0, ss = 0;
    int64_t nonfinite = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) nonfinite++;
        se += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
        ss += (double)x[i] * x[i];
    }
    CHECK_MSG(nonfinite == 0, "%s: %lld non-finite outputs", lk_dtype_name(type),
              (long long)nonfinite);
    return ss > 0 ? sqrt(se / ss) : sqrt(se / (double)n);
}

/* The relative RMSE each type reaches on uniform random data; loose bounds
 * (about 1.5x what llama.cpp gets) that catch a broken packing at once. */
static double rmse_bound(lk_dtype t) {
    switch (t) {
    case LK_DTYPE_F32: return 0;
    case LK_DTYPE_F16: return 1e-3;
    case LK_DTYPE_BF16: return 5e-3;
    case LK_DTYPE_Q8_0:
    case LK_DTYPE_Q8_1:
    case LK_DTYPE_Q8_K: return 0.01;
    case LK_DTYPE_Q6_K: return 0.02;
    case LK_DTYPE_Q5_0:
    case LK_DTYPE_Q5_1:
    case LK_DTYPE_Q5_K: return 0.05;
    case LK_DTYPE_Q4_0:
    case LK_DTYPE_Q4_1:
    case LK_DTYPE_Q4_K: return 0.1;
    case LK_DTYPE_Q3_K: return 0.2;
    case LK_DTYPE_Q2_K: return 0.4;
    default: return 0;
    }
}

static void test_edge_cases(void) {
    enum { N = 3 * LK_QK_K }; /* three super-blocks, an odd count */
    static float x[N], y[N];
    const lk_dtype all[] = {LK_DTYPE_F32,  LK_DTYPE_F16,  LK_DTYPE_BF16, LK_DTYPE_Q4_0,
                            LK_DTYPE_Q4_1, LK_DTYPE_Q5_0, LK_DTYPE_Q5_1, LK_DTYPE_Q8_0,
                            LK_DTYPE_Q8_1, LK_DTYPE_Q2_K, LK_DTYPE_Q3_K, LK_DTYPE_Q4_K,
                            LK_DTYPE_Q5_K, LK_DTYPE_Q6_K, LK_DTYPE_Q8_K};
    for (size_t t = 0; t < sizeof all / sizeof all[0]; t++) {
        const lk_dtype type = all[t];
        const char *name = lk_dtype_name(type);

        /* All zero: exact zeros back. */
        memset(x, 0, sizeof x);
        double e = roundtrip(type, x, N, y);
        CHECK_MSG(e == 0, "%s: zeros come back as %g", name, e);

        /* Constant blocks, positive and negative: close (exact for most). */
        for (int i = 0; i < N; i++) x[i] = i < N / 2 ? 0.37f : -1.25f;
        e = roundtrip(type, x, N, y);
        CHECK_MSG(e < 0.02, "%s: constant blocks, relative RMSE %g", name, e);

        /* Random data at three magnitudes: the relative error does not
         * depend on scale while the half-precision scales stay normal. */
        const float mags[] = {1.0f, 1e3f, 2e-2f};
        for (size_t m = 0; m < 3; m++) {
            for (int i = 0; i < N; i++) x[i] = rand_unit() * mags[m];
            e = roundtrip(type, x, N, y);
            CHECK_MSG(e <= rmse_bound(type), "%s: magnitude %g, relative RMSE %g > %g", name,
                      mags[m], e, rmse_bound(type));
        }

        /* Tiny values (scales underflow to half subnormals or zero) and
         * values near the half range: finite output, no NaN. */
        for (int i = 0; i < N; i++) x[i] = rand_unit() * 1e-9f;
        roundtrip(type, x, N, y);
        for (int i = 0; i < N; i++) x[i] = rand_unit() * 6e4f;
        if (type != LK_DTYPE_Q4_1 && type != LK_DTYPE_Q5_1) /* their min may not fit */
            roundtrip(type, x, N, y);

        /* One huge outlier in an otherwise small block. */
        for (int i = 0; i < N; i++) x[i] = rand_unit() * 0.01f;
        x[7] = 100.0f;
        roundtrip(type, x, N, y);
    }
}

static void test_bad_args(void) {
    float x[LK_QK_K] = {0};
    uint8_t q[sizeof(lk_block_q8_k)];
    CHECK_EQ_INT(lk_quantize_row(LK_DTYPE_Q4_0, x, q, 31), LK_ERR_ARG);
    CHECK_EQ_INT(lk_quantize_row(LK_DTYPE_Q4_K, x, q, 128), LK_ERR_ARG);
    CHECK_EQ_INT(lk_quantize_row(LK_DTYPE_Q8_0, x, q, -32), LK_ERR_ARG);
    CHECK_EQ_INT(lk_dequantize_row(LK_DTYPE_Q6_K, q, x, 100), LK_ERR_ARG);
    CHECK_EQ_INT(lk_quantize_row(LK_DTYPE_I32, x, q, 4), LK_ERR_UNSUPPORTED);
    CHECK_EQ_INT(lk_dequantize_row(LK_DTYPE_INVALID, q, x, 4), LK_ERR_UNSUPPORTED);
    CHECK(!lk_quant_supported(LK_DTYPE_F64));
    CHECK(lk_quant_supported(LK_DTYPE_Q3_K));
    /* n = 0 is a valid empty row. */
    CHECK_EQ_INT(lk_quantize_row(LK_DTYPE_Q4_0, x, q, 0), LK_OK);
}

/* Exact small cases worked by hand. */
static void test_known_blocks(void) {
    float x[32], y[32];
    lk_block_q8_0 b8;
    for (int i = 0; i < 32; i++) x[i] = (float)(i - 16);
    lk_quantize_row_q8_0(x, &b8, 32);
    /* amax 16 -> d = 16/127; q = round(x * 127/16): -16 -> -127, 15 -> 119. */
    CHECK(b8.d == lk_f32_to_f16(16.0f / 127));
    CHECK_EQ_INT(b8.qs[0], -127);
    CHECK_EQ_INT(b8.qs[31], 119);
    lk_block_q4_0 b4;
    lk_quantize_row_q4_0(x, &b4, 32);
    /* max-magnitude element -16 -> d = 2, it maps to q = 0 (-8); x = 15 ->
     * 7.5 + 8.5 = 16 -> clamped to 15. */
    CHECK(b4.d == lk_f32_to_f16(2.0f));
    CHECK_EQ_INT(b4.qs[0] & 0xF, 0);
    CHECK_EQ_INT(b4.qs[15] >> 4, 15);
    lk_dequantize_row_q4_0(&b4, y, 32);
    CHECK_NEAR(y[0], -16.0f, 0);
    CHECK_NEAR(y[31], 14.0f, 0);
}

/* lk_convert_row equals dequantize + quantize of the whole row. */
static void test_convert(void) {
    enum { N = 4096 * 2 + 512 }; /* more than one internal piece, odd tail */
    static float x[N], f[N];
    static uint16_t h[N];
    static uint8_t a[N * 2], b[N * 2];
    for (int i = 0; i < N; i++) x[i] = rand_unit();
    CHECK_EQ_INT(lk_quantize_row(LK_DTYPE_BF16, x, h, N), LK_OK);
    const lk_dtype targets[] = {LK_DTYPE_Q4_K, LK_DTYPE_Q8_0, LK_DTYPE_F16, LK_DTYPE_Q6_K};
    for (size_t t = 0; t < 4; t++) {
        uint64_t nbytes = 0;
        CHECK(lk_dtype_row_bytes(targets[t], N, &nbytes));
        CHECK_EQ_INT(lk_convert_row(LK_DTYPE_BF16, h, targets[t], a, N), LK_OK);
        CHECK_EQ_INT(lk_dequantize_row(LK_DTYPE_BF16, h, f, N), LK_OK);
        CHECK_EQ_INT(lk_quantize_row(targets[t], f, b, N), LK_OK);
        CHECK_MSG(memcmp(a, b, nbytes) == 0, "convert bf16 -> %s", lk_dtype_name(targets[t]));
    }
    CHECK_EQ_INT(lk_convert_row(LK_DTYPE_F16, h, LK_DTYPE_Q4_K, a, 32), LK_ERR_ARG);
    CHECK_EQ_INT(lk_convert_row(LK_DTYPE_I8, h, LK_DTYPE_F16, a, 32), LK_ERR_UNSUPPORTED);
}

static void test_validate(void) {
    float x[512];
    for (int i = 0; i < 512; i++) x[i] = rand_unit();
    const lk_dtype types[] = {LK_DTYPE_F32,  LK_DTYPE_F16,  LK_DTYPE_BF16, LK_DTYPE_Q4_0,
                              LK_DTYPE_Q4_1, LK_DTYPE_Q5_1, LK_DTYPE_Q8_0, LK_DTYPE_Q2_K,
                              LK_DTYPE_Q3_K, LK_DTYPE_Q4_K, LK_DTYPE_Q5_K, LK_DTYPE_Q6_K,
                              LK_DTYPE_Q8_K};
    static uint8_t q[512 * 4];
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const lk_dtype type = types[t];
        const lk_dtype_traits *tr = lk_dtype_traits_of(type);
        uint64_t nbytes = 0, bad = 99;
        CHECK(lk_dtype_row_bytes(type, 512, &nbytes));
        CHECK_EQ_INT(lk_quantize_row(type, x, q, 512), LK_OK);
        CHECK_EQ_INT(lk_quant_validate(type, q, nbytes, &bad), LK_OK);
        CHECK_EQ_INT(lk_quant_validate(type, q, nbytes - 1, &bad), LK_ERR_ARG);
        /* A NaN in the last block's (first) scale, or its last element for
         * plain types: found, at the right block. */
        const uint64_t last = nbytes / (uint64_t)tr->type_size - 1;
        uint8_t *blk = q + last * (uint64_t)tr->type_size;
        size_t off = 0;
        if (type == LK_DTYPE_Q2_K) off = offsetof(lk_block_q2_k, d);
        if (type == LK_DTYPE_Q3_K) off = offsetof(lk_block_q3_k, d);
        if (type == LK_DTYPE_Q6_K) off = offsetof(lk_block_q6_k, d);
        if (type == LK_DTYPE_F32 || type == LK_DTYPE_Q8_K) {
            const float nan = NAN;
            memcpy(blk, &nan, 4);
        } else if (type == LK_DTYPE_BF16) {
            blk[0] = 0xc0;
            blk[1] = 0x7f;
        } else {
            blk[off] = 0x00;
            blk[off + 1] = 0x7e; /* half NaN */
        }
        CHECK_EQ_INT(lk_quant_validate(type, q, nbytes, &bad), LK_ERR_FORMAT);
        CHECK_EQ_INT(bad, last);
    }
    CHECK_EQ_INT(lk_quant_validate(LK_DTYPE_I32, q, 4, NULL), LK_ERR_UNSUPPORTED);
}

int main(void) {
    test_known_blocks();
    test_bad_args();
    test_golden();
    test_edge_cases();
    test_convert();
    test_validate();
    return lk_test_finish("test_quant");
}
