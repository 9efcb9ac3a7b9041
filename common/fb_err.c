#include "fb_err.h"

#include <stdio.h>
#include <string.h>

/* Text that did not fit: end in "..." at a character boundary (never half a
 * UTF-8 sequence: the message may go into JSON, which must be valid). */
static void mark_cut(char *msg)
{
    size_t n = FB_ERR_MAX - 4; /* room for "..." and the NUL */

    while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80) /* a continuation byte */
        n--;
    memcpy(msg + n, "...", 4);
}

/* A message already cut by mark_cut: full up to a character and "...". */
static int is_cut(const char *msg, size_t len)
{
    return len + 7 >= FB_ERR_MAX && len >= 3 && memcmp(msg + len - 3, "...", 3) == 0;
}

/* fmt at msg + off (the end of what is there), cut if it does not fit. */
static void put(fb_err_t *err, size_t off, const char *fmt, va_list ap)
{
    int n;

    if (off > 0 && is_cut(err->msg, off)) return; /* nothing more fits */
    n = vsnprintf(err->msg + off, FB_ERR_MAX - off, fmt, ap);
    if (n < 0)
        err->msg[off] = '\0';
    else if ((size_t)n >= FB_ERR_MAX - off)
        mark_cut(err->msg);
}

void fb_err_vset(fb_err_t *err, const char *fmt, va_list ap)
{
    put(err, 0, fmt, ap);
}

void fb_err_set(fb_err_t *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    put(err, 0, fmt, ap);
    va_end(ap);
}

void fb_err_append(fb_err_t *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    put(err, strnlen(err->msg, FB_ERR_MAX - 1), fmt, ap);
    va_end(ap);
}

void fb_err_prefix(fb_err_t *err, const char *fmt, ...)
{
    char old[FB_ERR_MAX];
    va_list ap;

    memcpy(old, err->msg, sizeof old);
    old[FB_ERR_MAX - 1] = '\0';
    va_start(ap, fmt);
    put(err, 0, fmt, ap);
    va_end(ap);
    fb_err_append(err, "%s", old);
}

void fb_err_clear(fb_err_t *err)
{
    err->msg[0] = '\0';
}
