/* The model store commands: `llmkit pull` (download from the Hugging Face
 * hub or a mirror), `llmkit list` and `llmkit rm`, and the default-model
 * helper chat/serve call when given no MODEL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/progress.h"
#include "commands.h"
#include "hub/pull.h"
#include "hub/store.h"

#define MAX_INCLUDES 64

static void say_on_stderr(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "llmkit: %s\n", msg);
}

/* Retry knobs from the environment (documented for tests and slow links). */
static int env_int(const char *name, int def) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    return *end == '\0' && x >= 0 && x <= 1000000 ? (int)x : def;
}

static void pull_defaults(lk_pull_options *o) {
    memset(o, 0, sizeof *o);
    o->retries = env_int("LLMKIT_PULL_RETRIES", 5);
    o->backoff_ms = env_int("LLMKIT_PULL_BACKOFF_MS", 1000);
    o->progress = stderr; /* the bar draws only when stderr is a terminal */
    o->notice = say_on_stderr;
}

static void pull_usage(FILE *out) {
    fprintf(out,
            "usage: llmkit pull REPO_ID[@REVISION] [--include GLOB]... [--file NAME] [--token T]\n"
            "\n"
            "Downloads a model from the Hugging Face hub (or a mirror) into the local store,\n"
            "then prints its path. Afterwards REPO_ID works wherever a MODEL path does.\n"
            "Default files: config.json, generation_config.json, tokenizer files\n"
            "(tokenizer.json, tokenizer_config.json, special_tokens_map.json, tokenizer.model,\n"
            "vocab.json, merges.txt), chat_template.jinja, *.safetensors and\n"
            "model.safetensors.index.json. Interrupted downloads resume; LFS files are\n"
            "checked against the sha256 the hub publishes.\n"
            "\n"
            "  --include GLOB  fetch the files matching GLOB instead of the defaults (repeatable)\n"
            "  --file NAME     also fetch NAME; a .gguf replaces the safetensors weights\n"
            "  --token T       access token for gated or private repos (default: $HF_TOKEN)\n"
            "\n"
            "environment:\n"
            "  HF_ENDPOINT     hub or mirror URL (default https://huggingface.co)\n"
            "  HF_TOKEN        access token\n"
            "  LLMKIT_HOME     the store (default ~/.cache/llmkit)\n"
            "  LLMKIT_PULL_RETRIES, LLMKIT_PULL_BACKOFF_MS  retries after network/5xx errors\n"
            "                  (default 5, first wait 1000 ms, doubling)\n");
}

int cmd_pull(int argc, char **argv) {
    lk_pull_options opt;
    pull_defaults(&opt);
    const char *includes[MAX_INCLUDES];
    const char *ref = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool takes_value = strcmp(a, "--include") == 0 || strcmp(a, "--file") == 0 ||
                           strcmp(a, "--token") == 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            pull_usage(stdout);
            return 0;
        } else if (takes_value && i + 1 >= argc) {
            cli_error("pull: %s needs a value", a);
            return 2;
        } else if (strcmp(a, "--include") == 0) {
            if (opt.n_include == MAX_INCLUDES) {
                cli_error("pull: at most %d --include patterns", MAX_INCLUDES);
                return 2;
            }
            includes[opt.n_include++] = argv[++i];
        } else if (strcmp(a, "--file") == 0) {
            opt.file = argv[++i];
        } else if (strcmp(a, "--token") == 0) {
            opt.token = argv[++i];
        } else if (a[0] == '-') {
            cli_error("pull: unknown option %s", a);
            pull_usage(stderr);
            return 2;
        } else if (!ref) {
            ref = a;
        } else {
            cli_error("pull: one REPO_ID only (got '%s' and '%s')", ref, a);
            return 2;
        }
    }
    if (!ref) {
        pull_usage(stderr);
        return 2;
    }
    opt.include = includes;
    lk_error err;
    if (opt.file && lk_hub_check_filename(opt.file, &err) != LK_OK) return cli_fail(&err);
    char path[LK_STORE_PATH_MAX];
    if (lk_pull(ref, &opt, path, sizeof path, &err) != LK_OK) return cli_fail(&err);
    printf("%s\n", path);
    return 0;
}

