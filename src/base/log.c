#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Process-wide by design: logging configuration belongs to the application. */
static lk_log_sink g_sink;
static void *g_sink_user;
static lk_log_level g_level = LK_LOG_WARN;

void lk_log_set_sink(lk_log_sink sink, void *user) {
    g_sink = sink;
    g_sink_user = user;
}

void lk_log_set_level(lk_log_level level) { g_level = level; }
lk_log_level lk_log_get_level(void) { return g_level; }

int lk_log_parse_level(const char *s) {
    if (!s) return -1;
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) return i;
    if (s[0] >= '0' && s[0] <= '3' && s[1] == '\0') return s[0] - '0';
    return -1;
}

void lk_log(lk_log_level level, const char *fmt, ...) {
    if (!g_sink || level > g_level) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_sink(level, buf, g_sink_user);
}
