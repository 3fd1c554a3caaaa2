/* GGML quantization blocks, byte for byte as llama.cpp stores them in GGUF.
 *
 * A quantized row of n floats is n / QK consecutive blocks. Every scale
 * called `d`, `m`, `s` or `dmin` below is an IEEE half stored as its raw
 * 16 bits (convert with lk_f16_to_f32); Q8_K alone keeps a float scale,
 * since it only ever lives in memory as the activation side of a dot product.
 * Multi-byte fields are little-endian, as GGUF is; llmkit assumes a
 * little-endian host.
 *
 * Two families:
 *   - "legacy" blocks of 32: one scale (and a minimum for the _1 types) per
 *     32 weights. Q4_0/Q5_0/Q8_0 are symmetric (w = d*q), Q4_1/Q5_1 are
 *     affine (w = d*q + m).
 *   - K-quants, super-blocks of QK_K = 256 weights cut into 16 sub-blocks of
 *     16 (Q2_K, Q3_K, Q6_K) or 8 of 32 (Q4_K, Q5_K), each sub-block with a
 *     small integer scale (and min) that multiplies the super-block's half
 *     scale.
 * The bit packing of each type is spelled out in docs/quantization.md. */
#ifndef LK_TENSOR_QUANT_BLOCKS_H
#define LK_TENSOR_QUANT_BLOCKS_H

#include <stdint.h>
#include <string.h>

#define LK_QK4_0 32
#define LK_QK4_1 32
#define LK_QK5_0 32
#define LK_QK5_1 32
#define LK_QK8_0 32
#define LK_QK8_1 32
#define LK_QK_K 256
#define LK_K_SCALE_SIZE 12 /* bytes of packed 6-bit scales and mins (Q4_K, Q5_K) */

/* w[j] = d * (q[j] - 8); q[j] = qs[j] & 15 for j < 16, qs[j-16] >> 4 after. */
typedef struct {
    uint16_t d;
    uint8_t qs[LK_QK4_0 / 2];
} lk_block_q4_0;

/* w[j] = d * q[j] + m; nibbles as Q4_0. */
typedef struct {
    uint16_t d;
    uint16_t m;
    uint8_t qs[LK_QK4_1 / 2];
} lk_block_q4_1;

/* w[j] = d * (q[j] - 16); low 4 bits as Q4_0, bit 4 of q[j] is bit j of the
 * little-endian 32-bit qh. */
typedef struct {
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[LK_QK5_0 / 2];
} lk_block_q5_0;

/* w[j] = d * q[j] + m; bits as Q5_0. */
typedef struct {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[LK_QK5_1 / 2];
} lk_block_q5_1;

/* w[j] = d * qs[j]. */
typedef struct {
    uint16_t d;
    int8_t qs[LK_QK8_0];
} lk_block_q8_0;

/* Q8_0 plus s = d * sum(qs), so a dot product with an affine type can add
 * the minimum's contribution in one multiply. */
typedef struct {
    uint16_t d;
    uint16_t s;
    int8_t qs[LK_QK8_1];
} lk_block_q8_1;

/* 16 sub-blocks of 16; w = d*(scales[k] & 15)*q - dmin*(scales[k] >> 4).
 * 2-bit quants: byte qs[32*h + l] holds, in bits 2s..2s+1, element
 * 128*h + 32*s + l. */
typedef struct {
    uint8_t scales[LK_QK_K / 16];
    uint8_t qs[LK_QK_K / 4];
    uint16_t d;
    uint16_t dmin;
} lk_block_q2_k;

/* 16 sub-blocks of 16; w = d * (sc[k] - 32) * (q - 4) with q 3-bit: the low
 * two bits packed as Q2_K, the high bit in hmask (bit s of byte l is element
 * 32*s + l, set when q >= 4). The 16 6-bit scales are packed in 12 bytes:
 * low nibbles in scales[0..7] (k and k+8 share a byte), the top two bits of
 * scale k in scales[8 + k%4] at bit 2*(k/4). */
