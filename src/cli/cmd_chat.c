/* `llmkit chat MODEL`: a conversation with a chat model in the terminal.
 *
 * Each turn renders the whole conversation with the model's chat template
 * (add_generation_prompt), tokenizes it, and evaluates only the tokens after
 * the longest prefix the KV cache already holds, so earlier turns are not
 * recomputed. The answer streams through the detokenizer, ends at an
 * end-of-sequence id, an end-of-turn marker or a --stop string, and joins
 * the conversation. A conversation that outgrows the context loses its
 * oldest turns (the system message stays), with a notice.
 *
 * stdin a terminal: line editing and history (libedit), multi-line input,
 * /commands, Ctrl-C stops an answer. Otherwise: one message per input line
 * (or all of it with --single), and stdout holds only the answers. */
#include <cjson/cJSON.h>
#include <editline/readline.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/mmap.h"
#include "chat/builtin_formats.h"
#include "chat/chat_template.h"
#include "chat/template_source.h"
#include "chat/prompt_tokens.h"
#include "commands.h"
#include "gen_options.h"
#include "generate/stop.h"

#define DIM "\033[2m"
#define RESET "\033[0m"
#define MAX_MARKERS 8

/* Set by the SIGINT handler while an answer is generated; a signal handler
 * can reach nothing else, hence the one file-scope variable. */
static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig) {
    (void)sig;
    g_interrupted = 1;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit chat [MODEL] [options]\n"
            "\n"
            "A conversation with a chat model. With a terminal on stdin: an interactive\n"
            "session (line editing, history, /commands; a line ending in '\\' continues,\n"
            "and \"\"\" opens and closes a multi-line block; Ctrl-C stops an answer; Ctrl-D\n"
            "or Ctrl-C at the prompt leaves). Otherwise each input line is one user message\n"
            "(the whole input with --single) and only the answers are printed, one per\n"
            "message, each followed by a newline. Lines starting with / are commands in\n"
            "both modes.\n"
            "\n"
            "  MODEL                 a GGUF file, an HF model directory, or a repo id in the\n"
            "                        store; without MODEL, the default model\n"
            "                        Qwen/Qwen2.5-0.5B-Instruct (pulled first when missing)\n"
            "  --system TEXT         the system message\n"
            "  --chat-template FILE  use this template (.jinja, tokenizer_config.json, GGUF)\n"
            "                        instead of the model's own\n"
            "  --chat-format NAME    a built-in format, for models without a template:\n");
    for (size_t i = 0; lk_chat_format_at(i); i++)
        fprintf(out, "                          %-8s %s\n", lk_chat_format_at(i)->name,
                lk_chat_format_at(i)->description);
    fprintf(out,
            "  --hide-thinking       do not show <think>...</think> reasoning (shown dimmed)\n"
            "  --single              read all of stdin as one message\n");
    cli_gen_usage(out);
    fprintf(out,
            "\n"
            "commands: /help /clear /system TEXT /save FILE /load FILE /exit\n");
}

static void print_commands(void) {
    fprintf(stderr,
            "  /help          this list\n"
            "  /clear         forget the conversation (the system message stays)\n"
            "  /system TEXT   set the system message (empty TEXT removes it)\n"
            "  /save FILE     write the conversation as OpenAI messages JSON\n"
            "  /load FILE     read a conversation written by /save\n"
            "  /exit          leave (also Ctrl-D)\n"
            "  a line ending in \\ continues on the next; \"\"\" opens and closes a block\n"
            "  Ctrl-C stops an answer\n");
}

typedef struct {
    const char *model, *system, *template_file, *format;
    bool hide_thinking, single;
    cli_gen_options g;
} chat_args;

/* ------------------------------------------------------------ thinking */

/* Shows <think>...</think> dimmed (color) or hides it, across token
 * boundaries: bytes that may start a tag are held until they do or not. */
