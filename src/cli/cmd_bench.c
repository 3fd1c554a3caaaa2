/* `llmkit bench MODEL`: prompt-processing and generation speed, in the style
 * of llama-bench. Each test runs once to warm up, then -r times; the table
 * shows tokens/s as mean ± sample standard deviation. Prompt tokens are
 * random ids (speed does not depend on them); generation starts from an
 * empty context and feeds each step one token, as llama-bench's tg does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "gen_options.h"

#define MAX_REPS 100

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit bench MODEL [-p N] [-n N] [-r N] [-t N] [--kv-type f16|f32] [--no-repack]\n"
            "                    [--json]\n"
            "\n"
            "Measures prompt processing (ppN) and generation (tgN) tokens/s.\n"
            "\n"
            "  MODEL            a GGUF file, an HF model directory or a llama2.c .bin\n"
            "  -p, --n-prompt N prompt tokens, evaluated in one batch (default 512; 0 skips)\n"
            "  -n, --n-gen N    tokens generated one at a time (default 128; 0 skips)\n"
            "  -r, --repetitions N  measured runs per test, after one warm-up (default 3)\n"
            "  -t, --threads N  threads (default: one per CPU)\n"
            "  --kv-type T      KV cache type, f16 (default) or f32\n"
            "  --no-repack      multiply Q4_0/Q5_0/Q8_0/Q4_K weights as stored, not from the packed\n"
            "                   copy made at load time for the faster kernels\n"
            "  --json           one JSON object per line instead of the table\n");
}

/* cli_parse_long narrowed to int (every bound here fits one). */
static bool parse_int(const char *s, long lo, long hi, int *out) {
    long v;
    if (!cli_parse_long(s, lo, hi, &v)) return false;
    *out = (int)v;
    return true;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One timed run: n_prompt tokens in one call, or n_gen single-token calls. */
static lk_status run_once(lk_context *c, const int32_t *prompt, int n_prompt, int n_gen,
                          float *logits, double *seconds, lk_error *err) {
    lk_context_reset(c);
    double t0 = now();
    lk_status st = LK_OK;
    if (n_prompt > 0) {
        st = lk_eval(c, prompt, n_prompt, LK_LOGITS_LAST, logits, err);
    } else {
        for (int i = 0; i < n_gen && st == LK_OK; i++)
            st = lk_eval(c, &prompt[i % 64], 1, LK_LOGITS_LAST, logits, err);
    }
    *seconds = now() - t0;
    return st;
}

static const char *basename_of(const char *path) {
    const char *s = strrchr(path, '/');
    if (s && s[1] == '\0') { /* a directory given with a trailing slash */
        while (s > path && s[-1] != '/') s--;
        return s;
    }
    return s ? s + 1 : path;
}

int cmd_bench(int argc, char **argv) {
    const char *path = NULL;
    int n_prompt = 512, n_gen = 128, reps = 3, threads = 0;
    bool no_repack = false;
    bool json = false;
    lk_dtype kv = LK_DTYPE_F16;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "-p") || !strcmp(a, "--n-prompt")) && v) {
            if (!parse_int(v, 0, 1 << 20, &n_prompt)) goto bad_value;
            i++;
        } else if ((!strcmp(a, "-n") || !strcmp(a, "--n-gen")) && v) {
            if (!parse_int(v, 0, 1 << 20, &n_gen)) goto bad_value;
            i++;
        } else if ((!strcmp(a, "-r") || !strcmp(a, "--repetitions")) && v) {
            if (!parse_int(v, 1, MAX_REPS, &reps)) goto bad_value;
            i++;
        } else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && v) {
            if (!parse_int(v, 0, 4096, &threads)) goto bad_value;
            i++;
        } else if (!strcmp(a, "--kv-type") && v) {
            if (!strcmp(v, "f16")) kv = LK_DTYPE_F16;
            else if (!strcmp(v, "f32")) kv = LK_DTYPE_F32;
            else goto bad_value;
            i++;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--no-repack")) {
            no_repack = true;
        } else if (a[0] == '-') {
            cli_error("bench: unknown option %s (or it needs a value)", a);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            cli_error("bench: more than one MODEL given (%s)", a);
            return 2;
        }
        continue;
    bad_value:
        cli_error("bench: bad value '%s' for %s", v, a);
        return 2;
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (n_prompt == 0 && n_gen == 0) {
        cli_error("bench: nothing to measure (-p 0 and -n 0)");
        return 2;
    }

    lk_error err;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = threads;
    mp.no_repack = no_repack;
    lk_model *m;
    char model_path[4096];
    if (cli_resolve_model(path, model_path, sizeof model_path) != 0) return 1;
    path = model_path;
    if (lk_model_load(path, &mp, &m, &err) != LK_OK) return cli_fail(&err);
    const lk_hparams *hp = lk_model_hparams(m);
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = (n_prompt > n_gen ? n_prompt : n_gen) + 1;
    cp.n_batch = n_prompt > 0 ? (n_prompt < 512 ? n_prompt : 512) : 1;
    cp.kv_type = kv;
    lk_context *c;
    if (lk_context_new(m, &cp, &c, &err) != LK_OK) {
        lk_model_free(m);
        return cli_fail(&err);
    }
    int n_tok = n_prompt > 64 ? n_prompt : 64;
    int32_t *prompt = malloc((size_t)n_tok * sizeof *prompt);
    float *logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    if (!prompt || !logits) {
        cli_error("bench: out of memory");
        free(prompt);
        free(logits);
        lk_context_free(c);
        lk_model_free(m);
        return 1;
    }
    uint64_t rng = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < n_tok; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        prompt[i] = (int32_t)((rng >> 33) % (uint64_t)hp->n_vocab);
    }

    const char *name = basename_of(path);
    /* Sizes as llama-bench shows them: GiB, or MiB below one GiB. */
    double mib = (double)lk_model_size(m) / (1024.0 * 1024.0);
    char size_text[32];
    if (mib >= 1024.0) snprintf(size_text, sizeof size_text, "%.2f GiB", mib / 1024.0);
    else snprintf(size_text, sizeof size_text, "%.2f MiB", mib);
    double mparams = (double)lk_model_n_params(m) / 1e6;
    int nt = lk_model_n_threads(m);
    if (!json) {
        printf("| model | size | params | backend | threads | test | t/s |\n");
        printf("| --- | ---: | ---: | --- | ---: | ---: | ---: |\n");
    }
    int rc = 0;
    for (int test = 0; test < 2 && rc == 0; test++) {
        int np = test == 0 ? n_prompt : 0, ng = test == 1 ? n_gen : 0;
        if (np == 0 && ng == 0) continue;
        double samples[MAX_REPS], secs;
        lk_status st = run_once(c, prompt, np, ng, logits, &secs, &err); /* warm-up */
        for (int r = 0; r < reps && st == LK_OK; r++) {
            st = run_once(c, prompt, np, ng, logits, &secs, &err);
            samples[r] = (np + ng) / secs;
        }
        if (st != LK_OK) {
            rc = cli_fail(&err);
            break;
        }
        double mean = 0, var = 0;
        for (int r = 0; r < reps; r++) mean += samples[r];
        mean /= reps;
        for (int r = 0; r < reps; r++) var += (samples[r] - mean) * (samples[r] - mean);
        double sd = reps > 1 ? sqrt(var / (reps - 1)) : 0.0;
        char test_name[32];
        snprintf(test_name, sizeof test_name, "%s%d", np ? "pp" : "tg", np ? np : ng);
        if (json) {
            printf("{\"model\": \"%s\", \"arch\": \"%s\", \"size\": %llu, \"n_params\": %llu, "
                   "\"backend\": \"CPU\", \"kernels\": \"%s\", \"n_threads\": %d, "
                   "\"kv_type\": \"%s\", \"test\": \"%s\", \"n_prompt\": %d, \"n_gen\": %d, "
                   "\"avg_ts\": %.6f, \"stddev_ts\": %.6f, \"samples_ts\": [",
                   name, hp->arch, (unsigned long long)lk_model_size(m),
                   (unsigned long long)lk_model_n_params(m), lk_model_kernels(m), nt,
                   lk_dtype_name(kv), test_name, np, ng, mean, sd);
            for (int r = 0; r < reps; r++) printf("%s%.6f", r ? ", " : "", samples[r]);
            printf("]}\n");
        } else {
            printf("| %s (%s) | %s | %.2f M | CPU (%s) | %d | %s | %.2f ± %.2f |\n", name,
                   hp->arch, size_text, mparams, lk_model_kernels(m), nt, test_name, mean, sd);
        }
        fflush(stdout);
    }
    free(prompt);
    free(logits);
    lk_context_free(c);
    lk_model_free(m);
    return rc;
}
