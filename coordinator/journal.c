#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_FORMAT 1

static int fail(journal_t *j, const char *what, int e, fb_err_t *err)
{
    fb_err_set(err, "journal %.300s: %s: %s", j->path, what, strerror(e));
    return -1;
}

/* Everything or nothing: a write cut short (a full disk) is taken back, so
 * the file keeps ending with a whole line and --resume reads it. */
static int append(journal_t *j, const char *buf, size_t len, fb_err_t *err)
{
    size_t done = 0;
    int e = 0;

    while (done < len) {
        ssize_t n = pwrite(j->fd, buf + done, len - done, (off_t)(j->size + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            e = n < 0 ? errno : ENOSPC;
            break;
        }
        done += (size_t)n;
    }
    if (e == 0 && fsync(j->fd) != 0) e = errno;
    if (e != 0) {
        /* best effort: a tail left torn is cut by the next journal_reopen */
        if (ftruncate(j->fd, (off_t)j->size) == 0) (void)fsync(j->fd);
        return fail(j, "cannot write", e, err);
    }
    j->size += len;
    return 0;
}

/* One line, whole, then fsync: the run counts only once it is on disk. */
static int write_line(journal_t *j, json_t *obj, fb_err_t *err)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    size_t len;
    int rc;

    json_decref(obj);
    if (text == NULL) {
        fb_err_set(err, "journal %.300s: out of memory", j->path);
        return -1;
    }
    len = strlen(text);
    text[len] = '\n'; /* json_dumps's terminator becomes the line's end */
    rc = append(j, text, len + 1, err);
    free(text);
    return rc;
}

/* Opens path as a regular file and takes the lock that keeps a second
 * coordinator out for as long as we hold it open. */
static int open_locked(journal_t *j, const char *path, int flags, fb_err_t *err)
{
    struct stat st;

    memset(j, 0, sizeof *j);
    snprintf(j->path, sizeof j->path, "%s", path);
    j->fd = open(path, flags | O_RDWR | O_CLOEXEC, 0666);
    if (j->fd < 0) return fail(j, "cannot open", errno, err);
    if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        journal_close(j);
        fb_err_set(err, "journal %.300s: not a regular file", path);
        return -1;
    }
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        journal_close(j);
        if (e == EWOULDBLOCK)
            fb_err_set(err, "journal %.300s: in use by another coordinator (it is locked)", path);
        else
            fail(j, "cannot lock", e, err);
        return -1;
    }
    j->size = (uint64_t)st.st_size;
    return 0;
}

