/* Kernel dispatch: builds each ISA's table once (the scalar table with that
 * ISA's overrides) and hands out the best one the CPU supports. */
#include <pthread.h>

#include "base/cpu.h"
#include "tensor/kernels.h"
#include "tensor/kernels_isa.h"

#if defined(__x86_64__)
#define LK_HAVE_X86_KERNELS 1
#else
#define LK_HAVE_X86_KERNELS 0
#endif

static lk_kernels g_avx2, g_avx512;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
#if LK_HAVE_X86_KERNELS
    g_avx2 = *lk_kernels_ref();
    lk_kernels_fill_avx2(&g_avx2);
    g_avx512 = *lk_kernels_ref();
    lk_kernels_fill_avx512(&g_avx512);
#endif
}

const lk_kernels *lk_kernels_avx2(void) {
#if LK_HAVE_X86_KERNELS
    const lk_cpu_features *f = lk_cpu();
    if (!(f->avx2 && f->fma && f->f16c)) return NULL;
    pthread_once(&g_once, build_tables);
    return &g_avx2;
#else
    return NULL;
#endif
}

const lk_kernels *lk_kernels_avx512(void) {
#if LK_HAVE_X86_KERNELS
    const lk_cpu_features *f = lk_cpu();
    if (!(f->avx512f && f->avx2 && f->fma && f->f16c)) return NULL;
    pthread_once(&g_once, build_tables);
    return &g_avx512;
#else
    return NULL;
#endif
}

const lk_kernels *lk_kernels_best(void) {
    const lk_kernels *k = lk_kernels_avx512();
    if (!k) k = lk_kernels_avx2();
    if (!k) k = lk_kernels_ref();
    return k;
}

const lk_dtype_kernels *lk_kernels_dtype(const lk_kernels *k, lk_dtype t) {
    switch (t) {
    case LK_DTYPE_F32: return &k->f32;
    case LK_DTYPE_F16: return &k->f16;
    case LK_DTYPE_BF16: return &k->bf16;
    default: return lk_kernels_quant(k, t);
    }
}
