#include "matrix.h"

#include "opt.h"
#include "catalog.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int matrix_list_parse(matrix_list_t *l, const char *flag, const char *s, uint64_t min, uint64_t max,
                      char *err)
{
    char buf[1024], *tok, *save = NULL;

    if (strlen(s) >= sizeof buf) {
        snprintf(err, OPT_ERR_LEN, "%s: list too long", flag);
        return -1;
    }
    strcpy(buf, s);
    l->n = 0;
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (l->n == MATRIX_MAX_LIST) {
            snprintf(err, OPT_ERR_LEN, "%s: more than %d values", flag, MATRIX_MAX_LIST);
            return -1;
        }
        if (opt_u64(flag, tok, min, max, &l->v[l->n++], err) != 0) return -1;
    }
    if (l->n == 0 || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,")) {
        snprintf(err, OPT_ERR_LEN, "%s: '%s' is not a comma-separated list of numbers", flag, s);
        return -1;
    }
    return 0;
}

/* Marks in pick[] the strategies a spec token names; false if none. */
static bool pick_token(const char *tok, bool *pick)
{
    bool any = false;

    for (size_t i = 0; i < catalog_count(); i++) {
        const char *name = catalog_at(i)->name;
        bool hit = strcmp(tok, "all") == 0 || strcmp(tok, name) == 0 ||
                   /* groups: "threads" and "async" are name prefixes */
                   (strncmp(name, tok, strlen(tok)) == 0 && name[strlen(tok)] == '-' &&
                    (strcmp(tok, "threads") == 0 || strcmp(tok, "async") == 0));
        if (hit) pick[i] = any = true;
    }
    return any;
}

static int pick_spec(const char *spec, bool *pick, char *err)
{
    char buf[512], *tok, *save = NULL, names[128];

    if (spec[0] == '\0' || strlen(spec) >= sizeof buf) goto bad;
    strcpy(buf, spec);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (!pick_token(tok, pick)) {
            catalog_names(names, sizeof names);
            snprintf(err, OPT_ERR_LEN,
                     "--matrix: unknown strategy '%.64s'; valid: all, threads, async, %s", tok,
                     names);
            return -1;
        }
    return 0;
bad:
    catalog_names(names, sizeof names);
    snprintf(err, OPT_ERR_LEN, "--matrix: empty or too long; valid: all, threads, async, %s",
             names);
    return -1;
}

static void entry_fill(matrix_entry_t *e, const catalog_entry_t *s, uint64_t r, uint64_t c,
                       uint64_t k)
{
    int n;

    e->strategy = s->name;
    e->uses_chunk = s->uses_chunk;
    e->uses_connections = s->uses_connections;
    e->requests = r;
    e->chunk = c;
    e->connections = k;
    n = snprintf(e->command, sizeof e->command, "%s -r %llu", s->name, (unsigned long long)r);
    if (s->uses_chunk)
        n += snprintf(e->command + n, sizeof e->command - (size_t)n, " -c %llu",
                      (unsigned long long)c);
    if (s->uses_connections)
        snprintf(e->command + n, sizeof e->command - (size_t)n, " --connections %llu",
                 (unsigned long long)k);
}

int matrix_build(matrix_t *m, const char *spec, const matrix_list_t *requests,
                 const matrix_list_t *chunks, const matrix_list_t *conns, char *err)
{
    bool pick[64] = {false};
    size_t cap = 0;

    m->e = NULL;
    m->n = 0;
    if (pick_spec(spec, pick, err) != 0) return -1;
    for (size_t i = 0; i < catalog_count(); i++) {
        const catalog_entry_t *s = catalog_at(i);
        /* a parameter a strategy ignores is not a dimension for it */
        size_t nc = s->uses_chunk ? chunks->n : 1, nk = s->uses_connections ? conns->n : 1;
        if (!pick[i]) continue;
        for (size_t a = 0; a < requests->n; a++)
            for (size_t b = 0; b < nc; b++)
                for (size_t c = 0; c < nk; c++) {
                    if (m->n == MATRIX_MAX) {
                        snprintf(err, OPT_ERR_LEN, "the matrix has more than %d benchmarks",
                                 MATRIX_MAX);
                        matrix_free(m);
                        return -1;
                    }
                    if (m->n == cap) {
                        matrix_entry_t *grown = realloc(m->e, (cap ? 2 * cap : 16) * sizeof *m->e);
                        if (grown == NULL) {
                            snprintf(err, OPT_ERR_LEN, "out of memory");
                            matrix_free(m);
                            return -1;
                        }
                        m->e = grown;
                        cap = cap ? 2 * cap : 16;
                    }
                    entry_fill(&m->e[m->n++], s, requests->v[a], chunks->v[b], conns->v[c]);
                }
    }
    return 0;
}

void matrix_free(matrix_t *m)
{
    free(m->e);
    m->e = NULL;
    m->n = 0;
}
