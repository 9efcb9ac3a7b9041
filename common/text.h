/* text: UTF-8 text measured in terminal columns (one per character: what
 * fleetbench prints is "µs", "…", box drawing; no wide characters). */
#ifndef FB_TEXT_H
#define FB_TEXT_H

#include <stddef.h>

/* Columns of the first `bytes` bytes of s. */
size_t text_columns(const char *s, size_t bytes);
/* How many bytes of s to keep so that they and a one-column "…" fit in
 * max columns, cut on a character boundary; strlen(s) when s fits whole. */
size_t text_cut(const char *s, size_t max);

#endif
