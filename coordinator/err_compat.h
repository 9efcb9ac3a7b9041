/* err_compat: the last of the transition to fb_err_t (docs/errors.md).
 * CMakeLists.txt force-includes this header into coordinator/fleet.c only,
 * which still holds char buffers (PROTO_ERR_LEN and CURVE_ERR_LEN below,
 * FB_ERR_MAX bytes each) and passes them where proto/ now takes an
 * fb_err_t *. Delete this header, and its line in CMakeLists.txt, once
 * fleet.c declares fb_err_t. */
#ifndef CO_ERR_COMPAT_H
#define CO_ERR_COMPAT_H

#include "curve.h"
#include "fb_err.h"
#include "vet.h"
#include "wire.h"

/* Takes an fb_err_t * as it is, or a char buffer of at least FB_ERR_MAX
 * bytes as one. Anything else does not compile. */
#define FB_ERR_BUF(e) _Generic((e), fb_err_t * : (e), char * : (fb_err_t *)(void *)(e))

/* fleet.c's why[VET_WHY_LEN] is smaller than an fb_err_t: copied, cut. */
#define VET_WHY_LEN 200
#define vet_result(e, res, lat, why)                                                               \
    __extension__({                                                                                \
        fb_err_t why_;                                                                             \
        int rc_ = (vet_result)(e, res, lat, &why_);                                                \
        if (rc_ != 0) snprintf(why, VET_WHY_LEN, "%.199s", why_.msg);                              \
        rc_;                                                                                       \
    })

#define PROTO_ERR_LEN FB_ERR_MAX
#define CURVE_ERR_LEN FB_ERR_MAX

#define wire_socket_setup(sock, err) wire_socket_setup(sock, FB_ERR_BUF(err))
#define wire_send(sock, id, idlen, m, err) wire_send(sock, id, idlen, m, FB_ERR_BUF(err))
#define wire_recv(sock, id, idlen, m, err) wire_recv(sock, id, idlen, m, FB_ERR_BUF(err))
#define curve_load_secret(path, secret, err) curve_load_secret(path, secret, FB_ERR_BUF(err))
#define curve_load_known(path, known, n, err) curve_load_known(path, known, n, FB_ERR_BUF(err))
#define curve_client_setup(sock, secret, server, err)                                              \
    curve_client_setup(sock, secret, server, FB_ERR_BUF(err))

#endif
