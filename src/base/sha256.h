/* SHA-256 (FIPS 180-4), used to verify downloaded model files against the
 * sha256 the Hugging Face hub publishes for LFS files. Incremental: init,
 * update any number of times, final. Tested against the FIPS 180 vectors. */
#ifndef LK_BASE_SHA256_H
#define LK_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "llmkit.h"

typedef struct {
    uint32_t state[8];
    uint64_t length;   /* bytes hashed so far */
    uint8_t block[64]; /* pending input, `used` bytes of it */
    size_t used;
} lk_sha256;

void lk_sha256_init(lk_sha256 *h);
void lk_sha256_update(lk_sha256 *h, const void *data, size_t len);
void lk_sha256_final(lk_sha256 *h, uint8_t digest[32]);

/* The digest as 64 lower-case hex digits plus NUL. */
void lk_sha256_hex(const uint8_t digest[32], char hex[65]);

/* Hashes a whole file into hex[65]. */
lk_status lk_sha256_file(const char *path, char hex[65], lk_error *err);

#endif
