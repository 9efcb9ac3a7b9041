#include "conn.h"

#include "fault.h"
#include "route.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Connection state. The read buffer is appended to while a request head is
 * incomplete, so the request-target stays contiguous and is routed in place
 * without a copy; it is compacted only when a head spans reads. */
struct conn_s {
    uv_tcp_t tcp;
    uv_timer_t delay; /* --delay / ?delay_ms */
    uv_write_t wreq;
    uv_shutdown_t sreq;
    http_parser parser;
    srv_worker_t *w;
    srv_link_t link; /* in w's list of open connections */

    char *rbuf; /* pooled; NULL while nothing is buffered */
    size_t rlen, roff;
    char *wbuf; /* pooled; responses waiting for one write */
    size_t wlen;

    const char *url; /* into rbuf until the head is complete */
    size_t url_len;
    uint64_t body_len;
    uint64_t deadline; /* loop ms; 0: none */
    route_t route;
    fault_kind_t fault;
    int err_status;  /* set by a parser callback that rejects the request */
    int closes;      /* handles still to be closed before free */
    uint8_t te_name; /* chars of "transfer-encoding" the field name matched so far */
    uint8_t te_val;  /* chars of "chunked" its value matched so far */

    unsigned in_request : 1; /* begun and not yet answered */
    unsigned url_live : 1;   /* url points into rbuf */
    unsigned keepalive : 1;
    unsigned delaying : 1;    /* delay timer running */
    unsigned respond_due : 1; /* delay over, waiting for the write to finish */
    unsigned writing : 1;     /* uv_write in flight */
    unsigned stalled : 1;     /* fault: never answered */
    unsigned last : 1;        /* close once everything is written */
    unsigned lingering : 1;   /* FIN sent, draining the peer's bytes */
    unsigned peer_eof : 1;    /* the peer closed its side: no lingering needed */
    unsigned reading : 1;
    unsigned closing : 1;
    unsigned counted : 1; /* carried a request GET /stats counts */
    unsigned in_value : 1; /* the last header piece was a value: a name piece starts a field */
    unsigned te_field : 1; /* the field being read may be / is Transfer-Encoding */
    unsigned te_seen : 1;  /* the request has a Transfer-Encoding */
};

/* After the last response, unread client bytes would turn close() into a
 * reset that can destroy the response in flight; so send FIN and read until
 * the peer closes, for at most this long (as nginx's lingering close). */
#define CONN_LINGER_MS 2000

static void conn_process(conn_t *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static const config_t *cfg_of(conn_t *c)
{
    return c->w->cfg;
}

static conn_t *conn_of(srv_link_t *l)
{
    return (conn_t *)((char *)l - offsetof(conn_t, link));
}

static uint64_t now_ms(conn_t *c)
{
    return uv_now(&c->w->loop);
}

/* ---- lifetime ---------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    srv_worker_t *w = c->w;

    if (--c->closes > 0) return;
    if (c->rbuf) pool_put(&w->pool, c->rbuf);
    if (c->wbuf) pool_put(&w->pool, c->wbuf);
    free(c);
    srv_conn_gone(w);
}

static void conn_close(conn_t *c)
{
    srv_worker_t *w = c->w;

    if (c->closing) return;
    c->closing = 1;
    srv_conn_remove(w, &c->link);
    c->closes = 2;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    uv_close((uv_handle_t *)&c->delay, on_closed);
}

/* ---- writing ----------------------------------------------------------- */

static void conn_release_wbuf(conn_t *c)
{
    pool_put(&c->w->pool, c->wbuf);
    c->wbuf = NULL;
    c->wlen = 0;
}

static void on_written(uv_write_t *req, int status)
{
    conn_t *c = req->data;

    c->writing = 0;
    if (c->closing) return;
    conn_release_wbuf(c);
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_process(c);
}

/* Sends what wbuf holds: synchronously when the socket takes it all (the
 * common case), otherwise one uv_write that pauses parsing until done. */
static void conn_flush(conn_t *c)
{
    uv_buf_t b;
    int n;

    if (c->writing || c->wlen == 0) return;
    b = uv_buf_init(c->wbuf, (unsigned)c->wlen);
    n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)c->wlen) {
        conn_release_wbuf(c);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    if (n > 0) b = uv_buf_init(c->wbuf + n, (unsigned)(c->wlen - (size_t)n));
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        conn_close(c);
        return;
    }
    c->writing = 1;
}

