/* agents_file: --agents-file FILE, the fleet as a file. One HOST[:PORT] per
 * line ([V6]:PORT for IPv6; the port defaults to 5555), '#' starts a
 * comment, blank lines are skipped. The entries are appended to the ones the
 * caller already has (--agents), and an agent listed twice, in the file or
 * in both, is refused: two sessions to one agent make the second one busy. */
#ifndef CO_AGENTS_FILE_H
#define CO_AGENTS_FILE_H

#include <stddef.h>

#define AGENTS_FILE_ERR_LEN 512
#define AGENTS_FILE_HOST 256 /* as cmdline_t's agent_host */

typedef struct {
    char (*host)[AGENTS_FILE_HOST]; /* max entries, *n of them in use */
    int *port;
    size_t *n;
    size_t max;
    int default_port;
} agents_file_list_t;

/* Reads path and appends its agents to l. -1 with err "PATH:LINE: why" (or
 * "PATH: why" for the file as a whole: unreadable, no agent in it, more than
 * l->max agents); l is then unchanged. */
int agents_file_load(const char *path, agents_file_list_t *l, char *err);

/* The index of host:port among the first n entries, or -1. */
long agents_file_find(char (*host)[AGENTS_FILE_HOST], const int *port, size_t n, const char *h,
                      int p);

#endif
