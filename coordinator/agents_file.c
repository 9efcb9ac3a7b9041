#include "agents_file.h"

#include "opt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long agents_file_find(char (*host)[AGENTS_FILE_HOST], const int *port, size_t n, const char *h,
                      int p)
{
    for (size_t i = 0; i < n; i++)
        if (port[i] == p && strcmp(host[i], h) == 0) return (long)i;
    return -1;
}

/* The entry of one line, comment and surrounding blanks cut off, in place;
 * "" for a line with none. NULL if a second word follows the first. */
static char *line_entry(char *line)
{
    char *hash = strchr(line, '#'), *end;

    if (hash) *hash = '\0';
    line += strspn(line, " \t\r\n");
    end = line + strcspn(line, " \t\r\n");
    if (end[strspn(end, " \t\r\n")] != '\0') return NULL;
    *end = '\0';
    return line;
}

typedef struct {
    const char *path;
    size_t lineno;
    size_t *lines; /* the line of each entry added from the file */
    size_t first;  /* entries before this one came from --agents */
} ctx_t;

static int fail(const ctx_t *c, char *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(const ctx_t *c, char *err, const char *fmt, ...)
{
    char why[AGENTS_FILE_ERR_LEN - 320];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, AGENTS_FILE_ERR_LEN, "%.300s:%zu: %s", c->path, c->lineno, why);
    return -1;
}

static int add_entry(ctx_t *c, agents_file_list_t *l, const char *entry, char *err)
{
    char flag[320], herr[OPT_ERR_LEN], host[AGENTS_FILE_HOST];
    int port;
    long dup;

    for (const char *s = entry; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return fail(c, err, "byte 0x%02x: an address is printable ASCII",
                        (unsigned)(unsigned char)*s);
    snprintf(flag, sizeof flag, "%.300s:%zu", c->path, c->lineno);
    if (opt_hostport(flag, entry, l->default_port, host, sizeof host, &port, herr) != 0) {
        snprintf(err, AGENTS_FILE_ERR_LEN, "%s", herr);
        return -1;
    }
    if (port == 0) return fail(c, err, "'%.260s': port 0 is no agent's port", entry);
    if ((dup = agents_file_find(l->host, l->port, *l->n, host, port)) >= 0) {
        if ((size_t)dup < c->first)
            return fail(c, err, "agent '%.260s' is listed twice (also in --agents)", entry);
        return fail(c, err, "agent '%.260s' is listed twice (also line %zu)", entry,
                    c->lines[(size_t)dup - c->first]);
    }
    if (*l->n >= l->max) {
        snprintf(err, AGENTS_FILE_ERR_LEN,
                 "%.300s:%zu: more than %zu agents (the most one "
                 "coordinator drives)",
                 c->path, c->lineno, l->max);
        return -1;
    }
    snprintf(l->host[*l->n], AGENTS_FILE_HOST, "%s", host);
    l->port[*l->n] = port;
    c->lines[*l->n - c->first] = c->lineno;
    (*l->n)++;
    return 0;
}

static int read_lines(ctx_t *c, FILE *f, agents_file_list_t *l, char *err)
{
    char *line = NULL, *entry;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    errno = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        c->lineno++;
        if (strlen(line) != (size_t)len)
            rc = fail(c, err, "a NUL byte: not a text file");
        else if ((entry = line_entry(line)) == NULL)
            rc = fail(c, err, "one HOST[:PORT] per line");
        else if (*entry)
            rc = add_entry(c, l, entry, err);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, AGENTS_FILE_ERR_LEN, "%.300s: %s", c->path, strerror(errno));
        rc = -1;
    }
    free(line);
    return rc;
}

int agents_file_load(const char *path, agents_file_list_t *l, char *err)
{
    ctx_t c = {.path = path, .first = *l->n};
    FILE *f;
    int rc;

    if (*l->n > l->max) { /* nothing fits; the caller's list is already full */
        snprintf(err, AGENTS_FILE_ERR_LEN, "%.300s: more than %zu agents", path, l->max);
        return -1;
    }
    if ((f = fopen(path, "r")) == NULL) {
        snprintf(err, AGENTS_FILE_ERR_LEN, "%.300s: %s", path, strerror(errno));
        return -1;
    }
    c.lines = calloc(l->max - c.first + 1, sizeof *c.lines);
    if (c.lines == NULL) {
        snprintf(err, AGENTS_FILE_ERR_LEN, "%.300s: out of memory", path);
        fclose(f);
        return -1;
    }
    rc = read_lines(&c, f, l, err);
    if (rc == 0 && *l->n == c.first) {
        snprintf(err, AGENTS_FILE_ERR_LEN, "%.300s: no agent in it (one HOST[:PORT] per line)",
                 path);
        rc = -1;
    }
    if (rc != 0) *l->n = c.first;
    free(c.lines);
    fclose(f);
    return rc;
}
