/* Base runtime: errors, dtypes and half-precision conversions, mmap. */
#include "base/error.h"
#include "base/mmap.h"
#include "tensor/dtype.h"
#include "test.h"

static void test_errors(void) {
    lk_error e;
    lk_error_clear(&e);
    CHECK(lk_error_set(&e, LK_ERR_FORMAT, "%s: bad magic", "x.gguf") == LK_ERR_FORMAT);
    CHECK_EQ_STR(e.msg, "x.gguf: bad magic");
    lk_error_wrap(&e, "loading %s", "model");
    CHECK_EQ_STR(e.msg, "loading model: x.gguf: bad magic");
    CHECK(lk_error_set(NULL, LK_ERR_IO, "ignored") == LK_ERR_IO);
}

static void test_dtypes(void) {
    CHECK_EQ_STR(lk_dtype_name(LK_DTYPE_Q4_K), "q4_k");
    CHECK(lk_dtype_from_name("BF16") == LK_DTYPE_BF16);
    CHECK(lk_dtype_from_name("nope") == LK_DTYPE_INVALID);
    uint64_t n;
    CHECK(lk_dtype_row_bytes(LK_DTYPE_Q4_0, 64, &n) && n == 36);
    CHECK(!lk_dtype_row_bytes(LK_DTYPE_Q4_0, 33, &n));
    CHECK(lk_dtype_row_bytes(LK_DTYPE_F16, 7, &n) && n == 14);
}

static void test_half(void) {
    /* Every half value round-trips through float exactly. */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = lk_f16_to_f32((uint16_t)h);
        uint16_t back = lk_f32_to_f16(f);
        bool nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff);
        if (!nan && back != h) bad++;
        if (nan && !isnan(f)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    /* Known values and rounding to nearest even. */
    CHECK(lk_f32_to_f16(1.0f) == 0x3c00);
    CHECK(lk_f32_to_f16(-2.0f) == 0xc000);
    CHECK(lk_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(lk_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(lk_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00);     /* tie -> even */
    CHECK(lk_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);     /* tie -> even (up) */
    CHECK(lk_f32_to_f16(5.960464477539063e-08f) == 0x0001); /* smallest subnormal */
    CHECK(lk_f32_to_f16(2.98e-08f) == 0x0000);
    CHECK(lk_f16_to_f32(0x3555) == 0.333251953125f);
    /* bf16 */
    CHECK(lk_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(lk_bf16_to_f32(0x4049) == 3.140625f);
    CHECK(lk_f32_to_bf16(1.00390625f) == 0x3f80); /* tie -> even */
    CHECK(lk_f32_to_bf16(1.01171875f) == 0x3f82); /* tie -> even (up) */
}

static void test_files(void) {
    lk_error err;
    lk_mmap m;
    CHECK(lk_mmap_open("/nonexistent/file", &m, &err) == LK_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "/nonexistent/file") != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/f.txt", lk_test_tmpdir());
    FILE *f = fopen(path, "wb");
    fputs("hello", f);
    fclose(f);
    CHECK_OK(lk_mmap_open(path, &m, &err), &err);
    CHECK(m.size == 5 && memcmp(m.data, "hello", 5) == 0);
    lk_mmap_close(&m);
    char *buf;
    size_t n;
    CHECK_OK(lk_read_file(path, 100, &buf, &n, &err), &err);
    CHECK(n == 5 && strcmp(buf, "hello") == 0);
    free(buf);
    CHECK(lk_read_file(path, 3, &buf, &n, &err) == LK_ERR_RANGE);
    remove(path);
}

int main(void) {
    test_errors();
    test_dtypes();
    test_half();
    test_files();
    return lk_test_finish("test_base");
}
