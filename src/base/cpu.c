#include "base/cpu.h"

#include <stdlib.h>
#include <string.h>

#include "llmkit.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect(lk_cpu_features *f) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    f->sse42 = (c >> 20) & 1;
    bool osxsave = (c >> 27) & 1;
    bool avx_hw = (c >> 28) & 1;
    f->fma = (c >> 12) & 1;
    f->f16c = (c >> 29) & 1;
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    bool ymm_os = (xcr0 & 0x6) == 0x6;
    bool zmm_os = (xcr0 & 0xe6) == 0xe6;
    bool amx_os = (xcr0 & 0x60000) == 0x60000;
    f->avx = avx_hw && ymm_os;
    if (!f->avx) f->fma = f->f16c = false;
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = f->avx && ((b >> 5) & 1);
    f->avx512f = zmm_os && ((b >> 16) & 1);
    f->avx512bw = zmm_os && ((b >> 30) & 1);
    f->avx512vl = zmm_os && ((b >> 31) & 1);
    f->avx512vnni = zmm_os && ((c >> 11) & 1);
    f->amx_bf16 = amx_os && ((d >> 22) & 1);
    f->amx_tile = amx_os && ((d >> 24) & 1);
    f->amx_int8 = amx_os && ((d >> 25) & 1);
    __cpuid_count(7, 1, a, b, c, d);
    f->avxvnni = f->avx2 && ((a >> 4) & 1);
    f->avx512bf16 = zmm_os && ((a >> 5) & 1);
}
#else
static void detect(lk_cpu_features *f) { (void)f; }
#endif

static void apply_cap(lk_cpu_features *f) {
    const char *cap = getenv("LLMKIT_CPU_MAX");
    if (!cap) return;
    if (strcmp(cap, "scalar") == 0) {
        memset(f, 0, sizeof *f);
    } else if (strcmp(cap, "avx2") == 0) {
        f->avx512f = f->avx512bw = f->avx512vl = f->avx512vnni = f->avx512bf16 = false;
        f->amx_tile = f->amx_int8 = f->amx_bf16 = false;
    }
}

/* Detection is idempotent, so a benign race on first use only repeats work. */
static lk_cpu_features g_cpu;
static int g_cpu_done;

const lk_cpu_features *lk_cpu(void) {
    if (!__atomic_load_n(&g_cpu_done, __ATOMIC_ACQUIRE)) {
        lk_cpu_features f;
        memset(&f, 0, sizeof f);
        detect(&f);
        apply_cap(&f);
        g_cpu = f;
        __atomic_store_n(&g_cpu_done, 1, __ATOMIC_RELEASE);
    }
    return &g_cpu;
}

const char *lk_cpu_features_string(void) {
    static char buf[256];
    const lk_cpu_features *f = lk_cpu();
    struct { bool on; const char *name; } list[] = {
        {f->sse42, "sse4.2"},        {f->avx, "avx"},           {f->avx2, "avx2"},
        {f->fma, "fma"},             {f->f16c, "f16c"},         {f->avx512f, "avx512f"},
        {f->avx512bw, "avx512bw"},   {f->avx512vl, "avx512vl"}, {f->avx512vnni, "avx512vnni"},
        {f->avx512bf16, "avx512bf16"}, {f->avxvnni, "avxvnni"}, {f->amx_tile, "amx-tile"},
        {f->amx_int8, "amx-int8"},   {f->amx_bf16, "amx-bf16"},
    };
    char tmp[256];
    tmp[0] = '\0';
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        if (!list[i].on) continue;
        if (tmp[0]) strcat(tmp, " ");
        strcat(tmp, list[i].name);
    }
    if (!tmp[0]) strcpy(tmp, "(none: portable scalar code)");
    memcpy(buf, tmp, sizeof buf);
    return buf;
}

const char *lk_version(void) { return LK_VERSION_STRING; }