int cli_resolve_model(const char *arg, char *out, size_t n) {
    lk_error err;
    if (lk_store_resolve(arg, out, n, &err) != LK_OK) return cli_fail(&err);
    return 0;
}

int cli_default_model(char *out, size_t n) {
    lk_error err;
    lk_status s = lk_store_default_model_ex(out, n, NULL, &err);
    if (s == LK_OK) return 0;
    if (s != LK_ERR_NOT_FOUND) return cli_fail(&err);
    cli_error("no MODEL given: using the default model %s (Apache-2.0, about 1 GB); pulling it "
              "into the store first",
              LK_DEFAULT_MODEL);
    lk_pull_options opt;
    pull_defaults(&opt);
    if (lk_store_default_model_ex(out, n, &opt, &err) != LK_OK) return cli_fail(&err);
    return 0;
}

/* ---------------------------------------------------------------- list */

static void list_usage(FILE *out) {
    fprintf(out,
            "usage: llmkit list\n"
            "\n"
            "Lists the models in the store ($LLMKIT_HOME, default ~/.cache/llmkit): repo,\n"
            "revision, size on disk and format (hf: a Hugging Face folder; gguf). A pull\n"
            "that did not finish shows as 'partial'; pull again to complete it.\n");
}

int cmd_list(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            list_usage(stdout);
            return 0;
        }
        cli_error("list: unexpected argument '%s'", argv[i]);
        list_usage(stderr);
        return 2;
    }
    lk_error err;
    lk_store_entry *e;
    size_t n;
    if (lk_store_list(&e, &n, &err) != LK_OK) return cli_fail(&err);
    if (n == 0) {
        char root[LK_STORE_PATH_MAX];
        if (lk_store_root(root, sizeof root, &err) != LK_OK) return cli_fail(&err);
        fprintf(stderr, "llmkit: no models in %s (fetch one with `llmkit pull REPO_ID`)\n", root);
    } else {
        printf("%-40s %-12s %10s  %s\n", "REPO", "REVISION", "SIZE", "FORMAT");
    }
    for (size_t i = 0; i < n; i++) {
        char size[32];
        lk_format_bytes(size, sizeof size, (double)e[i].bytes);
        printf("%-40s %-12s %10s  %s%s\n", e[i].repo, e[i].revision, size,
               e[i].gguf ? "gguf" : "hf", e[i].complete ? "" : " (partial)");
    }
    free(e);
    return 0;
}

/* ---------------------------------------------------------------- rm */

static void rm_usage(FILE *out) {
    fprintf(out,
            "usage: llmkit rm REPO_ID[@REVISION]\n"
            "\n"
            "Removes a model (all its revisions, or the one named) from the store. Only\n"
            "folders inside the store are ever removed.\n");
}

int cmd_rm(int argc, char **argv) {
    const char *ref = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            rm_usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            cli_error("rm: unknown option %s", argv[i]);
            rm_usage(stderr);
            return 2;
        } else if (!ref) {
            ref = argv[i];
        } else {
            cli_error("rm: one REPO_ID only (got '%s' and '%s')", ref, argv[i]);
            return 2;
        }
    }
    if (!ref) {
        rm_usage(stderr);
        return 2;
    }
    char repo[LK_REPO_ID_MAX + 1], rev[LK_REVISION_MAX + 1];
    bool rev_given;
    lk_error err;
    if (lk_hub_parse_ref(ref, repo, rev, &rev_given, &err) != LK_OK ||
        lk_store_remove(repo, rev_given ? rev : NULL, &err) != LK_OK)
        return cli_fail(&err);
    fprintf(stderr, "llmkit: removed %s\n", ref);
    return 0;
}
