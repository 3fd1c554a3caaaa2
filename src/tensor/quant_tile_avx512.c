/* AVX-512 VNNI tile kernels (quant_tile.h): up to 4 weight rows x 4 tokens.
 *
 * Each kernel is written once as an always-inline body over compile-time
 * NR (rows) and NT (tokens) and instantiated for 4 x 2..4 (prompts) and
 * 1 x 1..4, so the NR * NT float accumulators live in registers (4 x 4 =
 * 16 of the 32). A single token (decode) takes four rows one after another
 * (legacy_decode4 / *_rows4 / *_decode4) and reduces their sums together.
 *
 * Block-32 types (Q4_0, Q5_0, Q8_0): two blocks per 512-bit register, in
 * element order. vpdpbusd wants one unsigned operand: the activations are
 * made unsigned (a + 128, once per token) and the weights kept signed, so
 * the correction 128 * sum(weights) belongs to the row: computed once per
 * row and two blocks, it seeds vpdpbusd's accumulator for every token (and
 * lives in one register, not one per token). Each (row, token) pair then
 * costs one vpdpbusd, a convert, a scale multiply and an FMA per two
 * blocks. The eight fp16 scales of four rows convert in one vcvtph2ps.
 *
 * K-quants (Q4_K, Q5_K, Q6_K): per 64 weights vpmaddubsw (unsigned levels x q8,
 * pairs summed to int16, which cannot overflow: 2 * 63 * 127 < 2^15) then
 * vpdpwssd with the sub-block scales as int16, so a whole super-block's
 * integer sum builds up in one register; the minimum (Q4_K) or the level
 * offset 32 (Q6_K) comes from the Q8_K block sums with one vpmaddwd.
 * Activation quants lie in [-127, 127] (the Q8_0 / Q8_K quantizers). */
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "tensor/quant_blocks.h"
#include "tensor/quant_dot.h"
#include "tensor/quant_tile.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
/* Loops over rows, tokens and chunks are unrolled so that the accumulator
 * arrays become registers. */
#define UNROLL _Pragma("GCC unroll 4")

static inline __m512i join(__m256i a, __m256i b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}

static inline __m128i load128(const void *p) { return _mm_loadu_si128((const __m128i *)p); }
static inline __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline __m512i load512(const void *p) { return _mm512_loadu_si512(p); }

static inline const void *at(const void *base, size_t stride, int i) {
    return (const char *)base + (size_t)i * stride;
}

/* Four rows at a time are four short interleaved streams through memory,
 * which the hardware prefetcher follows poorly; the kernels fetch the
 * matching bytes of the next four rows (next in memory) by hand. */
ALWAYS_INLINE void prefetch_span(const char *p, size_t bytes) {
    for (size_t o = 0; o < bytes + 63; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
}

/* ------------------------------------------------------------ block-32 types */

/* Blocks b and b+1 of one Q8_0 row (b+1 zero when alone). */
ALWAYS_INLINE __m512i act_pair(const lk_block_q8_0 *a, int pair) {
    return join(load256(a[0].qs), pair ? load256(a[1].qs) : _mm256_setzero_si256());
}

/* The nibbles of two blocks of 32 (16 bytes each) as 64 levels in element
 * order: the 16 bytes of each block twice over, the second copy shifted
 * right by 4, all masked to 4 bits. */
ALWAYS_INLINE __m512i nibbles_pair(const uint8_t *qs0, const uint8_t *qs1, int pair) {
    const __m256i v =
        _mm256_set_m128i(pair ? load128(qs1) : _mm_setzero_si128(), load128(qs0));
    const __m512i twice =
        _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(v));
    const __m512i shifted = _mm512_mask_srli_epi16(twice, (__mmask32)0xFF00FF00u, twice, 4);
    return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0F));
}

/* Q4_0 levels 0..15 of blocks b, b+1. */
ALWAYS_INLINE __m512i q4_0_pair(const lk_block_q4_0 *w, int pair) {
    return nibbles_pair(w[0].qs, w[pair].qs, pair);
}

/* Q8_0 quants of blocks b, b+1. */
ALWAYS_INLINE __m512i q8_0_pair(const lk_block_q8_0 *w, int pair) {
    return join(load256(w[0].qs), pair ? load256(w[1].qs) : _mm256_setzero_si256());
}

/* The fp16 scales of blocks b, b+1 of up to four rows (row i at base +
 * i*stride, block size bs) as floats [r0b0, r0b1, r1b0, r1b1, ...]. */
