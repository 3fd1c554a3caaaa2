/* Legacy block-of-32 quantization: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
 *
 * Each function repeats llama.cpp's reference arithmetic step for step
 * (same float operations, same order, same rounding: truncation after +0.5
 * for the 4/5-bit types, roundf for the 8-bit ones), because the point is
 * identical bytes, not merely a good quantization. Scales are rounded to
 * half precision only when stored; the quants are computed with the
 * unrounded float scale, as llama.cpp does. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "tensor/dtype.h"
#include "tensor/quant.h"

/* C's float -> small-integer conversion (truncation toward zero), kept
 * defined for NaN or values far outside the target range, where llama.cpp's
 * cast is undefined behaviour and any value is as good as another. */
static inline int trunc_to_int(float v) {
    if (!(v > -1000.0f && v < 1000.0f)) return v > 0 ? 1000 : 0;
    return (int)v;
}

static inline int min_int(int a, int b) { return a < b ? a : b; }

/* The element of largest magnitude, with its sign (the first one on ties). */
static float signed_absmax(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static void min_max(const float *x, int n, float *min_out, float *max_out) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    *min_out = min;
    *max_out = max;
}

static inline void put_u32_le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get_u32_le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* ---------------------------------------------------------------- Q4_0 */

void lk_quantize_row_q4_0(const float *x, lk_block_q4_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK4_0; b++, x += LK_QK4_0) {
        /* The largest-magnitude weight maps to -8 exactly, so the sign of d
         * follows it and the full range -8..7 is used on that side. */
        const float d = signed_absmax(x, LK_QK4_0) / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = lk_f32_to_f16(d);
        for (int j = 0; j < LK_QK4_0 / 2; j++) {
            const float x0 = x[j] * id;
            const float x1 = x[j + LK_QK4_0 / 2] * id;
            const int q0 = min_int(15, trunc_to_int(x0 + 8.5f));
            const int q1 = min_int(15, trunc_to_int(x1 + 8.5f));
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void lk_dequantize_row_q4_0(const lk_block_q4_0 *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK4_0; b++, y += LK_QK4_0) {
        const float d = lk_f16_to_f32(x[b].d);
        for (int j = 0; j < LK_QK4_0 / 2; j++) {
            const int q0 = (x[b].qs[j] & 0x0F) - 8;
            const int q1 = (x[b].qs[j] >> 4) - 8;
            y[j] = (float)q0 * d;
            y[j + LK_QK4_0 / 2] = (float)q1 * d;
        }
    }
}

/* ---------------------------------------------------------------- Q4_1 */

void lk_quantize_row_q4_1(const float *x, lk_block_q4_1 *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK4_1; b++, x += LK_QK4_1) {
        float min, max;
        min_max(x, LK_QK4_1, &min, &max);
        const float d = (max - min) / 15;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = lk_f32_to_f16(d);
        y[b].m = lk_f32_to_f16(min);
        for (int j = 0; j < LK_QK4_1 / 2; j++) {
            const float x0 = (x[j] - min) * id;
            const float x1 = (x[j + LK_QK4_1 / 2] - min) * id;
            const int q0 = min_int(15, trunc_to_int(x0 + 0.5f));
            const int q1 = min_int(15, trunc_to_int(x1 + 0.5f));
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void lk_dequantize_row_q4_1(const lk_block_q4_1 *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK4_1; b++, y += LK_QK4_1) {
        const float d = lk_f16_to_f32(x[b].d);
        const float m = lk_f16_to_f32(x[b].m);
        for (int j = 0; j < LK_QK4_1 / 2; j++) {
            const int q0 = x[b].qs[j] & 0x0F;
            const int q1 = x[b].qs[j] >> 4;
            y[j] = (float)q0 * d + m;
            y[j + LK_QK4_1 / 2] = (float)q1 * d + m;
        }
    }
}

/* ---------------------------------------------------------------- Q5_0 */

void lk_quantize_row_q5_0(const float *x, lk_block_q5_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK5_0; b++, x += LK_QK5_0) {
        const float d = signed_absmax(x, LK_QK5_0) / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = lk_f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < LK_QK5_0 / 2; j++) {
            const float x0 = x[j] * id;
            const float x1 = x[j + LK_QK5_0 / 2] * id;
            /* llama.cpp stores these in a uint8_t: keep the same wrap. */
            const uint8_t q0 = (uint8_t)min_int(31, trunc_to_int(x0 + 16.5f));
            const uint8_t q1 = (uint8_t)min_int(31, trunc_to_int(x1 + 16.5f));
            y[b].qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
            qh |= (uint32_t)((q0 & 0x10u) >> 4) << j;
            qh |= (uint32_t)((q1 & 0x10u) >> 4) << (j + LK_QK5_0 / 2);
        }
        put_u32_le(y[b].qh, qh);
    }
}

