/* lk_quantize_row / lk_dequantize_row: one entry point per direction that
 * picks the per-type reference routine, plus the plain float types. */
#include "tensor/quant.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "tensor/dtype.h"

bool lk_quant_supported(lk_dtype t) {
    switch (t) {
    case LK_DTYPE_F32:
    case LK_DTYPE_F16:
    case LK_DTYPE_BF16:
    case LK_DTYPE_Q4_0:
    case LK_DTYPE_Q4_1:
    case LK_DTYPE_Q5_0:
    case LK_DTYPE_Q5_1:
    case LK_DTYPE_Q8_0:
    case LK_DTYPE_Q8_1:
    case LK_DTYPE_Q2_K:
    case LK_DTYPE_Q3_K:
    case LK_DTYPE_Q4_K:
    case LK_DTYPE_Q5_K:
    case LK_DTYPE_Q6_K:
    case LK_DTYPE_Q8_K: return true;
    default: return false;
    }
}

static lk_status check_args(lk_dtype t, int64_t n) {
    if (!lk_quant_supported(t)) return LK_ERR_UNSUPPORTED;
    uint64_t bytes;
    if (!lk_dtype_row_bytes(t, n, &bytes) || bytes > SIZE_MAX) return LK_ERR_ARG;
    return LK_OK;
}

lk_status lk_quantize_row(lk_dtype t, const float *x, void *y, int64_t n) {
    lk_status st = check_args(t, n);
    if (st != LK_OK) return st;
    switch (t) {
    case LK_DTYPE_F32: memcpy(y, x, (size_t)n * sizeof(float)); break;
    case LK_DTYPE_F16: {
        uint16_t *h = y;
        for (int64_t i = 0; i < n; i++) h[i] = lk_f32_to_f16(x[i]);
        break;
    }
    case LK_DTYPE_BF16: {
        uint16_t *h = y;
        for (int64_t i = 0; i < n; i++) h[i] = lk_f32_to_bf16(x[i]);
        break;
    }
    case LK_DTYPE_Q4_0: lk_quantize_row_q4_0(x, y, n); break;
    case LK_DTYPE_Q4_1: lk_quantize_row_q4_1(x, y, n); break;
    case LK_DTYPE_Q5_0: lk_quantize_row_q5_0(x, y, n); break;
    case LK_DTYPE_Q5_1: lk_quantize_row_q5_1(x, y, n); break;
    case LK_DTYPE_Q8_0: lk_quantize_row_q8_0(x, y, n); break;
    case LK_DTYPE_Q8_1: lk_quantize_row_q8_1(x, y, n); break;
    case LK_DTYPE_Q2_K: lk_quantize_row_q2_k(x, y, n); break;
    case LK_DTYPE_Q3_K: lk_quantize_row_q3_k(x, y, n); break;
    case LK_DTYPE_Q4_K: lk_quantize_row_q4_k(x, y, n); break;
    case LK_DTYPE_Q5_K: lk_quantize_row_q5_k(x, y, n); break;
    case LK_DTYPE_Q6_K: lk_quantize_row_q6_k(x, y, n); break;
    case LK_DTYPE_Q8_K: lk_quantize_row_q8_k(x, y, n); break;
    default: return LK_ERR_UNSUPPORTED;
    }
    return LK_OK;
}

lk_status lk_dequantize_row(lk_dtype t, const void *x, float *y, int64_t n) {
    lk_status st = check_args(t, n);
    if (st != LK_OK) return st;
    switch (t) {
    case LK_DTYPE_F32: memcpy(y, x, (size_t)n * sizeof(float)); break;
    case LK_DTYPE_F16: {
        const uint16_t *h = x;
        for (int64_t i = 0; i < n; i++) y[i] = lk_f16_to_f32(h[i]);
        break;
    }
    case LK_DTYPE_BF16: {
        const uint16_t *h = x;
        for (int64_t i = 0; i < n; i++) y[i] = lk_bf16_to_f32(h[i]);
        break;
    }
    case LK_DTYPE_Q4_0: lk_dequantize_row_q4_0(x, y, n); break;
    case LK_DTYPE_Q4_1: lk_dequantize_row_q4_1(x, y, n); break;
    case LK_DTYPE_Q5_0: lk_dequantize_row_q5_0(x, y, n); break;
    case LK_DTYPE_Q5_1: lk_dequantize_row_q5_1(x, y, n); break;
    case LK_DTYPE_Q8_0: lk_dequantize_row_q8_0(x, y, n); break;
    case LK_DTYPE_Q8_1: lk_dequantize_row_q8_1(x, y, n); break;
    case LK_DTYPE_Q2_K: lk_dequantize_row_q2_k(x, y, n); break;
    case LK_DTYPE_Q3_K: lk_dequantize_row_q3_k(x, y, n); break;
    case LK_DTYPE_Q4_K: lk_dequantize_row_q4_k(x, y, n); break;
    case LK_DTYPE_Q5_K: lk_dequantize_row_q5_k(x, y, n); break;
    case LK_DTYPE_Q6_K: lk_dequantize_row_q6_k(x, y, n); break;
    case LK_DTYPE_Q8_K: lk_dequantize_row_q8_k(x, y, n); break;
    default: return LK_ERR_UNSUPPORTED;
    }
    return LK_OK;
}

