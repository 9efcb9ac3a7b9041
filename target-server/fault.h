/* fault: deliberate misbehaviour (--fault KIND:RATE) so clients' failure
 * handling can be tested against the real server. */
#ifndef TS_FAULT_H
#define TS_FAULT_H

#include "fb_err.h"

#include <stdint.h>

typedef enum {
    FAULT_NONE,
    FAULT_WRONG_RESULT, /* 200 with result 2N+1 */
    FAULT_STATUS_500,   /* 500 with a JSON detail */
    FAULT_CLOSE,        /* connection closed, no response */
    FAULT_STALL,        /* request never answered */
    FAULT__COUNT
} fault_kind_t;

typedef struct {
    double rate[FAULT__COUNT]; /* fraction of /multiply responses spoiled */
} fault_cfg_t;

/* Adds one KIND:RATE spec; the rates together may not exceed 1. */
int fault_parse(fault_cfg_t *cfg, const char *spec, fb_err_t *err);
/* Picks the fault for one response; *rng is the caller's xorshift state. */
fault_kind_t fault_roll(const fault_cfg_t *cfg, uint64_t *rng);
int fault_any(const fault_cfg_t *cfg);

#endif
