/* CPU features, detected once at run time so one binary runs on any x86-64
 * and picks the fastest kernels the machine has. */
#ifndef LK_BASE_CPU_H
#define LK_BASE_CPU_H

#include <stdbool.h>

typedef struct {
    bool sse42, avx, avx2, fma, f16c;
    bool avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16;
    bool avxvnni;
    bool amx_tile, amx_int8, amx_bf16;
} lk_cpu_features;

/* Detected on first call; cheap afterwards. LLMKIT_CPU_MAX=scalar|avx2 caps
 * what is reported, so tests can force the portable kernels. */
const lk_cpu_features *lk_cpu(void);

#endif
