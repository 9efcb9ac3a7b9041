/* outfile: writing a file the user named, whatever it turns out to be.
 *
 * A regular file (or a name not there yet) is replaced atomically: written
 * to a unique temporary in the same directory, synced, renamed over it, the
 * directory synced. A reader or a crash sees the old file or the new one.
 * A symlink is followed to its end: that file is written, the link stays.
 * Anything else — a device, a FIFO, /dev/stdout and the other names of an
 * open descriptor — is written in place, never renamed over: replacing
 * /dev/stdout with a regular file is not what anyone meant.
 *
 * Every write, sync and close error is returned, with a message naming the
 * path as the user gave it. */
#ifndef CO_OUTFILE_H
#define CO_OUTFILE_H

#include "fb_err.h"

#include <stdbool.h>
#include <stdio.h>

#define OUTFILE_PATH_LEN 4096

typedef struct {
    FILE *f;                      /* write here between outfile_open and outfile_commit */
    char path[OUTFILE_PATH_LEN];  /* as given */
    char final[OUTFILE_PATH_LEN]; /* what is written: the end of the symlink chain */
    char tmp[OUTFILE_PATH_LEN];   /* "": written in place */
    bool regular;                 /* f is a regular file: fsync applies */
} outfile_t;

/* Opens path for a whole new content (a FIFO's open waits for a reader). */
int outfile_open(outfile_t *o, const char *path, fb_err_t *err);
/* Flushes, syncs and closes; a temporary is renamed into place. On failure
 * nothing replaced the old file and the temporary is gone. */
int outfile_commit(outfile_t *o, fb_err_t *err);
/* Gives up: closes and removes the temporary. Safe after a failed open. */
void outfile_abort(outfile_t *o);

/* Whether outfile_open could write path, without touching what is there: a
 * temporary is created and removed in the directory a regular file would be
 * replaced in; a device or FIFO must be writable; a descriptor open for
 * writing. For the checks before a long run starts. */
int outfile_check(const char *path, fb_err_t *err);
/* path is written in place (a device, FIFO or descriptor), not replaced:
 * writing it twice delivers two copies, so only the final content goes there. */
bool outfile_in_place(const char *path);
/* a and b name the same file once symlinks, "." and ".." are resolved (two
 * names of one descriptor are the same file too). */
bool outfile_same(const char *a, const char *b);

#endif
