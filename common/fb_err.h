/* fb_err: the one error type of fleetbench. A function that can fail takes
 * an fb_err_t * last and, when it fails, fills it with one line that names
 * what failed and why ("--runs: 'x' is not a non-negative integer"); it
 * prints nothing. The caller adds its context with fb_err_prefix and prints
 * or sends err.msg.
 *
 * Why a struct holding its buffer rather than a (pointer, size) pair: the
 * size travels with the type, so no caller can hand over a buffer smaller
 * than the callee writes (the mismatch the ten *_ERR_LEN constants made
 * possible), sizeof and assignment just work, and a result can embed one.
 * One size fits every message: one line with a path or two cut to 200. */
#ifndef FB_ERR_H
#define FB_ERR_H

#include <stdarg.h>

#define FB_ERR_MAX 512

typedef struct {
    char msg[FB_ERR_MAX]; /* NUL-terminated; "" when nothing failed */
} fb_err_t;

#define FB_ERR_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* err->msg = the formatted text. Text that does not fit is cut at a UTF-8
 * character boundary and ends in "...", so a message stays valid UTF-8 for
 * the JSON and msgpack strings it may end up in. */
void fb_err_set(fb_err_t *err, const char *fmt, ...) FB_ERR_PRINTF(2, 3);
void fb_err_vset(fb_err_t *err, const char *fmt, va_list ap) FB_ERR_PRINTF(2, 0);
/* The formatted text before what err says: context added by a caller
 * ("journal x.jsonl: " before "line 3: invalid JSON"). Cut as fb_err_set. */
void fb_err_prefix(fb_err_t *err, const char *fmt, ...) FB_ERR_PRINTF(2, 3);
/* The formatted text after what err says. Cut as fb_err_set. */
void fb_err_append(fb_err_t *err, const char *fmt, ...) FB_ERR_PRINTF(2, 3);
/* Back to "". */
void fb_err_clear(fb_err_t *err);

#endif