typedef struct {
    bool hide, color, in_think, skip_space;
    char pend[16];
    size_t n_pend;
} think_filter;

static void think_emit(think_filter *f, const char *s, size_t n) {
    if (f->in_think && f->hide) return;
    if (f->skip_space) {
        while (n && (*s == '\n' || *s == ' ')) s++, n--;
        if (!n) return;
        f->skip_space = false;
    }
    fwrite(s, 1, n, stdout);
}

static void think_toggle(think_filter *f, const char *tag) {
    if (!f->in_think) {
        if (f->color && !f->hide) fputs(DIM, stdout);
        f->in_think = true;
        think_emit(f, tag, strlen(tag));
    } else {
        think_emit(f, tag, strlen(tag));
        f->in_think = false;
        if (f->color && !f->hide) fputs(RESET, stdout);
        if (f->hide) f->skip_space = true;
    }
}

static void think_write(think_filter *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *tag = f->in_think ? "</think>" : "<think>";
        size_t tag_len = strlen(tag);
        f->pend[f->n_pend++] = s[i];
        while (f->n_pend && memcmp(f->pend, tag, f->n_pend) != 0) {
            think_emit(f, f->pend, 1);
            memmove(f->pend, f->pend + 1, --f->n_pend);
        }
        if (f->n_pend == tag_len) {
            f->n_pend = 0;
            think_toggle(f, tag);
        }
    }
}

static void think_flush(think_filter *f) {
    think_emit(f, f->pend, f->n_pend);
    f->n_pend = 0;
    if (f->in_think && f->color && !f->hide) fputs(RESET, stdout);
}

/* ------------------------------------------------------------ session */

typedef struct {
    const chat_args *a;
    lk_model *m;
    const lk_hparams *hp;
    lk_tokenizer *tok;
    lk_context *c;
    lk_sampler *s;
    lk_chat_template *tmpl;
    cJSON *vars;     /* bos_token, eos_token, ... for the template */
    cJSON *messages; /* the conversation, OpenAI messages */
    int32_t eos_extra[MAX_MARKERS];
    int n_eos_extra;
    const char *stops[CLI_MAX_STOPS + MAX_MARKERS];
    size_t n_stops;
    int32_t *held; /* the tokens the KV cache holds, n_held == lk_context_n_past */
    size_t n_held, cap_held;
    bool interactive, color;
} chat_session;

static bool hold_token(chat_session *cs, int32_t id) {
    if (cs->n_held == cs->cap_held) {
        size_t cap = cs->cap_held ? cs->cap_held * 2 : 1024;
        int32_t *h = realloc(cs->held, cap * sizeof *h);
        if (!h) return false;
        cs->held = h, cs->cap_held = cap;
    }
    cs->held[cs->n_held++] = id;
    return true;
}

static bool is_stop_id(const chat_session *cs, int32_t id) {
    if (cli_is_eos(cs->hp, cs->tok, id)) return true;
    for (int i = 0; i < cs->n_eos_extra; i++)
        if (cs->eos_extra[i] == id) return true;
    return false;
}

/* An end-of-turn text: a stop string, and its token (when the vocabulary has
 * one) an end-of-sequence id, since the detokenizer hides special tokens. */
static void add_end_marker(chat_session *cs, const char *text) {
    if (!text || !*text || cs->n_stops == sizeof cs->stops / sizeof cs->stops[0]) return;
    for (size_t i = 0; i < cs->n_stops; i++)
        if (!strcmp(cs->stops[i], text)) return;
    cs->stops[cs->n_stops++] = text;
    int32_t id = lk_tokenizer_find(cs->tok, text, strlen(text));
    if (id >= 0 && cs->n_eos_extra < MAX_MARKERS) cs->eos_extra[cs->n_eos_extra++] = id;
}

