/* `llmkit run MODEL -p PROMPT`: generate text. The prompt is tokenized with
 * the model's own tokenizer (or --tokenizer for a llama2.c checkpoint),
 * evaluated in one batch, then tokens are sampled one at a time and streamed
 * to stdout as whole UTF-8 characters. Generation stops at -n tokens, at any
 * end-of-sequence id, at a --stop string, or when the context is full.
 * Prompt and generation speed go to stderr at the end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "generate/stop.h"

#define MAX_STOPS 16

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit run MODEL (-p PROMPT | -f FILE) [options]\n"
            "\n"
            "Generates text from a prompt and streams it to stdout.\n"
            "\n"
            "  MODEL                 a GGUF file, an HF model directory or a llama2.c .bin\n"
            "  -p, --prompt TEXT     the prompt; '-' reads it from stdin\n"
            "  -f, --file FILE       read the prompt from FILE\n"
            "  --tokenizer PATH      tokenizer for a llama2.c checkpoint (tok512.bin, ...), or to\n"
            "                        override the model's own\n"
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
            "  --no-bos              do not add the tokenizer's beginning-of-sequence token\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out) {
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

/* Whole stream into a NUL-terminated heap buffer. */
static char *read_all(FILE *f, size_t *len) {
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

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool is_eos(const lk_hparams *hp, const lk_tokenizer *tok, int32_t id) {
    for (int32_t i = 0; i < hp->n_eos && i < LK_MAX_EOS; i++)
        if (hp->eos_ids[i] == id) return true;
    return id == lk_tokenizer_eos(tok);
}

typedef struct {
    const char *model, *prompt, *prompt_file, *tokenizer;
    long n_predict, n_ctx, threads;
    bool no_bos;
    lk_dtype kv;
    lk_sampler_params sp;
    bool seed_given;
    const char *stops[MAX_STOPS];
    size_t n_stops;
} run_args;

/* Returns -1 when parsed, else the exit code (0 for --help, 2 for misuse). */
static int parse_args(int argc, char **argv, run_args *a) {
    memset(a, 0, sizeof *a);
    a->n_predict = 256;
    a->kv = LK_DTYPE_F16;
    lk_sampler_params_default(&a->sp);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes = true;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--no-bos")) {
            a->no_bos = true, takes = false;
        } else if (o[0] == '-' && o[1] != '\0' && !v) {
            cli_error("run: %s needs a value", o);
            return 2;
        } else if (!strcmp(o, "-p") || !strcmp(o, "--prompt")) {
            a->prompt = v;
        } else if (!strcmp(o, "-f") || !strcmp(o, "--file")) {
            a->prompt_file = v;
        } else if (!strcmp(o, "--tokenizer")) {
            a->tokenizer = v;
        } else if (!strcmp(o, "-n") || !strcmp(o, "--n-predict")) {
            ok = parse_long(v, -1, 1 << 24, &a->n_predict);
        } else if (!strcmp(o, "-c") || !strcmp(o, "--ctx-size")) {
            ok = parse_long(v, 0, 1 << 24, &a->n_ctx);
        } else if (!strcmp(o, "-t") || !strcmp(o, "--threads")) {
            ok = parse_long(v, 0, 4096, &a->threads);
        } else if (!strcmp(o, "--temp")) {
            ok = parse_float(v, 0.0f, 100.0f, &a->sp.temperature);
        } else if (!strcmp(o, "--top-k")) {
            long k;
            ok = parse_long(v, 0, 1 << 24, &k);
            a->sp.top_k = (int32_t)k;
        } else if (!strcmp(o, "--top-p")) {
            ok = parse_float(v, 0.0f, 1.0f, &a->sp.top_p);
        } else if (!strcmp(o, "--min-p")) {
            ok = parse_float(v, 0.0f, 1.0f, &a->sp.min_p);
        } else if (!strcmp(o, "--repeat-penalty")) {
            ok = parse_float(v, 0.01f, 100.0f, &a->sp.repeat_penalty);
        } else if (!strcmp(o, "--presence-penalty")) {
            ok = parse_float(v, -100.0f, 100.0f, &a->sp.presence_penalty);
        } else if (!strcmp(o, "--frequency-penalty")) {
            ok = parse_float(v, -100.0f, 100.0f, &a->sp.frequency_penalty);
        } else if (!strcmp(o, "--seed")) {
            ok = parse_u64(v, &a->sp.seed);
            a->seed_given = true;
        } else if (!strcmp(o, "--kv-type")) {
            if (!strcmp(v, "f16")) a->kv = LK_DTYPE_F16;
            else if (!strcmp(v, "f32")) a->kv = LK_DTYPE_F32;
            else ok = false;
        } else if (!strcmp(o, "--stop")) {
            if (a->n_stops == MAX_STOPS) {
                cli_error("run: at most %d --stop strings", MAX_STOPS);
                return 2;
            }
            a->stops[a->n_stops++] = v;
        } else if (o[0] == '-' && o[1] != '\0') {
            cli_error("run: unknown option %s (see llmkit run --help)", o);
            return 2;
        } else if (!a->model) {
            a->model = o, takes = false;
        } else {
            cli_error("run: unexpected argument '%s'", o);
            return 2;
        }
        if (!ok) {
            cli_error("run: bad value '%s' for %s", v, o);
            return 2;
        }
        if (takes) i++;
    }
    if (!a->model || (!a->prompt && !a->prompt_file) || (a->prompt && a->prompt_file)) {
        cli_error("run: give a MODEL and one of -p PROMPT or -f FILE");
        usage(stderr);
        return 2;
    }
    if (!a->seed_given) a->sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    return -1;
}

