/* `llmkit convert HF_DIR OUT.gguf`: an HF model folder (or llama2.c
 * checkpoint) as a GGUF that llama.cpp loads, like convert_hf_to_gguf.py.
 * The same machinery as `llmkit quantize` (quantize/quantize.h), limited to
 * the converter's output types. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/progress.h"
#include "commands.h"
#include "quantize/quantize.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit convert HF_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0] [--tokenizer FILE]\n"
            "\n"
            "Writes an HF model folder (config.json + *.safetensors) or a llama2.c .bin\n"
            "as a GGUF file with llama.cpp's metadata keys, tensor names and layouts\n"
            "(llama/mistral q/k rows permuted to llama.cpp's rope order). The folder's\n"
            "tokenizer.json goes in as llama.cpp's vocabulary: byte-level BPE as \"gpt2\",\n"
            "SentencePiece-style BPE as \"llama\", WordPiece as \"bert\" (uncased BERT only),\n"
            "Unigram as \"t5\" (see docs/cli.md).\n"
            "\n"
            "  --outtype T   f32, f16 (default), bf16 or q8_0: the type of 2-D weights;\n"
            "                1-D tensors (norms, biases) are always f32\n"
            "  --tokenizer FILE  write this tokenizer's vocabulary (tokenizer.ggml.*): a llama2.c\n"
            "                checkpoint holds none, so pass its tokenizer.bin (tok512.bin, ...);\n"
            "                SentencePiece-style tokenizers only\n"
            "  -t, --threads N  threads (default: one per CPU)\n");
}

static void on_progress(void *ctx, uint64_t done, uint64_t total) {
    lk_progress *p = ctx;
    p->total = total;
    lk_progress_update(p, done);
}

int cmd_convert(int argc, char **argv) {
    const char *pos[2];
    const char *outtype = "f16", *tokenizer = NULL;
    int n_pos = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--outtype") && i + 1 < argc) {
            outtype = argv[++i];
        } else if (!strcmp(a, "--tokenizer") && i + 1 < argc) {
            tokenizer = argv[++i];
        } else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && i + 1 < argc) {
            if (sscanf(argv[++i], "%d", &threads) != 1 || threads < 1) {
                cli_error("convert: %s needs a positive thread count", a);
                return 2;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("convert: unknown option or missing value: %s (see llmkit convert --help)", a);
            return 2;
        } else if (n_pos < 2) {
            pos[n_pos++] = a;
        } else {
            cli_error("convert: too many arguments (see llmkit convert --help)");
            return 2;
        }
    }
    if (n_pos != 2) {
        usage(stderr);
        return 2;
    }
    lk_ftype ftype = LK_FTYPE_INVALID;
    if (!strcmp(outtype, "f32")) ftype = LK_FTYPE_ALL_F32;
    else if (!strcmp(outtype, "f16")) ftype = LK_FTYPE_F16;
    else if (!strcmp(outtype, "bf16")) ftype = LK_FTYPE_BF16;
    else if (!strcmp(outtype, "q8_0")) ftype = LK_FTYPE_Q8_0;
    if (ftype == LK_FTYPE_INVALID) {
        cli_error("convert: unknown --outtype \"%s\" (known: f32 f16 bf16 q8_0)", outtype);
        return 2;
    }
    signal(SIGXFSZ, SIG_IGN); /* see cmd_quantize.c */
    lk_progress bar;
    lk_progress_begin(&bar, isatty(fileno(stderr)) ? stderr : NULL, "convert", 0);
    lk_quantize_params p = {.ftype = ftype, .n_threads = threads, .progress = on_progress,
                            .progress_ctx = &bar, .tokenizer = tokenizer};
    lk_quantize_stats stats;
    lk_error err = {0};
    char in_path[4096];
    if (cli_resolve_model(pos[0], in_path, sizeof in_path) != 0) return 1;
    pos[0] = in_path;
    lk_status st = lk_quantize_model(pos[0], pos[1], &p, &stats, &err);
    lk_progress_end(&bar);
    if (st != LK_OK) return cli_fail(&err);
    printf("%s: %llu tensors, %.2f MiB, type %s\n", pos[1], (unsigned long long)stats.n_tensors,
           (double)stats.out_bytes / 1048576.0, outtype);
    return 0;
}