ALWAYS_INLINE __m256 pair_scales(const void *base, size_t stride, size_t bs, int rows, int pair) {
    uint32_t h[4] = {0, 0, 0, 0};
    UNROLL
    for (int i = 0; i < 4; i++) {
        if (i >= rows) break;
        const uint8_t *p = at(base, stride, i);
        uint16_t d0, d1 = 0;
        memcpy(&d0, p, 2); /* d is the first field of every block-32 type */
        if (pair) memcpy(&d1, p + bs, 2);
        h[i] = (uint32_t)d0 | ((uint32_t)d1 << 16);
    }
    /* built in registers: a store and a wider reload would stall */
    return _mm256_cvtph_ps(_mm_setr_epi32((int)h[0], (int)h[1], (int)h[2], (int)h[3]));
}

/* Row i's two scales spread over the lanes of its blocks: b0 in 0..7, b1 in
 * 8..15. */
ALWAYS_INLINE __m512 spread_pair(__m256 s, int i) {
    const __m512i idx = _mm512_add_epi32(
        _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), _mm512_set1_epi32(2 * i));
    return _mm512_permutexvar_ps(idx, _mm512_castps256_ps512(s));
}

/* Q5_0 levels 0..31 of blocks b, b+1: Q4_0's nibbles plus 16 where the
 * block's qh has bit j set for element j. */
ALWAYS_INLINE __m512i q5_0_pair(const lk_block_q5_0 *w, int pair) {
    uint32_t h0, h1 = 0;
    memcpy(&h0, w[0].qh, 4);
    if (pair) memcpy(&h1, w[1].qh, 4);
    const __mmask64 fifth = (__mmask64)h0 | ((__mmask64)h1 << 32);
    return _mm512_or_si512(nibbles_pair(w[0].qs, w[pair].qs, pair),
                           _mm512_maskz_mov_epi8(fifth, _mm512_set1_epi8(16)));
}

enum { KIND_Q4_0, KIND_Q8_0, KIND_Q5_0 };

/* Two blocks (or the last one alone) of the tile, weights of the given kind. */
ALWAYS_INLINE void legacy_step(const void *w, size_t ws, const void *a, size_t as, int64_t b,
                               int pair, int kind, const int NR, const int NT, __m512 acc[4][4]) {
    const size_t bs = kind == KIND_Q8_0   ? sizeof(lk_block_q8_0)
                      : kind == KIND_Q5_0 ? sizeof(lk_block_q5_0)
                                          : sizeof(lk_block_q4_0);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i ua[4];
    __m512 da[4];
    const lk_block_q8_0 *ab = (const lk_block_q8_0 *)a + b;
    const __m256 sa = pair_scales(ab, as, sizeof(lk_block_q8_0), NT, pair);
    UNROLL
    for (int t = 0; t < NT; t++) {
        ua[t] = _mm512_xor_si512(act_pair(at(ab, as, t), pair), flip); /* a + 128 */
        da[t] = spread_pair(sa, t);
    }
    const char *wb = (const char *)w + (size_t)b * bs;
    const __m256 sw = pair_scales(wb, ws, bs, NR, pair);
    UNROLL
    for (int r = 0; r < NR; r++) {
        const void *wr = wb + (size_t)r * ws;
        if (NR == 4) prefetch_span((const char *)wr + 4 * ws, 2 * bs);
        /* signed weight levels */
        const __m512i sx = kind == KIND_Q8_0 ? q8_0_pair(wr, pair)
                           : kind == KIND_Q5_0
                               ? _mm512_sub_epi8(q5_0_pair(wr, pair), _mm512_set1_epi8(16))
                               : _mm512_sub_epi8(q4_0_pair(wr, pair), _mm512_set1_epi8(8));
        /* (a + 128) . s - 128 * sum(s) = a . s */
        const __m512i seed = _mm512_sub_epi32(_mm512_setzero_si512(),
                                              _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, sx));
        const __m512 dw = spread_pair(sw, r);
        UNROLL
        for (int t = 0; t < NT; t++) {
            const __m512i dot = _mm512_dpbusd_epi32(seed, ua[t], sx);
            acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(dw, da[t]), acc[r][t]);
        }
    }
}

