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
#include "gen_options.h"
#include "generate/stop.h"

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
            "                        override the model's own\n");
    cli_gen_usage(out);
    fprintf(out,
            "  --no-bos              do not add the tokenizer's beginning-of-sequence token\n"
            "  --print-ids           print token ids instead of text: the prompt's on the first\n"
            "                        line, the generated ones (with the end-of-sequence id that\n"
            "                        stopped generation) on the second\n");
}

typedef struct {
    const char *model, *prompt, *prompt_file, *tokenizer;
    bool no_bos, print_ids;
    cli_gen_options g;
} run_args;

/* Returns -1 when parsed, else the exit code (0 for --help, 2 for misuse). */
static int parse_args(int argc, char **argv, run_args *a) {
    memset(a, 0, sizeof *a);
    cli_gen_options_default(&a->g);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        int gen = cli_gen_option("run", o, v, &a->g);
        if (gen == 2) return 2;
        if (gen == 1) {
            i++;
            continue;
        }
        if (gen == 3) continue;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--no-bos")) {
            a->no_bos = true, takes = false;
        } else if (!strcmp(o, "--print-ids")) {
            a->print_ids = true, takes = false;
        } else if (o[0] == '-' && o[1] != '\0' && !v) {
            cli_error("run: %s needs a value", o);
            return 2;
        } else if (!strcmp(o, "-p") || !strcmp(o, "--prompt")) {
            a->prompt = v;
        } else if (!strcmp(o, "-f") || !strcmp(o, "--file")) {
            a->prompt_file = v;
        } else if (!strcmp(o, "--tokenizer")) {
            a->tokenizer = v;
        } else if (o[0] == '-' && o[1] != '\0') {
            cli_error("run: unknown option %s (see llmkit run --help)", o);
            return 2;
        } else if (!a->model) {
            a->model = o, takes = false;
        } else {
            cli_error("run: unexpected argument '%s'", o);
            return 2;
        }
        if (takes) i++;
    }
    if (!a->model || (!a->prompt && !a->prompt_file) || (a->prompt && a->prompt_file)) {
        cli_error("run: give a MODEL and one of -p PROMPT or -f FILE");
        usage(stderr);
        return 2;
    }
    cli_gen_options_finish(&a->g);
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
        text = cli_read_all(f, &text_len);
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
    mp.n_threads = (int32_t)a.g.threads;
    mp.no_repack = a.g.no_repack;
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
    cp.n_ctx = (int32_t)a.g.n_ctx;
    cp.kv_type = a.g.kv;
    if (lk_context_new(m, &cp, &c, &err) != LK_OK) goto fail;
    int32_t n_ctx = lk_context_n_ctx(c);
    if (a.g.n_ctx == 0 && hp->n_ctx_train > n_ctx)
        fprintf(stderr, "llmkit: context capped at %d tokens to fit in memory (the model was "
                        "trained for %d; use --ctx-size)\n", n_ctx, hp->n_ctx_train);
    if ((int64_t)n_ids >= n_ctx) {
        cli_error("run: the prompt has %zu tokens but the context holds %d (raise --ctx-size or "
                  "shorten the prompt)", n_ids, n_ctx);
        goto out;
    }
    if (lk_sampler_new(&a.g.sp, hp->n_vocab, &s, &err) != LK_OK) goto fail;
    if (lk_stop_matcher_new(a.g.stops, a.g.n_stops, &stop, &err) != LK_OK) goto fail;
    dt = lk_detokenizer_new(tok, true);
    logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    if (!dt || !logits) {
        cli_error("run: out of memory");
        goto out;
    }

    double t0 = cli_now();
    if (lk_eval(c, ids, (int32_t)n_ids, LK_LOGITS_LAST, logits, &err) != LK_OK) goto fail;
    double t1 = cli_now();
    for (size_t i = 0; i < n_ids; i++) lk_sampler_accept(s, ids[i]);
    if (a.print_ids) {
        for (size_t i = 0; i < n_ids; i++) printf("%s%d", i ? " " : "", ids[i]);
        printf("\n");
    }

    long n_gen = 0, limit = a.g.n_predict < 0 ? (long)n_ctx : a.g.n_predict;
    bool stopped = false;
    const char *reason = "token limit (-n)";
    while (n_gen < limit && !stopped) {
        int32_t next = lk_sampler_sample(s, logits);
        n_gen++;
        if (a.print_ids) printf("%s%d", n_gen > 1 ? " " : "", next);
        if (cli_is_eos(hp, tok, next)) {
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
        if (!a.print_ids) fwrite(out, 1, out_len, stdout);
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
    if (!stopped && !a.print_ids) {
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
    double t2 = cli_now();
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