static void set_system(chat_session *cs, const char *text) {
    cJSON *first = cJSON_GetArrayItem(cs->messages, 0);
    cJSON *role = first ? cJSON_GetObjectItemCaseSensitive(first, "role") : NULL;
    if (cJSON_IsString(role) && !strcmp(role->valuestring, "system"))
        cJSON_DeleteItemFromArray(cs->messages, 0);
    if (!text || !*text) return;
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "system");
    cJSON_AddStringToObject(msg, "content", text);
    cJSON_InsertItemInArray(cs->messages, 0, msg);
}

static bool has_system(const chat_session *cs) {
    cJSON *role = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cs->messages, 0), "role");
    return cJSON_IsString(role) && !strcmp(role->valuestring, "system");
}

static void add_message(chat_session *cs, const char *role, const char *content) {
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", role);
    cJSON_AddStringToObject(msg, "content", content);
    cJSON_AddItemToArray(cs->messages, msg);
}

/* The prompt for the next answer: rendered, then tokenized. */
static lk_status prompt_tokens(chat_session *cs, int32_t **ids, size_t *n_ids, bool *starts_thinking,
                               lk_error *err) {
    char *text = NULL;
    size_t len = 0;
    lk_status st = lk_chat_render_generation_prompt(cs->tmpl, cs->vars, cs->messages, &text, &len, err);
    if (st != LK_OK) return st;
    /* a prompt that ends inside <think> (DeepSeek-R1 style) starts the answer there */
    size_t end = len;
    while (end && (text[end - 1] == '\n' || text[end - 1] == ' ')) end--;
    *starts_thinking = end >= 7 && !memcmp(text + end - 7, "<think>", 7);
    st = lk_chat_prompt_tokens(cs->tok, text, len, ids, n_ids, err);
    free(text);
    if (st != LK_OK) return st;
    return LK_OK;
}

/* Tokens kept free for the answer when deciding whether a prompt fits. */
static int32_t answer_reserve(const chat_session *cs) {
    int32_t n_ctx = lk_context_n_ctx(cs->c);
    long r = cs->a->g.n_predict > 0 && cs->a->g.n_predict < n_ctx / 4 ? cs->a->g.n_predict : n_ctx / 4;
    return r < 1 ? 1 : (int32_t)r;
}

/* Drops the oldest user turn (and the assistant answer after it); false
 * when only the system message and the last user message are left. */
static bool drop_oldest_turn(chat_session *cs) {
    int first = has_system(cs) ? 1 : 0;
    int n = cJSON_GetArraySize(cs->messages);
    if (n - first <= 1) return false;
    cJSON_DeleteItemFromArray(cs->messages, first);
    n--;
    while (n - first > 1) {
        cJSON *role = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cs->messages, first), "role");
        if (cJSON_IsString(role) && !strcmp(role->valuestring, "user")) break;
        cJSON_DeleteItemFromArray(cs->messages, first);
        n--;
    }
    return true;
}

/* Answers the conversation's last (user) message and appends the answer.
 * Returns 0 done, 1 refused (message printed, the user message removed),
 * or -1 with err set. */