ALWAYS_INLINE void store_tile(__m512 acc[4][4], const int NR, const int NT, float *out,
                              size_t os) {
    UNROLL
    for (int r = 0; r < NR; r++)
        UNROLL
        for (int t = 0; t < NT; t++) out[(size_t)t * os + (size_t)r] = _mm512_reduce_add_ps(acc[r][t]);
}

/* One row, one token (decode), eight blocks per step: the 16 fp16 scales
 * of the step convert in two vcvtph2ps and multiply in one, and two
 * accumulators alternate so consecutive FMAs do not wait for each other.
 * Returns the number of blocks done (a multiple of 8); *acc gets their sum. */
ALWAYS_INLINE int64_t legacy_row8(const void *w, const void *a, int64_t nb, int kind,
                                  __m512 *acc) {
    const size_t bs = kind == KIND_Q8_0   ? sizeof(lk_block_q8_0)
                      : kind == KIND_Q5_0 ? sizeof(lk_block_q5_0)
                                          : sizeof(lk_block_q4_0);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 7 < nb; b += 8) {
        const char *wb = (const char *)w + (size_t)b * bs;
        const lk_block_q8_0 *ab = (const lk_block_q8_0 *)a + b;
        uint16_t hw[8], ha[8];
        UNROLL
        for (int i = 0; i < 8; i++) {
            memcpy(&hw[i], wb + (size_t)i * bs, 2); /* d is the first field */
            ha[i] = ab[i].d;
        }
        /* built in registers: stores and a wider reload would stall */
        const __m128i vw = _mm_setr_epi16((short)hw[0], (short)hw[1], (short)hw[2], (short)hw[3],
                                          (short)hw[4], (short)hw[5], (short)hw[6], (short)hw[7]);
        const __m128i va = _mm_setr_epi16((short)ha[0], (short)ha[1], (short)ha[2], (short)ha[3],
                                          (short)ha[4], (short)ha[5], (short)ha[6], (short)ha[7]);
        const __m512 d = _mm512_castps256_ps512(
            _mm256_mul_ps(_mm256_cvtph_ps(vw), _mm256_cvtph_ps(va)));
        UNROLL
        for (int j = 0; j < 4; j++) {
            const void *wr = wb + (size_t)(2 * j) * bs;
            const __m512i sx = kind == KIND_Q8_0 ? q8_0_pair(wr, 1)
                               : kind == KIND_Q5_0
                                   ? _mm512_sub_epi8(q5_0_pair(wr, 1), _mm512_set1_epi8(16))
                                   : _mm512_sub_epi8(q4_0_pair(wr, 1), _mm512_set1_epi8(8));
            const __m512i ua = _mm512_xor_si512(act_pair(ab + 2 * j, 1), flip);
            const __m512i seed = _mm512_sub_epi32(
                _mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, sx));
            const __m512i dot = _mm512_dpbusd_epi32(seed, ua, sx);
            const __m512 dj = _mm512_permutexvar_ps(
                _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                 _mm512_set1_epi32(2 * j)),
                d);
            if (j & 1) acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), dj, acc1);
            else acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), dj, acc0);
        }
    }
    *acc = _mm512_add_ps(acc0, acc1);
    return b;
}

/* Decode, four rows one after another (each a sequential stream): the
 * activation side of every two blocks (the pair joined in one register,
 * its offset correction as vpdpbusd's seed, the 8-block scale vectors) is
 * prepared once for the four rows in a chunk buffer, so a row's step is the
 * unpacking, one vpdpbusd reading the prepared pair from memory, and the
 * float work. Weights unsigned (the stored level; Q8_0 + 128), activations
 * signed. v[r] gets row r's 16 partial sums. Used for Q4_0: for Q8_0
 * and Q5_0, whose rows are longer, it measured slower from memory than
 * legacy_rows4 (one row per pass). */
enum { DECODE_STEPS = 48 }; /* 8-block steps per chunk: 12288 weights */

