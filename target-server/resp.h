/* resp: renders HTTP responses into a caller's buffer. The status line and
 * fixed headers of a 200 are pre-rendered once a second (the Date header), so
 * the hot path is two memcpy and two integer formats. */
#ifndef TS_RESP_H
#define TS_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* No response is longer than this: a caller keeps this much room free.
 * GET /stats's, with a busy time per event loop, is the longest. */
#define RESP_MAX 8192

typedef struct {
    time_t sec;   /* second the prefix was rendered for */
    char ok[160]; /* "HTTP/1.1 200 OK ... Content-Length: " */
    size_t ok_len;
    char date[40]; /* "Date: ...\r\n" */
    size_t date_len;
} resp_cache_t;

/* How the connection ends after this response. */
typedef enum { RESP_KEEP, RESP_KEEP_10, RESP_CLOSE } resp_conn_t;

/* Re-renders the cached prefix when the wall-clock second changed. */
void resp_cache_update(resp_cache_t *rc, time_t now);

/* {"result":N}; head drops the body. Returns bytes written (<= RESP_MAX). */
size_t resp_result(const resp_cache_t *rc, char *buf, int64_t result, bool head, resp_conn_t conn);
/* A 200 with a JSON body of blen <= RESP_MAX - 512 bytes (GET /stats). */
size_t resp_json(const resp_cache_t *rc, char *buf, const char *body, size_t blen, bool head,
                 resp_conn_t conn);
/* {"status":"ok"} for /health. */
size_t resp_health(const resp_cache_t *rc, char *buf, bool head, resp_conn_t conn);
/* {"detail":"..."} with the given status; 405 adds Allow. */
size_t resp_error(const resp_cache_t *rc, char *buf, int status, const char *detail, bool head,
                  resp_conn_t conn);
const char *resp_reason(int status);

#endif