typedef struct {
    uint8_t hmask[LK_QK_K / 8];
    uint8_t qs[LK_QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} lk_block_q3_k;

/* 8 sub-blocks of 32; w = d*sc[k]*q - dmin*mn[k] with 6-bit sc/mn packed in
 * 12 bytes (see lk_get_scale_min_k4). 4-bit quants: byte qs[32*h + l] holds
 * element 64*h + l in its low nibble and 64*h + 32 + l in its high one. */
typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[LK_K_SCALE_SIZE];
    uint8_t qs[LK_QK_K / 2];
} lk_block_q4_k;

/* Q4_K plus a fifth bit: bit 2h of qh[l] for element 64*h + l, bit 2h+1 for
 * element 64*h + 32 + l. */
typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[LK_K_SCALE_SIZE];
    uint8_t qh[LK_QK_K / 8];
    uint8_t qs[LK_QK_K / 2];
} lk_block_q5_k;

/* 16 sub-blocks of 16; w = d * scales[k] * (q - 32), q 6-bit: in each half
 * of 128, ql[l] holds elements l (low nibble) and l+64 (high), ql[l+32] holds
 * l+32 and l+96, and qh[l] their top two bits at bits 0, 2, 4, 6 for l,
 * l+32, l+64, l+96. */
typedef struct {
    uint8_t ql[LK_QK_K / 2];
    uint8_t qh[LK_QK_K / 4];
    int8_t scales[LK_QK_K / 16];
    uint16_t d;
} lk_block_q6_k;

/* Activations for K-quant dot products: w = d * qs, bsums[k] = sum of the
 * 16 quants of group k. */
typedef struct {
    float d;
    int8_t qs[LK_QK_K];
    int16_t bsums[LK_QK_K / 16];
} lk_block_q8_k;

_Static_assert(sizeof(lk_block_q4_0) == 18, "q4_0 block size");
_Static_assert(sizeof(lk_block_q4_1) == 20, "q4_1 block size");
_Static_assert(sizeof(lk_block_q5_0) == 22, "q5_0 block size");
_Static_assert(sizeof(lk_block_q5_1) == 24, "q5_1 block size");
_Static_assert(sizeof(lk_block_q8_0) == 34, "q8_0 block size");
_Static_assert(sizeof(lk_block_q8_1) == 36, "q8_1 block size");
_Static_assert(sizeof(lk_block_q2_k) == 84, "q2_k block size");
_Static_assert(sizeof(lk_block_q3_k) == 110, "q3_k block size");
_Static_assert(sizeof(lk_block_q4_k) == 144, "q4_k block size");
_Static_assert(sizeof(lk_block_q5_k) == 176, "q5_k block size");
_Static_assert(sizeof(lk_block_q6_k) == 210, "q6_k block size");
_Static_assert(sizeof(lk_block_q8_k) == 292, "q8_k block size");

/* Sub-block k (0..7) of a Q4_K/Q5_K block: its 6-bit scale and min. The
 * first four keep both in the low 6 bits of bytes k and k+4; the last four
 * take their low nibbles from byte k+4 and their top 2 bits from the spare
 * bits 6..7 of bytes k-4 (scale) and k (min). */
static inline void lk_get_scale_min_k4(int k, const uint8_t *scales, uint8_t *sc, uint8_t *mn) {
    if (k < 4) {
        *sc = scales[k] & 63;
        *mn = scales[k + 4] & 63;
    } else {
        *sc = (uint8_t)((scales[k + 4] & 0xF) | ((scales[k - 4] >> 6) << 4));
        *mn = (uint8_t)((scales[k + 4] >> 4) | ((scales[k] >> 6) << 4));
    }
}

/* All 16 Q3_K sub-block scales at once, minus their offset of 32 (word
 * operations on the 12 packed bytes; see lk_block_q3_k). */
static inline void lk_q3_k_scales(const uint8_t packed[12], int8_t out[16]) {
    uint32_t lo, mid, top;
    memcpy(&lo, packed, 4);
    memcpy(&mid, packed + 4, 4);
    memcpy(&top, packed + 8, 4);
    const uint32_t m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
    const uint32_t w[4] = {(lo & m4) | ((top & m2) << 4), (mid & m4) | (((top >> 2) & m2) << 4),
                           ((lo >> 4) & m4) | (((top >> 4) & m2) << 4),
                           ((mid >> 4) & m4) | (((top >> 6) & m2) << 4)};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (int8_t)(((w[i] >> (8 * j)) & 0xFF) - 32);
}

#endif
