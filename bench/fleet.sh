#!/usr/bin/env bash
# bench/fleet.sh: what the coordinator costs per agent, and the lockstep
# start skew, against K agents on one host (loopback only): real agent
# daemons, or bench/simfleet's simulated ones (one process, no HTTP) to reach
# a thousand. A benchmark, not a test: it prints figures (and with --strict
# fails when the aims are missed). Every coordinator invocation has a
# timeout; every process started here is stopped by PID on exit; only
# 127.0.0.x addresses are used.
set -euo pipefail

usage() {
  cat <<EOF
Usage: bench/fleet.sh [OPTIONS]

Starts target-server --threads 1 on 127.0.0.1. Then, for each K of -k, starts
K agent daemons on 127.0.0.10 ... 127.0.0.254 (port 0; several per address
past 245), and for each K of --sim one simfleet process simulating K agents
on 127.0.0.1, and times the coordinator process (lockstep, light load):
  coordinator --agents-file FILE --target ... --matrix async-for -r N
              --connections C --runs R -w W --order O --export-json FILE
once with R and once with 2R timed runs (per repeat). It prints per K:
  skew p50/p99/max   per timed run, latest minus earliest agent start (from the
                     JSON's per-agent start_offsets); one host, one
                     CLOCK_MONOTONIC, so the skew is exact. Pooled over every
                     invocation of that K (3R runs per repeat). Simulated
                     agents start exactly at GO's start time unless GO arrives
                     later: their skew is how late the last GO arrived
  ovh/run            (coordinator wall - sum of run times - W x median run time)
                     / (R + W): everything the process does besides the runs,
                     amortised over every run, warmups included (warmup run
                     times are not exported, so they are estimated)
  marg/run           ((wall(2R) - wall(R)) - (sum times(2R) - sum times(R))) / R:
                     the cost of one more run, fixed costs cancelled
  fixed              wall(R) - runs - (R + W) x marg/run: exec, hello, plan,
                     summary, export, bye, teardown
  cpu/agent/run      (CPU(2R) - CPU(R)) / (R x K): the coordinator's user+sys
                     per agent per run, marginal (fixed costs cancelled)
  GO fan-out         per lockstep run, first to last GO sent by the
                     coordinator (the JSON's fleetbench.go_fanout): p50, max
  handshake          connects to the last WELCOME (fleetbench.handshake)
  RSS                the coordinator's max resident set (getrusage)
With --router, bench/routerbench (the messaging of a one-ROUTER coordinator,
docs/scale.md) runs R lockstep runs against the same agents once per repeat:
its CPU per agent per run and GO fan-out go beside the coordinator's, with
the ratio; against simfleet also with GO alone per run (no PREPARE/READY).
If the coordinator keeps a journal (--journal: one fsync'd line per timed run),
it goes next to the JSON in a temporary directory under \$TMPDIR (or /tmp), as
by default, so its fsync counts in the overhead; --journal-dir puts it
elsewhere (e.g. /dev/shm: no disk flush) to see what the fsync costs.
Aims: skew p99 < 200 us with K <= cores, < 1 ms at 32 agents;
overhead < 2 ms per run; coordinator CPU <= 20 us per agent per run at 256
agents; GO fan-out <= 1 ms at 256 agents.

Options:
  -k, --agents LIST     real agent counts K (default \$AGENTS or 1,8,32; each
                        1..1024; "" for none)
  -s, --sim LIST        simulated agent counts K (default \$SIM or none; 1..1024)
      --keys            CURVE keys: a key pair per agent (one for simfleet),
                        known-agents and authorized-keys files
      --latency-us US   simfleet's simulated request latency (default 100)
      --router          also measure bench/routerbench (see above)
      --runs R          timed runs of the shorter invocation (default \$RUNS or 200)
      --order O         the coordinator's --order (default sequential: the JSON
                        export once per benchmark; interleave, the
                        coordinator's default, exports after every round, with
                        one benchmark after every run, a cost that grows with
                        the runs made: the marginal figures then measure it)
  -w, --warmup W        warmup runs (default 5)
  -r, --requests N      requests per agent per run (default 10)
      --connections C   async-for connections per agent (default 2)
      --repeat N        invocation pairs (R, 2R) per K, order alternating;
                        overheads are medians over the repeats (default
                        \$REPEAT or 3)
      --no-double       skip the 2R invocation (no marginal figures)
      --timeout S       bound on each coordinator invocation, seconds
                        (default 300); then SIGTERM, and SIGKILL 10 s later
      --journal-dir DIR where the coordinator's journals go (a temporary
                        directory made inside DIR; default: with the JSON)
      --keep DIR        keep every JSON, output and log in DIR
      --build-dir DIR   CMake build directory (default \$BUILD_DIR or <repo>/build-bench)
      --no-build        use the binaries already in --build-dir
      --strict          exit 3 if an aim that applies is missed
  -h, --help            this text

Exit: 0 done; 1 usage or setup error; 2 a coordinator invocation misbehaved
(non-zero exit, timeout, or a JSON that does not hold R clean runs of K
agents; the reproduction is printed); 3 --strict and an aim missed.
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AGENTS=${AGENTS-1,8,32}
SIM=${SIM-}
KEYS=0
ROUTER=0
ORDER=sequential
LATENCY_US=100
RUNS=${RUNS:-200}
WARMUP=5
REQUESTS=10
CONNS=2
REPEAT=${REPEAT:-3}
DOUBLE=1
TIMEOUT=300
KEEP=""
JOURNAL_DIR=""
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
DO_BUILD=1
STRICT=0

die() {
  echo "fleet: error: $*" >&2
  exit 1
}
need_arg() { if (($# < 2)) || [[ -z "$2" ]]; then die "$1 needs a value (see --help)"; fi; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] && (($2 <= $3)) || die "$1: '$2' is not in 1..$3"; }

while (($#)); do
  case "$1" in
  -k | --agents) (($# >= 2)) || die "$1 needs a value (see --help)"; AGENTS=$2; shift 2 ;;
  -s | --sim) need_arg "$@"; SIM=$2; shift 2 ;;
  --keys) KEYS=1; shift ;;
  --router) ROUTER=1; shift ;;
  --order) need_arg "$@"; ORDER=$2; shift 2 ;;
  --latency-us) need_arg "$@"; LATENCY_US=$2; shift 2 ;;
  --runs) need_arg "$@"; RUNS=$2; shift 2 ;;
  -w | --warmup) need_arg "$@"; WARMUP=$2; shift 2 ;;
  -r | --requests) need_arg "$@"; REQUESTS=$2; shift 2 ;;
  --connections) need_arg "$@"; CONNS=$2; shift 2 ;;
  --repeat) need_arg "$@"; REPEAT=$2; shift 2 ;;
  --no-double) DOUBLE=0; shift ;;
  --timeout) need_arg "$@"; TIMEOUT=$2; shift 2 ;;
  --keep) need_arg "$@"; KEEP=$2; shift 2 ;;
  --journal-dir) need_arg "$@"; JOURNAL_DIR=$2; shift 2 ;;
  --build-dir) need_arg "$@"; BUILD_DIR=$2; shift 2 ;;
  --no-build) DO_BUILD=0; shift ;;
  --strict) STRICT=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done