static int answer(chat_session *cs, lk_error *err) {
    int32_t n_ctx = lk_context_n_ctx(cs->c);
    int32_t *ids = NULL;
    size_t n_ids = 0;
    bool thinking = false;
    for (;;) {
        if (prompt_tokens(cs, &ids, &n_ids, &thinking, err) != LK_OK) return -1;
        if ((int64_t)n_ids + answer_reserve(cs) <= n_ctx) break;
        free(ids);
        ids = NULL;
        if (!drop_oldest_turn(cs)) {
            cli_error("chat: the message does not fit: the prompt would be %zu tokens, and the "
                      "context holds %d with %d kept for the answer (shorten it, or raise --ctx-size)",
                      n_ids, n_ctx, answer_reserve(cs));
            cJSON_DeleteItemFromArray(cs->messages, cJSON_GetArraySize(cs->messages) - 1);
            return 1;
        }
        fprintf(stderr, "llmkit: the conversation outgrew the context (%d tokens): dropped the "
                        "oldest turn\n", n_ctx);
    }

    /* reuse the KV cache for the prefix it already holds */
    size_t keep = 0;
    while (keep < cs->n_held && keep < n_ids && cs->held[keep] == ids[keep]) keep++;
    if (keep == n_ids) keep--; /* evaluate at least one token for the logits */
    if (lk_context_truncate(cs->c, (int32_t)keep, err) != LK_OK) goto fail;
    cs->n_held = keep;

    lk_detokenizer *dt = NULL;
    lk_stop_matcher *stop = NULL;
    float *logits = malloc((size_t)cs->hp->n_vocab * sizeof *logits);
    char *text = NULL;
    size_t text_len = 0, text_cap = 0;
    int rc = -1;
    if (!logits) goto oom;
    double t0 = cli_now();
    if (lk_eval(cs->c, ids + keep, (int32_t)(n_ids - keep), LK_LOGITS_LAST, logits, err) != LK_OK) goto out;
    for (size_t i = keep; i < n_ids; i++)
        if (!hold_token(cs, ids[i])) goto oom;
    double t1 = cli_now();
    lk_sampler_reset(cs->s);
    for (size_t i = 0; i < n_ids; i++) lk_sampler_accept(cs->s, ids[i]);
    dt = lk_detokenizer_new(cs->tok, true);
    if (!dt) goto oom;
    if (lk_stop_matcher_new(cs->stops, cs->n_stops, &stop, err) != LK_OK) goto out;

    think_filter tf = {.hide = cs->a->hide_thinking, .color = cs->color, .in_think = thinking};
    if (thinking && tf.color && !tf.hide) fputs(DIM, stdout);
    long n_gen = 0, limit = cs->a->g.n_predict < 0 ? (long)n_ctx : cs->a->g.n_predict;
    bool stopped = false, full = false;
    g_interrupted = 0;
    while (n_gen < limit && !g_interrupted) {
        int32_t next = lk_sampler_sample(cs->s, logits);
        n_gen++;
        if (is_stop_id(cs, next)) break;
        lk_sampler_accept(cs->s, next);
        size_t len;
        const char *piece = lk_detokenizer_push(dt, next, &len);
        const char *out;
        size_t out_len;
        if (lk_stop_matcher_push(stop, piece, len, &out, &out_len, &stopped, err) != LK_OK) goto out;
        if (text_len + out_len + 1 > text_cap) {
            size_t cap = (text_len + out_len + 1) * 2;
            char *t = realloc(text, cap);
            if (!t) goto oom;
            text = t, text_cap = cap;
        }
        memcpy(text + text_len, out, out_len);
        text_len += out_len;
        think_write(&tf, out, out_len);
        fflush(stdout);
        if (stopped) break;
        if (lk_context_n_past(cs->c) >= n_ctx) {
            full = true;
            break;
        }
        if (n_gen < limit && !g_interrupted) {
            if (lk_eval(cs->c, &next, 1, LK_LOGITS_LAST, logits, err) != LK_OK) goto out;
            if (!hold_token(cs, next)) goto oom;
        }
    }
    if (!stopped) {
        size_t len, out_len;
        const char *piece = lk_detokenizer_flush(dt, &len);
        const char *out;
        if (lk_stop_matcher_push(stop, piece, len, &out, &out_len, &stopped, err) != LK_OK) goto out;
        const char *tail = NULL;
        size_t tail_len = 0;
        if (!stopped) tail = lk_stop_matcher_flush(stop, &tail_len);
        size_t need = text_len + out_len + tail_len + 1;
        if (need > text_cap) {
            char *t = realloc(text, need);
            if (!t) goto oom;
            text = t, text_cap = need;
        }
        memcpy(text + text_len, out, out_len);
        think_write(&tf, out, out_len);
        text_len += out_len;
        if (tail_len) {
            memcpy(text + text_len, tail, tail_len);
            think_write(&tf, tail, tail_len);
            text_len += tail_len;
        }
    }
    think_flush(&tf);
    double t2 = cli_now();
    fputc('\n', stdout);
    fflush(stdout);
    if (!text) text = calloc(1, 1);
    if (!text) goto oom;
    text[text_len] = '\0';
    /* a reasoning prompt opened <think> itself: keep the answer whole in the history */
    add_message(cs, "assistant", text);
    if (g_interrupted) fprintf(stderr, "llmkit: answer stopped (Ctrl-C)\n");
    if (full) fprintf(stderr, "llmkit: the context is full (%d tokens): the answer is cut\n", n_ctx);
    if (cs->interactive) {
        bool dim = isatty(STDERR_FILENO);
        fprintf(stderr, "%s[%ld tokens, %.2f tokens/s; prompt %zu tokens, %zu new, %.2f tokens/s]%s\n",
                dim ? DIM : "", n_gen, n_gen > 0 ? (double)n_gen / (t2 - t1) : 0.0, n_ids, n_ids - keep,
                (double)(n_ids - keep) / (t1 - t0), dim ? RESET : "");
    }
    rc = 0;
    goto out;
oom:
    lk_error_set(err, LK_ERR_NOMEM, "chat: out of memory");
    rc = -1;
out:
    free(text);
    free(logits);
    lk_stop_matcher_free(stop);
    lk_detokenizer_free(dt);
    free(ids);
    return rc;
fail:
    free(ids);
    return -1;
}

