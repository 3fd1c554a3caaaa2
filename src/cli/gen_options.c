/* Generation options shared by `run` and `chat` (see gen_options.h). */
#include "gen_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"

void cli_gen_options_default(cli_gen_options *g) {
    memset(g, 0, sizeof *g);
    g->n_predict = 256;
    g->kv = LK_DTYPE_F16;
    lk_sampler_params_default(&g->sp);
}

void cli_gen_usage(FILE *out) {
    fprintf(out,
            "  -n, --n-predict N     tokens to generate at most (default 256; -1: until the end\n"
            "                        of the context)\n"
            "  --temp T              temperature; 0 is greedy (default 0.8)\n"
            "  --top-k K             keep the K likeliest tokens; 0 is off (default 40)\n"
            "  --top-p P             keep the smallest set with probability >= P; 1 is off (0.95)\n"
            "  --min-p P             drop tokens below P x the top probability; 0 is off (0.05)\n"
            "  --repeat-penalty R    penalise the last 64 tokens; 1 is off (default 1)\n"
            "  --presence-penalty P  subtract P from tokens seen in the last 64 (default 0)\n"
            "  --frequency-penalty P subtract P per occurrence in the last 64 (default 0)\n"
            "  --seed S              random seed: same seed, same output (default: from the clock)\n"
            "  --stop TEXT           stop when TEXT is generated (repeatable, up to 16)\n"
            "  -c, --ctx-size N      context size in tokens (default: the model's, capped to fit\n"
            "                        in memory)\n"
            "  --kv-type f16|f32     KV cache type (default f16)\n"
            "  -t, --threads N       threads (default: one per CPU)\n"
            "  --no-repack           multiply Q4_0/Q5_0/Q8_0/Q4_K weights as stored (default: a\n"
            "                        packed copy for the faster kernels, made at load time)\n");
}

bool cli_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, float lo, float hi, float *out) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') return false;
    *out = v;
    return true;
}

int cli_gen_option(const char *cmd, const char *o, const char *v, cli_gen_options *g) {
    static const char *const known[] = {"-n", "--n-predict", "-c", "--ctx-size", "-t", "--threads",
                                        "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty",
                                        "--presence-penalty", "--frequency-penalty", "--seed",
                                        "--kv-type", "--stop", NULL};
    if (!strcmp(o, "--no-repack")) {
        g->no_repack = true;
        return 3;
    }
    bool is_known = false;
    for (int i = 0; known[i]; i++) is_known |= !strcmp(o, known[i]);
    if (!is_known) return 0;
    if (!v) {
        cli_error("%s: %s needs a value", cmd, o);
        return 2;
    }
    bool ok = true;
    if (!strcmp(o, "-n") || !strcmp(o, "--n-predict")) {
        ok = cli_parse_long(v, -1, 1 << 24, &g->n_predict);
    } else if (!strcmp(o, "-c") || !strcmp(o, "--ctx-size")) {
        ok = cli_parse_long(v, 0, 1 << 24, &g->n_ctx);
    } else if (!strcmp(o, "-t") || !strcmp(o, "--threads")) {
        ok = cli_parse_long(v, 0, 4096, &g->threads);
    } else if (!strcmp(o, "--temp")) {
        ok = parse_float(v, 0.0f, 100.0f, &g->sp.temperature);
    } else if (!strcmp(o, "--top-k")) {
        long k = 0;
        ok = cli_parse_long(v, 0, 1 << 24, &k);
        g->sp.top_k = (int32_t)k;
    } else if (!strcmp(o, "--top-p")) {
        ok = parse_float(v, 0.0f, 1.0f, &g->sp.top_p);
    } else if (!strcmp(o, "--min-p")) {
        ok = parse_float(v, 0.0f, 1.0f, &g->sp.min_p);
    } else if (!strcmp(o, "--repeat-penalty")) {
        ok = parse_float(v, 0.01f, 100.0f, &g->sp.repeat_penalty);
    } else if (!strcmp(o, "--presence-penalty")) {
        ok = parse_float(v, -100.0f, 100.0f, &g->sp.presence_penalty);
    } else if (!strcmp(o, "--frequency-penalty")) {
        ok = parse_float(v, -100.0f, 100.0f, &g->sp.frequency_penalty);
    } else if (!strcmp(o, "--seed")) {
        ok = parse_u64(v, &g->sp.seed);
        g->seed_given = true;
    } else if (!strcmp(o, "--kv-type")) {
        if (!strcmp(v, "f16")) g->kv = LK_DTYPE_F16;
        else if (!strcmp(v, "f32")) g->kv = LK_DTYPE_F32;
        else ok = false;
    } else if (!strcmp(o, "--stop")) {
        if (g->n_stops == CLI_MAX_STOPS) {
            cli_error("%s: at most %d --stop strings", cmd, CLI_MAX_STOPS);
            return 2;
        }
        g->stops[g->n_stops++] = v;
    }
    if (!ok) {
        cli_error("%s: bad value '%s' for %s", cmd, v, o);
        return 2;
    }
    return 1;
}

void cli_gen_options_finish(cli_gen_options *g) {
    if (!g->seed_given) g->sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

char *cli_read_all(FILE *f, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) break;
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            buf[n] = '\0';
            *len = n;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

bool cli_is_eos(const lk_hparams *hp, const lk_tokenizer *tok, int32_t id) {
    for (int32_t i = 0; i < hp->n_eos && i < LK_MAX_EOS; i++)
        if (hp->eos_ids[i] == id) return true;
    return id == lk_tokenizer_eos(tok);
}
