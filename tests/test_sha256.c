/* SHA-256 against the FIPS 180-2 / NIST example vectors (one block, two
 * blocks, a million 'a's) and the empty message, fed whole and byte by byte. */
#include <stdio.h>
#include <string.h>

#include "base/sha256.h"
#include "test.h"

static void hash_hex(const void *data, size_t len, size_t step, char hex[65]) {
    lk_sha256 h;
    uint8_t d[32];
    lk_sha256_init(&h);
    const uint8_t *p = data;
    for (size_t off = 0; off < len; off += step)
        lk_sha256_update(&h, p + off, len - off < step ? len - off : step);
    lk_sha256_final(&h, d);
    lk_sha256_hex(d, hex);
}

int main(void) {
    static const struct {
        const char *msg, *hex;
    } vectors[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        size_t len = strlen(vectors[i].msg);
        hash_hex(vectors[i].msg, len, len ? len : 1, hex);
        CHECK_EQ_STR(hex, vectors[i].hex);
        hash_hex(vectors[i].msg, len, 1, hex);
        CHECK_EQ_STR(hex, vectors[i].hex);
    }
    /* One million 'a' (FIPS 180-2 appendix B.3), in uneven pieces. */
    static char million[1000000];
    memset(million, 'a', sizeof million);
    hash_hex(million, sizeof million, 997, hex);
    CHECK_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    /* The file helper gives the same digest. */
    char path[512];
    snprintf(path, sizeof path, "%s/abc.txt", lk_test_tmpdir());
    FILE *f = fopen(path, "wb");
    fputs("abc", f);
    fclose(f);
    lk_error err;
    CHECK_OK(lk_sha256_file(path, hex, &err), &err);
    CHECK_EQ_STR(hex, vectors[1].hex);
    remove(path);
    CHECK(lk_sha256_file("/nonexistent/x", hex, &err) == LK_ERR_IO);
    return lk_test_finish("test_sha256");
}