/* ------------------------------------------------------------ commands */

static bool save_conversation(const chat_session *cs, const char *path) {
    char *json = cJSON_Print(cs->messages);
    FILE *f = json ? fopen(path, "wb") : NULL;
    bool ok = f && fputs(json, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) cli_error("chat: cannot write %s: %s", path, strerror(errno));
    free(json);
    return ok;
}

static bool load_conversation(chat_session *cs, const char *path) {
    lk_error err = {0};
    char *text = NULL;
    size_t n = 0;
    if (lk_read_file(path, (size_t)64 << 20, &text, &n, &err) != LK_OK) {
        cli_fail(&err);
        return false;
    }
    cJSON *j = cJSON_ParseWithLength(text, n);
    free(text);
    cJSON *m;
    bool ok = cJSON_IsArray(j);
    cJSON *list = ok ? j : NULL;
    cJSON_ArrayForEach(m, list) {
        cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(role) || !cJSON_IsString(content)) ok = false;
    }
    if (!ok) {
        cJSON_Delete(j);
        cli_error("chat: %s: expected a JSON array of {\"role\": ..., \"content\": \"...\"} messages", path);
        return false;
    }
    cJSON_Delete(cs->messages);
    cs->messages = j;
    return true;
}

/* A line starting with '/'. Returns true to leave the chat. */
static bool run_command(chat_session *cs, char *line) {
    char *arg = line + strcspn(line, " \t");
    if (*arg) *arg++ = '\0';
    arg += strspn(arg, " \t");
    size_t n = strlen(arg);
    while (n && (arg[n - 1] == ' ' || arg[n - 1] == '\t')) arg[--n] = '\0';
    if (!strcmp(line, "/exit") || !strcmp(line, "/quit") || !strcmp(line, "/bye")) return true;
    if (!strcmp(line, "/help") || !strcmp(line, "/?")) {
        print_commands();
    } else if (!strcmp(line, "/clear")) {
        bool sys = has_system(cs);
        while (cJSON_GetArraySize(cs->messages) > (sys ? 1 : 0))
            cJSON_DeleteItemFromArray(cs->messages, cJSON_GetArraySize(cs->messages) - 1);
        fprintf(stderr, "llmkit: conversation cleared\n");
    } else if (!strcmp(line, "/system")) {
        set_system(cs, arg);
        fprintf(stderr, "llmkit: system message %s\n", *arg ? "set" : "removed");
    } else if (!strcmp(line, "/save") || !strcmp(line, "/load")) {
        if (!*arg) {
            cli_error("chat: %s needs a FILE", line);
        } else if (line[1] == 's') {
            if (save_conversation(cs, arg))
                fprintf(stderr, "llmkit: saved %d messages to %s\n", cJSON_GetArraySize(cs->messages), arg);
        } else if (load_conversation(cs, arg)) {
            fprintf(stderr, "llmkit: loaded %d messages from %s\n", cJSON_GetArraySize(cs->messages), arg);
        }
    } else {
        cli_error("chat: unknown command %s (/help lists them)", line);
    }
    return false;
}