/* Room for one more response, or NULL when out of memory. */
static char *conn_wspace(conn_t *c)
{
    if (c->wbuf == NULL) {
        c->wbuf = pool_get(&c->w->pool);
        if (c->wbuf == NULL) return NULL;
        c->wlen = 0;
    }
    return c->wbuf + c->wlen;
}

static resp_conn_t conn_mode(conn_t *c)
{
    if (c->last || !c->keepalive || c->w->state != SRV_SERVING) return RESP_CLOSE;
    return c->parser.http_minor == 0 ? RESP_KEEP_10 : RESP_KEEP;
}

/* Counts a request answered with status, and its connection the first time. */
static void conn_count(conn_t *c, int status)
{
    meter_status(&c->w->meter, status);
    if (!c->counted) meter_bump(&c->w->meter.connections);
    c->counted = 1;
}

/* GET /stats: the document, not counted itself. */
static size_t conn_stats(conn_t *c, char *out, bool head, resp_conn_t mode)
{
    char body[RESP_MAX - 512];
    size_t n = srv_stats_json(c->w, body, sizeof body);

    if (n == 0) return resp_error(&c->w->rc, out, 500, "stats do not fit", head, mode);
    return resp_json(&c->w->rc, out, body, n, head, mode);
}

/* Renders the answer to the request just completed (or its error). */
static void conn_respond(conn_t *c)
{
    srv_worker_t *w = c->w;
    char *out = conn_wspace(c);
    bool head = c->parser.method == HTTP_HEAD;
    resp_conn_t mode = conn_mode(c);
    const route_t *r = &c->route;
    int status = c->err_status ? c->err_status : c->fault == FAULT_STATUS_500 ? 500 : r->status;

    if (out == NULL) {
        conn_close(c);
        return;
    }
    resp_cache_update(&w->rc, time(NULL));
    if (c->err_status != 0)
        c->wlen += resp_error(&w->rc, out, c->err_status, r->detail, head, mode);
    else if (c->fault == FAULT_STATUS_500)
        c->wlen += resp_error(&w->rc, out, 500, "injected fault: status-500", head, mode);
    else if (r->kind == ROUTE_MULTIPLY)
        c->wlen += resp_result(&w->rc, out,
                               c->fault == FAULT_WRONG_RESULT ? (int64_t)((uint64_t)r->result + 1)
                                                              : r->result,
                               head, mode);
    else if (r->kind == ROUTE_HEALTH)
        c->wlen += resp_health(&w->rc, out, head, mode);
    else if (r->kind == ROUTE_STATS)
        c->wlen += conn_stats(c, out, head, mode);
    else
        c->wlen += resp_error(&w->rc, out, r->status, r->detail, head, mode);
    if (c->err_status != 0 || r->kind != ROUTE_STATS) conn_count(c, status);
    c->in_request = 0;
    if (mode == RESP_CLOSE) c->last = 1;
    c->deadline = now_ms(c) + cfg_of(c)->idle_timeout_ms;
}

/* ---- parser callbacks -------------------------------------------------- */

static int on_message_begin(http_parser *p)
{
    conn_t *c = p->data;

    c->in_request = 1;
    c->url_len = 0;
    c->url_live = 0;
    c->body_len = 0;
    c->err_status = 0;
    c->fault = FAULT_NONE;
    c->in_value = 1; /* the first name piece starts a field */
    c->te_seen = 0;
    c->deadline = now_ms(c) + cfg_of(c)->header_timeout_ms;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;

    if (!c->url_live) {
        c->url = at;
        c->url_live = 1;
    }
    c->url_len += len; /* pieces are contiguous: rbuf is appended to */
    if (c->url_len > cfg_of(c)->max_uri) {
        c->err_status = 414;
        c->route.detail = "request target too long";
        return -1;
    }
    return 0;
}

