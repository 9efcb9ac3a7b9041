/* fleet: the coordinator's side of its sessions with the agents. One
 * DEALER socket per agent; heartbeats both ways; an agent silent for longer
 * than the liveness is lost, in bounded time, whatever step it was in. */
#ifndef CO_FLEET_H
#define CO_FLEET_H

#include "proto.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { AGENT_LIVE, AGENT_LOST } fleet_state_t;

typedef struct {
    char name[300]; /* HOST:PORT as given */
    void *sock;
    void *mon; /* the socket's handshake events: a refused key is exit 5 */
    fleet_state_t state;
    uint64_t last_heard, last_sent, go_sent; /* monotonic ns */
    bool waiting;                            /* an answer of the awaited type is due */
    bool running;                            /* a timed run: no heartbeats at first (see fleet.c) */
    bool rejoined;                  /* lost, then welcomed again: needs the plan before a run */
    uint64_t hello_retry;           /* when to say hello again after "busy"; 0: not */
    uint64_t ready_clock, ready_at; /* READY: the agent's clock, our receive time */
    proto_welcome_t facts;
    proto_result_t *result; /* the last RESULT */
    proto_stats_t stats;    /* the last STATS */
} fleet_agent_t;

typedef struct {
    void *zctx;
    fleet_agent_t *a;
    size_t n;
    uint64_t session;
    uint32_t hb_ms, live_ms;
    bool loss_abort; /* --on-agent-loss abort */
    size_t lost;     /* agents lost so far */
    int fatal;       /* exit code of a fatal error; 0: none */
    char fatal_msg[600];
    volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
    proto_msg_t *in, *out;
    proto_msg_t *hello; /* said again, once a liveness, to lost agents */
} fleet_t;

#define FLEET_ERR_LEN 600

/* Connects to every agent ("HOST", port); with key_path and known_path,
 * over CURVE, to agents listed in known_path only. -1 with err, and
 * f->fatal the exit code (1 configuration, 5 authentication). */
int fleet_init(fleet_t *f, char (*hosts)[256], const int *ports, size_t n, uint32_t hb_ms,
               uint32_t live_ms, const char *key_path, const char *known_path, char *err);
void fleet_close(fleet_t *f);

/* Sends f->out (its type set by the caller) to agent i and marks it waiting
 * for an answer if want_reply. */
void fleet_send(fleet_t *f, size_t i, bool want_reply);
/* Sends f->out to every live agent, waiting for each one's answer. */
void fleet_send_all(fleet_t *f);

/* Serves the sockets until no live agent is waiting for `want` any more
 * (answered or lost), the deadline (monotonic ns, 0: none) passes (the late
 * ones are lost), a fatal error, or a stop. 0, or -1 (f->fatal / stop). */
int fleet_wait(fleet_t *f, proto_type_t want, uint64_t deadline);

/* Opens the sessions (HELLO -> WELCOME); an agent that does not answer
 * within the liveness is lost. -1 on a fatal error or no agent left. */
int fleet_hello(fleet_t *f, const char *name);

size_t fleet_live(const fleet_t *f);
uint64_t fleet_now(void);

#endif
