/* clock: the one clock fleetbench measures with (CLOCK_MONOTONIC, in
 * nanoseconds) and the id that tells whether two processes share it. */
#ifndef FB_CLOCK_H
#define FB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: every latency, run time, heartbeat and
 * deadline of the agent and the coordinator. */
uint64_t clock_now_ns(void);

/* This boot's id ("" if unknown): processes reporting equal ids share
 * CLOCK_MONOTONIC, so their timestamps compare directly. */
void clock_boot_id(char *buf, size_t cap);

#endif
