#include "resp.h"

#include "route.h"

#include <stdio.h>
#include <string.h>

static const char k_conn_hdr[][27] = {"", "Connection: keep-alive\r\n", "Connection: close\r\n"};

const char *resp_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

void resp_cache_update(resp_cache_t *rc, time_t now)
{
    struct tm tm;

    if (rc->sec == now && rc->ok_len != 0) return;
    rc->sec = now;
    gmtime_r(&now, &tm);
    rc->date_len = strftime(rc->date, sizeof rc->date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    rc->ok_len = (size_t)snprintf(rc->ok, sizeof rc->ok,
                                  "HTTP/1.1 200 OK\r\nServer: fleetbench\r\n%s"
                                  "Content-Type: application/json\r\nContent-Length: ",
                                  rc->date);
}

/* Writes the decimal form of v; returns its length. */
static size_t fmt_i64(char *buf, int64_t v)
{
    char tmp[24];
    size_t n = 0, i;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    i = 0;
    if (v < 0) buf[i++] = '-';
    while (n > 0)
        buf[i++] = tmp[--n];
    return i;
}

static size_t finish(char *buf, size_t off, const char *body, size_t blen, bool head,
                     resp_conn_t conn)
{
    size_t hl;

    off += fmt_i64(buf + off, (int64_t)blen);
    memcpy(buf + off, "\r\n", 2);
    off += 2;
    hl = strlen(k_conn_hdr[conn]);
    memcpy(buf + off, k_conn_hdr[conn], hl);
    off += hl;
    memcpy(buf + off, "\r\n", 2);
    off += 2;
    if (!head) {
        memcpy(buf + off, body, blen);
        off += blen;
    }
    return off;
}

size_t resp_result(const resp_cache_t *rc, char *buf, int64_t result, bool head, resp_conn_t conn)
{
    char body[40];
    size_t blen;

    memcpy(body, "{\"result\":", 10);
    blen = 10 + fmt_i64(body + 10, result);
    body[blen++] = '}';
    memcpy(buf, rc->ok, rc->ok_len);
    return finish(buf, rc->ok_len, body, blen, head, conn);
}

size_t resp_json(const resp_cache_t *rc, char *buf, const char *body, size_t blen, bool head,
                 resp_conn_t conn)
{
    memcpy(buf, rc->ok, rc->ok_len);
    return finish(buf, rc->ok_len, body, blen, head, conn);
}

size_t resp_health(const resp_cache_t *rc, char *buf, bool head, resp_conn_t conn)
{
    static const char body[] = "{\"status\":\"ok\"}";

    memcpy(buf, rc->ok, rc->ok_len);
    return finish(buf, rc->ok_len, body, sizeof body - 1, head, conn);
}

size_t resp_error(const resp_cache_t *rc, char *buf, int status, const char *detail, bool head,
                  resp_conn_t conn)
{
    char body[512];
    int blen, off;

    /* details are static ASCII without quotes or backslashes: no escaping */
    blen = snprintf(body, sizeof body, "{\"detail\":\"%s\"}", detail);
    if (blen < 0 || (size_t)blen >= sizeof body) blen = (int)sizeof body - 1;
    off = snprintf(buf, RESP_MAX - 600,
                   "HTTP/1.1 %d %s\r\nServer: fleetbench\r\n%s%s"
                   "Content-Type: application/json\r\nContent-Length: ",
                   status, resp_reason(status), rc->date,
                   status == 405 ? "Allow: " ROUTE_ALLOW "\r\n" : "");
    return finish(buf, (size_t)off, body, (size_t)blen, head, conn);
}
