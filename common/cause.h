/* cause: why a request failed. One enum for the agent (which classifies
 * requests), the wire (whose RESULT carries one count per cause, in this
 * order) and the coordinator (which adds them up), and one name per cause
 * that every output uses: the JSON keys of `agent run --json` and of the
 * coordinator's export, and the terminal and HTML summaries. */
#ifndef FB_CAUSE_H
#define FB_CAUSE_H

#include <stdint.h>
#include <stdio.h>

typedef enum {
    CAUSE_CONNECT,      /* no connection: refused, unreachable, unresolvable */
    CAUSE_TIMEOUT,      /* --timeout expired while connecting or transferring */
    CAUSE_TRANSPORT,    /* connection lost: closed or reset, empty or garbled reply */
    CAUSE_HTTP_STATUS,  /* a complete answer whose status is not 200 */
    CAUSE_BAD_BODY,     /* 200, but not a JSON object with an integer "result" */
    CAUSE_WRONG_RESULT, /* "result" is not 2 * number */
    CAUSE__COUNT
} cause_t;

/* "connect", "timeout", "transport", "http_status", "bad_body",
 * "wrong_result"; "?" for anything else. */
const char *cause_name(cause_t c);

/* "http_status: 3, timeout: 1": the causes whose count[c] is not 0, in
 * cause_t's order; nothing when none is. */
void cause_print(FILE *out, const uint64_t count[CAUSE__COUNT]);

#endif
