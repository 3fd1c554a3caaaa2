/* Scalar reference dot products (quant_dot.h) and run-time dispatch.
 *
 * Per block: exact integer sums of products, then a few float multiplies by
 * the scales; blocks are accumulated in float. For the K-quants the minimum
 * (Q4_K) or the level offset (Q6_K's -32) is applied through the Q8_K block
 * sums, sum(q8) per 16 activations, instead of per element. */
#include "tensor/quant_dot.h"

#include "base/cpu.h"
#include "tensor/dtype.h"
#include "tensor/quant.h"

float lk_vec_dot_q4_0_q8_0_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        int sumi = 0;
        for (int j = 0; j < LK_QK4_0 / 2; j++) {
            const int lo = (x[b].qs[j] & 0x0F) - 8;
            const int hi = (x[b].qs[j] >> 4) - 8;
            sumi += lo * y[b].qs[j] + hi * y[b].qs[j + LK_QK4_0 / 2];
        }
        sum += (float)sumi * (lk_f16_to_f32(x[b].d) * lk_f16_to_f32(y[b].d));
    }
    return sum;
}

float lk_vec_dot_q8_0_q8_0_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q8_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        int sumi = 0;
        for (int j = 0; j < LK_QK8_0; j++) sumi += x[b].qs[j] * y[b].qs[j];
        sum += (float)sumi * (lk_f16_to_f32(x[b].d) * lk_f16_to_f32(y[b].d));
    }
    return sum;
}

/* sum_k [ d*sc_k * sum(q*q8) - dmin*mn_k * sum(q8) ] * y.d over 8 sub-blocks of 32. */
float lk_vec_dot_q4_k_q8_k_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_k *x = vx;
    const lk_block_q8_k *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int32_t sumi = 0, summ = 0;
        for (int k = 0; k < 8; k++) {
            uint8_t sc, mn;
            lk_get_scale_min_k4(k, x[b].scales, &sc, &mn);
            /* Sub-block k: nibble (k & 1) of bytes 32*(k/2) .. +31. */
            const uint8_t *q = x[b].qs + 32 * (k / 2);
            const int8_t *a = y[b].qs + 32 * k;
            const int shift = 4 * (k & 1);
            int32_t s = 0;
            for (int l = 0; l < 32; l++) s += ((q[l] >> shift) & 0xF) * a[l];
            sumi += sc * s;
            summ += mn * (y[b].bsums[2 * k] + y[b].bsums[2 * k + 1]);
        }
        sum +=
            y[b].d * (lk_f16_to_f32(x[b].d) * (float)sumi - lk_f16_to_f32(x[b].dmin) * (float)summ);
    }
    return sum;
}

/* sum_k d*sc_k * sum((q - 32)*q8) * y.d over 16 sub-blocks of 16, with
 * sum((q - 32)*q8) = sum(q*q8) - 32*bsums[k]. */
float lk_vec_dot_q6_k_q8_k_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q6_k *x = vx;
    const lk_block_q8_k *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int32_t sumi = 0;
        for (int k = 0; k < 16; k++) {
            int32_t s = 0;
            for (int l = 0; l < 16; l++) {
                const int e = 16 * k + l; /* element index in the super-block */
                const int h = e / 128, r = e % 128, g = r / 32, i = r % 32;
                const uint8_t *ql = x[b].ql + 64 * h, *qh = x[b].qh + 32 * h;
                const int low = (g & 1 ? ql[i + 32] : ql[i]) >> (4 * (g >> 1)) & 0xF;
                const int q = low | (((qh[i] >> (2 * g)) & 3) << 4);
                s += q * y[b].qs[e];
            }
            sumi += x[b].scales[k] * (s - 32 * y[b].bsums[k]);
        }
        sum += y[b].d * (lk_f16_to_f32(x[b].d) * (float)sumi);
    }
    return sum;
}

/* ------------------------------------------------ the remaining types
 * Written as "unpack the block's integer levels, then integer dots", the
 * most obviously correct form. */

