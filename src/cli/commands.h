/* The llmkit subcommands. Each lives in src/cli/cmd_<name>.c and returns the
 * process exit code: 0 success, 1 failure (message printed), 2 usage error. */
#ifndef LK_CLI_COMMANDS_H
#define LK_CLI_COMMANDS_H

#include "llmkit.h"

int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_chat(int argc, char **argv);

/* Prints "llmkit: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an lk_error and returns 1. */
int cli_fail(const lk_error *err);

#endif
