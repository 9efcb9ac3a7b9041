#!/usr/bin/env bash
# deploy/local-cluster.sh: a fleetbench cluster on one machine, for demos and
# tests. A target-server and K agents, each on its own address:
#
#   * loopback (default): 127.0.0.N, 127.0.0.N+1 ... (every 127/8 address is
#     the loopback interface on Linux, no alias to configure), ports picked by
#     the kernel unless given;
#   * --netns (root): one network namespace per host, joined by a bridge that
#     lives in a namespace of its own, addresses SUBNET.0/24, no default route,
#     nothing changed in the host's own network; the coordinator is run in a
#     namespace of its own too (the printed command says `ip netns exec`).
#
# Agents use CURVE keys (made in the state dir) and --allow-target, as on EC2,
# unless --insecure. State (PIDs, addresses, keys, logs) is kept in the state
# dir; `down` stops exactly the processes and namespaces `up` made.
set -euo pipefail

PROG=local-cluster.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<EOF
Usage: $PROG up K [OPTIONS]    start a target-server and K agents (1..200)
       $PROG status [OPTIONS]  show them, and the coordinator command
       $PROG run [OPTIONS] [-- COORDINATOR-ARGS...]
                               run the coordinator against the cluster
                               (default arguments: --matrix all)
       $PROG down [OPTIONS]    stop everything up started, remove the state dir

Options:
  --state-dir DIR    where PIDs, keys and logs live (default \$FLEETBENCH_CLUSTER_DIR
                     or \${TMPDIR:-/tmp}/fleetbench-cluster-\$UID)
  --bin-dir DIR      a build dir (DIR/agent/agent ...) or an install prefix
                     (DIR/bin/agent ...); default \$FB_BIN_DIR, else this
                     checkout's build/, else the programs on PATH
  --base ADDR        loopback: the target's address, agents follow
                     (default 127.0.0.10: target .10, agents .11 ...)
  --netns            one network namespace per host (root only)
  --subnet A.B.C     --netns: the /24 used (default 10.214.0): coordinator .1,
                     target .2, agents .11 ...
  --target-port P    (default: 0, a free port; 8080 with --netns)
  --agent-port P     (default: 0, a free port each; 5555 with --netns)
  --target-opts STR  more target-server options (word-split), e.g. "--threads 1"
  --agent-opts STR   more agent options (word-split)
  --insecure         agents without CURVE keys (agent --insecure)
  -h, --help         this text

