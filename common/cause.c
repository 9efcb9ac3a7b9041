#include "cause.h"

#include <inttypes.h>

static const char *const k_names[CAUSE__COUNT] = {
    "connect", "timeout", "transport", "http_status", "bad_body", "wrong_result",
};

const char *cause_name(cause_t c)
{
    return (unsigned)c < CAUSE__COUNT ? k_names[c] : "?";
}

void cause_print(FILE *out, const uint64_t count[CAUSE__COUNT])
{
    const char *sep = "";

    for (int c = 0; c < CAUSE__COUNT; c++) {
        if (count[c] == 0) continue;
        fprintf(out, "%s%s: %" PRIu64, sep, k_names[c], count[c]);
        sep = ", ";
    }
}
