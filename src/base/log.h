/* Logging with levels. The library logs only through a sink the application
 * installs (the CLI installs one that writes to stderr); by default nothing is
 * printed. Level comes from the application (-v) or LLMKIT_LOG. */
#ifndef LK_BASE_LOG_H
#define LK_BASE_LOG_H

typedef enum { LK_LOG_ERROR = 0, LK_LOG_WARN, LK_LOG_INFO, LK_LOG_DEBUG } lk_log_level;

typedef void (*lk_log_sink)(lk_log_level level, const char *msg, void *user);

/* The sink and level are process-wide state, set once by the application. */
void lk_log_set_sink(lk_log_sink sink, void *user);
void lk_log_set_level(lk_log_level level);
lk_log_level lk_log_get_level(void);
/* Parses "error|warn|info|debug" (or 0..3); returns -1 when unknown. */
int lk_log_parse_level(const char *s);

void lk_log(lk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LK_WARN(...) lk_log(LK_LOG_WARN, __VA_ARGS__)
#define LK_INFO(...) lk_log(LK_LOG_INFO, __VA_ARGS__)
#define LK_DEBUG(...) lk_log(LK_LOG_DEBUG, __VA_ARGS__)

#endif
