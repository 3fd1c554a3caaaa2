/* Run-time choice of the activation quantizers (quant_act.h). */
#include "tensor/quant_act.h"

#include "base/cpu.h"

lk_quantize_act_fn lk_quantize_act_for(lk_dtype t) {
#if defined(__x86_64__)
    const lk_cpu_features *f = lk_cpu();
    if (f->avx512f && f->avx512bw && f->avx512vl) {
        switch (t) {
        case LK_DTYPE_Q8_0: return lk_quantize_row_q8_0_avx512;
        case LK_DTYPE_Q8_K: return lk_quantize_row_q8_k_avx512;
        default: return NULL;
        }
    }
#else
    (void)t;
#endif
    return NULL;
}
