/* order: the sequence in which the coordinator runs a matrix's steps (each
 * benchmark's warmups and timed runs). Pure: the same arguments always give
 * the same steps, one at a time, in O(benchmarks) memory however many runs.
 *
 * Whatever changes over time while a matrix runs (a target warming up, a
 * neighbour's load, a page cache) lands on the runs made at that time. Run
 * each benchmark in one block and the drift becomes a difference between
 * benchmarks; spread every benchmark over the whole matrix and it cancels:
 *
 *   interleave  (default) every benchmark's warmups first, then rounds of
 *               one timed run of each benchmark, every other round in reverse
 *               (A B C, C B A, A B C, ...). In each pair of rounds a run's
 *               midpoint and its mirror add up to the pair's length for every
 *               benchmark, however long each run takes, so a drift linear in
 *               time cancels exactly when the run count is even; with an odd
 *               count, what is left is the last round's spread.
 *   shuffle     the warmups, then rounds of one timed run of each benchmark
 *               in a random order (seeded: the same seed, the same order).
 *   sequential  each benchmark's warmups and timed runs in one block, one
 *               benchmark after another (hyperfine's order).
 *
 * Warmups of a benchmark always come before its first timed run. Timed runs
 * of one benchmark always come in their own order (run 0, 1, ...), which is
 * what lets a resumed matrix skip the runs its journal already holds. */
#ifndef CO_ORDER_H
#define CO_ORDER_H

#include <stddef.h>
#include <stdint.h>

typedef enum { ORDER_INTERLEAVE, ORDER_SHUFFLE, ORDER_SEQUENTIAL } order_kind_t;

typedef struct {
    uint32_t bench; /* index in the matrix */
    uint32_t run;   /* warm: its warmup number; timed: its timed run number */
    int warm;       /* a warmup: run, not kept */
    int round_end;  /* the last timed step of a round (sequential: of a benchmark) */
} order_step_t;

typedef struct {
    order_kind_t kind;
    size_t nbench;
    unsigned warmup, runs;
    uint64_t seed, rng;
    size_t next;    /* index of the next step */
    uint32_t *perm; /* the current round's order (shuffle) */
} order_t;

/* "interleave", "shuffle", "sequential"; -1 for anything else. */
int order_parse(const char *s, order_kind_t *kind);
const char *order_name(order_kind_t kind);

/* -1 when out of memory or nbench is 0. seed matters to shuffle only. */
int order_init(order_t *o, size_t nbench, unsigned warmup, unsigned runs, order_kind_t kind,
               uint64_t seed);
/* The next step into *s: 1, or 0 when there is none left. */
int order_next(order_t *o, order_step_t *s);
/* Every step: nbench * (warmup + runs). */
size_t order_total(const order_t *o);
void order_close(order_t *o);

#endif