int cmd_run(int argc, char **argv) {
    run_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;

    /* The prompt text. */
    char *text = NULL;
    size_t text_len = 0;
    if (a.prompt_file || !strcmp(a.prompt, "-")) {
        FILE *f = a.prompt_file ? fopen(a.prompt_file, "rb") : stdin;
        if (!f) {
            cli_error("run: cannot open prompt file %s: %s", a.prompt_file, strerror(errno));
            return 1;
        }
        text = read_all(f, &text_len);
        if (f != stdin) fclose(f);
        if (!text) {
            cli_error("run: cannot read the prompt");
            return 1;
        }
    } else {
        text = strdup(a.prompt);
        text_len = strlen(a.prompt);
    }

    lk_error err;
    lk_model_file *mf = NULL;
    lk_model *m = NULL;
    lk_tokenizer *tok = NULL;
    lk_context *c = NULL;
    lk_sampler *s = NULL;
    lk_detokenizer *dt = NULL;
    lk_stop_matcher *stop = NULL;
    int32_t *ids = NULL;
    float *logits = NULL;
    rc = 1;

    char model_path[4096];
    if (cli_resolve_model(a.model, model_path, sizeof model_path) != 0) goto out;
    a.model = model_path;
    if (lk_model_file_open(a.model, &mf, &err) != LK_OK) goto fail;
    const char *tok_path = a.tokenizer ? a.tokenizer : a.model;
    if (!a.tokenizer && lk_model_file_format(mf) == LK_FORMAT_LLAMA2C) {
        cli_error("run: %s is a llama2.c checkpoint, which holds no tokenizer: pass "
                  "--tokenizer (e.g. tok512.bin beside it)", a.model);
        goto out;
    }
    if (lk_tokenizer_load(tok_path, &tok, &err) != LK_OK) goto fail;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = (int32_t)a.threads;
    if (lk_model_load_file(mf, &mp, &m, &err) != LK_OK) goto fail;
    const lk_hparams *hp = lk_model_hparams(m);
    if (lk_tokenizer_n_vocab(tok) > hp->n_vocab) {
        cli_error("run: the tokenizer has %d tokens but the model only %d (wrong --tokenizer?)",
                  lk_tokenizer_n_vocab(tok), hp->n_vocab);
        goto out;
    }

    size_t n_ids = 0;
    if (lk_tokenizer_encode(tok, text, text_len, !a.no_bos, false, &ids, &n_ids, &err) != LK_OK)
        goto fail;
    if (n_ids == 0) {
        cli_error("run: the prompt is empty (no tokens)");
        goto out;
    }
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = (int32_t)a.n_ctx;
    cp.kv_type = a.kv;
    if (lk_context_new(m, &cp, &c, &err) != LK_OK) goto fail;
    int32_t n_ctx = lk_context_n_ctx(c);
    if (a.n_ctx == 0 && hp->n_ctx_train > n_ctx)
        fprintf(stderr, "llmkit: context capped at %d tokens to fit in memory (the model was "
                        "trained for %d; use --ctx-size)\n", n_ctx, hp->n_ctx_train);
    if ((int64_t)n_ids >= n_ctx) {
        cli_error("run: the prompt has %zu tokens but the context holds %d (raise --ctx-size or "
                  "shorten the prompt)", n_ids, n_ctx);
        goto out;
    }
    if (lk_sampler_new(&a.sp, hp->n_vocab, &s, &err) != LK_OK) goto fail;
    if (lk_stop_matcher_new(a.stops, a.n_stops, &stop, &err) != LK_OK) goto fail;
    dt = lk_detokenizer_new(tok, true);
    logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    if (!dt || !logits) {
        cli_error("run: out of memory");
        goto out;
    }

    double t0 = now();
    if (lk_eval(c, ids, (int32_t)n_ids, LK_LOGITS_LAST, logits, &err) != LK_OK) goto fail;
    double t1 = now();
    for (size_t i = 0; i < n_ids; i++) lk_sampler_accept(s, ids[i]);

    long n_gen = 0, limit = a.n_predict < 0 ? (long)n_ctx : a.n_predict;
    bool stopped = false;
    const char *reason = "token limit (-n)";
    while (n_gen < limit && !stopped) {
        int32_t next = lk_sampler_sample(s, logits);
        n_gen++;
        if (is_eos(hp, tok, next)) {
            reason = "end of sequence";
            break;
        }
        lk_sampler_accept(s, next);
        size_t len;
        const char *piece = lk_detokenizer_push(dt, next, &len);
        const char *out;
        size_t out_len;
        if (lk_stop_matcher_push(stop, piece, len, &out, &out_len, &stopped, &err) != LK_OK)
            goto fail;
        fwrite(out, 1, out_len, stdout);
        fflush(stdout);
        if (stopped) {
            reason = "stop string";
            break;
        }
        if (lk_context_n_past(c) >= n_ctx) {
            reason = "context full";
            break;
        }
        if (n_gen < limit && lk_eval(c, &next, 1, LK_LOGITS_LAST, logits, &err) != LK_OK) goto fail;
    }
    if (!stopped) {
        size_t len, out_len;
        const char *piece = lk_detokenizer_flush(dt, &len);
        const char *out;
        if (lk_stop_matcher_push(stop, piece, len, &out, &out_len, &stopped, &err) != LK_OK)
            goto fail;
        fwrite(out, 1, out_len, stdout);
        if (!stopped) {
            out = lk_stop_matcher_flush(stop, &out_len);
            fwrite(out, 1, out_len, stdout);
        }
    }
    double t2 = now();
    printf("\n");
    fflush(stdout);
    fprintf(stderr,
            "llmkit: prompt: %zu tokens in %.3f s (%.2f tokens/s); generation: %ld tokens in "
            "%.3f s (%.2f tokens/s); stopped by %s\n",
            n_ids, t1 - t0, (double)n_ids / (t1 - t0), n_gen, t2 - t1,
            n_gen > 0 ? (double)n_gen / (t2 - t1) : 0.0, reason);
    rc = 0;
    goto out;
fail:
    rc = cli_fail(&err);
out:
    free(logits);
    free(ids);
    free(text);
    lk_stop_matcher_free(stop);
    lk_detokenizer_free(dt);
    lk_sampler_free(s);
    lk_context_free(c);
    lk_tokenizer_free(tok);
    lk_model_free(m);
    lk_model_file_close(mf);
    return rc;
}
