/* http_input: what a fuzz_http input means, shared by the target and the seed
 * generator. Byte 0 is a control byte, byte 1 seeds the server's fault
 * generator (which request gets which --fault); the bytes after them are what
 * a client writes to target-server, in chunks of one size, one loop iteration
 * after each. */
#ifndef FUZZ_HTTP_INPUT_H
#define FUZZ_HTTP_INPUT_H

#include <stddef.h>

#define FZ_HEAD 2 /* control byte, fault seed */

/* bits 0-2: chunk size, an index into FZ_CHUNKS (the last: all at once) */
#define FZ_CHUNKS                                                                                  \
    {                                                                                              \
        1, 2, 5, 13, 64, 300, 1500, (size_t)-1                                                     \
    }
/* bits 3-4: server configuration, an index into the fuzz target's k_argv */
enum { FZ_CFG_DEFAULT, FZ_CFG_TIGHT, FZ_CFG_FAULTS, FZ_CFG_TIGHT_FAULTS };
/* bits 5-6: how the client ends the connection once all is written */
enum {
    FZ_END_EOF,     /* half-close, read until the server closes: all answers must be whole */
    FZ_END_TIMEOUT, /* the server's sweep runs as if every deadline had passed */
    FZ_END_DRAIN,   /* the server's graceful drain closes idle connections */
    FZ_END_VANISH,  /* the client closes without reading */
};
/* bit 7: lazy client: small socket buffers, answers read only when a write
 * would block, so the server's writes go asynchronous and parsing pauses */
#define FZ_LAZY 0x80

#define FZ_CTL(chunk, cfg, end, lazy)                                                              \
    ((unsigned char)((chunk) | (cfg) << 3 | (end) << 5 | ((lazy) ? FZ_LAZY : 0)))
#define FZ_CTL_CHUNK(b) ((b)&7)
#define FZ_CTL_CFG(b) ((b) >> 3 & 3)
#define FZ_CTL_END(b) ((b) >> 5 & 3)

#endif