static int reject(conn_t *c, int status, const char *detail)
{
    c->err_status = status;
    c->route.detail = detail;
    return -1;
}

/* Headers are checked where http_parser is lenient and a proxy in front of
 * us might read them otherwise (request smuggling): whitespace before the
 * colon (RFC 9112 5.1: 400), and Transfer-Encoding, which must be exactly
 * one "chunked" (http_parser takes "Transfer-Encoding : chunked" and
 * "gzip, chunked" as chunked). */
static const char k_te[] = "transfer-encoding";
#define TE_LEN (sizeof k_te - 1)
#define CHUNKED_LEN 7

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;

    if (c->in_value) { /* pieces of one name come back to back */
        c->in_value = 0;
        c->te_field = 1;
        c->te_name = 0;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = at[i];
        if (ch == ' ' || ch == '\t')
            return reject(c, 400, "whitespace between a header field name and its colon");
        if (!c->te_field) continue;
        if (c->te_name < TE_LEN && (ch | 0x20) == k_te[c->te_name])
            c->te_name++;
        else
            c->te_field = 0;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;

    if (!c->in_value) { /* the name is complete */
        c->in_value = 1;
        c->te_field = c->te_field && c->te_name == TE_LEN;
        if (c->te_field) {
            if (c->te_seen) return reject(c, 400, "Transfer-Encoding given twice");
            c->te_seen = 1;
            c->te_val = 0;
        }
    }
    for (size_t i = 0; c->te_field && i < len; i++) {
        char ch = at[i];
        if ((ch == ' ' || ch == '\t') && (c->te_val == 0 || c->te_val == CHUNKED_LEN)) continue;
        if (c->te_val < CHUNKED_LEN && (ch | 0x20) == "chunked"[c->te_val])
            c->te_val++;
        else
            return reject(c, 400, "Transfer-Encoding other than chunked");
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    conn_t *c = p->data;

    if (c->te_seen && c->te_val != CHUNKED_LEN)
        return reject(c, 400, "Transfer-Encoding other than chunked");
    if (p->http_major != 1) return reject(c, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > cfg_of(c)->max_body)
        return reject(c, 413, "request body too large");
    route_request(p->method, c->url, c->url_len, &c->route);
    c->url_live = 0;
    c->keepalive = http_should_keep_alive(p) != 0;
    if (p->upgrade) c->last = 1; /* we speak no other protocol */
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    conn_t *c = p->data;

    c->body_len += len;
    if (c->body_len > cfg_of(c)->max_body) return reject(c, 413, "request body too large");
    return 0;
}

static void on_delay_done(uv_timer_t *t)
{
    conn_t *c = t->data;

    c->delaying = 0;
    if (c->writing) { /* the earlier responses are still going out */
        c->respond_due = 1;
        return;
    }
    conn_respond(c);
    conn_process(c);
}

static int on_message_complete(http_parser *p)
{
    conn_t *c = p->data;
    const config_t *cfg = cfg_of(c);
    uint64_t delay = cfg->delay_ms;

    c->deadline = 0;
    if (c->route.kind == ROUTE_MULTIPLY) {
        if (c->route.delay_ms >= 0) delay = (uint64_t)c->route.delay_ms;
        c->fault = fault_roll(&cfg->faults, &c->w->rng);
    }
    if (c->fault == FAULT_CLOSE || c->fault == FAULT_STALL) { /* never answered */
        meter_bump(&c->w->meter.dropped);
        if (!c->counted) meter_bump(&c->w->meter.connections);
        c->counted = 1;
    }
    if (c->fault == FAULT_CLOSE) {
        c->last = 1; /* earlier pipelined answers still go out */
        c->in_request = 0;
    } else if (c->fault == FAULT_STALL) {
        c->stalled = 1;
        c->deadline = now_ms(c) + cfg->idle_timeout_ms;
    } else if (delay > 0 && c->route.kind == ROUTE_MULTIPLY) {
        c->delaying = 1;
        /* libuv timers count whole ms of a cached loop clock: refresh it and
         * add 1 so that an answer never leaves before the delay is over */
        uv_update_time(&c->w->loop);
        uv_timer_start(&c->delay, on_delay_done, delay + 1, 0);
    } else {
        conn_respond(c);
        if (c->closing) return -1;
        if (c->wlen + RESP_MAX <= c->w->pool.block_size && !c->last) return 0;
    }
    /* stop here: wait for the delay, a flush, or the close */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings k_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- reading ----------------------------------------------------------- */

static void conn_parse_error(conn_t *c)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

    if (c->err_status == 0) {
        c->err_status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
        c->route.detail = e == HPE_HEADER_OVERFLOW ? "request header fields too large"
                                                   : http_errno_description(e);
    }
    c->last = 1;
    c->fault = FAULT_NONE;
    conn_respond(c);
}

static bool conn_busy(const conn_t *c)
{
    return c->delaying || c->respond_due || c->writing || c->stalled || c->last || c->closing;
}

static void conn_reading(conn_t *c, bool on)
{
    if (c->reading == on) return;
    c->reading = on;
    if (on)
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    else
        uv_read_stop((uv_stream_t *)&c->tcp);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_t *c = req->data;

    if (status < 0 && !c->closing) conn_close(c);
}

/* Everything answered and written: half-close, then wait for the peer. */
static void conn_linger(conn_t *c)
{
    c->lingering = 1;
    c->deadline = now_ms(c) + CONN_LINGER_MS;
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    conn_reading(c, true);
}

static void conn_update_reading(conn_t *c)
{
    if (c->closing || c->lingering) return;
    /* nothing buffered and no head in progress: give the block back */
    if (c->rbuf && c->roff == c->rlen && !c->url_live) {
        pool_put(&c->w->pool, c->rbuf);
        c->rbuf = NULL;
    }
    if (c->last && !c->writing && !c->delaying && !c->respond_due) {
        if (c->peer_eof)
            conn_close(c);
        else
            conn_linger(c);
        return;
    }
    conn_reading(c, !conn_busy(c) || c->stalled);
}

/* Parses what rbuf holds until it is used up or the connection must wait. */
static void conn_process(conn_t *c)
{
    if (c->respond_due && !c->writing) {
        c->respond_due = 0;
        conn_respond(c);
    }
    while (c->roff < c->rlen && !conn_busy(c)) {
        size_t n =
            http_parser_execute(&c->parser, &k_settings, c->rbuf + c->roff, c->rlen - c->roff);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

        c->roff += n;
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            if (c->wlen + RESP_MAX > c->w->pool.block_size) conn_flush(c);
        } else if (e != HPE_OK) {
            conn_parse_error(c);
        }
    }
    if (c->closing) return;
    conn_flush(c);
    conn_update_reading(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;

    if (c->stalled || c->lingering) { /* bytes to throw away: no block for them */
        *buf = uv_buf_init(c->w->scratch, sizeof c->w->scratch);
        return;
    }
    if (c->rbuf == NULL) {
        c->rbuf = pool_get(&c->w->pool);
        if (c->rbuf == NULL) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        c->rlen = c->roff = 0;
    }
    /* everything so far is parsed; keep only a head's request-target */
    if (c->url_live) {
        if (c->url != c->rbuf) memmove(c->rbuf, c->url, c->url_len);
        c->url = c->rbuf;
        c->rlen = c->roff = c->url_len;
    } else {
        c->rlen = c->roff = 0;
    }
    *buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)(c->w->pool.block_size - c->rlen));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = s->data;

    if (nread < 0) { /* EOF or error: answer what is in flight, then close */
        if (c->lingering || nread != UV_EOF) {
            conn_close(c);
            return;
        }
        c->last = 1;
        c->peer_eof = 1;
        c->stalled = 0;
        conn_reading(c, false);
        conn_update_reading(c);
        return;
    }
    if (c->stalled || c->lingering) { /* read only to notice the peer leaving */
        c->rlen = c->roff;            /* what was not parsed yet is dropped with it */
        conn_update_reading(c);
        return;
    }
    c->rlen += (size_t)nread;
    conn_process(c);
}