ALWAYS_INLINE void legacy_decode4(int64_t n, const void *w, size_t ws, const void *a, int kind,
                                  __m512 v[4]) {
    const size_t bs = kind == KIND_Q8_0   ? sizeof(lk_block_q8_0)
                      : kind == KIND_Q5_0 ? sizeof(lk_block_q5_0)
                                          : sizeof(lk_block_q4_0);
    const __m512i offset =
        _mm512_set1_epi8(kind == KIND_Q8_0 ? (char)0x80 : kind == KIND_Q5_0 ? 16 : 8);
    const lk_block_q8_0 *ab = a;
    const int64_t nb = n / LK_QK8_0, nb8 = nb & ~(int64_t)7;
    __m512i ap[4 * DECODE_STEPS], seed[4 * DECODE_STEPS];
    __m256 da[DECODE_STEPS];
    UNROLL
    for (int r = 0; r < 4; r++) v[r] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nb8; c += 8 * DECODE_STEPS) {
        const int steps = nb8 - c < 8 * DECODE_STEPS ? (int)((nb8 - c) / 8) : DECODE_STEPS;
        for (int st = 0; st < steps; st++) {
            const lk_block_q8_0 *a8 = ab + c + 8 * st;
            da[st] = _mm256_cvtph_ps(_mm_setr_epi16(
                (short)a8[0].d, (short)a8[1].d, (short)a8[2].d, (short)a8[3].d, (short)a8[4].d,
                (short)a8[5].d, (short)a8[6].d, (short)a8[7].d));
            UNROLL
            for (int j = 0; j < 4; j++) {
                ap[4 * st + j] = act_pair(a8 + 2 * j, 1);
                seed[4 * st + j] =
                    _mm512_sub_epi32(_mm512_setzero_si512(),
                                     _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset,
                                                         ap[4 * st + j]));
            }
        }
        UNROLL
        for (int r = 0; r < 4; r++) {
            const char *wr = (const char *)at(w, ws, r);
            __m512 acc0 = v[r], acc1 = _mm512_setzero_ps();
            for (int st = 0; st < steps; st++) {
                const char *wb = wr + (size_t)(c + 8 * st) * bs;
                uint16_t hw[8];
                UNROLL
                for (int i = 0; i < 8; i++) memcpy(&hw[i], wb + (size_t)i * bs, 2);
                const __m512 d = _mm512_castps256_ps512(_mm256_mul_ps(
                    _mm256_cvtph_ps(_mm_setr_epi16((short)hw[0], (short)hw[1], (short)hw[2],
                                                   (short)hw[3], (short)hw[4], (short)hw[5],
                                                   (short)hw[6], (short)hw[7])),
                    da[st]));
                UNROLL
                for (int j = 0; j < 4; j++) {
                    const void *wp = wb + (size_t)(2 * j) * bs;
                    const __m512i lev =
                        kind == KIND_Q8_0   ? _mm512_xor_si512(q8_0_pair(wp, 1), offset)
                        : kind == KIND_Q5_0 ? q5_0_pair(wp, 1)
                                            : q4_0_pair(wp, 1);
                    const __m512i dot = _mm512_dpbusd_epi32(seed[4 * st + j], lev, ap[4 * st + j]);
                    const __m512 dj = _mm512_permutexvar_ps(
                        _mm512_add_epi32(
                            _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                            _mm512_set1_epi32(2 * j)),
                        d);
                    if (j & 1) acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), dj, acc1);
                    else acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), dj, acc0);
                }
            }
            v[r] = _mm512_add_ps(acc0, acc1);
        }
    }
    /* the last nb % 8 blocks: two at a time (the last alone) */
    UNROLL
    for (int r = 0; r < 4; r++) {
        __m512 acc[4][4];
        acc[0][0] = v[r];
        int64_t b = nb8;
        for (; b + 1 < nb; b += 2) legacy_step(at(w, ws, r), ws, a, 0, b, 1, kind, 1, 1, acc);
        if (b < nb) legacy_step(at(w, ws, r), ws, a, 0, b, 0, kind, 1, 1, acc);
        v[r] = acc[0][0];
    }
}

/* Decode, four rows one after another, each through the 1 x 1 tile. */
ALWAYS_INLINE void legacy_tile(int64_t n, const void *w, size_t ws, const void *a, size_t as,
                               float *out, size_t os, int kind, const int NR, const int NT,
                               __m512 *keep);
ALWAYS_INLINE void legacy_rows4(int64_t n, const void *w, size_t ws, const void *a, int kind,
                                __m512 v[4]) {
    UNROLL
    for (int i = 0; i < 4; i++) legacy_tile(n, at(w, ws, i), ws, a, 0, NULL, 0, kind, 1, 1, &v[i]);
}