int journal_create(journal_t *j, const char *path, int argc, char **argv, fb_err_t *err)
{
    json_t *args = json_array();

    /* truncated only once locked: never under a coordinator still writing it */
    if (open_locked(j, path, O_CREAT, err) != 0) {
        json_decref(args);
        return -1;
    }
    if (ftruncate(j->fd, 0) != 0) {
        json_decref(args);
        return fail(j, "cannot truncate", errno, err);
    }
    j->size = 0;
    for (int i = 0; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    return write_line(
        j, json_pack("{s:i, s:o}", "fleetbench_journal", JOURNAL_FORMAT, "argv", args), err);
}

/* Where the last whole line ends: 0 if there is none. */
static int last_line_end(journal_t *j, uint64_t *end, fb_err_t *err)
{
    char buf[4096];
    uint64_t pos = j->size;

    while (pos > 0) {
        size_t n = pos < sizeof buf ? (size_t)pos : sizeof buf;
        ssize_t got = pread(j->fd, buf, n, (off_t)(pos - n));
        if (got != (ssize_t)n) return fail(j, "cannot read", got < 0 ? errno : EIO, err);
        for (size_t i = n; i > 0; i--)
            if (buf[i - 1] == '\n') {
                *end = pos - n + i;
                return 0;
            }
        pos -= n;
    }
    *end = 0;
    return 0;
}

int journal_reopen(journal_t *j, const char *path, fb_err_t *err)
{
    uint64_t end;

    if (open_locked(j, path, 0, err) != 0) return -1;
    if (last_line_end(j, &end, err) != 0) goto bad;
    if (end == 0) {
        fb_err_set(err, "journal %.300s: no complete header line (empty, or torn by a crash)",
                   path);
        goto bad;
    }
    /* a crash or a full disk mid-line: that run never counted; cut it so
     * the next line starts on a line of its own */
    if (end < j->size) {
        if (ftruncate(j->fd, (off_t)end) != 0 || fsync(j->fd) != 0) {
            fail(j, "cannot cut its torn last line", errno, err);
            goto bad;
        }
        j->size = end;
    }
    return 0;
bad:
    journal_close(j);
    return -1;
}

void journal_close(journal_t *j)
{
    if (j->fd >= 0) close(j->fd); /* and with it the lock */
    j->fd = -1;
}

static json_t *agent_json(const bench_agent_run_t *a)
{
    json_t *failed = json_array(), *o;

    for (int c = 0; c < CAUSE__COUNT; c++)
        json_array_append_new(failed, json_integer((json_int_t)a->failed[c]));
    o = json_pack("{s:f, s:f, s:f, s:I, s:o, s:I, s:I, s:f, s:b}", "wall", a->wall_s, "user",
                  a->user_s, "sys", a->sys_s, "ok", (json_int_t)a->ok, "failed", failed, "bytes",
                  (json_int_t)a->bytes, "connections", (json_int_t)a->connections, "start",
                  a->start_offset_s, "lost", a->lost);
    /* a command's exit code, when not 0 (older journals have none) */
    if (o && a->exit_code && json_object_set_new(o, "exit", json_integer(a->exit_code)) != 0) {
        json_decref(o);
        return NULL;
    }
    /* rate mode: what the agent measured of itself */
    if (o && a->paced)
        json_object_set_new(o, "pace",
                            json_pack("{s:f, s:I, s:[f, f, f]}", "achieved", a->achieved,
                                      "never_sent", (json_int_t)a->never_sent, "late",
                                      a->late_p50_s, a->late_p99_s, a->late_max_s));
    return o;
}

static json_t *hist_json(const hist_t *h)
{
    size_t n = hist_nonzero(h);
    uint32_t *idx = malloc((n + 1) * sizeof *idx);
    uint64_t *cnt = malloc((n + 1) * sizeof *cnt), sum = 0;
    json_t *pairs = json_array();

    if (idx && cnt) {
        n = hist_export(h, idx, cnt, n);
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(pairs, json_integer(idx[i]));
            json_array_append_new(pairs, json_integer((json_int_t)cnt[i]));
        }
    }
    free(idx);
    free(cnt);
    hist_sum(h, &sum);
    return json_pack("{s:I, s:I, s:I, s:o}", "min", (json_int_t)hist_min(h), "max",
                     (json_int_t)hist_max(h), "sum", (json_int_t)sum, "buckets", pairs);
}

/* The target's view: its numbers as an array, in bench_target_t's order. */
static json_t *target_json(const bench_target_t *t)
{
    const uint64_t v[] = {t->requests, t->codes[0],    t->codes[1],    t->codes[2], t->codes[3],
                          t->codes[4], t->dropped,     t->connections, t->cpu_ns,   t->wall_ns,
                          t->busy_ns,  t->busy_max_ns, t->load_ns,     t->loops,    t->cores};
    json_t *a = json_array();

    for (size_t i = 0; a && i < sizeof v / sizeof *v; i++)
        json_array_append_new(a, json_integer((json_int_t)v[i]));
    return a;
}

static int target_from_json(json_t *a, bench_target_t *t)
{
    uint64_t *v[] = {&t->requests, &t->codes[0],    &t->codes[1],    &t->codes[2], &t->codes[3],
                     &t->codes[4], &t->dropped,     &t->connections, &t->cpu_ns,   &t->wall_ns,
                     &t->busy_ns,  &t->busy_max_ns, &t->load_ns};
    size_t n = sizeof v / sizeof *v;

    memset(t, 0, sizeof *t);
    if (!json_is_array(a) || json_array_size(a) != n + 2) return -1;
    for (size_t i = 0; i < n + 2; i++) {
        json_t *x = json_array_get(a, i);
        if (!json_is_integer(x) || json_integer_value(x) < 0) return -1;
        if (i < n)
            *v[i] = (uint64_t)json_integer_value(x);
        else if (json_integer_value(x) > UINT32_MAX)
            return -1;
    }
    t->loops = (uint32_t)json_integer_value(json_array_get(a, n));
    t->cores = (uint32_t)json_integer_value(json_array_get(a, n + 1));
    t->seen = 1;
    return 0;
}

