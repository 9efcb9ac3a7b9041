#include "fault.h"

#include "opt.h"

#include <stdio.h>
#include <string.h>

static const char *const k_names[FAULT__COUNT] = {NULL, "wrong-result", "status-500", "close",
                                                  "stall"};

int fault_parse(fault_cfg_t *cfg, const char *spec, fb_err_t *err)
{
    const char *colon = strchr(spec, ':');
    double rate, sum = 0;
    int k;

    for (k = 1; k < FAULT__COUNT; k++) {
        size_t n = strlen(k_names[k]);
        if (colon && (size_t)(colon - spec) == n && memcmp(spec, k_names[k], n) == 0) break;
    }
    if (colon == NULL || k == FAULT__COUNT) {
        fb_err_set(err,
                   "--fault: '%s' is not KIND:RATE with KIND one of wrong-result, status-500, "
                   "close, stall",
                   spec);
        return -1;
    }
    if (opt_double("--fault", colon + 1, 0.0, 1.0, &rate, err) != 0) return -1;
    cfg->rate[k] = rate;
    for (k = 1; k < FAULT__COUNT; k++)
        sum += cfg->rate[k];
    if (sum > 1.0 + 1e-9) {
        fb_err_set(err, "--fault: rates add up to %g, more than 1", sum);
        return -1;
    }
    return 0;
}

int fault_any(const fault_cfg_t *cfg)
{
    for (int k = 1; k < FAULT__COUNT; k++)
        if (cfg->rate[k] > 0) return 1;
    return 0;
}

fault_kind_t fault_roll(const fault_cfg_t *cfg, uint64_t *rng)
{
    uint64_t x = *rng;
    double u, acc = 0;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    u = (double)(x >> 11) * 0x1.0p-53; /* uniform in [0, 1) */
    for (int k = 1; k < FAULT__COUNT; k++) {
        acc += cfg->rate[k];
        if (u < acc) return (fault_kind_t)k;
    }
    return FAULT_NONE;
}