ALWAYS_INLINE void legacy_tile(int64_t n, const void *w, size_t ws, const void *a, size_t as,
                               float *out, size_t os, int kind, const int NR, const int NT,
                               __m512 *keep) {
    __m512 acc[4][4];
    UNROLL
    for (int r = 0; r < NR; r++)
        UNROLL
        for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    const int64_t nb = n / LK_QK8_0;
    int64_t b = 0;
    if (NR * NT == 1) b = legacy_row8(w, a, nb, kind, &acc[0][0]);
    for (; b + 1 < nb; b += 2) legacy_step(w, ws, a, as, b, 1, kind, NR, NT, acc);
    if (b < nb) legacy_step(w, ws, a, as, b, 0, kind, NR, NT, acc);
    if (keep) *keep = acc[0][0]; /* 1 x 1: the caller reduces four rows at once */
    else store_tile(acc, NR, NT, out, os);
}

/* The sums of four vectors' lanes: [sum a, sum b, sum c, sum d]. */
static inline __m128 sum4(const __m512 v[4]) {
    /* 128-bit lanes: [a0+a2, a1+a3, b0+b2, b1+b3] and the same for c, d */
    const __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(v[0], v[1], 0x44),
                                    _mm512_shuffle_f32x4(v[0], v[1], 0xEE));
    const __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(v[2], v[3], 0x44),
                                    _mm512_shuffle_f32x4(v[2], v[3], 0xEE));
    /* lane k: four partial sums of vector k */
    const __m512 x = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88),
                                   _mm512_shuffle_f32x4(ab, cd, 0xDD));
    const __m512 y = _mm512_add_ps(x, _mm512_permute_ps(x, 0x4E));
    const __m512 z = _mm512_add_ps(y, _mm512_permute_ps(y, 0xB1));
    return _mm512_castps512_ps128(
        _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), z));
}

/* The tile entry point of a kernel body: 4 rows at once, leftover rows one
 * by one, each for the 1..4 tokens asked. A single token (decode) takes the
 * rows one by one (their float sums reduced four at a time): it reads each weight once anyway, and one sequential
 * stream through memory beats four interleaved ones (measured: with four,
 * the hardware prefetcher falls behind and decode reads memory slower than
 * the kernel computes). */
#define TILE_ENTRY(name, body, decode4, ...)                                                      \
    static void name(int64_t n, const void *w, size_t ws, int nr, const void *a, size_t as, int nt,     \
              float *out, size_t os) {                                                            \
        int r = 0;                                                                                \
        for (; r + 4 <= nr && nt == 1; r += 4) {                                                  \
            __m512 v[4];                                                                          \
            decode4(n, at(w, ws, r), ws, a, __VA_ARGS__, v);                                      \
            _mm_storeu_ps(out + r, sum4(v));                                                      \
        }                                                                                         \
        for (; r + 4 <= nr && nt > 1; r += 4) {                                                   \
            const void *wr = at(w, ws, r);                                                        \
            switch (nt) {                                                                         \
            case 2: body(n, wr, ws, a, as, out + r, os, __VA_ARGS__, 4, 2, NULL); break;         \
            case 3: body(n, wr, ws, a, as, out + r, os, __VA_ARGS__, 4, 3, NULL); break;         \
            default: body(n, wr, ws, a, as, out + r, os, __VA_ARGS__, 4, 4, NULL); break;        \
            }                                                                                     \
        }                                                                                         \
        for (; r < nr; r++) {                                                                     \
            const void *wr = at(w, ws, r);                                                        \
            switch (nt) {                                                                         \
            case 1: body(n, wr, ws, a, as, out + r, os, __VA_ARGS__, 1, 1, NULL); break;         \
            case 2: body(n, wr, ws, a, as, out + r, os, __VA_ARGS__, 1, 2, NULL); break;         \
            case 3: body(n, wr, ws, a, as, out + r, os, __VA_ARGS__, 1, 3, NULL); break;         \
            default: body(n, wr, ws, a, as, out + r, os, __VA_ARGS__, 1, 4, NULL); break;        \
            }                                                                                     \
        }                                                                                         \
    }

TILE_ENTRY(q4_0_tile, legacy_tile, legacy_decode4, KIND_Q4_0)
TILE_ENTRY(q8_0_tile, legacy_tile, legacy_rows4, KIND_Q8_0)

/* Q8_0 decode keeps the per-row kernel of quant_dot_avx512.c: over the
 * whole Qwen2.5-0.5B-shaped model it measured ~10 % faster than the tile's
 * one-token path (Q8_0 decode reads 1.06 bytes per weight and is bound by
 * memory either way). */
