/* Element types: names, block sizes, byte sizes, and half-precision
 * conversions. Quantized types store blocks of `block_size` elements in
 * `type_size` bytes (GGML's layouts). */
#ifndef LK_TENSOR_DTYPE_H
#define LK_TENSOR_DTYPE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "llmkit.h"

typedef struct {
    const char *name; /* "f32", "q4_k" */
    int32_t block_size; /* elements per block (1 for plain types) */
    int32_t type_size;  /* bytes per block */
} lk_dtype_traits;

/* NULL for an unknown or invalid type. */
const lk_dtype_traits *lk_dtype_traits_of(lk_dtype t);
bool lk_dtype_valid(lk_dtype t);
/* Parses "f16", "Q4_K", "bf16", "BF16" (case-insensitive); LK_DTYPE_INVALID if unknown. */
lk_dtype lk_dtype_from_name(const char *name);

/* Bytes of n elements; false when n is not a multiple of the block size or it
 * overflows. */
bool lk_dtype_row_bytes(lk_dtype t, int64_t n, uint64_t *out);

/* IEEE half <-> float, exact (round-to-nearest-even on the way down). */
static inline float lk_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t lk_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7fffffff;
    if (absx > 0x7f800000) return (uint16_t)(sign | 0x7e00 | ((absx >> 13) & 0x3ff)); /* NaN */
    if (absx >= 0x477ff000) return (uint16_t)(sign | 0x7c00); /* overflow -> inf */
    if (absx < 0x38800000) { /* subnormal or zero in half */
        if (absx < 0x33000000) return (uint16_t)sign;
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14 + (113 - e) - 1 */
        uint32_t half = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t r = absx + 0xfff + ((absx >> 13) & 1) - 0x38000000; /* rebias, round */
    return (uint16_t)(sign | (r >> 13));
}

static inline float lk_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Round-to-nearest-even, NaN kept quiet (as PyTorch and ggml do). */
static inline uint16_t lk_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 64);
    return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

#endif
