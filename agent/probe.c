#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One non-blocking connect to one address, bounded by timeout_ms. */
static int try_addr(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), soerr = 0;
    socklen_t sl = sizeof soerr;
    struct pollfd p;

    if (fd < 0) return errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            soerr = errno;
        } else {
            p.fd = fd;
            p.events = POLLOUT;
            if (poll(&p, 1, timeout_ms) != 1)
                soerr = ETIMEDOUT;
            else
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        }
    }
    close(fd);
    return soerr;
}

int probe_tcp(const char *host, int port, int timeout_ms, fb_err_t *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    char service[8];
    int rc, e = 0;

    snprintf(service, sizeof service, "%d", port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        fb_err_set(err, "cannot resolve %.200s: %s", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next)
        if ((e = try_addr(ai, timeout_ms)) == 0) break;
    freeaddrinfo(res);
    if (e == 0) return 0;
    fb_err_set(err, "cannot connect to %.200s:%d: %s", host, port, strerror(e));
    return -1;
}
