/* progress: hyperfine's live line while a benchmark runs. On a TTY, the
 * benchmark's header and under it
 *
 *   Current estimate: 12.3 ms   ███████████░░░░░░░░░  6/10  ETA 00:00:03
 *
 * redrawn in place (\r) after every timed run, and both lines erased when
 * the benchmark is done, so that summary_bench's block takes their place.
 * Anywhere else it prints nothing: that block is the plain line, and a log
 * or a pipe never sees a carriage return. Colour is the caller's decision,
 * as for summary (a TTY and NO_COLOR unset); cursor movement is not colour.
 *
 * Both lines are kept within the terminal's width (the header cut, the bar
 * shortened), since \r and "up one line" cannot take back a wrapped line.
 * Something else written to the terminal while the line is up (an agent
 * lost, on stderr) lands beside it; the next redraw goes on below. */
#ifndef FB_PROGRESS_H
#define FB_PROGRESS_H

#include "bench.h"

#include <stddef.h>
#include <stdio.h>

#define PROGRESS_BAR 24  /* cells of the bar, at most */
#define PROGRESS_COLS 80 /* the terminal's width when it does not say */

typedef struct {
    FILE *out;
    int tty, color;
    int shown;   /* a header and a live line are on the screen */
    size_t cols; /* the terminal's width: a line that wrapped could not be redrawn */
    size_t warmup, total;
} progress_t;

void progress_init(progress_t *p, FILE *out, int tty, int color);
/* Benchmark bench (numbered bench + 1) starts: warmup untimed runs, then
 * total timed runs. With warmup runs the line says "Performing warmup runs"
 * and counts them, as hyperfine's does, until progress_warmup reports the
 * last one. */
void progress_start(progress_t *p, size_t bench, const char *command, size_t warmup, size_t total);
/* done of the warmup runs are over. */
void progress_warmup(progress_t *p, size_t done);
/* done of the total runs are measured; estimate_s is the mean so far (NAN:
 * none yet). */
void progress_run(progress_t *p, size_t done, double estimate_s);
/* Erases the lines; nothing when none are shown, so it is safe to call on
 * every way out. */
void progress_end(progress_t *p);

/* The current estimate: the mean time of b's measured runs; NAN if none. */
double progress_estimate(const bench_t *b);

#endif
