/* llmkit command-line entry point: global flags, logging set-up, and
 * dispatch to the subcommands in cmd_*.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "commands.h"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command k_commands[] = {
    {"info", cmd_info, "show what a model file holds (GGUF, HF directory, llama2.c)"},
    {"tokenize", cmd_tokenize, "text to token ids with a model's tokenizer"},
    {"detokenize", cmd_detokenize, "token ids back to text"},
    {"run", cmd_run, "generate text from a prompt (streams to stdout)"},
    {"bench", cmd_bench, "prompt-processing and generation speed (tokens/s), like llama-bench"},
    {"template", cmd_template, "print the prompt a chat template makes of a conversation"},
    {"pull", cmd_pull, "download a model from the Hugging Face hub (or HF_ENDPOINT) into the store"},
    {"list", cmd_list, "list the models in the store (repo, revision, size, format)"},
    {"rm", cmd_rm, "remove a model from the store"},
    {"quantize", cmd_quantize, "write a model as a quantized GGUF (q4_k_m, q8_0, ...) like llama-quantize"},
    {"convert", cmd_convert, "write an HF model folder as a llama.cpp GGUF (f32, f16, bf16, q8_0)"},
    {"perplexity", cmd_perplexity, "perplexity of a model on a text file, computed as llama-perplexity does"},
    {"chat", cmd_chat, "talk with a chat model (interactive, or one message per input line)"},
    {"serve", cmd_serve, "an OpenAI-compatible HTTP server (chat, completions, streaming, web chat)"},
};

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("llmkit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_fail(const lk_error *err) {
    cli_error("%s", err->msg[0] ? err->msg : lk_status_name(err->code));
    return 1;
}

static void log_to_stderr(lk_log_level level, const char *msg, void *user) {
    (void)user;
    static const char *tags[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "llmkit: %s: %s\n", tags[level], msg);
}

static void print_version(void) {
    printf("llmkit %s\n", lk_version());
    printf("compiler: %s\n", LLMKIT_C_COMPILER);
    printf("build: %s\n", LLMKIT_BUILD_FLAGS);
    printf("cpu features: %s\n", lk_cpu_features_string());
}

static void print_help(FILE *out) {
    fprintf(out,
            "usage: llmkit [-v] [--version] COMMAND [ARGS]\n"
            "\n"
            "A local large-language-model toolkit.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(out, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(out,
            "\n"
            "options:\n"
            "  -v, --verbose  more log output (repeat for debug); LLMKIT_LOG=error|warn|info|debug\n"
            "  --version      version, compiler, build flags and detected CPU features\n"
            "  -h, --help     this help; `llmkit COMMAND --help` for a command's own\n");
}

int main(int argc, char **argv) {
    lk_log_set_sink(log_to_stderr, NULL);
    int level = lk_log_parse_level(getenv("LLMKIT_LOG"));
    if (getenv("LLMKIT_LOG") && level < 0)
        cli_error("ignoring LLMKIT_LOG=%s (use error, warn, info or debug)", getenv("LLMKIT_LOG"));
    lk_log_set_level(level >= 0 ? (lk_log_level)level : LK_LOG_WARN);

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            lk_log_level l = lk_log_get_level();
            lk_log_set_level(l < LK_LOG_DEBUG ? l + 1 : LK_LOG_DEBUG);
        } else if (strcmp(argv[i], "-vv") == 0) {
            lk_log_set_level(LK_LOG_DEBUG);
        } else if (strcmp(argv[i], "--version") == 0) {
            print_version();
            return 0;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_help(stdout);
            return 0;
        } else {
            cli_error("unknown option %s", argv[i]);
            print_help(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        print_help(stderr);
        return 2;
    }
    for (size_t c = 0; c < sizeof k_commands / sizeof k_commands[0]; c++)
        if (strcmp(argv[i], k_commands[c].name) == 0)
            return k_commands[c].fn(argc - i, argv + i);
    cli_error("unknown command '%s' (see llmkit --help)", argv[i]);
    return 2;
}