/* ------------------------------------------------------------ input */

/* libedit's character source: a Ctrl-C at the prompt (SIGINT handler, no
 * SA_RESTART) ends the input like Ctrl-D, so the terminal is restored. */
static int read_key(FILE *f) {
    unsigned char ch;
    for (;;) {
        ssize_t n = read(fileno(f), &ch, 1);
        if (n == 1) return ch;
        if (n < 0 && errno == EINTR && !g_interrupted) continue;
        return EOF;
    }
}

static bool append(char **buf, size_t *len, const char *s, size_t n) {
    char *b = realloc(*buf, *len + n + 1);
    if (!b) return false;
    memcpy(b + *len, s, n);
    *len += n;
    b[*len] = '\0';
    *buf = b;
    return true;
}

/* One message from the terminal: a line, lines joined by a trailing '\',
 * or a """ block. NULL at end of input. */
static char *read_interactive(void) {
    g_interrupted = 0;
    char *line = readline(">>> ");
    if (!line) return NULL;
    char *msg = NULL;
    size_t len = 0;
    if (!strncmp(line, "\"\"\"", 3)) {
        /* """ opens a block that the next line ending in """ closes */
        const char *rest = line + 3;
        bool started = false;
        for (;;) {
            size_t n = strlen(rest);
            bool closes = n >= 3 && !strcmp(rest + n - 3, "\"\"\"");
            if (closes) n -= 3;
            /* the text beside an opening or closing """ counts only when not empty */
            if (n > 0 || (!closes && rest != line + 3)) {
                if (started && !append(&msg, &len, "\n", 1)) break;
                if (!append(&msg, &len, rest, n)) break;
                started = true;
            }
            if (closes) break;
            free(line);
            line = readline("... ");
            if (!line) break;
            rest = line;
        }
    } else {
        for (;;) {
            size_t n = strlen(line);
            bool more = n && line[n - 1] == '\\';
            if (!append(&msg, &len, line, more ? n - 1 : n)) break;
            if (!more) break;
            if (!append(&msg, &len, "\n", 1)) break;
            free(line);
            line = readline("... ");
            if (!line) break;
        }
    }
    free(line);
    if (!msg) msg = calloc(1, 1);
    if (msg && *msg) add_history(msg);
    return msg;
}

/* One message from a pipe: a line (without its newline), or everything
 * with --single. NULL at end of input. */