void lk_vec_dot_tile_q8_0_avx512(int64_t n, const void *w, size_t ws, int nr, const void *a,
                                 size_t as, int nt, float *out, size_t os) {
    if (nt > 1) {
        q8_0_tile(n, w, ws, nr, a, as, nt, out, os);
        return;
    }
    for (int r = 0; r < nr; r++) out[r] = lk_vec_dot_q8_0_q8_0_avx512(n, at(w, ws, r), a);
}
TILE_ENTRY(q5_0_tile, legacy_tile, legacy_rows4, KIND_Q5_0)

/* ------------------------------------------------------------ K-quants */

/* vpermw indices spreading sub-block scales over a 64-weight chunk's 32
 * int16 lanes: Q4_K chunk g takes scales 2g, 2g+1 (16 lanes each), Q6_K
 * chunk g scales 4g..4g+3 (8 lanes each). */
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
#define R8(v) v, v, v, v, v, v, v, v
static const int16_t k4_spread[4][32] = {
    {R16(0), R16(1)}, {R16(2), R16(3)}, {R16(4), R16(5)}, {R16(6), R16(7)}};
static const int16_t k6_spread[4][32] = {{R8(0), R8(1), R8(2), R8(3)},
                                         {R8(4), R8(5), R8(6), R8(7)},
                                         {R8(8), R8(9), R8(10), R8(11)},
                                         {R8(12), R8(13), R8(14), R8(15)}};
#undef R16
#undef R8

/* Per token, for one super-block: its float scale and its 16 block sums
 * (Q6_K) or their 8 pairwise sums (Q4_K, sub-blocks of 32). */
typedef struct {
    float d[4];
    __m256i bsums[4];
} k_act;

ALWAYS_INLINE void k_act_load(const void *a, size_t as, int64_t b, int pairs, const int NT,
                              k_act *ka) {
    UNROLL
    for (int t = 0; t < NT; t++) {
        const lk_block_q8_k *y = (const lk_block_q8_k *)at(a, as, t) + b;
        ka->d[t] = y->d;
        const __m256i s = load256(y->bsums);
        ka->bsums[t] = pairs ? _mm256_castsi128_si256(_mm_hadd_epi16(
                                   _mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)))
                             : s;
    }
}

/* Row r's products with every token: sumi = sum over the four 64-weight
 * chunks of scale16[g] * (levels[g] . q8[g]), plus seed (per token). */
ALWAYS_INLINE __m512i k_chunks(const __m512i lev[4], const __m512i sc[4], __m512i seed,
                               const lk_block_q8_k *y) {
    /* two chains, so consecutive vpdpwssd do not wait for each other */
    __m512i s0 = seed, s1 = _mm512_setzero_si512();
    UNROLL
    for (int g = 0; g < 4; g += 2) {
        s0 = _mm512_dpwssd_epi32(s0, _mm512_maddubs_epi16(lev[g], load512(y->qs + 64 * g)), sc[g]);
        s1 = _mm512_dpwssd_epi32(
            s1, _mm512_maddubs_epi16(lev[g + 1], load512(y->qs + 64 * (g + 1))), sc[g + 1]);
    }
    return _mm512_add_epi32(s0, s1);
}

/* Q4_K (five = 0) and Q5_K (five = 1): 8 sub-blocks of 32;
 * w = d*sc*q - dmin*mn. */
