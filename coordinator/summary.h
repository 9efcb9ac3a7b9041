/* summary: the terminal report, in hyperfine's layout so that its readers
 * feel at home, plus one or two fleetbench lines per benchmark (throughput,
 * latency percentiles, failures by cause, lockstep start skew).
 *
 * Everything, warnings included, goes to the one FILE given (hyperfine puts
 * its warnings on stderr; here a redirected report stays whole). Colour is
 * the caller's decision: a TTY and NO_COLOR unset. Functions return 0, or -1
 * when out of memory or the stream reports a write error. */
#ifndef FB_SUMMARY_H
#define FB_SUMMARY_H

#include "bench.h"

#include <stddef.h>
#include <stdio.h>

/* Lockstep skew above this fraction of the fastest run earns a warning. */
#define SUMMARY_SKEW_WARN 0.05
/* A target whose event loops were busy this fraction of the time under load
 * bounded the run: the summary says so. */
#define SUMMARY_BUSY_WARN 0.9
/* Rate mode: the agents fell behind the schedule (the client, not the
 * target, added latency) when a run's lateness p99 is above both 1 ms and
 * the gap between two of an agent's requests (agents / rate), a request was
 * never sent, or the rate achieved is more than 5 % below the asked. */
#define SUMMARY_LATE_WARN_S 0.001
#define SUMMARY_RATE_WARN 0.05

/* hyperfine's time units: a benchmark's mean picks one, and every other time
 * of that benchmark (σ, range, user, system) is shown in it. */
typedef enum { SUMMARY_UNIT_S, SUMMARY_UNIT_MS, SUMMARY_UNIT_US } summary_unit_t;

/* Below 1 ms µs, below 1 s ms, else s. */
summary_unit_t summary_unit_for(double seconds);
/* "s", "ms", "µs" (UTF-8). */
const char *summary_unit_name(summary_unit_t u);
/* The number alone: 3 decimals for s, 1 for ms and µs ("693.6"). */
char *summary_value(char *buf, size_t len, double seconds, summary_unit_t u);
/* The number and its unit ("693.6 ms"). */
char *summary_time(char *buf, size_t len, double seconds, summary_unit_t u);

/* The block of benchmark set->benches[i], numbered i + 1: header, Time,
 * Range, the fleetbench lines, warnings, and the " " line that ends it. */
int summary_bench(FILE *out, const bench_set_t *set, size_t i, int color);
/* For each group of comparable benchmarks (bench_group_t: the same
 * requests, concurrency and agents) with two or more measured: "Summary",
 * its fastest benchmark and how much faster it ran than each other one, by
 * mean (in rate mode: the lowest mean p99 of corrected latency over the
 * runs, "A had 3.10 ± 0.40 times lower p99 than B"), saying so when Welch's t-test finds the
 * difference not significant (p >= 0.05). One group: hyperfine's block as it is; more: each headed
 * by what it is about, then a throughput table of every group that ranks nothing across them. */
int summary_compare(FILE *out, const bench_set_t *set, int color);
/* One line of a comparison, "REF ran" then "1.57 ± 0.01 times faster than
 * CMD (not statistically significant, p = 0.12)", in pieces that the
 * terminal paints and the report marks up, so both say the same. */
typedef struct {
    const char *lead;     /* "As fast (" for equal means, else "" */
    char ratio[32];       /* "1.57" */
    char sd[32];          /* "0.01", or "" when not known */
    const char *relation; /* ") as ", " times faster than " or " times slower than " */
    const char *verdict;  /* NULL (significant), "one run: significance not tested" or
                             "not statistically significant" */
    char p[32];           /* "p = 0.12" after the last verdict, else "" */
} summary_ratio_t;

/* Benchmark i of t against the group's reference (its fastest) ref. */
void summary_ratio(const bench_table_t *t, size_t i, size_t ref, summary_ratio_t *out);

/* Every block, then the comparison. */
int summary_print(FILE *out, const bench_set_t *set, int color);

#endif
