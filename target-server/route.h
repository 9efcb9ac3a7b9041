/* route: maps a request line (method + request-target) to what the server
 * answers. Pure: no I/O, no allocation, so every edge is unit-tested. */
#ifndef TS_ROUTE_H
#define TS_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define ROUTE_MAX_DELAY_MS 60000
#define ROUTE_ALLOW "GET, HEAD"

typedef enum { ROUTE_MULTIPLY, ROUTE_HEALTH, ROUTE_STATS, ROUTE_ERROR } route_kind_t;

typedef struct {
    route_kind_t kind;
    int status;         /* 200, 404, 405 or 422 */
    int64_t result;     /* 2N, for ROUTE_MULTIPLY */
    int64_t delay_ms;   /* from ?delay_ms=, or -1 when absent */
    const char *detail; /* static text for errors */
} route_t;

typedef enum { NUM_OK, NUM_INVALID, NUM_RANGE } num_status_t;

/* Parses a percent-encoded signed decimal N (sign, leading zeros allowed) and
 * stores 2N; NUM_RANGE when N or 2N does not fit in int64. */
num_status_t route_parse_double(const char *s, size_t len, int64_t *twice);

/* method is an http_parser `enum http_method`. Always fills *out. */
void route_request(unsigned method, const char *url, size_t len, route_t *out);

#endif