ALWAYS_INLINE void q4_k_tile(int64_t n, const void *w, size_t ws, const void *a, size_t as,
                             float *out, size_t os, int five, const int NR, const int NT,
                             __m512 *keep) {
    /* Q4_K and Q5_K share the scales; Q5_K adds qh (a fifth bit). */
    const size_t bsz = five ? sizeof(lk_block_q5_k) : sizeof(lk_block_q4_k);
    const size_t qs_at = five ? offsetof(lk_block_q5_k, qs) : offsetof(lk_block_q4_k, qs);
    __m512 acc[4][4];
    UNROLL
    for (int r = 0; r < NR; r++)
        UNROLL
        for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        k_act ka;
        k_act_load(a, as, b, 1, NT, &ka);
        UNROLL
        for (int r = 0; r < NR; r++) {
            const uint8_t *x = (const uint8_t *)at(w, ws, r) + (size_t)b * bsz;
            const uint8_t *qs = x + qs_at, *scales = x + offsetof(lk_block_q4_k, scales);
            if (NR == 4) prefetch_span((const char *)x + 4 * ws, bsz);
            /* qs[32h + l]: element 64h + l (low nibble), 64h + 32 + l (high). */
            __m512i lev[4];
            UNROLL
            for (int i = 0; i < 2; i++) {
                const __m512i v = load512(qs + 64 * i);
                const __m512i lo = _mm512_and_si512(v, low4);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
                lev[2 * i] = _mm512_shuffle_i64x2(lo, hi, 0x44);
                lev[2 * i + 1] = _mm512_shuffle_i64x2(lo, hi, 0xEE);
            }
            if (five) { /* bit 2g of qh[l]: element 64g + l; bit 2g+1: 64g + 32 + l */
                const __m256i qh = load256(x + offsetof(lk_block_q5_k, qh));
                UNROLL
                for (int g = 0; g < 4; g++) {
                    const __mmask64 m =
                        (__mmask64)_mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << (2 * g)))) |
                        ((__mmask64)_mm256_test_epi8_mask(qh,
                                                          _mm256_set1_epi8((char)(2 << (2 * g))))
                         << 32);
                    lev[g] = _mm512_or_si512(lev[g], _mm512_maskz_mov_epi8(m, _mm512_set1_epi8(16)));
                }
            }
            /* The 6-bit scales and mins, four per 32-bit word (see
             * lk_get_scale_min_k4). */
            uint32_t u[3];
            memcpy(u, scales, 12);
            const uint32_t sc_lo = u[0] & 0x3F3F3F3Fu, mn_lo = u[1] & 0x3F3F3F3Fu;
            const uint32_t sc_hi = (u[2] & 0x0F0F0F0Fu) | ((u[0] >> 2) & 0x30303030u);
            const uint32_t mn_hi = ((u[2] >> 4) & 0x0F0F0F0Fu) | ((u[1] >> 2) & 0x30303030u);
            const __m512i sc16 = _mm512_castsi128_si512(
                _mm_cvtepu8_epi16(_mm_setr_epi32((int)sc_lo, (int)sc_hi, 0, 0)));
            const __m128i mn16 = _mm_cvtepu8_epi16(_mm_setr_epi32((int)mn_lo, (int)mn_hi, 0, 0));
            /* Chunk g holds sub-blocks 2g (int16 lanes 0..15), 2g+1 (16..31). */
            __m512i sc[4];
            UNROLL
            for (int g = 0; g < 4; g++) {
                sc[g] = _mm512_permutexvar_epi16(load512(k4_spread[g]), sc16);
            }
            uint32_t ddmin; /* d and dmin, the first two halves */
            memcpy(&ddmin, x, 4);
            const __m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128((int)ddmin));
            const float d16 = _mm_cvtss_f32(dd), dmin16 = _mm_cvtss_f32(_mm_movehdup_ps(dd));
            UNROLL
            for (int t = 0; t < NT; t++) {
                const lk_block_q8_k *y = (const lk_block_q8_k *)at(a, as, t) + b;
                const __m512i sumi = k_chunks(lev, sc, _mm512_setzero_si512(), y);
                const __m128i m = _mm_madd_epi16(mn16, _mm256_castsi256_si128(ka.bsums[t]));
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi),
                                            _mm512_set1_ps(d16 * ka.d[t]), acc[r][t]);
                acc[r][t] = _mm512_fnmadd_ps(_mm512_zextps128_ps512(_mm_cvtepi32_ps(m)),
                                             _mm512_set1_ps(dmin16 * ka.d[t]), acc[r][t]);
            }
        }
    }
    if (keep) *keep = acc[0][0]; /* 1 x 1: the caller reduces four rows at once */
    else store_tile(acc, NR, NT, out, os);
}