int journal_append(journal_t *j, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                   const hist_t *latency, const hist_t *service, const bench_target_t *target,
                   fb_err_t *err)
{
    json_t *arr = json_array(), *line;

    for (size_t i = 0; i < nagents; i++)
        json_array_append_new(arr, agent_json(&agents[i]));
    line = json_pack("{s:I, s:o, s:o}", "bench", (json_int_t)bench, "agents", arr, "latency",
                     hist_json(latency));
    if (line && service) json_object_set_new(line, "service", hist_json(service));
    if (line && target && target->seen) json_object_set_new(line, "target", target_json(target));
    return write_line(j, line, err);
}

/* ---- loading ------------------------------------------------------------- */

/* An agent's "pace" (rate mode), when there. */
static int pace_from_json(json_t *p, bench_agent_run_t *a)
{
    json_int_t never;

    if (p == NULL) return 0;
    if (json_unpack(p, "{s:F, s:I, s:[F, F, F]}", "achieved", &a->achieved, "never_sent", &never,
                    "late", &a->late_p50_s, &a->late_p99_s, &a->late_max_s) != 0 ||
        never < 0 || !(a->achieved >= 0) || !(a->late_p50_s >= 0) || !(a->late_p99_s >= 0) ||
        !(a->late_max_s >= 0))
        return -1;
    a->never_sent = (uint64_t)never;
    a->paced = 1;
    return 0;
}

static int agent_from_json(json_t *o, bench_agent_run_t *a)
{
    json_t *failed = NULL;
    json_int_t ok, bytes, conns;
    int lost;

    memset(a, 0, sizeof *a);
    if (json_unpack(o, "{s:F, s:F, s:F, s:I, s:o, s:I, s:I, s:F, s:b}", "wall", &a->wall_s, "user",
                    &a->user_s, "sys", &a->sys_s, "ok", &ok, "failed", &failed, "bytes", &bytes,
                    "connections", &conns, "start", &a->start_offset_s, "lost", &lost) != 0 ||
        !json_is_array(failed) || json_array_size(failed) != CAUSE__COUNT || ok < 0 || bytes < 0 ||
        conns < 0)
        return -1;
    for (int c = 0; c < CAUSE__COUNT; c++) {
        json_int_t v = json_integer_value(json_array_get(failed, (size_t)c));
        if (!json_is_integer(json_array_get(failed, (size_t)c)) || v < 0) return -1;
        a->failed[c] = (uint64_t)v;
    }
    a->ok = (uint64_t)ok;
    a->bytes = (uint64_t)bytes;
    a->connections = (uint64_t)conns;
    a->lost = lost;
    if (json_object_get(o, "exit")) {
        json_int_t x = json_integer_value(json_object_get(o, "exit"));
        if (!json_is_integer(json_object_get(o, "exit")) || x < 0 || x > 255) return -1;
        a->exit_code = (int)x;
    }
    return pace_from_json(json_object_get(o, "pace"), a);
}

static hist_t *hist_from_json(json_t *o)
{
    json_int_t min, max, sum;
    json_t *pairs;
    hist_t *h = hist_new();

    if (h == NULL ||
        json_unpack(o, "{s:I, s:I, s:I, s:o}", "min", &min, "max", &max, "sum", &sum, "buckets",
                    &pairs) != 0 ||
        !json_is_array(pairs) || json_array_size(pairs) % 2 != 0)
        goto bad;
    for (size_t i = 0; i < json_array_size(pairs); i += 2) {
        json_int_t idx = json_integer_value(json_array_get(pairs, i));
        json_int_t cnt = json_integer_value(json_array_get(pairs, i + 1));
        if (idx < 0 || idx > UINT32_MAX || cnt <= 0 ||
            hist_add_bucket(h, (uint32_t)idx, (uint64_t)cnt) != 0)
            goto bad;
    }
    if (hist_set_extremes(h, (uint64_t)min, (uint64_t)max, (uint64_t)sum) != 0) goto bad;
    return h;
bad:
    hist_free(&h);
    return NULL;
}

