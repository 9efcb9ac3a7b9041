#!/usr/bin/env bash
# bench/fleet.sh: the coordinator's lockstep start skew and its overhead per
# run, against K agents on one host (loopback only). A benchmark, not a test:
# it prints figures (and with --strict fails when the aims are missed). Every
# coordinator invocation has a timeout; every process started here is stopped
# by PID on exit; only 127.0.0.x addresses are used.
set -euo pipefail

usage() {
  cat <<EOF
Usage: bench/fleet.sh [OPTIONS]

Starts target-server --threads 1 on 127.0.0.1. Then, for each K, starts K
agents on 127.0.0.10 ... 127.0.0.(9+K) (loopback: 127.0.0.0/8 needs no alias on
Linux) and times the coordinator process (lockstep, light load):
  coordinator --agents ... --target ... --matrix async-for -r N --connections C
              --runs R -w W --export-json FILE
once with R and once with 2R timed runs (per repeat). It prints per K:
  skew p50/p99/max   per timed run, latest minus earliest agent start (from the
                     JSON's per-agent start_offsets); one host, one
                     CLOCK_MONOTONIC, so the skew is exact. Pooled over every
                     invocation of that K (3R runs per repeat).
  ovh/run            (coordinator wall - sum of run times - W x median run time)
                     / (R + W): everything the process does besides the runs,
                     amortised over every run, warmups included (warmup run
                     times are not exported, so they are estimated)
  marg/run           ((wall(2R) - wall(R)) - (sum times(2R) - sum times(R))) / R:
                     the cost of one more run, fixed costs cancelled
  fixed              wall(R) - runs - (R + W) x marg/run: exec, hello, plan,
                     summary, export, bye, teardown
If the coordinator keeps a journal (--journal: one fsync'd line per timed run),
it goes next to the JSON in a temporary directory under \$TMPDIR (or /tmp), as
by default, so its fsync counts in the overhead; --journal-dir puts it
elsewhere (e.g. /dev/shm: no disk flush) to see what the fsync costs.
Aims: skew p99 < 1 ms at 32 agents, overhead < 2 ms per run.

Options:
  -k, --agents LIST     agent counts K (default \$AGENTS or 1,8,32; each 1..245)
      --runs R          timed runs of the shorter invocation (default \$RUNS or 200)
  -w, --warmup W        warmup runs (default 5)
  -r, --requests N      requests per agent per run (default 10)
      --connections C   async-for connections per agent (default 2)
      --repeat N        invocation pairs (R, 2R) per K, order alternating;
                        overheads are medians over the repeats (default
                        \$REPEAT or 3)
      --no-double       skip the 2R invocation (no marg/run, no fixed)
      --timeout S       bound on each coordinator invocation, seconds
                        (default 300); then SIGTERM, and SIGKILL 10 s later
      --journal-dir DIR where the coordinator's journals go (a temporary
                        directory made inside DIR; default: with the JSON)
      --keep DIR        keep every JSON, output and log in DIR
      --build-dir DIR   CMake build directory (default \$BUILD_DIR or <repo>/build-bench)
      --no-build        use the binaries already in --build-dir
      --strict          exit 3 if the largest K misses an aim
  -h, --help            this text

Exit: 0 done; 1 usage or setup error; 2 a coordinator invocation misbehaved
(non-zero exit, timeout, or a JSON that does not hold R clean runs of K
agents; the reproduction is printed); 3 --strict and an aim missed.
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AGENTS=${AGENTS:-1,8,32}
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
  -k | --agents) need_arg "$@"; AGENTS=$2; shift 2 ;;
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
IFS=, read -r -a KS <<<"$AGENTS"
((${#KS[@]} > 0)) || die "--agents: empty list"
for k in "${KS[@]}"; do posint --agents "$k" 245; done # 127.0.0.10 .. 127.0.0.254
for t in python3 timeout; do command -v "$t" >/dev/null || die "$t not found"; done
AGENT=$BUILD_DIR/agent/agent
SERVER=$BUILD_DIR/target-server/target-server
COORD=$BUILD_DIR/coordinator/coordinator

[[ -z "$JOURNAL_DIR" || -d "$JOURNAL_DIR" ]] || die "--journal-dir: '$JOURNAL_DIR' is not a directory"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fleet.XXXXXX")
JTMP=""
TS_PID=""
AGENT_PIDS=()
HELPER_PID=""

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
    timeout 900 cmake --build "$BUILD_DIR" -j2 --target target-server agent coordinator; } \
    >"$TMP/build.log" 2>&1; then
    tail -n 30 "$TMP/build.log" >&2
    die "build failed"
  fi
fi
[[ -x "$AGENT" && -x "$SERVER" && -x "$COORD" ]] || die "no agent, target-server or coordinator under $BUILD_DIR"

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
               "busy_cores": (tot - idle) / tot * os.cpu_count() if tot else 0.0,
               "loadavg": open("/proc/loadavg").read().split()[:3], "cmd": cmd}, f)
EOF

# coord K RUNS TAG AGENTLIST: one timed invocation; "K RUNS TAG" goes to the index.
coord() {
  local k=$1 runs=$2 tag=$3 list=$4 base=$TMP/k$1-$3 jargs=()
  ((JOURNAL)) && jargs=(--journal "$JDIR/k$k-$tag.journal")
  python3 "$TMP/coord.py" "$base.meas" "$TMP/coord.pid" "$TIMEOUT" \
    "$COORD" --agents "$list" --target "$TARGET" --matrix async-for -r "$REQUESTS" \
    --connections "$CONNS" --runs "$runs" -w "$WARMUP" --export-json "$base.json" "${jargs[@]}" &
  HELPER_PID=$!
  wait "$HELPER_PID" || die "the timing helper failed"
  HELPER_PID=""
  echo "$k $runs $tag $base" >>"$TMP/index"
}

echo "target-server --threads 1 on http://$TARGET; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
if ((JOURNAL)); then
  echo "coordinator journal (fsync per timed run) in $JDIR ($(df -PT "$JDIR" | awk 'NR == 2 {print $2}'))"
else
  echo "coordinator without --journal"
fi
echo "coordinator $("$COORD" --version | cut -d' ' -f2-); lockstep, async-for -r $REQUESTS --connections $CONNS, runs $RUNS$( ((DOUBLE)) && echo " and $((2 * RUNS))"), warmup $WARMUP, repeat $REPEAT"
if (($(nproc) <= 4)); then
  echo "note: $(nproc) CPUs shared by every agent, the coordinator, the target-server and whatever else"
  echo "      runs here: with many agents the figures measure CPU contention as much as the coordinator"
fi
: >"$TMP/index"
for k in "${KS[@]}"; do
  AGENT_PIDS=()
  list=""
  for ((i = 0; i < k; i++)); do
    host=127.0.0.$((10 + i))
    "$AGENT" --listen "$host:0" >"$TMP/k$k-agent$i.out" 2>"$TMP/k$k-agent$i.err" &
    AGENT_PIDS+=($!)
  done
  for ((i = 0; i < k; i++)); do
    host=127.0.0.$((10 + i))
    wait_line "$TMP/k$k-agent$i.out" "listening on tcp://" "${AGENT_PIDS[i]}" ||
      { cat "$TMP/k$k-agent$i.err" >&2; die "agent on $host did not start"; }
    port=$(sed -n "s|.*listening on tcp://${host//./\\.}:\([0-9]*\).*|\1|p" "$TMP/k$k-agent$i.out")
    [[ -n "$port" ]] || die "cannot read the port of the agent on $host"
    list+="${list:+,}$host:$port"
  done
  echo "$list" >"$TMP/k$k-agents"
  printf 'K=%-3d load average %s ' "$k" "$(cut -d' ' -f1-3 /proc/loadavg)"
  for ((rep = 1; rep <= REPEAT; rep++)); do
    if ((DOUBLE && rep % 2 == 0)); then # 2R first every other repeat, to cancel drift
      coord "$k" $((2 * RUNS)) "r$rep-2R" "$list"; coord "$k" "$RUNS" "r$rep-R" "$list"
    else
      coord "$k" "$RUNS" "r$rep-R" "$list"
      ((DOUBLE)) && coord "$k" $((2 * RUNS)) "r$rep-2R" "$list"
    fi
    printf '.'
  done
  dead=0
  for p in "${AGENT_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || dead=$((dead + 1)); done
  ((dead == 0)) || echo "warning: $dead of $k agents died during the invocations (see --keep)" >&2
  stop "${AGENT_PIDS[@]}"
  AGENT_PIDS=()
  # agents that had to time the coordinator out: its BYE never arrived
  lost=$(cat "$TMP"/k"$k"-agent*.err | grep -c 'coordinator lost' || true)
  echo "$k $lost $dead" >>"$TMP/agentlog"
  echo " load average $(cut -d' ' -f1-3 /proc/loadavg)"
done

python3 - "$TMP/index" "$TMP/agentlog" "$RUNS" "$WARMUP" "$STRICT" "$TIMEOUT" <<'EOF'
import json, math, statistics, sys
index, agentlog = sys.argv[1], sys.argv[2]
R, W, strict, timeout = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", sys.argv[6]

def pct(xs, p):  # linear interpolation between closest ranks (numpy's default)
    xs = sorted(xs)
    if not xs:
        return math.nan
    h = (len(xs) - 1) * p / 100
    lo = math.floor(h)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (h - lo)

def med(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else math.nan

bad = []
inv = {}  # K -> list of invocations
for line in open(index):
    k, runs, tag, base = line.split()
    k, runs = int(k), int(runs)
    m = json.load(open(base + ".meas"))
    m.update(k=k, runs=runs, tag=tag, base=base, ok=False)
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
        m.update(times=times, skews=skews, agents=agents)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        why = why or f"no usable JSON ({type(e).__name__}: {e})"
    if why:
        bad.append((m, why))
    else:
        m["ok"] = True
    inv.setdefault(k, []).append(m)

def runs_sum(m):  # timed runs as exported, plus the W warmups estimated
    return sum(m["times"]) + W * statistics.median(m["times"])

rows = []
for k, ms in inv.items():
    good = [m for m in ms if m["ok"]]
    skews = [s * 1e6 for m in good for s in m["skews"] if not math.isnan(s)]
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
    # start order: mean offset of each agent, in --agents order (the order
    # PREPARE and GO are sent in)
    order = []
    if good and k > 1:
        for a in range(k):
            xs = [m["agents"][a]["start_offsets"][j] for m in good
                  for j in range(len(m["times"])) if m["agents"][a]["start_offsets"][j] is not None]
            order.append(statistics.mean(xs) * 1e6 if xs else math.nan)
    rows.append(dict(k=k, n=len(skews), p50=pct(skews, 50), p99=pct(skews, 99),
                     max=max(skews) if skews else math.nan, naive=med(naive), marg=med(marg),
                     fixed=med(fixed), runt=med(runt), cpu=med(cpu), mcpu=med(mcpu),
                     busy=med([m["busy_cores"] for m in ms]),
                     load=" ".join(ms[-1]["loadavg"]), order=order, bad=len(ms) - len(good),
                     naives=naive, margs=marg))

def f(x, w, p=1):
    return f"{'-':>{w}}" if x is None or math.isnan(x) else f"{x:{w}.{p}f}"

print()
print("       ----- start skew (us) -----   -- coordinator overhead (ms) --   run     coord CPU   machine")
print(f"{'K':>4} {'runs':>6} {'p50':>8} {'p99':>8} {'max':>8}  {'ovh/run':>9} {'marg/run':>9} {'fixed':>8}"
      f"  {'med ms':>7} {'ms/run':>5} {'marg':>5}  {'busy':>5}  load avg (1/5/15)")
for r in rows:
    print(f"{r['k']:>4} {r['n']:>6} {f(r['p50'], 8)} {f(r['p99'], 8)} {f(r['max'], 8)}  "
          f"{f(r['naive'], 9, 3)} {f(r['marg'], 9, 3)} {f(r['fixed'], 8)}  {f(r['runt'], 7, 3)} "
          f"{f(r['cpu'], 6, 2)} {f(r['mcpu'], 5, 2)}  {f(r['busy'], 5, 2)}  {r['load']}")
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
print("           during the invocations (/proc/stat), of", __import__("os").cpu_count())
for r in rows:
    if len(r["naives"]) > 1:
        print(f"K={r['k']}: per repeat, ovh/run " + " ".join(f"{x:.3f}" for x in r["naives"]) +
              " ms; marg/run " + " ".join(f"{x:.3f}" for x in r["margs"]) + " ms")
for r in rows:
    o = r["order"]
    if len(o) > 1 and not any(math.isnan(x) for x in o):
        n = len(o)
        xm = (n - 1) / 2
        ym = statistics.mean(o)
        slope = sum((i - xm) * (y - ym) for i, y in enumerate(o)) / sum((i - xm) ** 2 for i in range(n))
        picks = sorted({0, n // 4, n // 2, 3 * n // 4, n - 1})
        print(f"K={r['k']}: mean start offset by --agents position: " +
              ", ".join(f"#{i + 1} {o[i]:.0f}" for i in picks) +
              f" us; slope {slope:.1f} us per position")
for line in open(agentlog):
    k, lost, dead = line.split()
    if int(lost) or int(dead):
        print(f"K={k}: {lost} agent session(s) ended by liveness timeout (BYE not received), "
              f"{dead} agent(s) died")
rc = 0
if bad:
    rc = 2
    print("\nCOORDINATOR FAILED, TIMED OUT OR WROTE AN INCONSISTENT JSON:")
    for m, why in bad:
        print(f"  K={m['k']} R={m['runs']} ({m['tag']}): {why}; wall {m['wall_s']:.3f} s")
        print("    reproduce: start the agents and target-server as above, then")
        print("     ", " ".join(m["cmd"]))
        try:
            err = open(m["base"] + ".meas.stderr", errors="replace").read().strip().splitlines()[-5:]
        except OSError:
            err = []
        for e in err:
            print("      stderr:", e)
if rows:
    big = max(rows, key=lambda r: r["k"])
    ovh = big["marg"] if not math.isnan(big["marg"]) else big["naive"]
    ok_skew = big["p99"] < 1000
    ok_ovh = ovh < 2
    print(f"\naims at K={big['k']}: skew p99 {f(big['p99'], 0)} us (< 1000) "
          f"{'ok' if ok_skew else 'MISSED'}; overhead per run {f(big['naive'], 0, 3)} ms all-in, "
          f"{f(big['marg'], 0, 3)} ms marginal (< 2) {'ok' if ok_ovh else 'MISSED'}")
    if strict and rc == 0 and not (ok_skew and ok_ovh):
        rc = 3
sys.exit(rc)
EOF