/* Q6_K: 16 sub-blocks of 16; w = d*sc*(q - 32). */
ALWAYS_INLINE void q6_k_tile(int64_t n, const void *w, size_t ws, const void *a, size_t as,
                             float *out, size_t os, int unused, const int NR, const int NT,
                             __m512 *keep) {
    (void)unused;
    __m512 acc[4][4];
    UNROLL
    for (int r = 0; r < NR; r++)
        UNROLL
        for (int t = 0; t < NT; t++) acc[r][t] = _mm512_setzero_ps();
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i bits45 = _mm512_set1_epi8(0x30);
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        k_act ka;
        k_act_load(a, as, b, 0, NT, &ka);
        UNROLL
        for (int r = 0; r < NR; r++) {
            const lk_block_q6_k *x = (const lk_block_q6_k *)at(w, ws, r) + b;
            if (NR == 4) prefetch_span((const char *)x + 4 * ws, sizeof *x);
            /* Half h: ql's low nibbles are elements 0..63 in order, the high
             * ones 64..127; qh[l] bits 0-1, 2-3, 4-5, 6-7 top up l, l+32,
             * l+64, l+96. */
            __m512i lev[4];
            UNROLL
            for (int h = 0; h < 2; h++) {
                const __m512i l = load512(x->ql + 64 * h);
                const __m256i q = load256(x->qh + 32 * h);
                const __m512i qz = join(q, _mm256_srli_epi16(q, 2));
                lev[2 * h] = _mm512_or_si512(_mm512_and_si512(l, low4),
                                             _mm512_and_si512(_mm512_slli_epi16(qz, 4), bits45));
                lev[2 * h + 1] =
                    _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low4),
                                    _mm512_and_si512(qz, bits45));
            }
            const __m256i sc16 = _mm256_cvtepi8_epi16(load128(x->scales));
            /* Chunk g holds sub-blocks 4g..4g+3, eight int16 lanes each. */
            __m512i sc[4];
            UNROLL
            for (int g = 0; g < 4; g++) {
                sc[g] = _mm512_permutexvar_epi16(load512(k6_spread[g]), _mm512_castsi256_si512(sc16));
            }
            const float d = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(x->d)));
            UNROLL
            for (int t = 0; t < NT; t++) {
                const lk_block_q8_k *y = (const lk_block_q8_k *)at(a, as, t) + b;
                /* The levels carry +32: take 32 * sum_k sc_k * bsums_k off. */
                const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(sc16, ka.bsums[t]), 5);
                const __m512i seed =
                    _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), off));
                const __m512i sumi = k_chunks(lev, sc, seed, y);
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi),
                                            _mm512_set1_ps(d * ka.d[t]), acc[r][t]);
            }
        }
    }
    if (keep) *keep = acc[0][0]; /* 1 x 1: the caller reduces four rows at once */
    else store_tile(acc, NR, NT, out, os);
}

/* Decode, four rows one after another. */
ALWAYS_INLINE void q4_k_decode4(int64_t n, const void *w, size_t ws, const void *a, int five,
                                __m512 v[4]) {
    UNROLL
    for (int i = 0; i < 4; i++) q4_k_tile(n, at(w, ws, i), ws, a, 0, NULL, 0, five, 1, 1, &v[i]);
}
ALWAYS_INLINE void q6_k_decode4(int64_t n, const void *w, size_t ws, const void *a, int unused,
                                __m512 v[4]) {
    UNROLL
    for (int i = 0; i < 4; i++) q6_k_tile(n, at(w, ws, i), ws, a, 0, NULL, 0, unused, 1, 1, &v[i]);
}

TILE_ENTRY(q4_k_tile_entry, q4_k_tile, q4_k_decode4, 0)
TILE_ENTRY(q6_k_tile_entry, q6_k_tile, q6_k_decode4, 0)
TILE_ENTRY(q5_k_tile_entry, q4_k_tile, q4_k_decode4, 1)

void lk_vec_dot_tile_q4_0_avx512(int64_t n, const void *w, size_t ws, int nr, const void *a,
                                 size_t as, int nt, float *out, size_t os) {
    q4_0_tile(n, w, ws, nr, a, as, nt, out, os);
}
void lk_vec_dot_tile_q5_0_avx512(int64_t n, const void *w, size_t ws, int nr, const void *a,
                                 size_t as, int nt, float *out, size_t os) {
    q5_0_tile(n, w, ws, nr, a, as, nt, out, os);
}
void lk_vec_dot_tile_q4_k_avx512(int64_t n, const void *w, size_t ws, int nr, const void *a,
                                 size_t as, int nt, float *out, size_t os) {
    q4_k_tile_entry(n, w, ws, nr, a, as, nt, out, os);
}
void lk_vec_dot_tile_q5_k_avx512(int64_t n, const void *w, size_t ws, int nr, const void *a,
                                 size_t as, int nt, float *out, size_t os) {
    q5_k_tile_entry(n, w, ws, nr, a, as, nt, out, os);
}
void lk_vec_dot_tile_q6_k_avx512(int64_t n, const void *w, size_t ws, int nr, const void *a,
                                 size_t as, int nt, float *out, size_t os) {
    q6_k_tile_entry(n, w, ws, nr, a, as, nt, out, os);
}
