/* `llmkit quantize IN OUT TYPE`: write a model as a GGUF of a llama.cpp file
 * type (Q4_K_M, Q8_0, F16, ...), with llama-quantize's per-tensor choices
 * and bytes. The work is quantize/quantize.h; this file parses arguments and
 * draws the progress bar. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/progress.h"
#include "commands.h"
#include "quantize/quantize.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit quantize IN OUT TYPE [-t THREADS]\n"
            "\n"
            "Writes IN as a GGUF file OUT whose tensors are of file type TYPE, choosing\n"
            "each tensor's type and writing the same bytes as llama.cpp's llama-quantize\n"
            "(without an importance matrix).\n"
            "\n"
            "  IN            a GGUF file, an HF model directory or a llama2.c .bin\n"
            "                (a GGUF keeps all its metadata; others get convert's)\n"
            "  OUT           the GGUF to write; written as OUT.tmp and renamed when complete\n"
            "  TYPE          one of: %s\n"
            "                K mixes (q4_k_m, ...) give some tensors more bits as llama.cpp\n"
            "                does; norms and other 1-D tensors are not quantized\n"
            "  -t, --threads N  threads (default: one per CPU)\n",
            lk_quantize_type_names());
}

static void on_progress(void *ctx, uint64_t done, uint64_t total) {
    lk_progress *p = ctx;
    p->total = total;
    lk_progress_update(p, done);
}

int cmd_quantize(int argc, char **argv) {
    const char *pos[3];
    int n_pos = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            char *end;
            errno = 0;
            long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : -1;
            if (i + 1 >= argc || errno || *end || v < 1 || v > 1024) {
                cli_error("quantize: %s needs a thread count from 1 to 1024", a);
                return 2;
            }
            threads = (int)v;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("quantize: unknown option %s (see llmkit quantize --help)", a);
            return 2;
        } else if (n_pos < 3) {
            pos[n_pos++] = a;
        } else {
            cli_error("quantize: too many arguments (see llmkit quantize --help)");
            return 2;
        }
    }
    if (n_pos != 3) {
        usage(stderr);
        return 2;
    }
    const lk_ftype ftype = lk_ftype_from_name(pos[2]);
    if (ftype == LK_FTYPE_INVALID || lk_ftype_default_type(ftype) == LK_DTYPE_INVALID) {
        cli_error("quantize: unknown type \"%s\" (known: %s)", pos[2], lk_quantize_type_names());
        return 2;
    }
    /* A file size limit (ulimit -f) would otherwise kill the process
     * mid-write and leave OUT.tmp behind; ignored, the write fails with
     * EFBIG and the writer removes it. */
    signal(SIGXFSZ, SIG_IGN);

    lk_progress bar;
    lk_progress_begin(&bar, isatty(fileno(stderr)) ? stderr : NULL, "quantize", 0);
    lk_quantize_params p = {.ftype = ftype, .n_threads = threads, .progress = on_progress,
                            .progress_ctx = &bar};
    lk_quantize_stats stats;
    lk_error err = {0};
    char in_path[4096];
    if (cli_resolve_model(pos[0], in_path, sizeof in_path) != 0) return 1;
    pos[0] = in_path;
    lk_status st = lk_quantize_model(pos[0], pos[1], &p, &stats, &err);
    lk_progress_end(&bar);
    if (st != LK_OK) return cli_fail(&err);
    printf("%s: %llu tensors (%llu converted), %.2f MiB -> %.2f MiB, type %s\n", pos[1],
           (unsigned long long)stats.n_tensors, (unsigned long long)stats.n_quantized,
           (double)stats.in_bytes / 1048576.0, (double)stats.out_bytes / 1048576.0,
           lk_ftype_name(ftype));
    return 0;
}
