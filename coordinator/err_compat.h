/* err_compat: the last of the transition to fb_err_t (docs/errors.md).
 * CMakeLists.txt force-includes this header into coordinator/fleet.c only,
 * whose inner buffers are still char (PROTO_ERR_LEN and CURVE_ERR_LEN below,
 * FB_ERR_MAX bytes each) where proto/ takes an fb_err_t *, and a
 * why[VET_WHY_LEN] where vet_result takes one. Each wrapper takes an
 * fb_err_t * as well. Delete this header, and its line in CMakeLists.txt,
 * once fleet.c declares fb_err_t for them. */
#ifndef CO_ERR_COMPAT_H
#define CO_ERR_COMPAT_H

#include "curve.h"
#include "fb_err.h"
#include "proto.h"
#include "vet.h"
#include "wire.h"

#include <stdio.h>

/* Takes an fb_err_t * as it is, or a char buffer of at least FB_ERR_MAX
 * bytes as one. Anything else does not compile. */
#define FB_ERR_BUF(e) _Generic((e), fb_err_t * : (e), char * : (fb_err_t *)(void *)(e))

/* fleet.c's why[VET_WHY_LEN] is smaller than an fb_err_t: a copy, cut. */
#define VET_WHY_LEN 200
static inline int vet_result_chars(const vet_expect_t *e, const proto_result_t *res, hist_t *lat,
                                   char *why)
{
    fb_err_t w;
    int rc = vet_result(e, res, lat, &w);

    if (rc != 0) snprintf(why, VET_WHY_LEN, "%.199s", w.msg);
    return rc;
}
#define vet_result(e, res, lat, why)                                                               \
    _Generic((why), fb_err_t *                                                                     \
             : (vet_result)(e, res, lat, (fb_err_t *)(void *)(why)), default                       \
             : vet_result_chars(e, res, lat, (char *)(void *)(why)))

#define PROTO_ERR_LEN FB_ERR_MAX
#define CURVE_ERR_LEN FB_ERR_MAX

#define proto_encode(m, buf, len, err) proto_encode(m, buf, len, FB_ERR_BUF(err))
#define proto_decode(buf, len, out, err) proto_decode(buf, len, out, FB_ERR_BUF(err))
#define wire_socket_setup(sock, err) wire_socket_setup(sock, FB_ERR_BUF(err))
#define wire_send(sock, id, idlen, m, err) wire_send(sock, id, idlen, m, FB_ERR_BUF(err))
#define wire_recv(sock, id, idlen, m, err) wire_recv(sock, id, idlen, m, FB_ERR_BUF(err))
#define curve_load_secret(path, secret, err) curve_load_secret(path, secret, FB_ERR_BUF(err))
#define curve_load_known(path, known, n, err) curve_load_known(path, known, n, FB_ERR_BUF(err))
#define curve_client_setup(sock, secret, server, err)                                              \
    curve_client_setup(sock, secret, server, FB_ERR_BUF(err))

#endif