static char *read_piped(bool single, bool *done) {
    if (*done) return NULL;
    if (single) {
        size_t len;
        *done = true;
        char *all = cli_read_all(stdin, &len);
        while (all && len && (all[len - 1] == '\n' || all[len - 1] == '\r')) all[--len] = '\0';
        return all;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        *done = true;
        return NULL;
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    return line;
}

/* ------------------------------------------------------------ set-up */

static int parse_args(int argc, char **argv, chat_args *a) {
    memset(a, 0, sizeof *a);
    cli_gen_options_default(&a->g);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int gen = cli_gen_option("chat", o, v, &a->g);
        if (gen == 2) return 2;
        if (gen == 1) {
            i++;
            continue;
        }
        if (gen == 3) continue;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--hide-thinking")) {
            a->hide_thinking = true;
        } else if (!strcmp(o, "--single")) {
            a->single = true;
        } else if (!strcmp(o, "--system") || !strcmp(o, "--chat-template") || !strcmp(o, "--chat-format")) {
            if (!v) {
                cli_error("chat: %s needs a value", o);
                return 2;
            }
            if (o[2] == 's') a->system = v;
            else if (!strcmp(o, "--chat-template")) a->template_file = v;
            else a->format = v;
            i++;
        } else if (o[0] == '-' && o[1] != '\0') {
            cli_error("chat: unknown option %s (see llmkit chat --help)", o);
            return 2;
        } else if (!a->model) {
            a->model = o;
        } else {
            cli_error("chat: unexpected argument '%s'", o);
            return 2;
        }
    }
    if (a->template_file && a->format) {
        cli_error("chat: give --chat-template or --chat-format, not both");
        return 2;
    }
    if (a->format && !lk_chat_format_find(a->format)) {
        cli_error("chat: unknown --chat-format '%s'; the built-in formats are:", a->format);
        for (size_t i = 0; lk_chat_format_at(i); i++)
            fprintf(stderr, "  %-8s %s\n", lk_chat_format_at(i)->name, lk_chat_format_at(i)->description);
        return 2;
    }
    cli_gen_options_finish(&a->g);
    return -1;
}

static void set_var_if_missing(cJSON *vars, const char *name, const char *value) {
    if (value && !cJSON_GetObjectItemCaseSensitive(vars, name)) cJSON_AddStringToObject(vars, name, value);
}

