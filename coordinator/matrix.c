#include "matrix.h"

#include "opt.h"
#include "catalog.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int matrix_list_parse(matrix_list_t *l, const char *flag, const char *s, uint64_t min, uint64_t max,
                      fb_err_t *err)
{
    char buf[1024], *tok, *save = NULL;

    if (strlen(s) >= sizeof buf) {
        fb_err_set(err, "%s: list too long", flag);
        return -1;
    }
    strcpy(buf, s);
    l->n = 0;
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (l->n == MATRIX_MAX_LIST) {
            fb_err_set(err, "%s: more than %d values", flag, MATRIX_MAX_LIST);
            return -1;
        }
        if (opt_u64(flag, tok, min, max, &l->v[l->n++], err) != 0) return -1;
    }
    if (l->n == 0 || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,")) {
        fb_err_set(err, "%s: '%s' is not a comma-separated list of numbers", flag, s);
        return -1;
    }
    return 0;
}

/* Appends to pick[] (npick so far) the strategies a spec token names that
 * are not there yet; false if it names none. */
static bool pick_token(const char *tok, size_t *pick, size_t *npick)
{
    bool any = false;

    for (size_t i = 0; i < catalog_count(); i++) {
        const char *name = catalog_at(i)->name;
        bool hit = strcmp(tok, "all") == 0 || strcmp(tok, name) == 0 ||
                   /* groups: "threads" and "async" are name prefixes */
                   (strncmp(name, tok, strlen(tok)) == 0 && name[strlen(tok)] == '-' &&
                    (strcmp(tok, "threads") == 0 || strcmp(tok, "async") == 0));
        bool dup = false;
        if (!hit) continue;
        any = true;
        for (size_t k = 0; k < *npick; k++)
            dup |= pick[k] == i;
        if (!dup) pick[(*npick)++] = i;
    }
    return any;
}

static int pick_spec(const char *spec, size_t *pick, size_t *npick, fb_err_t *err)
{
    char buf[512], *tok, *save = NULL, names[128];

    if (spec[0] == '\0' || strlen(spec) >= sizeof buf) goto bad;
    strcpy(buf, spec);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (!pick_token(tok, pick, npick)) {
            catalog_names(names, sizeof names);
            fb_err_set(err, "--matrix: unknown strategy '%.64s'; valid: all, threads, async, %s",
                       tok, names);
            return -1;
        }
    if (*npick > 0) return 0;
bad:
    catalog_names(names, sizeof names);
    fb_err_set(err, "--matrix: empty or too long; valid: all, threads, async, %s", names);
    return -1;
}

/* k: the async strategies' connections; by_conc: taken from -c, so the
 * command says -c as it does for the others. */
static void entry_fill(matrix_entry_t *e, const catalog_entry_t *s, uint64_t r, uint64_t c,
                       uint64_t k, bool by_conc)
{
    int n;

    e->strategy = s->name;
    e->uses_chunk = s->uses_chunk;
    e->uses_connections = s->uses_connections;
    e->requests = r;
    e->chunk = c;
    e->connections = k;
    n = snprintf(e->command, sizeof e->command, "%s -r %llu", s->name, (unsigned long long)r);
    if (s->uses_chunk || (s->uses_connections && by_conc))
        n += snprintf(e->command + n, sizeof e->command - (size_t)n, " -c %llu",
                      (unsigned long long)(s->uses_chunk ? c : k));
    else if (s->uses_connections)
        snprintf(e->command + n, sizeof e->command - (size_t)n, " --connections %llu",
                 (unsigned long long)k);
}

void matrix_name_rate(matrix_t *m, double rate, double duration_s)
{
    for (size_t i = 0; i < m->n; i++) {
        matrix_entry_t *e = &m->e[i];
        char rest[sizeof e->command];
        if (e->is_command) continue; /* cmdline refuses --rate with commands anyway */
        /* what follows "NAME -r N": the concurrency, if any */
        const char *tail = strstr(e->command, " -r ");
        tail = tail ? strchr(tail + 4, ' ') : NULL;
        snprintf(rest, sizeof rest, "%s", tail ? tail : "");
        snprintf(e->command, sizeof e->command, "%.32s --rate %g --duration %g%.40s", e->strategy,
                 rate, duration_s, rest);
    }
}

matrix_entry_t *matrix_append(matrix_t *m, fb_err_t *err)
{
    if (m->n == MATRIX_MAX) {
        fb_err_set(err, "the matrix has more than %d benchmarks", MATRIX_MAX);
        return NULL;
    }
    if (m->n == m->cap) {
        matrix_entry_t *grown = realloc(m->e, (m->cap ? 2 * m->cap : 16) * sizeof *m->e);
        if (grown == NULL) {
            fb_err_set(err, "out of memory");
            return NULL;
        }
        m->e = grown;
        m->cap = m->cap ? 2 * m->cap : 16;
    }
    memset(&m->e[m->n], 0, sizeof m->e[m->n]);
    return &m->e[m->n++];
}

int matrix_build(matrix_t *m, const char *spec, const matrix_list_t *requests,
                 const matrix_list_t *conc, const matrix_list_t *conns, fb_err_t *err)
{
    size_t pick[64], npick = 0;
    bool by_conc = conns == NULL || conns->n == 0;
    const matrix_list_t *async_list = by_conc ? conc : conns;

    m->e = NULL;
    m->n = m->cap = 0;
    if (pick_spec(spec, pick, &npick, err) != 0) return -1;
    for (size_t p = 0; p < npick; p++) {
        const catalog_entry_t *s = catalog_at(pick[p]);
        /* a parameter a strategy ignores is not a dimension for it */
        const matrix_list_t *dim = s->uses_chunk ? conc : s->uses_connections ? async_list : NULL;
        for (size_t a = 0; a < requests->n; a++)
            for (size_t b = 0; b < (dim ? dim->n : 1); b++) {
                uint64_t v = dim ? dim->v[b] : conc->v[0];
                if (s->uses_connections && v > MATRIX_MAX_CONNECTIONS) {
                    fb_err_set(err, "%s %llu: %s takes at most %d connections",
                               by_conc ? "-c" : "--connections", (unsigned long long)v, s->name,
                               MATRIX_MAX_CONNECTIONS);
                    matrix_free(m);
                    return -1;
                }
                if (matrix_append(m, err) == NULL) {
                    matrix_free(m);
                    return -1;
                }
                /* what a strategy ignores still goes on the wire, in range */
                entry_fill(&m->e[m->n - 1], s, requests->v[a], s->uses_chunk ? v : conc->v[0],
                           s->uses_connections ? v
                           : by_conc           ? 100
                                               : conns->v[0],
                           by_conc);
            }
    }
    return 0;
}

void matrix_free(matrix_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].exec);
        free(m->e[i].name);
    }
    free(m->e);
    m->e = NULL;
    m->n = m->cap = 0;
}