After \`up\`, the coordinator command is printed (and kept in the state dir).
Exit codes: 0 success; 1 usage or error; 2 (status) some processes are gone.
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }

# ---- options -------------------------------------------------------------------

COMMAND=${1:-}
[[ -n $COMMAND ]] || { usage >&2; exit 1; }
shift
case $COMMAND in
    -h | --help) usage; exit 0 ;;
    up | down | status | run) ;;
    *) die "unknown command '$COMMAND' (up, status, run or down; --help)" ;;
esac

K=""
if [[ $COMMAND == up ]]; then
    K=${1:-}
    [[ $K =~ ^[0-9]+$ ]] || die "up: the number of agents must come first (up K), got '${K}'"
    ((K >= 1 && K <= 200)) || die "up: K must be 1..200, got $K"
    shift
fi

STATE_DIR=${FLEETBENCH_CLUSTER_DIR:-${TMPDIR:-/tmp}/fleetbench-cluster-$(id -u)}
BIN_DIR=${FB_BIN_DIR:-}
BASE=127.0.0.10
NETNS=0
SUBNET=10.214.0
TARGET_PORT=""
AGENT_PORT=""
TARGET_OPTS=""
AGENT_OPTS=""
INSECURE=0
RUN_ARGS=()

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --state-dir) need_arg "$@"; STATE_DIR=$2; shift 2 ;;
        --bin-dir) need_arg "$@"; BIN_DIR=$2; shift 2 ;;
        --base) need_arg "$@"; BASE=$2; shift 2 ;;
        --netns) NETNS=1; shift ;;
        --subnet) need_arg "$@"; SUBNET=$2; shift 2 ;;
        --target-port) need_arg "$@"; TARGET_PORT=$2; shift 2 ;;
        --agent-port) need_arg "$@"; AGENT_PORT=$2; shift 2 ;;
        --target-opts) need_arg "$@"; TARGET_OPTS=$2; shift 2 ;;
        --agent-opts) need_arg "$@"; AGENT_OPTS=$2; shift 2 ;;
        --insecure) INSECURE=1; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; RUN_ARGS=("$@"); break ;;
        *)
            if [[ $COMMAND == run ]]; then RUN_ARGS=("$@"); break; fi
            die "unknown option '$1' (--help)" ;;
    esac
done

valid_port() { [[ $1 =~ ^[0-9]+$ ]] && (($1 <= 65535)); }
valid_octets() { # valid_octets STRING N: STRING is N dot-separated 0..255 numbers
    local IFS=. n=0 o
    for o in $1; do
        [[ $o =~ ^[0-9]{1,3}$ ]] && ((o <= 255)) || return 1
        n=$((n + 1))
    done
    ((n == $2)) && [[ $1 != *. && $1 != .* && $1 != *..* ]]
}

STATE_FILE=$STATE_DIR/cluster.env
PID_FILE=$STATE_DIR/pids

# ---- programs ------------------------------------------------------------------

# The path of program $1 in a build dir, an install prefix, or on PATH.
find_bin() {
    local name=$1 d p
    local dirs=()
    if [[ -n $BIN_DIR ]]; then
        dirs=("$BIN_DIR")
    elif [[ -d $SCRIPT_DIR/../build ]]; then
        dirs=("$SCRIPT_DIR/../build")
    fi
    for d in "${dirs[@]+"${dirs[@]}"}"; do
        for p in "$d/$name/$name" "$d/bin/$name" "$d/$name"; do
            if [[ -f $p && -x $p ]]; then
                realpath "$p"
                return 0
            fi
        done
    done
    if [[ -z $BIN_DIR ]] && command -v "$name" >/dev/null 2>&1; then
        realpath "$(command -v "$name")"
        return 0
    fi
    die "$name not found (in ${dirs[*]:-PATH}); build it, or pass --bin-dir"
}

# ---- state -----------------------------------------------------------------------

save_var() { printf '%s=%q\n' "$1" "$2" >>"$STATE_FILE"; }

load_state() {
    [[ -f $STATE_FILE ]] || return 1
    # shellcheck disable=SC1090 # written by save_var with printf %q
    source "$STATE_FILE"
}

# pid_is PID BIN: PID is alive and runs BIN (not a recycled PID).
pid_is() {
    local pid=$1 bin=$2 exe stat
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [[ $exe == "$bin" || $exe == "$bin (deleted)" ]] || return 1
    stat=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ $stat != Z ]]
}

# ---- network namespaces ----------------------------------------------------------

ns_of() { # ns_of ROLE: the namespace of a host ("" on loopback)
    if ((NETNS)); then echo "$NS_PREFIX-$1"; fi
}

netns_setup() {
    local sw=$NS_PREFIX-sw ns i host
    ip netns add "$sw"
    echo "$sw" >>"$STATE_DIR/netns"
    ip -n "$sw" link set lo up
    ip -n "$sw" link add br0 type bridge forward_delay 0
    ip -n "$sw" link set br0 up
    # host:last-octet, coordinator first
    local hosts=("coord:1" "target:2")
    for ((i = 1; i <= K; i++)); do hosts+=("agent$i:$((10 + i))"); done
    for host in "${hosts[@]}"; do
        ns=$NS_PREFIX-${host%%:*}
        ip netns add "$ns"
        echo "$ns" >>"$STATE_DIR/netns"
        ip -n "$ns" link set lo up
        # The veth pair is made inside the namespaces: no name in the host's.
        ip -n "$sw" link add "p-${host%%:*}" type veth peer name eth0 netns "$ns"
        ip -n "$sw" link set "p-${host%%:*}" master br0 up
        ip -n "$ns" addr add "$SUBNET.${host##*:}/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
}

netns_teardown() {
    local ns
    [[ -f $STATE_DIR/netns ]] || return 0
    while read -r ns; do
        [[ -n $ns ]] || continue
        if ip netns list 2>/dev/null | grep -qw -- "^$ns"; then
            ip netns del "$ns" || note "could not delete namespace $ns"
        fi
    done <"$STATE_DIR/netns"
    rm -f "$STATE_DIR/netns"
}

# ---- processes -------------------------------------------------------------------

# start NAME NS READY-REGEX BIN ARGS...: starts BIN in the background (its own
# session, in namespace NS if not empty), records its PID, waits for its
# ready line and sets PORT to the port in it.
start() {
    local name=$1 ns=$2 ready=$3 bin=$4
    shift 4
    local log=$STATE_DIR/logs/$name.log pid deadline
    local cmd=(setsid "$bin" "$@")
    [[ -n $ns ]] && cmd=(ip netns exec "$ns" "${cmd[@]}")
    : >"$log" # before the child opens it: sed must find it
    "${cmd[@]}" </dev/null >>"$log" 2>&1 &
    pid=$!
    STARTED+=("$pid")
    echo "$name $pid $bin" >>"$PID_FILE"
    PORT=""
    deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
        PORT=$(sed -nE "s#$ready#\\1#;T;p;q" "$log" || true)
        [[ -n $PORT ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    note "$name did not start; its log ($log):"
    tail -n 20 "$log" >&2 || true
    return 1
}

stop_all() {
    local name pid bin i deadline left
    local pids=() bins=() names=()
    [[ -f $PID_FILE ]] || return 0
    while read -r name pid bin; do
        [[ -n $pid ]] || continue
        if pid_is "$pid" "$bin"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid") bins+=("$bin") names+=("$name")
        fi
    done <"$PID_FILE"
    deadline=$((SECONDS + 15))
    while :; do
        left=0
        for i in "${!pids[@]}"; do
            pid_is "${pids[$i]}" "${bins[$i]}" && left=$((left + 1))
        done
        ((left > 0 && SECONDS < deadline)) || break
        sleep 0.1
    done
    for i in "${!pids[@]}"; do
        if pid_is "${pids[$i]}" "${bins[$i]}"; then
            note "${names[$i]} (pid ${pids[$i]}) ignored SIGTERM for 15 s; killing it"
            kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
    done
    rm -f "$PID_FILE"
}

# Words quoted for a shell only where needed (printf %q would also quote commas).
shquote() {
    local w out=()
    for w in "$@"; do
        if [[ $w =~ ^[A-Za-z0-9_./:,=@%+-]+$ ]]; then
            out+=("$w")
        else
            out+=("'${w//\'/\'\\\'\'}'")
        fi
    done
    echo "${out[*]}"
}

# After a failed up: our own children, whether or not they have exec'd their
# program yet (they cannot be recycled PIDs: we have not reaped them).
stop_started() {
    local pid i
    ((${#STARTED[@]} > 0)) || return 0
    kill -TERM "${STARTED[@]}" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        local alive=0
        for pid in "${STARTED[@]}"; do
            [[ $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) =~ ^[^Z]$ ]] && alive=1
        done
        ((alive)) || return 0
        sleep 0.1
    done
    kill -KILL "${STARTED[@]}" 2>/dev/null || true
}

coordinator_command() { # the command, shell-quoted, with the given coordinator args
    local cmd=()
    ((NETNS)) && cmd=(ip netns exec "$NS_PREFIX-coord")
    cmd+=("$COORDINATOR_BIN" --agents "$AGENTS" --target "$TARGET")
    if ((!INSECURE)); then
        cmd+=(--key "$STATE_DIR/keys/coordinator.key" --known-agents "$STATE_DIR/keys/known_agents")
    fi
    cmd+=("$@")
    shquote "${cmd[@]}"
}

# ---- commands --------------------------------------------------------------------

cmd_up() {
    if [[ -e $STATE_FILE ]]; then
        local name pid bin
        if [[ -f $PID_FILE ]]; then
            while read -r name pid bin; do
                pid_is "$pid" "$bin" &&
                    die "a cluster is already up in $STATE_DIR ($PROG status; $PROG down)"
            done <"$PID_FILE"
        fi
        note "cleaning up a dead cluster left in $STATE_DIR"
        (load_state && stop_all && netns_teardown)
        rm -rf "$STATE_DIR"
    fi
    if ((NETNS)); then
        ((EUID == 0)) || die "--netns needs root (ip netns add)"
        command -v ip >/dev/null || die "--netns needs ip (iproute2)"
        valid_octets "$SUBNET" 3 || die "--subnet: want A.B.C (a /24), got '$SUBNET'"
        TARGET_PORT=${TARGET_PORT:-8080}
        AGENT_PORT=${AGENT_PORT:-5555}
    else
        valid_octets "$BASE" 4 || die "--base: want an IPv4 address, got '$BASE'"
        [[ $BASE == 127.* ]] || die "--base: a loopback address (127.x.y.z), got '$BASE'"
        local last=${BASE##*.}
        ((last + K <= 254)) || die "--base $BASE leaves no room for $K agents in its /24"
        TARGET_PORT=${TARGET_PORT:-0}
        AGENT_PORT=${AGENT_PORT:-0}
    fi
    valid_port "$TARGET_PORT" || die "--target-port: not a port: '$TARGET_PORT'"
    valid_port "$AGENT_PORT" || die "--agent-port: not a port: '$AGENT_PORT'"

    local target_bin agent_bin
    target_bin=$(find_bin target-server)
    agent_bin=$(find_bin agent)
    COORDINATOR_BIN=$(find_bin coordinator)

    mkdir -p "$STATE_DIR/logs"
    chmod 700 "$STATE_DIR"
    : >"$STATE_FILE"
    NS_PREFIX=""
    if ((NETNS)); then
        NS_PREFIX=fbc$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
    fi
    save_var NETNS_SAVED "$NETNS"
    save_var NS_PREFIX "$NS_PREFIX"
    save_var INSECURE "$INSECURE"
    save_var COORDINATOR_BIN "$COORDINATOR_BIN"

    # From here on a failure (set -e, die) tears down what was started.
    UP_DONE=0
    trap 'if ((!UP_DONE)); then note "up failed; stopping what was started"
          stop_started; netns_teardown; rm -rf "$STATE_DIR"; fi' EXIT

    local target_host agent_host i
    if ((NETNS)); then
        netns_setup
        target_host=$SUBNET.2
    else
        target_host=$BASE
    fi

    # Keys, as ec2.sh makes them on the hosts: one pair per agent and one for
    # the coordinator; each agent lets in the coordinator's public key.
    if ((!INSECURE)); then
        mkdir -p "$STATE_DIR/keys"
        "$COORDINATOR_BIN" keygen "$STATE_DIR/keys/coordinator" >/dev/null
        cp "$STATE_DIR/keys/coordinator.pub" "$STATE_DIR/keys/authorized_keys"
        : >"$STATE_DIR/keys/known_agents"
    fi

    # shellcheck disable=SC2086 # --target-opts is word-split on purpose
    start target "$(ns_of target)" \
        '^target-server: listening on http://[^ ]*:([0-9]+) .*' \
        "$target_bin" --host "$target_host" --port "$TARGET_PORT" $TARGET_OPTS
    TARGET=$target_host:$PORT
    save_var TARGET "$TARGET"

    AGENTS=""
    for ((i = 1; i <= K; i++)); do
        if ((NETNS)); then
            agent_host=$SUBNET.$((10 + i))
        else
            agent_host=${BASE%.*}.$((${BASE##*.} + i))
        fi
        local keyargs=(--insecure)
        if ((!INSECURE)); then
            "$agent_bin" keygen "$STATE_DIR/keys/agent$i" >/dev/null
            keyargs=(--key "$STATE_DIR/keys/agent$i.key"
                --authorized-keys "$STATE_DIR/keys/authorized_keys")
        fi
        # shellcheck disable=SC2086 # --agent-opts is word-split on purpose
        start "agent$i" "$(ns_of "agent$i")" \
            '^agent: listening on tcp://[^ ]*:([0-9]+)$' \
            "$agent_bin" --listen "$agent_host:$AGENT_PORT" "${keyargs[@]}" \
            --allow-target "$TARGET" $AGENT_OPTS
        AGENTS+=${AGENTS:+,}$agent_host:$PORT
        if ((!INSECURE)); then
            echo "$agent_host:$PORT $(cat "$STATE_DIR/keys/agent$i.pub")" >>"$STATE_DIR/keys/known_agents"
        fi
    done
    save_var AGENTS "$AGENTS"
    # shellcheck disable=SC2034 # read by the EXIT trap
    UP_DONE=1

    coordinator_command --matrix all >"$STATE_DIR/coordinator-command"
    echo "$PROG: target $TARGET, $K agent(s) $AGENTS; state in $STATE_DIR"
    echo "coordinator command:"
    echo "  $(cat "$STATE_DIR/coordinator-command")"
    echo "stop with: $(shquote "$0" down --state-dir "$STATE_DIR")"
}

cmd_status() {
    load_state || { echo "$PROG: no cluster in $STATE_DIR"; exit 1; }
    local name pid bin state dead=0
    printf '%-10s %-8s %s\n' NAME PID STATE
    while read -r name pid bin; do
        if pid_is "$pid" "$bin"; then state=running; else state=gone; dead=1; fi
        printf '%-10s %-8s %s\n' "$name" "$pid" "$state"
    done <"$PID_FILE"
    echo "target: $TARGET"
    echo "agents: $AGENTS"
    ((NETNS_SAVED)) && echo "namespaces: $(tr '\n' ' ' <"$STATE_DIR/netns")"
    echo "coordinator command:"
    echo "  $(cat "$STATE_DIR/coordinator-command")"
    ((dead == 0)) || exit 2
}

cmd_run() {
    load_state || die "no cluster in $STATE_DIR ($PROG up K)"
    NETNS=$NETNS_SAVED
    ((${#RUN_ARGS[@]} > 0)) || RUN_ARGS=(--matrix all)
    local cmd=()
    ((NETNS)) && cmd=(ip netns exec "$NS_PREFIX-coord")
    cmd+=("$COORDINATOR_BIN" --agents "$AGENTS" --target "$TARGET")
    ((INSECURE)) || cmd+=(--key "$STATE_DIR/keys/coordinator.key"
        --known-agents "$STATE_DIR/keys/known_agents")
    exec "${cmd[@]}" "${RUN_ARGS[@]}"
}

cmd_down() {
    if ! load_state; then
        echo "$PROG: no cluster in $STATE_DIR: nothing to stop"
        return 0
    fi
    stop_all
    netns_teardown
    rm -rf "$STATE_DIR"
    echo "$PROG: stopped; removed $STATE_DIR"
}

# Variables load_state may set (defaults for shellcheck and for a bad file).
# shellcheck disable=SC2034 # UP_DONE is read by the EXIT trap of up
NETNS_SAVED=0 NS_PREFIX="" COORDINATOR_BIN="" TARGET="" AGENTS="" PORT="" STARTED=() UP_DONE=1

case $COMMAND in
    up) cmd_up ;;
    status) cmd_status ;;
    run) cmd_run ;;
    down) cmd_down ;;
esac