/* ---- worker-facing ----------------------------------------------------- */

/* Gives c's handle its socket: the listener's pending connection when fd < 0,
 * else fd itself, which the handle then owns (or which is closed on error). */
static int conn_attach(srv_worker_t *w, conn_t *c, uv_os_sock_t fd)
{
    int rc;

    if (fd < 0) return uv_accept((uv_stream_t *)&w->listener, (uv_stream_t *)&c->tcp);
    rc = uv_tcp_open(&c->tcp, fd);
    if (rc != 0) close(fd);
    return rc;
}

static void conn_open(srv_worker_t *w, uv_os_sock_t fd)
{
    conn_t *c = calloc(1, sizeof *c);

    if (c == NULL) {
        if (fd >= 0) close(fd);
        return;
    }
    c->w = w;
    c->closes = 2;
    uv_tcp_init(&w->loop, &c->tcp);
    uv_timer_init(&w->loop, &c->delay);
    c->tcp.data = c->delay.data = c;
    c->closing = 1; /* not listed yet */
    /* counted from here on: srv_conn_gone() takes it back in on_closed */
    if (atomic_fetch_add(w->nconns_all, 1) >= w->cfg->max_conns) {
        char busy[RESP_MAX];
        uv_buf_t b;
        if (conn_attach(w, c, fd) != 0) goto drop;
        resp_cache_update(&w->rc, time(NULL));
        meter_status(&w->meter, 503); /* the answer to its first request */
        meter_bump(&w->meter.connections);
        b = uv_buf_init(busy, (unsigned)resp_error(&w->rc, busy, 503, "too many connections", false,
                                                   RESP_CLOSE));
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        goto drop;
    }
    if (conn_attach(w, c, fd) != 0) goto drop;
    c->closing = 0;
    srv_conn_add(w, &c->link);
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->deadline = uv_now(&w->loop) + w->cfg->idle_timeout_ms;
    conn_reading(c, true);
    return;
drop:
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    uv_close((uv_handle_t *)&c->delay, on_closed);
}

void conn_accept(srv_worker_t *w)
{
    conn_open(w, -1);
}

void conn_adopt(srv_worker_t *w, uv_os_sock_t fd)
{
    conn_open(w, fd);
}

void conn_sweep(srv_worker_t *w, uint64_t now)
{
    for (srv_link_t *l = w->conns, *next; l != NULL; l = next) {
        conn_t *c = conn_of(l);
        next = l->next; /* before c may close */
        if (c->deadline != 0 && now >= c->deadline) conn_close(c);
    }
}

void conn_drain(srv_worker_t *w)
{
    for (srv_link_t *l = w->conns, *next; l != NULL; l = next) {
        conn_t *c = conn_of(l);
        next = l->next;
        if (c->stalled || (!c->in_request && !c->writing && !c->respond_due)) conn_close(c);
    }
}

void conn_close_all(srv_worker_t *w)
{
    while (w->conns != NULL)
        conn_close(conn_of(w->conns));
}

void conn_delays_expire(srv_worker_t *w)
{
    for (srv_link_t *l = w->conns; l != NULL; l = l->next) {
        conn_t *c = conn_of(l);
        if (c->delaying) uv_timer_start(&c->delay, on_delay_done, 0, 0);
    }
}
