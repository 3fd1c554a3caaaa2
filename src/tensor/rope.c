/* RoPE: frequency set-up (with linear / llama3 scaling) and rotation in both
 * layouts. Angles follow HF's float32 computation: inv_freq in float, the
 * angle pos * inv_freq in float, then cos/sin. */
#include "tensor/rope.h"

#include <math.h>
#include <string.h>

#include "base/error.h"

lk_status lk_rope_init(lk_rope *r, const lk_hparams *hp, int32_t head_dim, lk_error *err) {
    memset(r, 0, sizeof *r);
    r->layout = hp->rope_layout;
    r->n_rot = hp->n_rot > 0 ? hp->n_rot : head_dim;
    if (r->layout == LK_ROPE_NONE) return LK_OK;
    if (r->n_rot % 2 != 0 || r->n_rot > head_dim || r->n_rot / 2 > LK_ROPE_MAX_PAIRS)
        return lk_error_set(err, LK_ERR_UNSUPPORTED,
                            "rope: %d rotated dims per head of %d is not supported (need an "
                            "even number <= head_dim and <= %d)",
                            r->n_rot, head_dim, 2 * LK_ROPE_MAX_PAIRS);
    float theta = hp->rope_theta > 0 ? hp->rope_theta : 10000.0f;
    int32_t half = r->n_rot / 2;
    for (int32_t i = 0; i < half; i++) {
        float f = 1.0f / powf(theta, (float)(2 * i) / (float)r->n_rot);
        if (hp->rope_scaling == LK_ROPE_SCALING_LINEAR && hp->rope_factor > 0) {
            f /= hp->rope_factor;
        } else if (hp->rope_scaling == LK_ROPE_SCALING_LLAMA3 && hp->rope_factor > 0) {
            /* Meta's apply_scaling: long wavelengths slow down by factor,
             * short ones stay, the band between blends smoothly. */
            float factor = hp->rope_factor;
            float lo = hp->rope_low_freq_factor > 0 ? hp->rope_low_freq_factor : 1.0f;
            float hi = hp->rope_high_freq_factor > 0 ? hp->rope_high_freq_factor : 4.0f;
            float old_ctx = hp->rope_orig_ctx > 0 ? (float)hp->rope_orig_ctx : 8192.0f;
            float low_wavelen = old_ctx / lo, high_wavelen = old_ctx / hi;
            float wavelen = 2.0f * (float)M_PI / f;
            if (wavelen > low_wavelen) {
                f = f / factor;
            } else if (wavelen >= high_wavelen) {
                float smooth = (old_ctx / wavelen - lo) / (hi - lo);
                f = (1.0f - smooth) * f / factor + smooth * f;
            }
        }
        r->inv_freq[i] = f;
    }
    return LK_OK;
}

void lk_rope_apply(const lk_rope *r, float *x, int32_t n_heads, int32_t head_dim, int64_t pos,
                   float *cos_sin) {
    if (r->layout == LK_ROPE_NONE) return;
    int32_t half = r->n_rot / 2;
    float *c = cos_sin, *s = cos_sin + half;
    for (int32_t i = 0; i < half; i++) {
        float angle = (float)pos * r->inv_freq[i];
        c[i] = cosf(angle);
        s[i] = sinf(angle);
    }
    for (int32_t h = 0; h < n_heads; h++) {
        float *v = x + (int64_t)h * head_dim;
        for (int32_t i = 0; i < half; i++) {
            int32_t a = r->layout == LK_ROPE_INTERLEAVED ? 2 * i : i;
            int32_t b = r->layout == LK_ROPE_INTERLEAVED ? 2 * i + 1 : i + half;
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * c[i] - x1 * s[i];
            v[b] = x0 * s[i] + x1 * c[i];
        }
    }
}