int cmd_chat(int argc, char **argv) {
    chat_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;

    lk_error err = {0};
    lk_model_file *mf = NULL;
    lk_template_source src = {0};
    const lk_chat_format *fmt = a.format ? lk_chat_format_find(a.format) : NULL;
    chat_session cs = {.a = &a};
    rc = 1;

    /* No MODEL: the default model, pulled into the store first if needed;
     * a MODEL that is no path may be a repo id already in the store. */
    char model_path[4096];
    if (!a.model ? cli_default_model(model_path, sizeof model_path) != 0
                 : cli_resolve_model(a.model, model_path, sizeof model_path) != 0)
        return 1;
    a.model = model_path;
    if (lk_model_file_open(a.model, &mf, &err) != LK_OK) goto fail;
    const lk_model_meta *meta = lk_model_file_meta(mf);
    if (lk_model_file_format(mf) == LK_FORMAT_LLAMA2C) {
        cli_error("chat: %s is a llama2.c checkpoint, which holds no tokenizer: chat needs a GGUF "
                  "or an HF model directory", a.model);
        goto out;
    }
    const char *tmpl_text = NULL, *tmpl_name = NULL;
    if (a.template_file) {
        if (lk_template_source_load(a.template_file, NULL, false, &src, &err) != LK_OK) goto fail;
        tmpl_text = src.text, tmpl_name = src.path;
    } else if (fmt) {
        tmpl_text = fmt->jinja, tmpl_name = fmt->name;
    } else if (meta->chat_template) {
        if (lk_template_source_load(a.model, NULL, false, &src, &err) != LK_OK) goto fail;
        tmpl_text = src.text, tmpl_name = src.path;
    } else {
        cli_error("chat: %s has no chat template. Choose a built-in format with --chat-format NAME, "
                  "or give one with --chat-template FILE. The built-in formats:", a.model);
        for (size_t i = 0; lk_chat_format_at(i); i++)
            fprintf(stderr, "  %-8s %s\n", lk_chat_format_at(i)->name, lk_chat_format_at(i)->description);
        goto out;
    }
    if (lk_chat_template_parse(tmpl_text, strlen(tmpl_text), tmpl_name, &cs.tmpl, &err) != LK_OK) goto fail;
    cs.vars = src.special_tokens ? cJSON_Duplicate(src.special_tokens, 1) : cJSON_CreateObject();
    set_var_if_missing(cs.vars, "bos_token", meta->bos_text);
    set_var_if_missing(cs.vars, "eos_token", meta->eos_text);
    cs.messages = cJSON_CreateArray();
    if (!cs.vars || !cs.messages) {
        cli_error("chat: out of memory");
        goto out;
    }

    if (lk_tokenizer_load(a.model, &cs.tok, &err) != LK_OK) goto fail;
    lk_model_params mp;
    lk_model_params_default(&mp);
    mp.n_threads = (int32_t)a.g.threads;
    mp.no_repack = a.g.no_repack;
    if (lk_model_load_file(mf, &mp, &cs.m, &err) != LK_OK) goto fail;
    cs.hp = lk_model_hparams(cs.m);
    lk_context_params cp;
    lk_context_params_default(&cp);
    cp.n_ctx = (int32_t)a.g.n_ctx;
    cp.kv_type = a.g.kv;
    if (lk_context_new(cs.m, &cp, &cs.c, &err) != LK_OK) goto fail;
    if (lk_sampler_new(&a.g.sp, cs.hp->n_vocab, &cs.s, &err) != LK_OK) goto fail;

    for (size_t i = 0; i < a.g.n_stops; i++) cs.stops[cs.n_stops++] = a.g.stops[i];
    if (fmt) add_end_marker(&cs, fmt->end_of_turn);
    for (int i = 0; lk_chat_turn_markers[i]; i++)
        if (strstr(tmpl_text, lk_chat_turn_markers[i])) add_end_marker(&cs, lk_chat_turn_markers[i]);
    cJSON *eos = cJSON_GetObjectItemCaseSensitive(cs.vars, "eos_token");
    if (cJSON_IsString(eos)) add_end_marker(&cs, eos->valuestring);
    if (a.system) set_system(&cs, a.system);

    cs.interactive = isatty(STDIN_FILENO) && !a.single;
    cs.color = isatty(STDOUT_FILENO);
    if (cs.interactive) {
        int32_t n_ctx = lk_context_n_ctx(cs.c);
        printf("llmkit chat: %s (template: %s, context %d tokens)\n"
               "/help lists the commands; Ctrl-D leaves.\n",
               a.model, tmpl_name, n_ctx);
        if (a.g.n_ctx == 0 && cs.hp->n_ctx_train > n_ctx)
            fprintf(stderr, "llmkit: context capped at %d tokens to fit in memory (use --ctx-size)\n", n_ctx);
    }

    if (cs.interactive) {
        struct sigaction on_int = {.sa_handler = on_sigint};
        sigemptyset(&on_int.sa_mask);
        sigaction(SIGINT, &on_int, NULL);
        rl_catch_signals = 0;
        rl_getc_function = read_key;
    }
    bool done = false, refused = false;
    rc = 0;
    for (;;) {
        char *msg = cs.interactive ? read_interactive() : read_piped(a.single, &done);
        if (!msg) break;
        if (msg[0] == '/' && !a.single) {
            bool leave = run_command(&cs, msg);
            free(msg);
            if (leave) break;
            continue;
        }
        if (!msg[0]) {
            free(msg);
            continue;
        }
        add_message(&cs, "user", msg);
        free(msg);
        int r = answer(&cs, &err);
        if (r < 0) goto fail;
        if (r > 0) refused = true;
    }
    if (cs.interactive) fputc('\n', stdout);
    rc = refused && !cs.interactive ? 1 : 0;
    goto out;
fail:
    rc = cli_fail(&err);
out:
    free(cs.held);
    cJSON_Delete(cs.messages);
    cJSON_Delete(cs.vars);
    lk_sampler_free(cs.s);
    lk_context_free(cs.c);
    lk_model_free(cs.m);
    lk_tokenizer_free(cs.tok);
    lk_chat_template_free(cs.tmpl);
    lk_template_source_free(&src);
    lk_model_file_close(mf);
    return rc;
}
