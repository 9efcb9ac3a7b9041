/* embed: the target-server and agent a coordinator starts on loopback when
 * no --target or --agents is given. They are separate processes (found
 * beside the coordinator's own binary), so each one's CPU time is its own. */
#ifndef CO_EMBED_H
#define CO_EMBED_H

#include "fb_err.h"

#include <sys/types.h>

typedef struct {
    pid_t pid;
    int out_fd; /* the child's stdout, kept open until it stops */
    char name[32];
    char host[64];
    int port; /* from the child's ready line */
} embed_proc_t;

/* Starts `name` (target-server or agent) with args, waits for its ready
 * line ("... listening on SCHEME://HOST:PORT ...") and reads the port. */
int embed_start(embed_proc_t *p, const char *name, char *const args[], fb_err_t *err);
/* SIGTERM, then SIGKILL after a grace period; reaps it. */
void embed_stop(embed_proc_t *p);

#endif
