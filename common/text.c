#include "text.h"

#include <string.h>

static int continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

size_t text_columns(const char *s, size_t bytes)
{
    size_t cols = 0;

    for (size_t i = 0; i < bytes; i++)
        cols += !continuation(s[i]);
    return cols;
}

size_t text_cut(const char *s, size_t max)
{
    size_t n = 0, cols = 0, len = strlen(s);

    if (text_columns(s, len) <= max) return len;
    while (s[n] && cols + 1 < max) {
        n++;
        while (continuation(s[n]))
            n++;
        cols++;
    }
    return n;
}