static int load_header(json_t *o, journal_load_t *l, fb_err_t *err)
{
    json_int_t format;
    json_t *args;

    if (json_unpack(o, "{s:I, s:o}", "fleetbench_journal", &format, "argv", &args) != 0 ||
        !json_is_array(args) || json_array_size(args) > JOURNAL_MAX_ARGS) {
        fb_err_set(err, "not a fleetbench journal");
        return -1;
    }
    if (format != JOURNAL_FORMAT) {
        fb_err_set(err, "journal format %lld, this coordinator reads %d", (long long)format,
                   JOURNAL_FORMAT);
        return -1;
    }
    if (json_array_size(args) == 0) {
        fb_err_set(err, "bad command line in the journal: empty");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(args); i++) {
        const char *s = json_string_value(json_array_get(args, i));
        /* a journal is started by a run, never by a --resume */
        if (s == NULL || (i > 0 && strncmp(s, "--resume", 8) == 0) ||
            (l->argv[l->argc++] = strdup(s)) == NULL) {
            fb_err_set(err, "bad command line in the journal");
            return -1;
        }
    }
    return 0;
}

static int load_run(json_t *o, journal_load_t *l, fb_err_t *err)
{
    json_int_t bench;
    json_t *agents, *lat, *target = json_object_get(o, "target");
    json_t *svc = json_object_get(o, "service");
    bench_agent_run_t *a = NULL;
    bench_target_t t;
    hist_t *h = NULL, *sh = NULL;
    size_t n;
    int rc = -1;

    if (json_unpack(o, "{s:I, s:o, s:o}", "bench", &bench, "agents", &agents, "latency", &lat) !=
            0 ||
        bench < 0 || !json_is_array(agents) || (n = json_array_size(agents)) == 0)
        goto out;
    a = calloc(n, sizeof *a);
    h = hist_from_json(lat);
    if (a == NULL || h == NULL) goto out;
    if (svc != NULL && (sh = hist_from_json(svc)) == NULL) goto out; /* rate mode only */
    for (size_t i = 0; i < n; i++)
        if (agent_from_json(json_array_get(agents, i), &a[i]) != 0) goto out;
    if (target != NULL && target_from_json(target, &t) != 0) goto out; /* optional */
    rc = l->on_run(l->ctx, (size_t)bench, a, n, h, sh, target ? &t : NULL, err);
out:
    if (rc != 0 && err->msg[0] == '\0') fb_err_set(err, "malformed run record");
    free(a);
    hist_free(&h);
    hist_free(&sh);
    return rc;
}

int journal_load(const char *path, journal_load_t *l, fb_err_t *err)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;

    l->argc = 0;
    if (f == NULL) {
        fb_err_set(err, "--resume %.200s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *o;
        lineno++;
        if (line[len - 1] != '\n') { /* torn by a crash: the run never counted */
            if (lineno > 1) break;
            fb_err_set(err, "the header line is incomplete (torn by a crash)");
            rc = -1;
            break;
        }
        if (lineno > 1 && l->on_run == NULL) continue; /* the command line is all we want */
        o = json_loads(line, 0, &je);
        fb_err_clear(err);
        if (o == NULL) {
            fb_err_set(err, "invalid JSON: %s", je.text);
            rc = -1;
        } else {
            rc = lineno == 1 ? load_header(o, l, err) : load_run(o, l, err);
        }
        json_decref(o);
    }
    if (rc == 0 && lineno == 0) {
        fb_err_set(err, "empty file");
        rc = -1;
    }
    if (rc != 0) {
        fb_err_prefix(err, "--resume %.200s: line %zu: ", path, lineno);
    }
    free(line);
    fclose(f);
    return rc;
}

void journal_load_free(journal_load_t *l)
{
    for (int i = 0; i < l->argc; i++)
        free(l->argv[i]);
    l->argc = 0;
}
