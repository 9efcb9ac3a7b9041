/* fb_exit: the exit codes of the three programs, as README.md's exit-code
 * table lists them. Where two things went wrong, the larger code wins (a lost
 * agent outranks failed requests). */
#ifndef FB_EXIT_H
#define FB_EXIT_H

typedef enum {
    FB_EXIT_OK = 0,           /* success: every request passed */
    FB_EXIT_USAGE = 1,        /* usage or configuration error, or a run that could not run */
    FB_EXIT_FAILED = 2,       /* some requests failed */
    FB_EXIT_LOST = 3,         /* an agent was lost */
    FB_EXIT_UNREACHABLE = 4,  /* target unreachable */
    FB_EXIT_PROTOCOL = 5,     /* protocol, version or authentication error */
    FB_EXIT_INTERRUPTED = 130 /* SIGINT or SIGTERM (128 + SIGINT, as shells say) */
} fb_exit_t;

#endif
