/* K-quants: super-blocks of 256 weights (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K).
 *
 * Quantizing a super-block is three steps, in every type:
 *   1. fit each sub-block (16 or 32 weights) on its own: a float scale (and
 *      min) and provisional levels (quant_fit.c);
 *   2. quantize those sub-block scales to 4/6/8-bit integers against one
 *      half-precision super-block scale;
 *   3. re-round every weight against the scale it will really be decoded
 *      with (the half scale times the integer sub-scale), then pack the bits.
 * This follows llama.cpp's quantize_row_q*_K_ref exactly, which is what
 * `llama-quantize` runs for these types without an importance matrix. */
#include <math.h>
#include <string.h>

#include "tensor/dtype.h"
#include "tensor/quant.h"
#include "tensor/quant_fit.h"

static inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Packs 256 2-bit levels: in each half of 128, byte l holds elements l,
 * l+32, l+64, l+96 at bits 0, 2, 4, 6. */
static void pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < LK_QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                      (L[j + l + 96] << 6));
}

/* ---------------------------------------------------------------- Q2_K */

void lk_quantize_row_q2_k(const float *x, lk_block_q2_k *y, int64_t n) {
    const float q4scale = 15.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++, x += LK_QK_K) {
        uint8_t L[LK_QK_K], Laux[16];
        float weights[16], mins[LK_QK_K / 16], scales[LK_QK_K / 16];
        /* Mins are subtracted, so both scales and mins are >= 0 here. */
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < LK_QK_K / 16; j++) {
            for (int l = 0; l < 16; l++) weights[l] = fabsf(x[16 * j + l]);
            scales[j] = lk_fit_affine(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                      0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < LK_QK_K / 16; j++)
                y[b].scales[j] = (uint8_t)lk_nearest_int(iscale * scales[j]);
            y[b].d = lk_f32_to_f16(max_scale / q4scale);
        } else {
            memset(y[b].scales, 0, sizeof y[b].scales);
            y[b].d = lk_f32_to_f16(0.0f);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < LK_QK_K / 16; j++)
                y[b].scales[j] |= (uint8_t)((unsigned)lk_nearest_int(iscale * mins[j]) << 4);
            y[b].dmin = lk_f32_to_f16(max_min / q4scale);
        } else {
            y[b].dmin = lk_f32_to_f16(0.0f);
        }
        for (int j = 0; j < LK_QK_K / 16; j++) {
            const float d = lk_f16_to_f32(y[b].d) * (y[b].scales[j] & 0xF);
            if (d == 0.0f) continue; /* keep the provisional levels */
            const float dm = lk_f16_to_f32(y[b].dmin) * (y[b].scales[j] >> 4);
            for (int i = 0; i < 16; i++)
                L[16 * j + i] = (uint8_t)clamp_int(lk_nearest_int((x[16 * j + i] + dm) / d), 0, 3);
        }
        pack_2bit(L, y[b].qs);
    }
}