static int32_t dot_i8(const int8_t *a, const int8_t *b, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Levels 0..15 / 0..31 of a block of 32 (low bits in nibbles, bit 4 in qh). */
static void unpack_4bit_32(const uint8_t *qs, int8_t *q) {
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)(qs[j] & 0x0F);
        q[j + 16] = (int8_t)(qs[j] >> 4);
    }
}

static void unpack_5bit_32(const uint8_t *qs, const uint8_t qh_bytes[4], int8_t *q) {
    const uint32_t qh = (uint32_t)qh_bytes[0] | ((uint32_t)qh_bytes[1] << 8) |
                        ((uint32_t)qh_bytes[2] << 16) | ((uint32_t)qh_bytes[3] << 24);
    unpack_4bit_32(qs, q);
    for (int j = 0; j < 32; j++) q[j] = (int8_t)(q[j] | (((qh >> j) & 1) << 4));
}

float lk_vec_dot_q4_1_q8_1_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q4_1 *x = vx;
    const lk_block_q8_1 *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_1; b++) {
        int8_t q[32];
        unpack_4bit_32(x[b].qs, q);
        const int32_t sumi = dot_i8(q, y[b].qs, 32);
        /* sum((d q + m) dy a) = d dy sum(q a) + m (dy sum(a)), the last being y.s */
        sum += lk_f16_to_f32(x[b].d) * lk_f16_to_f32(y[b].d) * (float)sumi +
               lk_f16_to_f32(x[b].m) * lk_f16_to_f32(y[b].s);
    }
    return sum;
}

float lk_vec_dot_q5_0_q8_0_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_0 *x = vx;
    const lk_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_0; b++) {
        int8_t q[32];
        unpack_5bit_32(x[b].qs, x[b].qh, q);
        for (int j = 0; j < 32; j++) q[j] = (int8_t)(q[j] - 16);
        sum += (float)dot_i8(q, y[b].qs, 32) * (lk_f16_to_f32(x[b].d) * lk_f16_to_f32(y[b].d));
    }
    return sum;
}

float lk_vec_dot_q5_1_q8_1_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_1 *x = vx;
    const lk_block_q8_1 *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK8_1; b++) {
        int8_t q[32];
        unpack_5bit_32(x[b].qs, x[b].qh, q);
        const int32_t sumi = dot_i8(q, y[b].qs, 32);
        sum += lk_f16_to_f32(x[b].d) * lk_f16_to_f32(y[b].d) * (float)sumi +
               lk_f16_to_f32(x[b].m) * lk_f16_to_f32(y[b].s);
    }
    return sum;
}

