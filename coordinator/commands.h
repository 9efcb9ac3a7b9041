/* commands: the COMMAND arguments made into benchmarks, as hyperfine makes
 * them — -L lists multiplied out (commands vary fastest, then each list in
 * the order given), {NAME} substituted in the command and in its -n name. */
#ifndef CO_COMMANDS_H
#define CO_COMMANDS_H

#include "cmdline.h"
#include "fb_err.h"
#include "matrix.h"

/* Appends one entry per command and combination of -L values to m. err
 * (hyperfine's wording where it has one) on a bad -n count, a bad list, a
 * command too long for the wire or holding a control character. */
int commands_expand(matrix_t *m, const cmdline_t *o, fb_err_t *err);

/* The plan must fit in one message (PROTO_MAX_MSG) with every command in
 * it: err says so, and by how much, if it cannot. */
int commands_fit(const matrix_t *m, fb_err_t *err);

/* s with every {NAME} of names[] replaced by values[], left to right and
 * never inside a replacement (hyperfine's rule). malloc'd; NULL if out of
 * memory. */
char *commands_subst(const char *s, size_t n, const char *const *names, const char *const *values);

#endif