lk_status lk_convert_row(lk_dtype src_type, const void *src, lk_dtype dst_type, void *dst,
                         int64_t n) {
    lk_status st = check_args(src_type, n);
    if (st == LK_OK) st = check_args(dst_type, n);
    if (st != LK_OK) return st;
    enum { CHUNK = 4096 }; /* a multiple of every block size */
    float buf[CHUNK];
    const lk_dtype_traits *ts = lk_dtype_traits_of(src_type), *td = lk_dtype_traits_of(dst_type);
    const uint8_t *in = src;
    uint8_t *out = dst;
    for (int64_t done = 0; done < n; done += CHUNK) {
        const int64_t m = n - done < CHUNK ? n - done : CHUNK;
        lk_dequantize_row(src_type, in + done / ts->block_size * ts->type_size, buf, m);
        lk_quantize_row(dst_type, buf, out + done / td->block_size * td->type_size, m);
    }
    return LK_OK;
}

static bool half_finite(const uint8_t *p) {
    const uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    return ((h >> 10) & 0x1f) != 0x1f;
}

static bool bf16_finite(const uint8_t *p) {
    const uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    return ((h >> 7) & 0xff) != 0xff;
}

static bool f32_finite(const uint8_t *p) {
    float f;
    memcpy(&f, p, sizeof f);
    return isfinite(f);
}

lk_status lk_quant_validate(lk_dtype t, const void *data, uint64_t nbytes, uint64_t *bad_block) {
    if (!lk_quant_supported(t)) return LK_ERR_UNSUPPORTED;
    const lk_dtype_traits *tr = lk_dtype_traits_of(t);
    if (nbytes % (uint64_t)tr->type_size != 0) return LK_ERR_ARG;
    /* Byte offsets of the half scales in each block (-1: none). */
    int halves[2] = {-1, -1};
    switch (t) {
    case LK_DTYPE_Q4_0: halves[0] = (int)offsetof(lk_block_q4_0, d); break;
    case LK_DTYPE_Q5_0: halves[0] = (int)offsetof(lk_block_q5_0, d); break;
    case LK_DTYPE_Q8_0: halves[0] = (int)offsetof(lk_block_q8_0, d); break;
    case LK_DTYPE_Q3_K: halves[0] = (int)offsetof(lk_block_q3_k, d); break;
    case LK_DTYPE_Q6_K: halves[0] = (int)offsetof(lk_block_q6_k, d); break;
    case LK_DTYPE_Q4_1:
        halves[0] = (int)offsetof(lk_block_q4_1, d);
        halves[1] = (int)offsetof(lk_block_q4_1, m);
        break;
    case LK_DTYPE_Q5_1:
        halves[0] = (int)offsetof(lk_block_q5_1, d);
        halves[1] = (int)offsetof(lk_block_q5_1, m);
        break;
    case LK_DTYPE_Q8_1:
        halves[0] = (int)offsetof(lk_block_q8_1, d);
        halves[1] = (int)offsetof(lk_block_q8_1, s);
        break;
    case LK_DTYPE_Q2_K:
        halves[0] = (int)offsetof(lk_block_q2_k, d);
        halves[1] = (int)offsetof(lk_block_q2_k, dmin);
        break;
    case LK_DTYPE_Q4_K:
        halves[0] = (int)offsetof(lk_block_q4_k, d);
        halves[1] = (int)offsetof(lk_block_q4_k, dmin);
        break;
    case LK_DTYPE_Q5_K:
        halves[0] = (int)offsetof(lk_block_q5_k, d);
        halves[1] = (int)offsetof(lk_block_q5_k, dmin);
        break;
    default: break; /* F32, F16, BF16, Q8_K: checked below */
    }
    const uint8_t *p = data;
    const uint64_t n = nbytes / (uint64_t)tr->type_size;
    for (uint64_t i = 0; i < n; i++, p += tr->type_size) {
        bool ok = true;
        if (t == LK_DTYPE_F32 || t == LK_DTYPE_Q8_K)
            ok = f32_finite(p);
        else if (t == LK_DTYPE_F16)
            ok = half_finite(p);
        else if (t == LK_DTYPE_BF16)
            ok = bf16_finite(p);
        else
            for (int k = 0; k < 2 && halves[k] >= 0; k++) ok = ok && half_finite(p + halves[k]);
        if (!ok) {
            if (bad_block) *bad_block = i;
            return LK_ERR_FORMAT;
        }
    }
    return LK_OK;
}
