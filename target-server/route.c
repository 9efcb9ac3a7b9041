#include "route.h"

#include <http_parser.h>
#include <stdbool.h>
#include <string.h>

/* Query parameters are percent-decoded one byte at a time, so a value of any
 * length (a number with 10,000 leading zeros) needs no buffer. '+' is kept as
 * a plus sign: it is a sign here, not a form-encoded space. */
typedef struct {
    const char *p, *end;
} pct_iter_t;

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Returns the next decoded byte, -1 at the end, -2 on a malformed escape. */
static int pct_next(pct_iter_t *it)
{
    int hi, lo;

    if (it->p >= it->end) return -1;
    if (*it->p != '%') return (unsigned char)*it->p++;
    if (it->end - it->p < 3) return -2;
    hi = hexval(it->p[1]);
    lo = hexval(it->p[2]);
    if (hi < 0 || lo < 0) return -2;
    it->p += 3;
    return hi << 4 | lo;
}

static bool pct_equals(const char *s, size_t len, const char *lit)
{
    pct_iter_t it = {s, s + len};
    int c;

    while ((c = pct_next(&it)) >= 0)
        if (*lit == '\0' || c != (unsigned char)*lit++) return false;
    return c == -1 && *lit == '\0';
}

num_status_t route_parse_double(const char *s, size_t len, int64_t *twice)
{
    pct_iter_t it = {s, s + len};
    const uint64_t limit = (uint64_t)1 << 62; /* |2N| <= 2^63 (negative) */
    uint64_t mag = 0;
    bool neg = false, digits = false, range = false;
    int c = pct_next(&it);

    if (c == '+' || c == '-') {
        neg = c == '-';
        c = pct_next(&it);
    }
    for (; c >= 0; c = pct_next(&it)) {
        if (c < '0' || c > '9') return NUM_INVALID;
        digits = true;
        /* keep scanning after overflow: "12x" with 30 digits is still invalid */
        if (mag > limit / 10 || (mag == limit / 10 && (uint64_t)(c - '0') > limit % 10))
            range = true;
        else
            mag = mag * 10 + (uint64_t)(c - '0');
    }
    if (c == -2 || !digits) return NUM_INVALID;
    /* 2N fits iff -2^62 <= N <= 2^62 - 1 */
    if (range || (!neg && mag == limit)) return NUM_RANGE;
    *twice = neg ? (int64_t)(0 - 2 * mag) : (int64_t)(2 * mag);
    return NUM_OK;
}

/* delay_ms: 0..ROUTE_MAX_DELAY_MS, plain digits. */
static bool parse_delay(const char *s, size_t len, int64_t *out)
{
    pct_iter_t it = {s, s + len};
    int64_t v = 0;
    int c, n = 0;

    while ((c = pct_next(&it)) >= 0) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
        if (v > ROUTE_MAX_DELAY_MS) return false;
        n++;
    }
    *out = v;
    return c == -1 && n > 0;
}

static void set_error(route_t *r, int status, const char *detail)
{
    r->kind = ROUTE_ERROR;
    r->status = status;
    r->detail = detail;
}

static void route_multiply(const char *q, size_t qlen, route_t *r)
{
    const char *end = q + qlen, *num = NULL, *delay = NULL;
    size_t num_len = 0, delay_len = 0;

    /* last occurrence wins, as in Starlette's query dict */
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pe - q));
        const char *val = eq ? eq + 1 : pe;
        size_t klen = (size_t)((eq ? eq : pe) - q);

        if (pct_equals(q, klen, "number")) {
            num = val;
            num_len = (size_t)(pe - val);
        } else if (pct_equals(q, klen, "delay_ms")) {
            delay = val;
            delay_len = (size_t)(pe - val);
        }
        q = amp ? amp + 1 : end;
    }
    if (delay != NULL && !parse_delay(delay, delay_len, &r->delay_ms)) {
        set_error(r, 422, "query parameter 'delay_ms' must be an integer from 0 to 60000");
        return;
    }
    if (num == NULL) {
        set_error(r, 422, "query parameter 'number' is required");
        return;
    }
    switch (route_parse_double(num, num_len, &r->result)) {
    case NUM_OK:
        r->kind = ROUTE_MULTIPLY;
        r->status = 200;
        return;
    case NUM_INVALID:
        set_error(r, 422, "query parameter 'number' must be a base-10 integer");
        return;
    case NUM_RANGE:
        set_error(r, 422,
                  "query parameter 'number' is out of range: 2 * number must fit "
                  "in a signed 64-bit integer");
        return;
    }
}

void route_request(unsigned method, const char *url, size_t len, route_t *out)
{
    struct http_parser_url u;
    const char *path, *q = "";
    size_t plen, qlen = 0;
    bool multiply, health, stats;

    memset(out, 0, sizeof *out);
    out->delay_ms = -1;
    if (len > 0 && url[0] == '/' && memchr(url, '#', len) == NULL) {
        /* origin-form, what every client sends: split at '?' without a parser */
        const char *qm = memchr(url, '?', len);
        path = url;
        plen = qm ? (size_t)(qm - url) : len;
        if (qm) {
            q = qm + 1;
            qlen = len - plen - 1;
        }
    } else {
        http_parser_url_init(&u);
        if (len == 0 || http_parser_parse_url(url, len, method == HTTP_CONNECT, &u) != 0 ||
            !(u.field_set & (1 << UF_PATH))) {
            set_error(out, 400, "malformed request target");
            return;
        }
        path = url + u.field_data[UF_PATH].off;
        plen = u.field_data[UF_PATH].len;
        if (u.field_set & (1 << UF_QUERY)) {
            q = url + u.field_data[UF_QUERY].off;
            qlen = u.field_data[UF_QUERY].len;
        }
    }
    multiply = plen == 9 && memcmp(path, "/multiply", 9) == 0;
    health = plen == 7 && memcmp(path, "/health", 7) == 0;
    stats = plen == 6 && memcmp(path, "/stats", 6) == 0;
    if (!multiply && !health && !stats) {
        set_error(out, 404, "not found");
        return;
    }
    if (method != HTTP_GET && method != HTTP_HEAD) {
        set_error(out, 405, "method not allowed");
        return;
    }
    if (health || stats) {
        out->kind = health ? ROUTE_HEALTH : ROUTE_STATS;
        out->status = 200;
        return;
    }
    route_multiply(q, qlen, out);
}