posint --runs "$RUNS" 50000 # 2R must stay within the coordinator's 100000
[[ "$WARMUP" =~ ^[0-9]+$ ]] && ((WARMUP <= 10000)) || die "--warmup: '$WARMUP' is not in 0..10000"
posint --requests "$REQUESTS" 10000000
posint --connections "$CONNS" 100000
posint --repeat "$REPEAT" 100
posint --timeout "$TIMEOUT" 86400
posint --latency-us "$LATENCY_US" 10000000
IFS=, read -r -a KS <<<"$AGENTS"
IFS=, read -r -a SKS <<<"$SIM"
((${#KS[@]} + ${#SKS[@]} > 0)) || die "no agent counts (-k, --sim)"
for k in "${KS[@]}"; do posint --agents "$k" 1024; done # the coordinator's limit
for k in "${SKS[@]}"; do posint --sim "$k" 1024; done
for t in python3 timeout; do command -v "$t" >/dev/null || die "$t not found"; done
AGENT=$BUILD_DIR/agent/agent
SERVER=$BUILD_DIR/target-server/target-server
COORD=$BUILD_DIR/coordinator/coordinator
SIMFLEET=$BUILD_DIR/bench/simfleet
ROUTERBENCH=$BUILD_DIR/bench/routerbench

[[ -z "$JOURNAL_DIR" || -d "$JOURNAL_DIR" ]] || die "--journal-dir: '$JOURNAL_DIR' is not a directory"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fleet.XXXXXX")
JTMP=""
TS_PID=""
AGENT_PIDS=()
HELPER_PID=""
KEYARGS=()

# stop PID...: SIGTERM, up to 5 s, then SIGKILL; only the PIDs given.
stop() {
  local p i
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
cleanup() {
  local rc=$? cpid=""
  trap - EXIT INT TERM
  # a coordinator still running under the helper (interrupted mid-invocation)
  [[ -f "$TMP/coord.pid" ]] && cpid=$(cat "$TMP/coord.pid" 2>/dev/null || true)
  [[ -n "$cpid" ]] && kill -0 "$cpid" 2>/dev/null && stop "$cpid"
  [[ -n "$HELPER_PID" ]] && stop "$HELPER_PID"
  ((${#AGENT_PIDS[@]})) && stop "${AGENT_PIDS[@]}"
  [[ -n "$TS_PID" ]] && stop "$TS_PID"
  if [[ -n "$KEEP" ]]; then
    mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/ && echo "fleet: files kept in $KEEP" >&2
  fi
  rm -rf "$TMP"
  [[ -n "$JTMP" ]] && rm -rf "$JTMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((DO_BUILD)); then
  echo "building target-server, agent, coordinator (Release) in $BUILD_DIR ..."
  if ! { timeout 600 cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release &&
    timeout 900 cmake --build "$BUILD_DIR" -j2 --target target-server agent coordinator simfleet routerbench; } \
    >"$TMP/build.log" 2>&1; then
    tail -n 30 "$TMP/build.log" >&2
    die "build failed"
  fi
fi
[[ -x "$AGENT" && -x "$SERVER" && -x "$COORD" ]] || die "no agent, target-server or coordinator under $BUILD_DIR"
((${#SKS[@]} == 0)) || [[ -x "$SIMFLEET" ]] || die "no bench/simfleet under $BUILD_DIR"
((ROUTER == 0)) || [[ -x "$ROUTERBENCH" ]] || die "no bench/routerbench under $BUILD_DIR"

# wait_line FILE REGEX PID: until FILE holds a line matching REGEX (5 s).
wait_line() {
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

"$SERVER" --host 127.0.0.1 --port 0 --threads 1 >"$TMP/ts.out" 2>"$TMP/ts.err" &
TS_PID=$!
wait_line "$TMP/ts.out" 'listening on http://' "$TS_PID" || { cat "$TMP/ts.err" >&2; die "target-server did not start"; }
TPORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$TMP/ts.out")
[[ -n "$TPORT" ]] || die "cannot read target-server's port"
TARGET=127.0.0.1:$TPORT

# A coordinator that journals its runs: say where (its fsync is per timed run).
JOURNAL=0
[[ "$("$COORD" --help)" == *"--journal FILE"* ]] && JOURNAL=1
if ((JOURNAL)) && [[ -n "$JOURNAL_DIR" ]]; then
  JTMP=$(mktemp -d "$JOURNAL_DIR/fleet-journal.XXXXXX")
fi
JDIR=${JTMP:-$TMP}

# The coordinator, timed: wall from just before the fork to the reap
# (perf_counter), its CPU from the children's rusage, the whole machine's busy
# cores from /proc/stat over the same interval. SIGTERM at the timeout
# (the coordinator exports its finished runs and exits 130), SIGKILL 10 s later.
cat >"$TMP/coord.py" <<'EOF'
import json, os, resource, signal, subprocess, sys, time
out, pidfile, timeout, cmd = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
def cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
c0 = cpu()
t0 = time.perf_counter_ns()
with open(out + ".stdout", "wb") as so, open(out + ".stderr", "wb") as se:
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=so, stderr=se)
    with open(pidfile, "w") as f:
        f.write(str(p.pid))
    timed_out = False
    try:
        rc = p.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
t1 = time.perf_counter_ns()
c1 = cpu()
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
os.unlink(pidfile)
tot, idle = c1[0] - c0[0], c1[1] - c0[1]
with open(out, "w") as f:
    json.dump({"rc": rc, "timed_out": timed_out, "wall_s": (t1 - t0) / 1e9,
               "user_s": r1.ru_utime - r0.ru_utime, "sys_s": r1.ru_stime - r0.ru_stime,
               "maxrss_kb": r1.ru_maxrss,  # the only child waited for: the coordinator
               "busy_cores": (tot - idle) / tot * os.cpu_count() if tot else 0.0,
               "loadavg": open("/proc/loadavg").read().split()[:3], "cmd": cmd}, f)
EOF

# coord KIND K RUNS TAG: one timed invocation against $TMP/KIND-kK.agents;
# "KIND K RUNS TAG BASE" goes to the index.
coord() {
  local kind=$1 k=$2 runs=$3 tag=$4 base=$TMP/$1-k$2-$4 jargs=()
  ((JOURNAL)) && jargs=(--journal "$JDIR/$kind-k$k-$tag.journal")
  python3 "$TMP/coord.py" "$base.meas" "$TMP/coord.pid" "$TIMEOUT" \
    "$COORD" --agents-file "$TMP/$kind-k$k.agents" --target "$TARGET" --matrix async-for \
    -r "$REQUESTS" --connections "$CONNS" --runs "$runs" -w "$WARMUP" --order "$ORDER" \
    --export-json "$base.json" "${jargs[@]}" "${KEYARGS[@]}" &
  HELPER_PID=$!
  wait "$HELPER_PID" || die "the timing helper failed"
  HELPER_PID=""
  echo "$kind $k $runs $tag $base" >>"$TMP/index"
}

# router_bench KIND K TAG [--no-prepare]: routerbench's R runs against the
# same agents; its figures go to $TMP/rindex as "KIND K MODE CPU FAN50".
router_bench() {
  local kind=$1 k=$2 tag=$3 mode=4msg args=() out
  shift 3
  (($#)) && mode=2msg && args=("$@")
  out=$TMP/$kind-k$k-$tag-$mode.router
  if ! timeout -k 10 "$TIMEOUT" "$ROUTERBENCH" --agents-file "$TMP/$kind-k$k.agents" \
    --runs "$RUNS" --target "$TARGET" "${args[@]}" "${KEYARGS[@]}" >"$out" 2>&1; then
    echo "routerbench failed ($kind K=$k $mode): $(tail -n 3 "$out")" >&2
    return 0
  fi
  sed -n "s/.*cpu_us_per_agent_run \([0-9.]*\) .*go_fanout_p50_us \([0-9.]*\) .*/$kind $k $mode \1 \2/p" \
    "$out" >>"$TMP/rindex"
}

# Keys (--keys): the coordinator's pair, the authorized-keys file every agent
# reads, and a pair per real agent (one for simfleet), made as needed.
KD=$TMP/keys
if ((KEYS)); then
  mkdir -p "$KD"
  "$COORD" keygen "$KD/coord" >/dev/null || die "coordinator keygen failed"
  cp "$KD/coord.pub" "$KD/authorized"
fi
agent_keyargs() { # INDEX: the agent's key arguments, its key made on first use
  ((KEYS)) || return 0
  [[ -f "$KD/agent$1.key" ]] || "$AGENT" keygen "$KD/agent$1" >/dev/null || die "agent keygen failed"
  echo "--key $KD/agent$1.key --authorized-keys $KD/authorized"
}

# start_real K: K agent daemons; writes $TMP/real-kK.agents (and .known).
start_real() {
  local k=$1 i host port out
  for ((i = 0; i < k; i++)); do
    host=127.0.0.$((10 + i % 245))
    # shellcheck disable=SC2046 # the key arguments are words without blanks
    "$AGENT" --listen "$host:0" $(agent_keyargs "$i") >"$TMP/real-k$k-agent$i.out" \
      2>"$TMP/real-k$k-agent$i.err" &
    AGENT_PIDS+=($!)
  done
  : >"$TMP/real-k$k.agents"
  : >"$TMP/real-k$k.known"
  for ((i = 0; i < k; i++)); do
    host=127.0.0.$((10 + i % 245))
    out=$TMP/real-k$k-agent$i.out
    wait_line "$out" "listening on tcp://" "${AGENT_PIDS[i]}" ||
      { cat "$TMP/real-k$k-agent$i.err" >&2; die "agent $i on $host did not start"; }
    port=$(sed -n "s|.*listening on tcp://${host//./\\.}:\([0-9]*\).*|\1|p" "$out")
    [[ -n "$port" ]] || die "cannot read the port of agent $i on $host"
    echo "$host:$port" >>"$TMP/real-k$k.agents"
    ((KEYS)) && echo "$host:$port $(cat "$KD/agent$i.pub")" >>"$TMP/real-k$k.known"
  done
  return 0
}

# start_sim K: one simfleet simulating K agents; writes $TMP/sim-kK.agents.
start_sim() {
  local k=$1 kargs=()
  if ((KEYS)); then
    [[ -f "$KD/sim.key" ]] || "$AGENT" keygen "$KD/sim" >/dev/null || die "agent keygen failed"
    kargs=(--key "$KD/sim.key" --authorized-keys "$KD/authorized")
    echo "127.0.0.1 $(cat "$KD/sim.pub")" >"$TMP/sim-k$k.known" # one key, every port
  fi
  ((ROUTER)) && kargs+=(--implicit-prepare) # for routerbench --no-prepare
  "$SIMFLEET" -n "$k" --agents-file "$TMP/sim-k$k.agents" --latency-us "$LATENCY_US" \
    "${kargs[@]}" >"$TMP/sim-k$k.out" 2>"$TMP/sim-k$k.err" &
  AGENT_PIDS+=($!)
  wait_line "$TMP/sim-k$k.out" "agents ready" "${AGENT_PIDS[0]}" ||
    { cat "$TMP/sim-k$k.err" >&2; die "simfleet -n $k did not start"; }
}

echo "target-server --threads 1 on http://$TARGET; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
if ((JOURNAL)); then
  echo "coordinator journal (fsync per timed run) in $JDIR ($(df -PT "$JDIR" | awk 'NR == 2 {print $2}'))"
else
  echo "coordinator without --journal"
fi
echo "coordinator $("$COORD" --version | cut -d' ' -f2-); lockstep, async-for -r $REQUESTS --connections $CONNS, runs $RUNS$( ((DOUBLE)) && echo " and $((2 * RUNS))"), warmup $WARMUP, --order $ORDER, repeat $REPEAT$( ((KEYS)) && echo ", CURVE keys")"
((${#SKS[@]})) && echo "simfleet: simulated agents in one process, request latency $LATENCY_US us, no HTTP"
if (($(nproc) <= 4)); then
  echo "note: $(nproc) CPUs shared by every agent, the coordinator, the target-server and whatever else"
  echo "      runs here: with many agents the figures measure CPU contention as much as the coordinator"
fi
: >"$TMP/index"
: >"$TMP/agentlog"
: >"$TMP/rindex"
run_fleet() { # KIND K
  local kind=$1 k=$2 rep dead lost p
  AGENT_PIDS=()
  KEYARGS=()
  "start_$kind" "$k"
  ((KEYS)) && KEYARGS=(--key "$KD/coord.key" --known-agents "$TMP/$kind-k$k.known")
  printf '%-4s K=%-4d load average %s ' "$kind" "$k" "$(cut -d' ' -f1-3 /proc/loadavg)"
  for ((rep = 1; rep <= REPEAT; rep++)); do
    if ((DOUBLE && rep % 2 == 0)); then # 2R first every other repeat, to cancel drift
      coord "$kind" "$k" $((2 * RUNS)) "r$rep-2R"; coord "$kind" "$k" "$RUNS" "r$rep-R"
    else
      coord "$kind" "$k" "$RUNS" "r$rep-R"
      ((DOUBLE)) && coord "$kind" "$k" $((2 * RUNS)) "r$rep-2R"
    fi
    if ((ROUTER)); then
      router_bench "$kind" "$k" "r$rep"
      [[ $kind == sim ]] && router_bench "$kind" "$k" "r$rep" --no-prepare
    fi
    printf '.'
  done
  dead=0
  for p in "${AGENT_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || dead=$((dead + 1)); done
  ((dead == 0)) || echo "warning: $dead of the $kind fleet's processes died during the invocations (see --keep)" >&2
  stop "${AGENT_PIDS[@]}"
  AGENT_PIDS=()
  # agents that had to time the coordinator out: its BYE never arrived
  lost=$(cat "$TMP/$kind-k$k"-*.err 2>/dev/null | grep -c 'coordinator lost' || true)
  echo "$kind $k $lost $dead" >>"$TMP/agentlog"
  echo " load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
for k in "${KS[@]}"; do run_fleet real "$k"; done
for k in "${SKS[@]}"; do run_fleet sim "$k"; done

python3 - "$TMP/index" "$TMP/agentlog" "$RUNS" "$WARMUP" "$STRICT" "$TIMEOUT" "$(nproc)" "$TMP/rindex" <<'EOF'
import json, math, statistics, sys
index, agentlog = sys.argv[1], sys.argv[2]
R, W, strict, timeout = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", sys.argv[6]
ncpu = int(sys.argv[7])
router = {}  # (kind, K, mode) -> [(cpu us/agent/run, fan-out p50 us)]
for line in open(sys.argv[8]):
    kind, k, mode, cpu, fan = line.split()
    router.setdefault((kind, int(k), mode), []).append((float(cpu), float(fan)))

def pct(xs, p):  # linear interpolation between closest ranks (numpy's default)
    xs = sorted(xs)
    if not xs:
        return math.nan
    h = (len(xs) - 1) * p / 100
    lo = math.floor(h)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (h - lo)

def med(xs):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return statistics.median(xs) if xs else math.nan

bad = []
inv = {}  # (kind, K) -> list of invocations, in index order
for line in open(index):
    kind, k, runs, tag, base = line.split()
    k, runs = int(k), int(runs)
    m = json.load(open(base + ".meas"))
    m.update(kind=kind, k=k, runs=runs, tag=tag, base=base, ok=False)
    why = None
    if m["timed_out"]:
        why = f"no exit within {timeout} s (timed out, SIGTERM sent)"
    elif m["rc"] != 0:
        why = f"exit code {m['rc']}"
    try:
        d = json.load(open(base + ".json"))
        res = d["results"][0]
        fb = res["fleetbench"]
        times = res["times"]
        agents = fb["agents"]
        if why is None and (len(times) != runs or fb["runs"]["measured"] != runs
                            or fb["runs"]["failed"] or fb["runs"]["lost"]
                            or fb["requests"]["failed"] or len(agents) != k):
            why = (f"JSON: {len(times)} times, runs {fb['runs']}, requests {fb['requests']}, "
                   f"{len(agents)} agents (expected {runs} clean runs of {k} agents)")
        skews = []
        for j in range(len(times)):
            offs = [a["start_offsets"][j] for a in agents if a["start_offsets"][j] is not None]
            skews.append(max(offs) - min(offs) if offs else math.nan)
        if why is None and fb["skew"]["max"] is not None and \
                abs(max(skews) - fb["skew"]["max"]) > 1e-9:
            why = f"skew max {max(skews)} from start_offsets != fleetbench.skew.max {fb['skew']['max']}"
        fan = [x for x in fb.get("go_fanout", []) if x is not None]
        hs = d["fleetbench"].get("handshake")
        m.update(times=times, skews=skews, agents=agents, fanout=fan,
                 handshake=hs if hs is not None else math.nan)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        why = why or f"no usable JSON ({type(e).__name__}: {e})"
    if why:
        bad.append((m, why))
    else:
        m["ok"] = True
    inv.setdefault((kind, k), []).append(m)

def runs_sum(m):  # timed runs as exported, plus the W warmups estimated
    return sum(m["times"]) + W * statistics.median(m["times"])

rows = []
for (kind, k), ms in inv.items():
    good = [m for m in ms if m["ok"]]
    skews = [s * 1e6 for m in good for s in m["skews"] if not math.isnan(s)]
    fan = [x * 1e6 for m in good for x in m["fanout"]]
    short = [m for m in good if m["runs"] == R]
    naive = [(m["wall_s"] - runs_sum(m)) / (R + W) * 1e3 for m in short]
    marg, fixed, mcpu = [], [], []
    for m in short:
        rep = m["tag"].split("-")[0]
        long_ = [x for x in good if x["runs"] == 2 * R and x["tag"].split("-")[0] == rep]
        if not long_:
            continue
        l = long_[0]
        mg = ((l["wall_s"] - m["wall_s"]) - (sum(l["times"]) - sum(m["times"]))) / R
        marg.append(mg * 1e3)
        fixed.append((m["wall_s"] - runs_sum(m) - (R + W) * mg) * 1e3)
        mcpu.append(((l["user_s"] + l["sys_s"]) - (m["user_s"] + m["sys_s"])) / R * 1e3)
    runt = [t * 1e3 for m in good for t in m["times"]]
    cpu = [(m["user_s"] + m["sys_s"]) / (m["runs"] + W) * 1e3 for m in short]
    # start order: mean offset of each agent, in agents-file order (the order
    # PREPARE and GO are sent in)
    order = []
    if good and k > 1:
        for a in range(k):
            xs = [m["agents"][a]["start_offsets"][j] for m in good
                  for j in range(len(m["times"])) if m["agents"][a]["start_offsets"][j] is not None]
            order.append(statistics.mean(xs) * 1e6 if xs else math.nan)
    rows.append(dict(kind=kind, k=k, n=len(skews), p50=pct(skews, 50), p99=pct(skews, 99),
                     max=max(skews) if skews else math.nan, naive=med(naive), marg=med(marg),
                     fixed=med(fixed), runt=med(runt), cpu=med(cpu), mcpu=med(mcpu),
                     cpu_agent=med(mcpu) * 1e3 / k, fan50=pct(fan, 50), fan99=pct(fan, 99),
                     fanmax=max(fan) if fan else math.nan,
                     hs=med([m["handshake"] * 1e3 for m in good]),
                     rss=max([m.get("maxrss_kb", 0) for m in good], default=0) / 1024,
                     busy=med([m["busy_cores"] for m in ms]),
                     load=" ".join(ms[-1]["loadavg"]), order=order, bad=len(ms) - len(good),
                     naives=naive, margs=marg, mcpus=mcpu))

def f(x, w, p=1):
    return f"{'-':>{w}}" if x is None or math.isnan(x) else f"{x:{w}.{p}f}"

print()
print("            ----- start skew (us) -----   -- coordinator overhead (ms) --   run     coord CPU   machine")
print(f"{'fleet':>4} {'K':>5} {'runs':>6} {'p50':>8} {'p99':>8} {'max':>8}  {'ovh/run':>9} {'marg/run':>9} {'fixed':>8}"
      f"  {'med ms':>7} {'ms/run':>5} {'marg':>5}  {'busy':>5}  load avg (1/5/15)")
for r in rows:
    print(f"{r['kind']:>4} {r['k']:>5} {r['n']:>6} {f(r['p50'], 8)} {f(r['p99'], 8)} {f(r['max'], 8)}  "
          f"{f(r['naive'], 9, 3)} {f(r['marg'], 9, 3)} {f(r['fixed'], 8)}  {f(r['runt'], 7, 3)} "
          f"{f(r['cpu'], 6, 2)} {f(r['mcpu'], 5, 2)}  {f(r['busy'], 5, 2)}  {r['load']}")
print()
def rb(kind, k, mode, i):  # routerbench's median over the repeats: 0 cpu, 1 fan-out
    xs = router.get((kind, k, mode))
    return med([x[i] for x in xs]) if xs else math.nan
print("            coord CPU   -- GO fan-out (us) --   handshake  coord RSS" +
      ("   routerbench us/agent/run (fan-out p50 us)" if router else ""))
print(f"{'fleet':>4} {'K':>5} {'us/agent/run':>12} {'p50':>7} {'p99':>7} {'max':>7}  {'ms':>9}  {'MiB':>9}" +
      (f"   {'4 msg':>6} {'coord/it':>8} {'(fan)':>7} {'2 msg':>6} {'(fan)':>7}" if router else ""))
for r in rows:
    line = (f"{r['kind']:>4} {r['k']:>5} {f(r['cpu_agent'], 12)} {f(r['fan50'], 7)} {f(r['fan99'], 7)} "
            f"{f(r['fanmax'], 7)}  {f(r['hs'], 9)}  {f(r['rss'], 9)}")
    if router:
        c4 = rb(r["kind"], r["k"], "4msg", 0)
        line += (f"   {f(c4, 6)} {f(r['cpu_agent'] / c4 if c4 else math.nan, 8, 2)} "
                 f"{f(rb(r['kind'], r['k'], '4msg', 1), 7)} {f(rb(r['kind'], r['k'], '2msg', 0), 6)} "
                 f"{f(rb(r['kind'], r['k'], '2msg', 1), 7)}")
    print(line)
print()
print("ovh/run  = (wall - timed run times - W x median run time) / (R + W); wall is the whole")
print("           coordinator process (exec, ZeroMQ connects, hello/welcome, plan/accept with the")
print("           agents' TCP probe of the target, every prepare/ready/go/result exchange, summary,")
print("           JSON export, bye, zmq_ctx_term); a run's time is the agents' makespan (first")
print("           start to last end), so GO delivery, thread wake-up and RESULT return count here")
print("marg/run = extra wall per extra run between the R and 2R invocations, minus the extra run")
print("           time; fixed = wall(R) - runs - (R + W) x marg/run")
print("run med  = median run time (makespan); coord CPU = coordinator user+sys per run (ms/run:")
print("           whole process / (R + W); marg: per extra run); busy = cores busy machine-wide")
print(f"           during the invocations (/proc/stat), of {ncpu}")
print("us/agent/run = (CPU(2R) - CPU(R)) / (R x K), median over the repeats; GO fan-out = first to")
print("           last GO sent, per lockstep run (timed runs), pooled; handshake = connects to the")
print("           last WELCOME, median; RSS = the coordinator's max resident set, largest invocation")
print("fleet    = real: agent daemons; sim: bench/simfleet (one process, no HTTP; a simulated agent")
print("           starts at GO's start time, or when GO arrives if later)")
if router:
    print("routerbench = the lockstep messaging alone with one ROUTER socket (no journal, summary,")
    print("           export; docs/scale.md): its whole-process CPU over R runs / (R x K), median over")
    print("           the repeats; coord/it = the coordinator's us/agent/run over routerbench's (4 msg);")
    print("           2 msg = GO and RESULT only (simfleet --implicit-prepare)")
for r in rows:
    if len(r["naives"]) > 1:
        print(f"{r['kind']} K={r['k']}: per repeat, ovh/run " + " ".join(f"{x:.3f}" for x in r["naives"]) +
              " ms; marg/run " + " ".join(f"{x:.3f}" for x in r["margs"]) +
              " ms; CPU/agent/run " + " ".join(f"{x * 1e3 / r['k']:.1f}" for x in r["mcpus"]) + " us")
for r in rows:
    o = r["order"]
    if len(o) > 1 and not any(math.isnan(x) for x in o):
        n = len(o)
        xm = (n - 1) / 2
        ym = statistics.mean(o)
        slope = sum((i - xm) * (y - ym) for i, y in enumerate(o)) / sum((i - xm) ** 2 for i in range(n))
        picks = sorted({0, n // 4, n // 2, 3 * n // 4, n - 1})
        print(f"{r['kind']} K={r['k']}: mean start offset by agents-file position: " +
              ", ".join(f"#{i + 1} {o[i]:.0f}" for i in picks) +
              f" us; slope {slope:.2f} us per position")
for line in open(agentlog):
    kind, k, lost, dead = line.split()
    if int(lost) or int(dead):
        print(f"{kind} K={k}: {lost} agent session(s) ended by liveness timeout (BYE not received), "
              f"{dead} process(es) died")
rc = 0
if bad:
    rc = 2
    print("\nCOORDINATOR FAILED, TIMED OUT OR WROTE AN INCONSISTENT JSON:")
    for m, why in bad:
        print(f"  {m['kind']} K={m['k']} R={m['runs']} ({m['tag']}): {why}; wall {m['wall_s']:.3f} s")
        print("    reproduce: start the agents (or simfleet) and target-server as above, then")
        print("     ", " ".join(m["cmd"]))
        try:
            err = open(m["base"] + ".meas.stderr", errors="replace").read().strip().splitlines()[-5:]
        except OSError:
            err = []
        for e in err:
            print("      stderr:", e)

# The aims that apply to the K measured; each line says ok or MISSED.
aims = []
def aim(ok, text):
    aims.append(ok)
    print(f"  {'ok    ' if ok else 'MISSED'} {text}")
if rows:
    print("\naims:")
    for r in rows:
        if r["kind"] == "real" and 2 <= r["k"] <= ncpu:
            aim(r["p99"] < 200, f"real K={r['k']} (<= {ncpu} cores): skew p99 {f(r['p99'], 0)} us < 200")
        if r["kind"] == "real" and r["k"] == 32:
            aim(r["p99"] < 1000, f"real K=32: skew p99 {f(r['p99'], 0)} us < 1000")
        ovh = r["marg"] if not math.isnan(r["marg"]) else r["naive"]
        if r["k"] <= 32:
            aim(ovh < 2, f"{r['kind']} K={r['k']}: overhead per run {f(ovh, 0, 3)} ms < 2")
        if r["k"] >= 256:
            aim(r["cpu_agent"] <= 20, f"{r['kind']} K={r['k']}: coordinator CPU "
                f"{f(r['cpu_agent'], 0)} us per agent per run <= 20")
        if r["k"] == 256:
            aim(r["fan50"] <= 1000, f"{r['kind']} K=256: GO fan-out p50 {f(r['fan50'], 0)} us <= 1000")
    if strict and rc == 0 and not all(aims):
        rc = 3
sys.exit(rc)
EOF
