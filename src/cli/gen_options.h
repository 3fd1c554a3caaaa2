/* Generation options shared by the commands that sample text (`run`,
 * `chat`): sampling flags, -n, --stop, context size, KV type, threads, and
 * the small helpers they both use (number parsing, clock, EOS test). */
#ifndef LK_CLI_GEN_OPTIONS_H
#define LK_CLI_GEN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "llmkit.h"

#define CLI_MAX_STOPS 16

typedef struct {
    long n_predict, n_ctx, threads;
    lk_dtype kv;
    lk_sampler_params sp;
    bool seed_given;
    bool no_repack; /* --no-repack: lk_model_params.no_repack */
    const char *stops[CLI_MAX_STOPS];
    size_t n_stops;
} cli_gen_options;

void cli_gen_options_default(cli_gen_options *g);
/* Option o with value v (NULL when none follows). Returns 1 when o is a
 * generation option and was applied (it takes v), 3 when it was applied and
 * takes no value, 0 when o is not one, 2 after printing a usage error (cmd
 * names the command in the message). */
int cli_gen_option(const char *cmd, const char *o, const char *v, cli_gen_options *g);
/* After parsing: a seed from the clock unless --seed was given. */
void cli_gen_options_finish(cli_gen_options *g);
/* The help lines for the options above. */
void cli_gen_usage(FILE *out);

bool cli_parse_long(const char *s, long lo, long hi, long *out);
double cli_now(void);
/* Whole stream into a NUL-terminated heap buffer; NULL when out of memory. */
char *cli_read_all(FILE *f, size_t *len);
/* An end-of-sequence id of the model (hparams) or of the tokenizer. */
bool cli_is_eos(const lk_hparams *hp, const lk_tokenizer *tok, int32_t id);

#endif
