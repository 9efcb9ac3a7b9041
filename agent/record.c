#include "record.h"

#include "hist.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static double per_second(uint64_t n, uint64_t ns)
{
    return ns ? (double)n / secs(ns) : 0.0;
}

/* " (timeout: 3, http_status: 2)" for the causes that happened, named as
 * the coordinator names them. */
static void print_causes(FILE *out, const tally_t *t)
{
    if (tally_failed(t) == 0) return;
    fputs(" (", out);
    cause_print(out, t->count + REQ_CONNECT); /* the counts past OK are by cause */
    fputc(')', out);
}

/* An open-loop run: requests sent and finished per second, over the
 * schedule's S seconds or, when the last one finished later, until then. */
uint64_t record_pace_span_ns(const run_params_t *p, const run_result_t *r)
{
    const tally_t *t = &r->tally;
    uint64_t span = (uint64_t)(p->duration_s * 1e9);

    if (t->last_ns > r->pace_start_ns && t->last_ns - r->pace_start_ns > span)
        span = t->last_ns - r->pace_start_ns;
    return span;
}

static double achieved_rate(const run_params_t *p, const run_result_t *r)
{
    const tally_t *t = &r->tally;

    return per_second(tally_total(t) - t->expired, record_pace_span_ns(p, r));
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

void record_line(FILE *out, const strategy_t *s, const run_params_t *p, const run_result_t *r)
{
    const tally_t *t = &r->tally;

    fprintf(out, "%s N=%llu", s->name, (unsigned long long)p->requests);
    if (strategy_info(s)->uses_chunk) fprintf(out, " C=%llu", (unsigned long long)p->chunk);
    if (strategy_info(s)->uses_connections)
        fprintf(out, " K=%llu", (unsigned long long)p->connections);
    if (p->rate > 0) fprintf(out, " at %g/s for %g s", p->rate, p->duration_s);
    /* throughput counts the requests that passed, as the coordinator's does;
     * with a rate, the requests sent and finished (achieved_rate) */
    fprintf(out, ": %.4f s, %.0f req/s", secs(r->wall_ns),
            p->rate > 0 ? achieved_rate(p, r) : per_second(t->count[REQ_OK], r->wall_ns));
    fprintf(out, ", ok %llu, failed %llu", (unsigned long long)t->count[REQ_OK],
            (unsigned long long)tally_failed(t));
    print_causes(out, t);
    fprintf(out, ", latency p50 %.3f ms p99 %.3f ms", ms(hist_percentile(t->latency, 50)),
            ms(hist_percentile(t->latency, 99)));
    if (p->rate > 0 && t->service && t->lateness)
        fprintf(out,
                " (from due), service p50 %.3f ms p99 %.3f ms, sent late p99 %.3f ms max "
                "%.3f ms, never sent %llu",
                ms(hist_percentile(t->service, 50)), ms(hist_percentile(t->service, 99)),
                ms(hist_percentile(t->lateness, 99)), ms(hist_max(t->lateness)),
                (unsigned long long)t->expired);
    fputc('\n', out);
}

/* Out of memory shows as -1 from a setter (jansson takes a NULL object or
 * value as an error and frees the value), so an object is checked once, by
 * or-ing the results, in complete(). */
static int set(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v);
}

static json_t *complete(json_t *o, int bad)
{
    if (!bad) return o;
    json_decref(o);
    return NULL;
}

static int set_u64(json_t *o, const char *key, uint64_t v)
{
    return set(o, key, json_integer((json_int_t)v));
}

static int set_real(json_t *o, const char *key, double v)
{
    return set(o, key, json_real(v));
}

/* Sparse buckets as [lower bound ns, count]: hist_bucket_index of the lower
 * bound gives the bucket back, so the histogram can be rebuilt exactly. */
