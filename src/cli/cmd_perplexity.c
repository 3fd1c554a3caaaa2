/* `llmkit perplexity MODEL TEXTFILE`: llama-perplexity's chunked perplexity
 * (quantize/perplexity.h), printed the way llama-perplexity prints it:
 * the running estimate after each chunk, then "Final estimate: PPL = ...". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "commands.h"
#include "quantize/perplexity.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit perplexity MODEL TEXTFILE [--ctx N] [--chunks N] [-t N] [--tokenizer PATH]\n"
            "                         [--no-repack]\n"
            "\n"
            "Perplexity of MODEL on the text, computed as llama-perplexity does: the\n"
            "text's tokens are cut into chunks of N tokens, each evaluated on its own with\n"
            "its first token replaced by BOS, and the second half of each chunk is scored.\n"
            "Needs at least 2*N tokens of text.\n"
            "\n"
            "  --ctx N          tokens per chunk (default 512)\n"
            "  --chunks N       score at most N chunks (default: all)\n"
            "  -t, --threads N  threads (default: one per CPU)\n"
            "  --tokenizer PATH tokenizer for a llama2.c checkpoint (tok512.bin, ...)\n"
            "  --no-repack      multiply Q4_0/Q5_0/Q8_0/Q4_K weights as stored, not from the packed\n"
            "                   copy made at load time for the faster kernels\n");
}

static bool parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static void on_chunk(void *ctx, int32_t chunk, int32_t n_chunks, double ppl) {
    (void)ctx;
    (void)n_chunks;
    printf("[%d]%.4f,", (int)chunk + 1, ppl);
    fflush(stdout);
}

int cmd_perplexity(int argc, char **argv) {
    const char *pos[2], *tokenizer = NULL;
    int n_pos = 0, n_ctx = 512, threads = 0, chunks = 0;
    bool no_repack = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--ctx") || !strcmp(a, "-c")) {
            if (!v || !parse_int(v, 4, 1 << 20, &n_ctx) || n_ctx % 2) {
                cli_error("perplexity: %s needs an even number of tokens >= 4", a);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--chunks")) {
            if (!v || !parse_int(v, 1, 1 << 30, &chunks)) {
                cli_error("perplexity: --chunks needs a positive number");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!v || !parse_int(v, 1, 1024, &threads)) {
                cli_error("perplexity: %s needs a thread count from 1 to 1024", a);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--no-repack")) {
            no_repack = true;
        } else if (!strcmp(a, "--tokenizer") && v) {
            tokenizer = v;
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("perplexity: unknown option or missing value: %s (see llmkit perplexity --help)", a);
            return 2;
        } else if (n_pos < 2) {
            pos[n_pos++] = a;
        } else {
            cli_error("perplexity: too many arguments");
            return 2;
        }
    }
    if (n_pos != 2) {
        usage(stderr);
        return 2;
    }
    lk_error err;
    lk_model_file *mf = NULL;
    lk_model *m = NULL;
    lk_tokenizer *tok = NULL;
    char *text = NULL;
    int32_t *ids = NULL;
    size_t text_len = 0, n_ids = 0;
    int rc = 1;
    char model_path[4096];
    if (cli_resolve_model(pos[0], model_path, sizeof model_path) != 0) return 1;
    pos[0] = model_path;
    if (lk_model_file_open(pos[0], &mf, &err) != LK_OK) goto fail;
    if (!tokenizer && lk_model_file_format(mf) == LK_FORMAT_LLAMA2C) {
        cli_error("perplexity: %s is a llama2.c checkpoint, which holds no tokenizer: pass "
                  "--tokenizer (e.g. tok512.bin beside it)", pos[0]);
        goto out;
    }
    if (lk_tokenizer_load(tokenizer ? tokenizer : pos[0], &tok, &err) != LK_OK) goto fail;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = threads;
    mp.no_repack = no_repack;
    if (lk_model_load_file(mf, &mp, &m, &err) != LK_OK) goto fail;
    if (lk_read_file(pos[1], (size_t)1 << 32, &text, &text_len, &err) != LK_OK) goto fail;
    fprintf(stderr, "perplexity: tokenizing the input ..\n");
    if (lk_tokenizer_encode(tok, text, text_len, true, false, &ids, &n_ids, &err) != LK_OK)
        goto fail;
    /* llama.cpp puts BOS first in each chunk when the vocabulary adds one. */
    const int32_t bos = lk_tokenizer_bos(tok);
    const bool add_bos = bos >= 0 && n_ids > 0 && ids[0] == bos;
    lk_perplexity_params pp = {.n_ctx = n_ctx, .bos_id = add_bos ? bos : -1,
                               .max_chunks = chunks, .on_chunk = on_chunk};
    int64_t n_chunks = (int64_t)n_ids / n_ctx;
    if (chunks > 0 && n_chunks > chunks) n_chunks = chunks;
    if ((int64_t)n_ids >= 2 * (int64_t)n_ctx)
        fprintf(stderr, "perplexity: %zu tokens; calculating perplexity over %lld chunks, n_ctx=%d\n",
            n_ids, (long long)n_chunks, n_ctx);
    lk_perplexity_result r;
    if (lk_perplexity(m, ids, (int64_t)n_ids, &pp, &r, &err) != LK_OK) goto fail;
    printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", r.ppl, r.ppl_error);
    rc = 0;
    goto out;
fail:
    rc = cli_fail(&err);
out:
    free(ids);
    free(text);
    lk_tokenizer_free(tok);
    lk_model_free(m); /* before the file it reads */
    lk_model_file_close(mf);
    return rc;
}
