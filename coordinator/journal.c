#include "journal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOURNAL_FORMAT 1

/* One line, whole, then fsync: the run counts only once it is on disk. */
static int write_line(journal_t *j, json_t *obj, char *err)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    int rc = 0;

    json_decref(obj);
    if (text == NULL) {
        snprintf(err, JOURNAL_ERR_LEN, "journal %.200s: out of memory", j->path);
        return -1;
    }
    if (fprintf(j->f, "%s\n", text) < 0 || fflush(j->f) != 0 || fsync(fileno(j->f)) != 0) {
        snprintf(err, JOURNAL_ERR_LEN, "journal %.200s: %s", j->path, strerror(errno));
        rc = -1;
    }
    free(text);
    return rc;
}

static int open_file(journal_t *j, const char *path, const char *mode, char *err)
{
    snprintf(j->path, sizeof j->path, "%s", path);
    j->f = fopen(path, mode);
    if (j->f == NULL) {
        snprintf(err, JOURNAL_ERR_LEN, "journal %.200s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int journal_create(journal_t *j, const char *path, int argc, char **argv, char *err)
{
    json_t *args = json_array();

    if (open_file(j, path, "w", err) != 0) {
        json_decref(args);
        return -1;
    }
    for (int i = 0; i < argc; i++)
        json_array_append_new(args, json_string(argv[i]));
    return write_line(
        j, json_pack("{s:i, s:o}", "fleetbench_journal", JOURNAL_FORMAT, "argv", args), err);
}

int journal_reopen(journal_t *j, const char *path, char *err)
{
    return open_file(j, path, "a", err);
}

void journal_close(journal_t *j)
{
    if (j->f) fclose(j->f);
    j->f = NULL;
}

static json_t *agent_json(const bench_agent_run_t *a)
{
    json_t *failed = json_array();

    for (int c = 0; c < CAUSE__COUNT; c++)
        json_array_append_new(failed, json_integer((json_int_t)a->failed[c]));
    return json_pack("{s:f, s:f, s:f, s:I, s:o, s:I, s:I, s:f, s:b}", "wall", a->wall_s, "user",
                     a->user_s, "sys", a->sys_s, "ok", (json_int_t)a->ok, "failed", failed, "bytes",
                     (json_int_t)a->bytes, "connections", (json_int_t)a->connections, "start",
                     a->start_offset_s, "lost", a->lost);
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

int journal_append(journal_t *j, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                   const hist_t *latency, char *err)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < nagents; i++)
        json_array_append_new(arr, agent_json(&agents[i]));
    return write_line(j,
                      json_pack("{s:I, s:o, s:o}", "bench", (json_int_t)bench, "agents", arr,
                                "latency", hist_json(latency)),
                      err);
}

/* ---- loading ------------------------------------------------------------- */

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
    return 0;
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

static int load_header(json_t *o, journal_load_t *l, char *err)
{
    json_int_t format;
    json_t *args;

    if (json_unpack(o, "{s:I, s:o}", "fleetbench_journal", &format, "argv", &args) != 0 ||
        !json_is_array(args) || json_array_size(args) > JOURNAL_MAX_ARGS) {
        snprintf(err, JOURNAL_ERR_LEN, "not a fleetbench journal");
        return -1;
    }
    if (format != JOURNAL_FORMAT) {
        snprintf(err, JOURNAL_ERR_LEN, "journal format %lld, this coordinator reads %d",
                 (long long)format, JOURNAL_FORMAT);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(args); i++) {
        const char *s = json_string_value(json_array_get(args, i));
        if (s == NULL || (l->argv[l->argc++] = strdup(s)) == NULL) {
            snprintf(err, JOURNAL_ERR_LEN, "bad command line in the journal");
            return -1;
        }
    }
    return 0;
}

static int load_run(json_t *o, journal_load_t *l, char *err)
{
    json_int_t bench;
    json_t *agents, *lat;
    bench_agent_run_t *a = NULL;
    hist_t *h = NULL;
    size_t n;
    int rc = -1;

    if (json_unpack(o, "{s:I, s:o, s:o}", "bench", &bench, "agents", &agents, "latency", &lat) !=
            0 ||
        bench < 0 || !json_is_array(agents) || (n = json_array_size(agents)) == 0)
        goto out;
    a = calloc(n, sizeof *a);
    h = hist_from_json(lat);
    if (a == NULL || h == NULL) goto out;
    for (size_t i = 0; i < n; i++)
        if (agent_from_json(json_array_get(agents, i), &a[i]) != 0) goto out;
    rc = l->on_run(l->ctx, (size_t)bench, a, n, h, err);
out:
    if (rc != 0 && err[0] == '\0') snprintf(err, JOURNAL_ERR_LEN, "malformed run record");
    free(a);
    hist_free(&h);
    return rc;
}

int journal_load(const char *path, journal_load_t *l, char *err)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;

    l->argc = 0;
    if (f == NULL) {
        snprintf(err, JOURNAL_ERR_LEN, "--resume %.200s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *o;
        lineno++;
        if (line[len - 1] != '\n') break;              /* torn by a crash: the run never counted */
        if (lineno > 1 && l->on_run == NULL) continue; /* the command line is all we want */
        o = json_loads(line, 0, &je);
        err[0] = '\0';
        if (o == NULL) {
            snprintf(err, JOURNAL_ERR_LEN, "invalid JSON: %s", je.text);
            rc = -1;
        } else {
            rc = lineno == 1 ? load_header(o, l, err) : load_run(o, l, err);
        }
        json_decref(o);
    }
    if (rc == 0 && lineno == 0) {
        snprintf(err, JOURNAL_ERR_LEN, "empty file");
        rc = -1;
    }
    if (rc != 0) {
        char why[JOURNAL_ERR_LEN];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, JOURNAL_ERR_LEN, "--resume %.200s: line %zu: %.250s", path, lineno, why);
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