/* Q2_K: levels 0..3 of element 128h + 32s + l in bits 2s of qs[32h + l]. */
float lk_vec_dot_q2_k_q8_k_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q2_k *x = vx;
    const lk_block_q8_k *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int8_t q[LK_QK_K];
        for (int e = 0; e < LK_QK_K; e++)
            q[e] = (int8_t)((x[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
        int32_t sumi = 0, summ = 0;
        for (int k = 0; k < 16; k++) {
            sumi += (x[b].scales[k] & 0xF) * dot_i8(q + 16 * k, y[b].qs + 16 * k, 16);
            summ += (x[b].scales[k] >> 4) * y[b].bsums[k];
        }
        sum +=
            y[b].d * (lk_f16_to_f32(x[b].d) * (float)sumi - lk_f16_to_f32(x[b].dmin) * (float)summ);
    }
    return sum;
}

/* Q3_K: low two bits as Q2_K, bit 2 of element 32s + l in bit s of hmask[l]. */
float lk_vec_dot_q3_k_q8_k_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q3_k *x = vx;
    const lk_block_q8_k *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int8_t q[LK_QK_K];
        for (int e = 0; e < LK_QK_K; e++) {
            const int low = (x[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            const int high = (x[b].hmask[e % 32] >> (e / 32)) & 1;
            q[e] = (int8_t)(low + 4 * high - 4);
        }
        int32_t sumi = 0;
        for (int k = 0; k < 16; k++) {
            const int low = k < 8 ? x[b].scales[k] & 0xF : x[b].scales[k - 8] >> 4;
            const int sc = (low | (((x[b].scales[8 + k % 4] >> (2 * (k / 4))) & 3) << 4)) - 32;
            sumi += sc * dot_i8(q + 16 * k, y[b].qs + 16 * k, 16);
        }
        sum += y[b].d * (lk_f16_to_f32(x[b].d) * (float)sumi);
    }
    return sum;
}

/* Q5_K: Q4_K's nibbles plus bit (2h or 2h+1) of qh[l]. */
float lk_vec_dot_q5_k_q8_k_scalar(int64_t n, const void *vx, const void *vy) {
    const lk_block_q5_k *x = vx;
    const lk_block_q8_k *y = vy;
    float sum = 0.0f;
    for (int64_t b = 0; b < n / LK_QK_K; b++) {
        int32_t sumi = 0, summ = 0;
        for (int k = 0; k < 8; k++) {
            uint8_t sc, mn;
            lk_get_scale_min_k4(k, x[b].scales, &sc, &mn);
            int8_t q[32];
            for (int l = 0; l < 32; l++)
                q[l] = (int8_t)(((x[b].qs[32 * (k / 2) + l] >> (4 * (k & 1))) & 0xF) |
                                (((x[b].qh[l] >> k) & 1) << 4));
            sumi += sc * dot_i8(q, y[b].qs + 32 * k, 32);
            summ += mn * (y[b].bsums[2 * k] + y[b].bsums[2 * k + 1]);
        }
        sum +=
            y[b].d * (lk_f16_to_f32(x[b].d) * (float)sumi - lk_f16_to_f32(x[b].dmin) * (float)summ);
    }
    return sum;
}

static bool have_avx2(void) {
#if defined(__x86_64__)
    const lk_cpu_features *f = lk_cpu();
    return f->avx2 && f->fma && f->f16c;
#else
    return false;
#endif
}

static bool have_avx512_vnni(void) {
#if defined(__x86_64__)
    const lk_cpu_features *f = lk_cpu();
    return f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni && have_avx2();
#else
    return false;
#endif
}

lk_vec_dot_fn lk_vec_dot_for(lk_dtype t) {
#if defined(__x86_64__)
    if (have_avx512_vnni()) {
        switch (t) {
        case LK_DTYPE_Q4_0: return lk_vec_dot_q4_0_q8_0_avx512;
        case LK_DTYPE_Q8_0: return lk_vec_dot_q8_0_q8_0_avx512;
        case LK_DTYPE_Q4_K: return lk_vec_dot_q4_k_q8_k_avx512;
        case LK_DTYPE_Q6_K: return lk_vec_dot_q6_k_q8_k_avx512;
        case LK_DTYPE_Q4_1: return lk_vec_dot_q4_1_q8_1_avx512;
        case LK_DTYPE_Q5_0: return lk_vec_dot_q5_0_q8_0_avx512;
        case LK_DTYPE_Q5_1: return lk_vec_dot_q5_1_q8_1_avx512;
        case LK_DTYPE_Q2_K: return lk_vec_dot_q2_k_q8_k_avx512;
        case LK_DTYPE_Q3_K: return lk_vec_dot_q3_k_q8_k_avx512;
        case LK_DTYPE_Q5_K: return lk_vec_dot_q5_k_q8_k_avx512;
        default: return NULL;
        }
    }
    if (have_avx2()) {
        switch (t) {
        case LK_DTYPE_Q4_0: return lk_vec_dot_q4_0_q8_0_avx2;
        case LK_DTYPE_Q8_0: return lk_vec_dot_q8_0_q8_0_avx2;
        case LK_DTYPE_Q4_K: return lk_vec_dot_q4_k_q8_k_avx2;
        case LK_DTYPE_Q6_K: return lk_vec_dot_q6_k_q8_k_avx2;
        case LK_DTYPE_Q5_0: return lk_vec_dot_q5_0_q8_0_avx2;
        case LK_DTYPE_Q5_K: return lk_vec_dot_q5_k_q8_k_avx2;
        case LK_DTYPE_Q4_1: return lk_vec_dot_q4_1_q8_1_avx2;
        case LK_DTYPE_Q5_1: return lk_vec_dot_q5_1_q8_1_avx2;
        case LK_DTYPE_Q2_K: return lk_vec_dot_q2_k_q8_k_avx2;
        case LK_DTYPE_Q3_K: return lk_vec_dot_q3_k_q8_k_avx2;
        default: return NULL;
        }
    }
#else
    (void)have_avx2;
    (void)have_avx512_vnni;
#endif
    return lk_vec_dot_scalar_for(t);
}

lk_vec_dot_fn lk_vec_dot_scalar_for(lk_dtype t) {
    switch (t) {
    case LK_DTYPE_Q4_0: return lk_vec_dot_q4_0_q8_0_scalar;
    case LK_DTYPE_Q4_1: return lk_vec_dot_q4_1_q8_1_scalar;
    case LK_DTYPE_Q5_0: return lk_vec_dot_q5_0_q8_0_scalar;
    case LK_DTYPE_Q5_1: return lk_vec_dot_q5_1_q8_1_scalar;
    case LK_DTYPE_Q8_0: return lk_vec_dot_q8_0_q8_0_scalar;
    case LK_DTYPE_Q2_K: return lk_vec_dot_q2_k_q8_k_scalar;
    case LK_DTYPE_Q3_K: return lk_vec_dot_q3_k_q8_k_scalar;
    case LK_DTYPE_Q4_K: return lk_vec_dot_q4_k_q8_k_scalar;
    case LK_DTYPE_Q5_K: return lk_vec_dot_q5_k_q8_k_scalar;
    case LK_DTYPE_Q6_K: return lk_vec_dot_q6_k_q8_k_scalar;
    default: return NULL;
    }
}

lk_dtype lk_vec_dot_act_type(lk_dtype t) {
    switch (t) {
    case LK_DTYPE_Q4_0:
    case LK_DTYPE_Q5_0:
    case LK_DTYPE_Q8_0: return LK_DTYPE_Q8_0;
    case LK_DTYPE_Q4_1:
    case LK_DTYPE_Q5_1: return LK_DTYPE_Q8_1;
    case LK_DTYPE_Q2_K:
    case LK_DTYPE_Q3_K:
    case LK_DTYPE_Q4_K:
    case LK_DTYPE_Q5_K:
    case LK_DTYPE_Q6_K: return LK_DTYPE_Q8_K;
    default: return LK_DTYPE_INVALID;
    }
}

float lk_vec_dot_q4_0_q8_0(int64_t n, const void *x, const void *y) {
    return lk_vec_dot_for(LK_DTYPE_Q4_0)(n, x, y);
}

float lk_vec_dot_q8_0_q8_0(int64_t n, const void *x, const void *y) {
    return lk_vec_dot_for(LK_DTYPE_Q8_0)(n, x, y);
}

float lk_vec_dot_q4_k_q8_k(int64_t n, const void *x, const void *y) {
    return lk_vec_dot_for(LK_DTYPE_Q4_K)(n, x, y);
}

float lk_vec_dot_q6_k_q8_k(int64_t n, const void *x, const void *y) {
    return lk_vec_dot_for(LK_DTYPE_Q6_K)(n, x, y);
}

uint64_t lk_quant_matvec_scratch_bytes(lk_dtype t, int64_t cols) {
    const lk_dtype at = lk_vec_dot_act_type(t);
    uint64_t wbytes = 0, abytes = 0;
    if (at == LK_DTYPE_INVALID || !lk_dtype_row_bytes(t, cols, &wbytes) ||
        !lk_dtype_row_bytes(at, cols, &abytes))
        return 0;
    return abytes;
}

lk_status lk_quant_matvec(lk_dtype t, const void *w, int64_t rows, int64_t cols, const float *x,
                          float *y, void *scratch) {
    const lk_vec_dot_fn dot = lk_vec_dot_for(t);
    if (!dot) return LK_ERR_UNSUPPORTED;
    uint64_t row_bytes = 0;
    if (rows < 0 || !lk_dtype_row_bytes(t, cols, &row_bytes)) return LK_ERR_ARG;
    lk_status st = lk_quantize_row(lk_vec_dot_act_type(t), x, scratch, cols);
    if (st != LK_OK) return st;
    const uint8_t *row = w;
    for (int64_t r = 0; r < rows; r++, row += row_bytes) y[r] = dot(cols, row, scratch);
    return LK_OK;
}
