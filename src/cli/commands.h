/* The llmkit subcommands. Each lives in src/cli/cmd_<name>.c and returns the
 * process exit code: 0 success, 1 failure (message printed), 2 usage error. */
#ifndef LK_CLI_COMMANDS_H
#define LK_CLI_COMMANDS_H

#include <stddef.h>

#include "llmkit.h"

int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);

/* For chat/serve given no MODEL: the default model's path in the store,
 * pulled first (saying so on stderr) when missing. 0 ok, 1 failed (printed). */
int cli_default_model(char *out, size_t n);
/* MODEL arguments: an existing path as it is, else a repo id (owner/name[@rev])
 * pulled into the store becomes its folder or .gguf. Prints the error and
 * returns 1 when it is neither. */
int cli_resolve_model(const char *arg, char *out, size_t n);
int cmd_chat(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Prints "llmkit: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an lk_error and returns 1. */
int cli_fail(const lk_error *err);

#endif
