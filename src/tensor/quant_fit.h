/* Scale searches shared by the K-quant quantizers (internal).
 *
 * Each one picks, for a small group of weights, a scale (and for the affine
 * types a minimum) and the integer levels L that go with it. They follow
 * llama.cpp's make_qx_quants / make_q3_quants / make_qkx2_quants operation
 * for operation, since a one-ulp difference in a scale changes the bytes. */
#ifndef LK_TENSOR_QUANT_FIT_H
#define LK_TENSOR_QUANT_FIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Groups whose largest magnitude is below this are treated as all zero. */
#define LK_GROUP_MAX_EPS 1e-15f

/* Round to nearest, ties to even, by adding 1.5 * 2^23 so the FPU's own
 * rounding drops the fraction; valid for |v| <= 2^22 - 1 (callers stay
 * there; outside it the result is garbage, exactly as llama.cpp's). */
static inline int lk_nearest_int(float v) {
    float shifted = v + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    return (bits & 0x007fffff) - 0x00400000;
}

/* Symmetric levels in [-nmax, nmax-1]: x[i] ~ scale * (L[i] - nmax).
 * rmse_type 0: plain rounding at the scale that maps the largest magnitude
 * to -nmax; 1: weights x^2 and a search over 18 nearby scales for the least
 * weighted error. qw, when given, replaces the weights. x: [n], L: [n]. */
float lk_fit_symmetric(int n, int nmax, const float *x, int8_t *L, int rmse_type, const float *qw);

/* Q3_K's variant: levels L[i] in [0, 2*nmax) after an iterative per-element
 * refinement (do_rmse) weighted by x^2. x: [n], L: [n]. */
float lk_fit_symmetric_q3(int n, int nmax, const float *x, int8_t *L, bool do_rmse);

/* Affine levels in [0, nmax]: x[i] ~ scale * L[i] - *neg_min, with the
 * minimum clamped to <= 0 (so *neg_min >= 0). Tries nstep+1 scales
 * (rmin + rdelta*k + nmax) / (max - min) and keeps the one with the least
 * weighted error (absolute if use_mad, squared otherwise).
 * x, weights, L, Laux (scratch): [n]. */
float lk_fit_affine(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                    float *neg_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                    bool use_mad);

#endif
