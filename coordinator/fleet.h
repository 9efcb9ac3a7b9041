/* fleet: the coordinator's side of its sessions with the agents, as
 * docs/protocol.md's state table says. One ROUTER socket connected to every
 * agent (each connection named by the agent's index, docs/scale.md) and one
 * record of what we are waiting for from each agent (peer_phase_t, a
 * deadline), so every wait ends: an answer, a deadline, a loss, a fatal
 * error or a stop. The agents' next due times sit in a min-heap, so a
 * wake-up touches only the agents that sent something or whose time came,
 * whatever the size of the fleet. A lost agent is greeted again; once it
 * answers it gets the plan at the next run boundary and takes part from
 * that run on, never mid-run. */
#ifndef CO_FLEET_H
#define CO_FLEET_H

#include "fb_err.h"
#include "fb_exit.h"
#include "hist.h"
#include "proto.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PEER_GREETING,  /* HELLO sent, WELCOME due by the deadline (busy: HELLO again) */
    PEER_WELCOMED,  /* in session, no plan yet: gets it at the next run boundary */
    PEER_PLANNING,  /* PLAN sent, ACCEPT due */
    PEER_IDLE,      /* planned, between runs */
    PEER_PREPARING, /* PREPARE of `step` sent, its READY due */
    PEER_READY,     /* READY got, GO not sent yet */
    PEER_RUNNING,   /* GO of `step` sent, its RESULT due within the run timeout */
    PEER_VIEWING,   /* between runs, STATS_REQ sent: its STATS due within a liveness */
    PEER_LOST,      /* silent, late or out of step: greeted again, once a liveness */
    PEER__N
} peer_phase_t;

typedef struct {
    char name[300]; /* HOST:PORT as given */
    peer_phase_t phase;
    proto_step_t step; /* the step asked for in PREPARING, READY, RUNNING */
    uint64_t deadline; /* monotonic ns: the awaited answer is due by then */
    uint64_t last_heard, last_sent, next_hello, hb_seq;
    uint64_t prep_sent, go_sent;    /* the current step's PREPARE and GO */
    uint64_t ready_clock, ready_at; /* READY: the agent's clock, our receive time */
    uint64_t result_at;             /* when the RESULT came */
    bool heard;                     /* anything valid ever came from it */
    bool same_clock;                /* its boot id is ours: it shares CLOCK_MONOTONIC */
    int64_t clock_off;              /* else: its clock minus ours, estimated at READY */
    uint64_t clock_err;             /* the estimate's error bound, ns */
    unsigned noted;                 /* stale messages logged (a flood is not) */
    char busy[PROTO_STR * 2];       /* the last "busy" it answered, for the log */
    proto_welcome_t facts;
    bool has_result;        /* result and latency hold the current step's vetted RESULT */
    proto_result_t *result; /* the last RESULT: what it holds, not its 96 KiB of room */
    proto_stats_t stats;    /* the last STATS */
    hist_t *latency;        /* its histogram, rebuilt while vetting it */
    uint64_t due;           /* its place in the heap: nothing of it is due before */
    size_t slot;            /* its index in fleet_t.heap */
} fleet_agent_t;

typedef struct {
    void *zctx;
    void *router; /* one connection per agent, routing id 'A' + its index */
    void *mon;    /* the router's handshake events: a refused key is exit 5 */
    fleet_agent_t *a;
    size_t n;
    size_t *heap;          /* agent indices, a min-heap on a[].due */
    size_t count[PEER__N]; /* agents per phase: no scan for "anyone idle?" */
    uint64_t session;
    uint32_t hb_ms, live_ms;
    bool loss_abort; /* --on-agent-loss abort */
    size_t lost;     /* agents lost now */
    size_t refused;  /* results refused so far */
    size_t waiting;  /* agents whose answer is due */
    fb_exit_t fatal; /* exit code of a fatal error; FB_EXIT_OK: none */
    fb_err_t fatal_err;
    volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
    char name[PROTO_STR];        /* ours, in HELLO */
    char boot_id[PROTO_STR];     /* ours: agents with the same one share our clock */
    proto_msg_t *in, *out;
    proto_msg_t *plan; /* set by fleet_set_plan; also what results are vetted against */
    proto_step_t step; /* the last fleet_prepare's: what GO starts */
    uint64_t run_timeout_ns;
    uint64_t go_fanout_ns; /* the last fleet_go's first to last GO sent */
    uint64_t last_look;    /* when the sockets were last served */
    uint64_t stalled_ns;   /* time we were stopped, in all (see fleet.c's stalled) */
} fleet_t;

/* Connects to every agent ("HOST", port); with key_path and known_path,
 * over CURVE, to agents listed in known_path only. -1 with err, and
 * f->fatal the exit code (FB_EXIT_USAGE, FB_EXIT_PROTOCOL for keys). */
int fleet_init(fleet_t *f, char (*hosts)[256], const int *ports, size_t n, uint32_t hb_ms,
               uint32_t live_ms, const char *key_path, const char *known_path, fb_err_t *err);
void fleet_close(fleet_t *f);

/* Opens the sessions: HELLO, WELCOME within two liveness periods (a busy
 * agent is asked again every heartbeat). -1 on a fatal error, a stop, or
 * when no agent answered (f->fatal 3). */
int fleet_greet(fleet_t *f, const char *name);
/* The plan sent to agents at run boundaries (copied). */
void fleet_set_plan(fleet_t *f, const proto_plan_t *plan);

/* A run boundary: forgets the last run's results; agents welcomed (first or
 * again) get the plan; with every agent lost, first waits two liveness
 * periods for one to come back. 0 when at least one agent can run, else -1
 * (f->fatal, or a stop). */
int fleet_next_run(fleet_t *f);
/* PREPARE `step` to every planned idle agent (only == SIZE_MAX) or to agent
 * `only` if it is planned and idle; waits for their READY. */
int fleet_prepare(fleet_t *f, size_t only, const proto_step_t *step);
/* GO to the agents READY for it (all, or `only`), lead_ns ahead (0: at
 * once; else a start time on each agent's clock); waits for the RESULTs,
 * at most timeout_ns, and vets each (vet.h). */
int fleet_go(fleet_t *f, size_t only, uint64_t lead_ns, uint64_t timeout_ns);
/* Agent i's accepted RESULT of the last step, or NULL (not run, lost, refused). */
/* Agent i (idle, between runs) reads the target's GET /stats (phase
 * PROTO_VIEW_*); the answer lands in f->a[i].stats, "unreachable" when it
 * did not come within a liveness. -1 on a fatal error or a stop. */
int fleet_view(fleet_t *f, size_t i, uint32_t phase);
const proto_result_t *fleet_result(const fleet_t *f, size_t i);
/* Its start on our clock (exact if it shares our clock, else estimated). */
int64_t fleet_start_ns(const fleet_t *f, size_t i);

/* BYE (or ABORT with reason) to every agent, not waiting for anything. */
void fleet_end(fleet_t *f, bool abort, const char *reason);

size_t fleet_live(const fleet_t *f);

#endif
