#include "meter.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NSTATUS (METER_STATUS_MAX - METER_STATUS_MIN + 1)

void meter_init(meter_t *m)
{
    for (size_t i = 0; i < NSTATUS; i++)
        atomic_init(&m->status[i], 0);
    atomic_init(&m->dropped, 0);
    atomic_init(&m->connections, 0);
}

void meter_add(meter_snapshot_t *s, const meter_t *m)
{
    for (size_t i = 0; i < NSTATUS; i++)
        s->status[i] += atomic_load_explicit(&m->status[i], memory_order_relaxed);
    s->dropped += atomic_load_explicit(&m->dropped, memory_order_relaxed);
    s->connections += atomic_load_explicit(&m->connections, memory_order_relaxed);
}

uint64_t meter_requests(const meter_snapshot_t *s)
{
    uint64_t n = s->dropped;

    for (size_t i = 0; i < NSTATUS; i++)
        n += s->status[i];
    return n;
}

/* snprintf that stops at the first overflow (*off == cap then). */
static void put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*off >= cap) return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *off, cap - *off, fmt, ap);
    va_end(ap);
    *off = n < 0 || (size_t)n >= cap - *off ? cap : *off + (size_t)n;
}

size_t meter_json(const meter_snapshot_t *s, char *buf, size_t cap)
{
    const char *sep = "";
    size_t off = 0;

    put(buf, cap, &off, "{\"server\":\"fleetbench target-server\",\"requests\":%" PRIu64 ",",
        meter_requests(s));
    put(buf, cap, &off, "\"status\":{");
    for (size_t i = 0; i < NSTATUS; i++)
        if (s->status[i]) {
            put(buf, cap, &off, "%s\"%zu\":%" PRIu64, sep, i + METER_STATUS_MIN, s->status[i]);
            sep = ",";
        }
    put(buf, cap, &off,
        "},\"dropped\":%" PRIu64 ",\"connections\":%" PRIu64 ",\"cpu_ns\":%" PRIu64
        ",\"now_ns\":%" PRIu64 ",\"uptime_ns\":%" PRIu64 ",\"cores\":%u,\"loops\":%u,\"busy_ns\":[",
        s->dropped, s->connections, s->cpu_ns, s->now_ns, s->uptime_ns, s->cores, s->loops);
    for (unsigned i = 0; i < s->loops && i < METER_MAX_LOOPS; i++)
        put(buf, cap, &off, "%s%" PRIu64, i ? "," : "", s->busy_ns[i]);
    put(buf, cap, &off, "]}");
    return off < cap ? off : 0;
}