void lk_dequantize_row_q2_k(const lk_block_q2_k *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        const float d = lk_f16_to_f32(x[b].d);
        const float min = lk_f16_to_f32(x[b].dmin);
        const uint8_t *q = x[b].qs;
        int is = 0;
        for (int h = 0; h < LK_QK_K; h += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const uint8_t sc = x[b].scales[is++];
                    const float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * ((q[16 * half + l] >> shift) & 3) - ml;
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- Q3_K */

/* The 6-bit scale of sub-block k (0..15), as stored (offset by 32). */
static inline int q3_k_scale(const uint8_t *scales, int k) {
    const int low = k < 8 ? scales[k] & 0xF : scales[k - 8] >> 4;
    return low | (((scales[8 + k % 4] >> (2 * (k / 4))) & 3) << 4);
}

void lk_quantize_row_q3_k(const float *x, lk_block_q3_k *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++, x += LK_QK_K) {
        int8_t L[LK_QK_K];
        float scales[LK_QK_K / 16];
        /* The sub-scale of largest magnitude, with its sign: it maps to -32. */
        float max_scale = 0, amax = 0;
        for (int j = 0; j < LK_QK_K / 16; j++) {
            scales[j] = lk_fit_symmetric_q3(16, 4, x + 16 * j, L + 16 * j, true);
            const float a = fabsf(scales[j]);
            if (a > amax) {
                amax = a;
                max_scale = scales[j];
            }
        }
        memset(y[b].scales, 0, sizeof y[b].scales);
        if (max_scale != 0.0f) {
            const float iscale = -32.0f / max_scale;
            for (int j = 0; j < LK_QK_K / 16; j++) {
                /* llama.cpp narrows to int8_t before clamping: same here. */
                int8_t l = (int8_t)lk_nearest_int(iscale * scales[j]);
                l = (int8_t)(clamp_int(l, -32, 31) + 32);
                if (j < 8)
                    y[b].scales[j] = (uint8_t)(l & 0xF);
                else
                    y[b].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                y[b].scales[j % 4 + 8] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            y[b].d = lk_f32_to_f16(1 / iscale);
        } else {
            y[b].d = lk_f32_to_f16(0.0f);
        }
        for (int j = 0; j < LK_QK_K / 16; j++) {
            const int8_t sc = (int8_t)(q3_k_scale(y[b].scales, j) - 32);
            const float d = lk_f16_to_f32(y[b].d) * sc;
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; i++)
                L[16 * j + i] = (int8_t)(clamp_int(lk_nearest_int(x[16 * j + i] / d), -4, 3) + 4);
        }
        /* Split each level: bit 2 to hmask, bits 0..1 packed like Q2_K. */
        memset(y[b].hmask, 0, sizeof y[b].hmask);
        int m = 0;
        uint8_t hm = 1;
        for (int j = 0; j < LK_QK_K; j++) {
            if (L[j] > 3) {
                y[b].hmask[m] |= hm;
                L[j] -= 4;
            }
            if (++m == LK_QK_K / 8) {
                m = 0;
                hm = (uint8_t)(hm << 1);
            }
        }
        pack_2bit((const uint8_t *)L, y[b].qs);
    }
}

void lk_dequantize_row_q3_k(const lk_block_q3_k *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        const float d_all = lk_f16_to_f32(x[b].d);
        const uint8_t *q = x[b].qs;
        const uint8_t *hm = x[b].hmask;
        uint8_t m = 1;
        int is = 0;
        for (int h = 0; h < LK_QK_K; h += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m = (uint8_t)(m << 1)) {
                for (int half = 0; half < 2; half++) {
                    const float dl = d_all * (q3_k_scale(x[b].scales, is++) - 32);
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- Q4_K, Q5_K */

/* Steps 1 and 2 shared by Q4_K and Q5_K: fit the 8 sub-blocks of 32 with
 * levels 0..nmax, then store their scales and mins as 6-bit integers against
 * the half scales d and dmin. L: [256] provisional levels. */
static void fit_k4_scales(const float *x, int nmax, float rmin, int nstep, uint8_t *L,
                          uint8_t packed[LK_K_SCALE_SIZE], uint16_t *d_out, uint16_t *dmin_out) {
    uint8_t Laux[32];
    float weights[32], mins[LK_QK_K / 32], scales[LK_QK_K / 32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < LK_QK_K / 32; j++) {
        /* Weigh each element by its magnitude plus the group's RMS, so the
         * fit favours large weights without ignoring small ones. */
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = lk_fit_affine(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                                  0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < LK_QK_K / 32; j++) {
        /* llama.cpp narrows to uint8_t before clamping: same here. */
        uint8_t ls = (uint8_t)lk_nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)lk_nearest_int(inv_min * mins[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        if (j < 4) {
            packed[j] = ls;
            packed[j + 4] = lm;
        } else {
            packed[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            packed[j - 4] |= (uint8_t)((ls >> 4) << 6);
            packed[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out = lk_f32_to_f16(max_scale / 63.0f);
    *dmin_out = lk_f32_to_f16(max_min / 63.0f);
}

/* Step 3 for Q4_K/Q5_K: levels against the stored scales. */
static void requantize_k4(const float *x, int nmax, const uint8_t *packed, uint16_t d16,
                          uint16_t dmin16, uint8_t *L) {
    for (int j = 0; j < LK_QK_K / 32; j++) {
        uint8_t sc, mn;
        lk_get_scale_min_k4(j, packed, &sc, &mn);
        const float d = lk_f16_to_f32(d16) * sc;
        if (d == 0.0f) continue;
        const float dm = lk_f16_to_f32(dmin16) * mn;
        for (int i = 0; i < 32; i++)
            L[32 * j + i] = (uint8_t)clamp_int(lk_nearest_int((x[32 * j + i] + dm) / d), 0, nmax);
    }
}

void lk_quantize_row_q4_k(const float *x, lk_block_q4_k *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++, x += LK_QK_K) {
        uint8_t L[LK_QK_K];
        fit_k4_scales(x, 15, -1.0f, 20, L, y[b].scales, &y[b].d, &y[b].dmin);
        requantize_k4(x, 15, y[b].scales, y[b].d, y[b].dmin, L);
        uint8_t *q = y[b].qs;
        for (int j = 0; j < LK_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void lk_dequantize_row_q4_k(const lk_block_q4_k *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        const float d = lk_f16_to_f32(x[b].d);
        const float min = lk_f16_to_f32(x[b].dmin);
        const uint8_t *q = x[b].qs;
        for (int j = 0, is = 0; j < LK_QK_K; j += 64, q += 32, is += 2) {
            uint8_t sc, mn;
            lk_get_scale_min_k4(is, x[b].scales, &sc, &mn);
            const float d1 = d * sc, m1 = min * mn;
            lk_get_scale_min_k4(is + 1, x[b].scales, &sc, &mn);
            const float d2 = d * sc, m2 = min * mn;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void lk_quantize_row_q5_k(const float *x, lk_block_q5_k *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++, x += LK_QK_K) {
        uint8_t L[LK_QK_K];
        fit_k4_scales(x, 31, -0.5f, 15, L, y[b].scales, &y[b].d, &y[b].dmin);
        requantize_k4(x, 31, y[b].scales, y[b].d, y[b].dmin, L);
        uint8_t *qh = y[b].qh, *ql = y[b].qs;
        memset(qh, 0, LK_QK_K / 8);
        uint8_t m1 = 1, m2 = 2;
        for (int j = 0; j < LK_QK_K; j += 64, ql += 32) {
            for (int l = 0; l < 32; l++) {
                int l1 = L[j + l], l2 = L[j + l + 32];
                if (l1 > 15) {
                    l1 -= 16;
                    qh[l] |= m1;
                }
                if (l2 > 15) {
                    l2 -= 16;
                    qh[l] |= m2;
                }
                ql[l] = (uint8_t)(l1 | (l2 << 4));
            }
            m1 = (uint8_t)(m1 << 2);
            m2 = (uint8_t)(m2 << 2);
        }
    }
}

void lk_dequantize_row_q5_k(const lk_block_q5_k *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        const float d = lk_f16_to_f32(x[b].d);
        const float min = lk_f16_to_f32(x[b].dmin);
        const uint8_t *ql = x[b].qs, *qh = x[b].qh;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < LK_QK_K; j += 64, ql += 32, is += 2) {
            uint8_t sc, mn;
            lk_get_scale_min_k4(is, x[b].scales, &sc, &mn);
            const float d1 = d * sc, m1 = min * mn;
            lk_get_scale_min_k4(is + 1, x[b].scales, &sc, &mn);
            const float d2 = d * sc, m2 = min * mn;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            u1 = (uint8_t)(u1 << 2);
            u2 = (uint8_t)(u2 << 2);
        }
    }
}

/* ---------------------------------------------------------------- Q6_K */

void lk_quantize_row_q6_k(const float *x, lk_block_q6_k *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++, x += LK_QK_K) {
        int8_t L[LK_QK_K];
        float scales[LK_QK_K / 16];
        float max_scale = 0, max_abs_scale = 0;
        for (int j = 0; j < LK_QK_K / 16; j++) {
            scales[j] = lk_fit_symmetric(16, 32, x + 16 * j, L + 16 * j, 1, NULL);
            const float a = fabsf(scales[j]);
            if (a > max_abs_scale) {
                max_abs_scale = a;
                max_scale = scales[j];
            }
        }
        if (max_abs_scale < LK_GROUP_MAX_EPS) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const float iscale = -128.0f / max_scale;
        y[b].d = lk_f32_to_f16(1 / iscale);
        for (int j = 0; j < LK_QK_K / 16; j++) {
            const int s = lk_nearest_int(iscale * scales[j]);
            y[b].scales[j] = (int8_t)(s < 127 ? s : 127);
        }
        for (int j = 0; j < LK_QK_K / 16; j++) {
            const float d = lk_f16_to_f32(y[b].d) * y[b].scales[j];
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; i++)
                L[16 * j + i] =
                    (int8_t)(clamp_int(lk_nearest_int(x[16 * j + i] / d), -32, 31) + 32);
        }
        uint8_t *ql = y[b].ql, *qh = y[b].qh;
        for (int j = 0; j < LK_QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; l++) {
                const uint8_t q1 = (uint8_t)L[j + l], q2 = (uint8_t)L[j + l + 32];
                const uint8_t q3 = (uint8_t)L[j + l + 64], q4 = (uint8_t)L[j + l + 96];
                ql[l] = (uint8_t)((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[l + 32] = (uint8_t)((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[l] =
                    (uint8_t)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

void lk_dequantize_row_q6_k(const lk_block_q6_k *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        const float d = lk_f16_to_f32(x[b].d);
        const uint8_t *ql = x[b].ql, *qh = x[b].qh;
        const int8_t *sc = x[b].scales;
        for (int h = 0; h < LK_QK_K; h += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

/* ---------------------------------------------------------------- Q8_K */

void lk_quantize_row_q8_k(const float *x, lk_block_q8_k *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++, x += LK_QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < LK_QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            /* llama.cpp leaves bsums unset here; zero is what they sum to. */
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        /* -127 rather than -128 keeps every quant in [-127, 127]. */
        const float iscale = -127.0f / max;
        for (int j = 0; j < LK_QK_K; j++) {
            const int v = lk_nearest_int(iscale * x[j]);
            y[b].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < LK_QK_K / 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += y[b].qs[16 * j + i];
            y[b].bsums[j] = (int16_t)sum;
        }
        y[b].d = 1 / iscale;
    }
}

void lk_dequantize_row_q8_k(const lk_block_q8_k *x, float *y, int64_t n) {
    for (int64_t b = 0; b < n / LK_QK_K; b++, y += LK_QK_K)
        for (int j = 0; j < LK_QK_K; j++) y[j] = x[b].d * x[b].qs[j];
}
