/* `llmkit tokenize` and `llmkit detokenize`: text to token ids and back
 * with a model's tokenizer (GGUF, tokenizer.json / HF directory, or a
 * llama2.c tok*.bin). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "commands.h"

static void tokenize_usage(FILE *out) {
    fprintf(out,
            "usage: llmkit tokenize MODEL [TEXT | -f FILE] [options]\n"
            "\n"
            "Prints the token ids of TEXT (or of FILE, or of standard input when\n"
            "neither is given), space-separated on one line.\n"
            "MODEL: a GGUF file, a tokenizer.json or HF model directory, vocab.json\n"
            "(with merges.txt), vocab.txt, or a llama2.c tok*.bin.\n"
            "\n"
            "options:\n"
            "  -f FILE          read the text from FILE ('-' for standard input)\n"
            "  --pieces         one token per line: id, tab, the vocabulary piece\n"
            "  --count          print only the number of tokens\n"
            "  --no-special     do not add BOS/EOS/[CLS]/[SEP]\n"
            "  --parse-special  let special-token text in the input (\"<|im_start|>\")\n"
            "                   become special tokens (off: it is tokenized as text)\n"
            "  -h, --help       this help\n");
}

static void detokenize_usage(FILE *out) {
    fprintf(out,
            "usage: llmkit detokenize MODEL [ID...] [--skip-special]\n"
            "\n"
            "Prints the text of token ids (from the arguments, or whitespace-separated\n"
            "on standard input when none are given).\n"
            "\n"
            "options:\n"
            "  --skip-special   leave out control tokens (BOS, EOS, ...)\n"
            "  -h, --help       this help\n");
}

/* Reads all of a stream into a heap buffer. */
static char *read_stream(FILE *f, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    *len = n;
    return buf;
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *file = NULL;
    bool pieces = false, count = false, add_special = true, parse_special = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            tokenize_usage(stdout);
            return 0;
        } else if (strcmp(a, "--pieces") == 0) pieces = true;
        else if (strcmp(a, "--count") == 0) count = true;
        else if (strcmp(a, "--no-special") == 0) add_special = false;
        else if (strcmp(a, "--parse-special") == 0) parse_special = true;
        else if (strcmp(a, "-f") == 0) {
            if (++i >= argc) {
                cli_error("-f needs a file name");
                return 2;
            }
            file = argv[i];
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("tokenize: unknown option %s (see llmkit tokenize --help)", a);
            return 2;
        } else if (!model) model = a;
        else if (!text) text = a;
        else {
            cli_error("tokenize: give the text as one argument (quote it), or use -f FILE");
            return 2;
        }
    }
    if (!model || (text && file)) {
        tokenize_usage(stderr);
        return 2;
    }
    char *buf = NULL;
    size_t len;
    lk_error err;
    if (text) {
        len = strlen(text);
    } else if (file && strcmp(file, "-") != 0) {
        if (lk_read_file(file, (size_t)1 << 31, &buf, &len, &err) != LK_OK) return cli_fail(&err);
        text = buf;
    } else {
        buf = read_stream(stdin, &len);
        if (!buf) {
            cli_error("tokenize: cannot read standard input: %s", strerror(errno));
            return 1;
        }
        text = buf;
    }
    lk_tokenizer *tok;
    char model_path[4096];
    if (cli_resolve_model(model, model_path, sizeof model_path) != 0) {
        free(buf);
        return 1;
    }
    if (lk_tokenizer_load(model_path, &tok, &err) != LK_OK) {
        free(buf);
        return cli_fail(&err);
    }
    int32_t *ids;
    size_t n;
    if (lk_tokenizer_encode(tok, text, len, add_special, parse_special, &ids, &n, &err) != LK_OK) {
        free(buf);
        lk_tokenizer_free(tok);
        return cli_fail(&err);
    }
    if (count) {
        printf("%zu\n", n);
    } else if (pieces) {
        for (size_t i = 0; i < n; i++) {
            size_t pl;
            const char *p = lk_tokenizer_piece(tok, ids[i], &pl);
            printf("%d\t%.*s\n", ids[i], (int)pl, p);
        }
    } else {
        for (size_t i = 0; i < n; i++) printf("%s%d", i ? " " : "", ids[i]);
        printf("\n");
    }
    free(ids);
    free(buf);
    lk_tokenizer_free(tok);
    return 0;
}

int cmd_detokenize(int argc, char **argv) {
    const char *model = NULL;
    bool skip_special = false;
    size_t n = 0, cap = 64;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return 1;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            detokenize_usage(stdout);
            free(ids);
            return 0;
        } else if (strcmp(a, "--skip-special") == 0) skip_special = true;
        else if (a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) {
            cli_error("detokenize: unknown option %s (see llmkit detokenize --help)", a);
            rc = 2;
        } else if (!model) model = a;
        else {
            char *end;
            errno = 0;
            long v = strtol(a, &end, 10);
            if (*end || end == a || errno || v < 0 || v > INT32_MAX) {
                cli_error("detokenize: '%s' is not a token id", a);
                rc = 2;
                break;
            }
            if (n == cap) {
                int32_t *nv = realloc(ids, 2 * cap * sizeof *ids);
                if (!nv) {
                    rc = 1;
                    break;
                }
                ids = nv;
                cap *= 2;
            }
            ids[n++] = (int32_t)v;
        }
    }
    if (rc == 0 && !model) {
        detokenize_usage(stderr);
        rc = 2;
    }
    if (rc != 0) {
        free(ids);
        return rc;
    }
    if (n == 0) { /* ids from standard input */
        long v;
        while (scanf("%ld", &v) == 1) {
            if (v < 0 || v > INT32_MAX) continue;
            if (n == cap) {
                int32_t *nv = realloc(ids, 2 * cap * sizeof *ids);
                if (!nv) break;
                ids = nv;
                cap *= 2;
            }
            ids[n++] = (int32_t)v;
        }
    }
    lk_error err;
    lk_tokenizer *tok;
    char model_path[4096];
    if (cli_resolve_model(model, model_path, sizeof model_path) != 0) {
        free(ids);
        return 1;
    }
    if (lk_tokenizer_load(model_path, &tok, &err) != LK_OK) {
        free(ids);
        return cli_fail(&err);
    }
    char *text;
    size_t len;
    if (lk_tokenizer_decode(tok, ids, n, skip_special, &text, &len, &err) != LK_OK) rc = cli_fail(&err);
    else {
        fwrite(text, 1, len, stdout);
        printf("\n");
        free(text);
    }
    free(ids);
    lk_tokenizer_free(tok);
    return rc;
}