static json_t *buckets_json(const hist_t *h)
{
    size_t n = hist_nonzero(h);
    uint32_t *idx = calloc(n ? n : 1, sizeof *idx);
    uint64_t *cnt = calloc(n ? n : 1, sizeof *cnt);
    json_t *arr = json_array();
    int bad = idx == NULL || cnt == NULL || arr == NULL;

    n = bad ? 0 : hist_export(h, idx, cnt, n);
    for (size_t i = 0; i < n && !bad; i++)
        bad = json_array_append_new(arr, json_pack("[II]", (json_int_t)hist_bucket_low(idx[i]),
                                                   (json_int_t)cnt[i])) != 0;
    free(idx);
    free(cnt);
    return complete(arr, bad);
}

static json_t *latency_json(const hist_t *h)
{
    json_t *o = json_object();
    int bad = set(o, "unit", json_string("ns")) | set_u64(o, "count", hist_count(h)) |
              set_u64(o, "min", hist_min(h)) | set_u64(o, "max", hist_max(h)) |
              set_real(o, "mean", hist_mean(h));

    for (size_t i = 0; i < HIST_NPCTS; i++)
        bad |= set_u64(o, hist_pcts[i].name, hist_percentile(h, hist_pcts[i].p));
    bad |= set_u64(o, "hist_version", HIST_VERSION) | set(o, "buckets", buckets_json(h));
    return complete(o, bad);
}

static json_t *failures_json(const tally_t *t)
{
    json_t *o = json_object();
    int bad = 0;

    for (int k = REQ_OK + 1; k < REQ__COUNT; k++)
        bad |= set_u64(o, req_outcome_name((req_outcome_t)k), t->count[k]);
    return complete(o, bad);
}

static json_t *versions_json(void)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "agent", FB_VERSION, "libcurl",
                     curl_version_info(CURLVERSION_NOW)->version, "libuv", uv_version_string(),
                     "jansson", jansson_version_str());
}

/* An open-loop run: what was asked and what was achieved. */
static json_t *rate_json(const run_params_t *p, const run_result_t *r)
{
    json_t *o = json_object();
    int bad = set_real(o, "target", p->rate) | set_real(o, "achieved", achieved_rate(p, r)) |
              set_real(o, "duration_s", p->duration_s) | set_u64(o, "never_sent", r->tally.expired);

    return complete(o, bad);
}

json_t *record_json(const strategy_t *s, const run_params_t *p, const run_result_t *r)
{
    const tally_t *t = &r->tally;
    uint64_t total = tally_total(t);
    json_t *o = json_object();
    char target[300];
    int bad;

    snprintf(target, sizeof target, strchr(p->host, ':') ? "[%s]:%d" : "%s:%d", p->host, p->port);
    bad = set(o, "strategy", json_string(s->name)) | set_u64(o, "requests", p->requests) |
          set_u64(o, "chunk", p->chunk) | set_u64(o, "connections", p->connections) |
          set_u64(o, "in_flight", p->in_flight) | set_u64(o, "timeout_ms", p->timeout_ms) |
          set(o, "target", json_string(target));
    bad |= set_real(o, "wall_s", secs(r->wall_ns)) | set_real(o, "user_s", secs(r->user_ns)) |
           set_real(o, "system_s", secs(r->sys_ns)) |
           set_real(o, "throughput_rps", per_second(t->count[REQ_OK], r->wall_ns)) |
           set_real(o, "cpu_per_request_us",
                    total ? (double)(r->user_ns + r->sys_ns) / 1e3 / (double)total : 0.0) |
           set_u64(o, "threads", r->threads);
    bad |= set_u64(o, "ok", t->count[REQ_OK]) | set_u64(o, "failed", tally_failed(t)) |
           set(o, "failures", failures_json(t)) | set_u64(o, "bytes_received", t->bytes) |
           set_u64(o, "connections_opened", t->connects) |
           set(o, "latency", latency_json(t->latency)) | set(o, "versions", versions_json());
    if (p->rate > 0 && t->service && t->lateness)
        bad |= set(o, "rate", rate_json(p, r)) | set(o, "service", latency_json(t->service)) |
               set(o, "lateness", latency_json(t->lateness));
    return complete(o, bad);
}
