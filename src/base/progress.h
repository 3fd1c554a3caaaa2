/* A one-line progress bar for long downloads, conversions and quantization:
 *
 *   model.gguf  [#########...........]  45%  1.20 GiB / 2.67 GiB  48.3 MiB/s  ETA 0:31
 *
 * It draws only when the stream is a terminal (isatty); into a pipe or a log
 * file it writes nothing at all, so scripted output stays clean. Redraws are
 * throttled to a few per second however often it is updated. The line is
 * drawn on the stream the application passes (the library never picks one). */
#ifndef LK_BASE_PROGRESS_H
#define LK_BASE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *out;         /* NULL when silent (not a terminal) */
    char label[64];    /* cut at a character boundary */
    uint64_t total;    /* 0: unknown (no bar, percentage or ETA) */
    uint64_t done;
    double start_s;    /* monotonic clock at begin */
    double last_draw_s;
    int drawn;         /* a line is on screen: end() finishes it with a newline */
} lk_progress;

void lk_progress_begin(lk_progress *p, FILE *out, const char *label, uint64_t total);
void lk_progress_update(lk_progress *p, uint64_t done);
void lk_progress_add(lk_progress *p, uint64_t delta);
/* Draws the final state (if drawing at all) and ends the line. */
void lk_progress_end(lk_progress *p);

/* Pure formatting, used by the bar and testable on its own. Each writes a
 * NUL-terminated string (cut to cap) and returns its length. */

/* "512 B", "1.50 KiB", "45.6 MiB", "123 GiB" (binary units). */
size_t lk_format_bytes(char *buf, size_t cap, double bytes);
/* "0:07", "12:34", "1:02:03"; "--:--" when unknown (negative, NaN or > 99 h). */
size_t lk_format_duration(char *buf, size_t cap, double seconds);
/* One progress line (no "\r", no newline) for `done` of `total` bytes after
 * `elapsed_s` seconds. */
size_t lk_progress_render(char *buf, size_t cap, const char *label, uint64_t done,
                          uint64_t total, double elapsed_s);

#endif