void lk_dequantize_row_q5_0(const lk_block_q5_0 *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK5_0; b++, y += LK_QK5_0) {
        const float d = lk_f16_to_f32(x[b].d);
        const uint32_t qh = get_u32_le(x[b].qh);
        for (int j = 0; j < LK_QK5_0 / 2; j++) {
            const int h0 = (int)((qh >> j) << 4) & 0x10;
            const int h1 = (int)(qh >> (j + 12)) & 0x10;
            const int q0 = ((x[b].qs[j] & 0x0F) | h0) - 16;
            const int q1 = ((x[b].qs[j] >> 4) | h1) - 16;
            y[j] = (float)q0 * d;
            y[j + LK_QK5_0 / 2] = (float)q1 * d;
        }
    }
}

/* ---------------------------------------------------------------- Q5_1 */

void lk_quantize_row_q5_1(const float *x, lk_block_q5_1 *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK5_1; b++, x += LK_QK5_1) {
        float min, max;
        min_max(x, LK_QK5_1, &min, &max);
        const float d = (max - min) / 31;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = lk_f32_to_f16(d);
        y[b].m = lk_f32_to_f16(min);
        uint32_t qh = 0;
        for (int j = 0; j < LK_QK5_1 / 2; j++) {
            const float x0 = (x[j] - min) * id;
            const float x1 = (x[j + LK_QK5_1 / 2] - min) * id;
            /* No clamp to 31 here, unlike Q4_1: llama.cpp has none. */
            const uint8_t q0 = (uint8_t)trunc_to_int(x0 + 0.5f);
            const uint8_t q1 = (uint8_t)trunc_to_int(x1 + 0.5f);
            y[b].qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
            qh |= (uint32_t)((q0 & 0x10u) >> 4) << j;
            qh |= (uint32_t)((q1 & 0x10u) >> 4) << (j + LK_QK5_1 / 2);
        }
        put_u32_le(y[b].qh, qh);
    }
}

void lk_dequantize_row_q5_1(const lk_block_q5_1 *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK5_1; b++, y += LK_QK5_1) {
        const float d = lk_f16_to_f32(x[b].d);
        const float m = lk_f16_to_f32(x[b].m);
        const uint32_t qh = get_u32_le(x[b].qh);
        for (int j = 0; j < LK_QK5_1 / 2; j++) {
            const int h0 = (int)((qh >> j) << 4) & 0x10;
            const int h1 = (int)(qh >> (j + 12)) & 0x10;
            const int q0 = (x[b].qs[j] & 0x0F) | h0;
            const int q1 = (x[b].qs[j] >> 4) | h1;
            y[j] = (float)q0 * d + m;
            y[j + LK_QK5_1 / 2] = (float)q1 * d + m;
        }
    }
}

/* ---------------------------------------------------------------- Q8_0, Q8_1 */

static float absmax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) {
        const float a = fabsf(x[j]);
        amax = amax > a ? amax : a;
    }
    return amax;
}

/* roundf (half away from zero) into int8; defined for NaN too. */
static inline int8_t round_to_i8(float v) {
    if (!(v > -128.5f && v < 127.5f)) return v > 0 ? 127 : (v < 0 ? -128 : 0);
    return (int8_t)roundf(v);
}

void lk_quantize_row_q8_0(const float *x, lk_block_q8_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK8_0; b++, x += LK_QK8_0) {
        const float d = absmax(x, LK_QK8_0) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = lk_f32_to_f16(d);
        for (int j = 0; j < LK_QK8_0; j++) y[b].qs[j] = round_to_i8(x[j] * id);
    }
}

void lk_dequantize_row_q8_0(const lk_block_q8_0 *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK8_0; b++, y += LK_QK8_0) {
        const float d = lk_f16_to_f32(x[b].d);
        for (int j = 0; j < LK_QK8_0; j++) y[j] = (float)x[b].qs[j] * d;
    }
}

void lk_quantize_row_q8_1(const float *x, lk_block_q8_1 *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK8_1; b++, x += LK_QK8_1) {
        const float d = absmax(x, LK_QK8_1) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = lk_f32_to_f16(d);
        int sum = 0;
        for (int j = 0; j < LK_QK8_1; j++) {
            y[b].qs[j] = round_to_i8(x[j] * id);
            sum += y[b].qs[j];
        }
        y[b].s = lk_f32_to_f16((float)sum * d);
    }
}

/* llama.cpp has no Q8_1 dequantizer (it is an activation format); this is
 * the obvious one, d * q. */
void lk_dequantize_row_q8_1(const lk_block_q8_1 *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK8_1; b++, y += LK_QK8_1) {
        const float d = lk_f16_to_f32(x[b].d);
        for (int j = 0; j < LK_QK8_1; j++) y[j] = (float)x[b].qs[j] * d;
    }
}
