#!/usr/bin/env bash
# bench/rate.sh: the same offered load in open loop (agent run --rate) and in
# closed loop (hey -q, rate-limited workers), against target-server with a
# freeze (SIGSTOP/SIGCONT) or a --delay, and both views side by side. A
# benchmark, not a test: it prints figures and ratios. Traffic goes to
# 127.0.0.1 only; every command has a timeout; every process started here is
# stopped on exit (a frozen server is thawed first).
set -euo pipefail

usage() {
  cat <<EOF
Usage: bench/rate.sh [OPTIONS]

Starts target-server --threads 1 on 127.0.0.1, then per round runs, one after
another, with the same load R requests/s for S s and concurrency C:
  agent run STRATEGY --rate R --duration S -c C / --connections C   (open loop)
  hey -n R*S -c C -q R/C                                            (closed loop)
Each run gets the same disturbance: the server stopped for --freeze ms in the
middle of the run (SIGSTOP, then SIGCONT), and/or every answer delayed by
--delay ms. Prints per contender the achieved rate and the latency
percentiles: for the agent from each request's due time (corrected) and from
its send (service time), for hey from its send (its only view). Then, per
strategy, the ratio of its corrected p99 to hey's p99: how much of the stall
the closed loop leaves out. Medians over the rounds.

Options:
  -R, --rate R          requests per second (default \$RATE or 2000)
  -d, --duration S      seconds of load (default \$DURATION or 4)
  -c, --concurrency C   agent -c / --connections, hey -c (default 20)
      --freeze MS       stop the server for MS ms mid-run (default 500; 0: none)
      --delay MS        target-server --delay MS (default 0)
  -s, --strategies LIST comma-separated (default: all five)
  -r, --rounds N        rounds (default \$ROUNDS or 3)
      --build-dir DIR   CMake build directory (default \$BUILD_DIR or <repo>/build-bench)
      --no-build        use the binaries already in --build-dir
  -h, --help            this text

Needs hey (Debian package hey; scripts/install-deps.sh --bench installs it).
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RATE=${RATE:-2000}
DURATION=${DURATION:-4}
CONC=20
FREEZE=500
DELAY=0
STRATEGIES=threads-recreate,threads-reuse,threads-map,async-for,async-map
ROUNDS=${ROUNDS:-3}
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
DO_BUILD=1

die() {
  echo "rate: error: $*" >&2
  exit 1
}
need_arg() { if (($# < 2)) || [[ -z "$2" ]]; then die "$1 needs a value (see --help)"; fi; }

while (($#)); do
  case "$1" in
  -R | --rate) need_arg "$@"; RATE=$2; shift 2 ;;
  -d | --duration) need_arg "$@"; DURATION=$2; shift 2 ;;
  -c | --concurrency) need_arg "$@"; CONC=$2; shift 2 ;;
  --freeze) need_arg "$@"; FREEZE=$2; shift 2 ;;
  --delay) need_arg "$@"; DELAY=$2; shift 2 ;;
  -s | --strategies) need_arg "$@"; STRATEGIES=$2; shift 2 ;;
  -r | --rounds) need_arg "$@"; ROUNDS=$2; shift 2 ;;
  --build-dir) need_arg "$@"; BUILD_DIR=$2; shift 2 ;;
  --no-build) DO_BUILD=0; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done
# in_range NAME VALUE MIN MAX: VALUE is a decimal integer in MIN..MAX.
in_range() {
  if ! [[ "$2" =~ ^(0|[1-9][0-9]*)$ ]] || (($2 < $3 || $2 > $4)); then
    die "$1: '$2' is not an integer in $3..$4"
  fi
}
in_range --rate "$RATE" 1 100000
in_range --duration "$DURATION" 1 600
in_range --concurrency "$CONC" 1 10000
in_range --freeze "$FREEZE" 0 $((DURATION * 1000 - 1))
in_range --delay "$DELAY" 0 10000
in_range --rounds "$ROUNDS" 1 1000
IFS=, read -r -a STRATS <<<"$STRATEGIES"
for s in "${STRATS[@]}"; do
  case "$s" in
  threads-recreate | threads-reuse | threads-map | async-for | async-map) ;;
  *) die "--strategies: unknown strategy '$s'" ;;
  esac
done
for t in hey python3 timeout; do
  command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh --bench installs hey)"
done
AGENT=$BUILD_DIR/agent/agent
SERVER=$BUILD_DIR/target-server/target-server
N=$((RATE * DURATION))

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rate.XXXXXX")
TS_PID=""
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  if [[ -n "$TS_PID" ]] && kill -0 "$TS_PID" 2>/dev/null; then
    kill -CONT "$TS_PID" 2>/dev/null || true # a stopped server would not see TERM
    kill -TERM "$TS_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$TS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$TS_PID" 2>/dev/null || true
    wait "$TS_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((DO_BUILD)); then
  echo "building agent and target-server (Release) in $BUILD_DIR ..."
  if ! { timeout 600 cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release &&
    timeout 900 cmake --build "$BUILD_DIR" -j2 --target agent target-server; } \
    >"$TMP/build.log" 2>&1; then
    tail -n 30 "$TMP/build.log" >&2
    die "build failed"
  fi
fi
[[ -x "$AGENT" && -x "$SERVER" ]] || die "no agent or target-server under $BUILD_DIR"

# The server: 127.0.0.1, a free port, one event loop (one process to freeze).
"$SERVER" --host 127.0.0.1 --port 0 --threads 1 --delay "$DELAY" >"$TMP/ts.out" 2>"$TMP/ts.err" &
TS_PID=$!
for ((i = 0; i < 100; i++)); do
  grep -q 'listening on http://' "$TMP/ts.out" 2>/dev/null && break
  kill -0 "$TS_PID" 2>/dev/null || { cat "$TMP/ts.err" >&2; die "target-server exited"; }
  sleep 0.05
done
PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$TMP/ts.out")
[[ -n "$PORT" ]] || die "target-server did not start within 5 s"
TARGET=127.0.0.1:$PORT

# freeze_mid PID: while PID runs, stops the server for FREEZE ms in the
# middle of the DURATION s of load.
# (The sleeps are computed once, here: nothing slow between STOP and CONT.)
FREEZE_AT=$(python3 -c "print(max(0.0, $DURATION / 2 - $FREEZE / 2000))")
FREEZE_S=$(python3 -c "print($FREEZE / 1000)")
freeze_mid() {
  ((FREEZE > 0)) || return 0
  sleep "$FREEZE_AT"
  kill -0 "$1" 2>/dev/null || return 0
  kill -STOP "$TS_PID"
  sleep "$FREEZE_S"
  kill -CONT "$TS_PID"
}

# A run may take the duration, the freeze, the delays and catching up.
LIMIT=$((DURATION * 3 + FREEZE / 1000 + 60))

# run_agent STRATEGY OUT: one open-loop run; its JSON record in OUT.
run_agent() {
  local s=$1 out=$2 conc_flag=(-c "$CONC") pid rc=0
  [[ "$s" != async-* ]] || conc_flag=(--connections "$CONC")
  timeout "$LIMIT" "$AGENT" run "$s" --rate "$RATE" --duration "$DURATION" "${conc_flag[@]}" \
    --target "$TARGET" --json >"$out" 2>"$TMP/agent.err" &
  pid=$!
  freeze_mid "$pid"
  wait "$pid" || rc=$?
  ((rc == 0)) || { tail -n 5 "$TMP/agent.err" >&2; die "agent run $s: exit $rc"; }
}

# run_hey OUT: the closed loop at the same rate: C workers, R/C per second each.
run_hey() {
  local out=$1 pid rc=0 q
  q=$(python3 -c "print($RATE / $CONC)")
  timeout "$LIMIT" hey -n "$N" -c "$CONC" -q "$q" -o csv -t 20 \
    "http://$TARGET/multiply?number=7" >"$out" 2>"$TMP/hey.err" &
  pid=$!
  freeze_mid "$pid"
  wait "$pid" || rc=$?
  ((rc == 0)) || { tail -n 5 "$TMP/hey.err" >&2; die "hey: exit $rc"; }
}

echo "target-server --threads 1 --delay $DELAY on http://$TARGET; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "agent $("$AGENT" --version | cut -d' ' -f2-); hey $(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo '?')"
echo
echo "== $RATE req/s for $DURATION s ($N requests), concurrency $CONC, server frozen ${FREEZE} ms mid-run, answers delayed $DELAY ms; $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
  for s in "${STRATS[@]}"; do run_agent "$s" "$TMP/$s.$r.json"; done
  run_hey "$TMP/hey.$r.csv"
  printf '.'
done
echo

python3 - "$TMP" "$ROUNDS" "$RATE" "$DURATION" "$N" "${STRATS[@]}" <<'EOF'
import csv, json, statistics, sys
tmp, rounds, rate, duration, n, strats = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    float(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
KEYS = ["p50", "p90", "p99", "max"]

def pct(sorted_v, p):  # the smallest value with at least p % at or below it
    k = max(1, -(-len(sorted_v) * p // 100))
    return sorted_v[int(k) - 1]

def med(xs):
    return statistics.median(xs)

rows = {}
for s in strats:
    recs = [json.load(open(f"{tmp}/{s}.{r}.json")) for r in range(1, rounds + 1)]
    for rec in recs:
        if rec["ok"] != n:
            sys.exit(f"{s}: ok {rec['ok']} of {n}: {rec['failures']}")
    rows[s] = {
        "rate": med([rec["rate"]["achieved"] for rec in recs]),
        "corrected": {k: med([rec["latency"][k] / 1e6 for rec in recs]) for k in KEYS},
        "service": {k: med([rec["service"][k] / 1e6 for rec in recs]) for k in KEYS},
        "late": med([rec["lateness"]["max"] / 1e6 for rec in recs]),
    }
hey = []
for r in range(1, rounds + 1):
    with open(f"{tmp}/hey.{r}.csv") as f:
        recs = list(csv.DictReader(f))
    if len(recs) != n or any(x["status-code"] != "200" for x in recs):
        sys.exit(f"hey round {r}: {len(recs)} answers of {n}, or a status other than 200")
    lat = sorted(float(x["response-time"]) * 1e3 for x in recs)
    span = max(float(x["offset"]) + float(x["response-time"]) for x in recs)
    hey.append(({"p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99),
                 "max": lat[-1]}, n / span))
rows["hey -q (closed)"] = {"rate": med([h[1] for h in hey]), "corrected": None,
                           "service": {k: med([h[0][k] for h in hey]) for k in KEYS},
                           "late": None}

def fmt(d):
    return " ".join(f"{d[k]:8.2f}" for k in KEYS) if d else " ".join(f"{'-':>8}" for _ in KEYS)

print(f"\n{'contender':17} {'req/s':>8} | {'corrected (from due), ms':^35} | "
      f"{'service (from send), ms':^35} | {'late max':>8}")
print(f"{'':17} {'':8} | " + " ".join(f"{k:>8}" for k in KEYS) + " | " +
      " ".join(f"{k:>8}" for k in KEYS) + f" | {'ms':>8}")
for name, row in rows.items():
    late = f"{row['late']:8.2f}" if row["late"] is not None else f"{'-':>8}"
    print(f"{name:17} {row['rate']:8.0f} | {fmt(row['corrected'])} | {fmt(row['service'])} | {late}")
hp99 = rows["hey -q (closed)"]["service"]["p99"]
print(f"\nhey -q holds {rows['hey -q (closed)']['rate']:.0f} of {rate:.0f} req/s: a worker "
      f"waits for its answer before it sends again, so the requests it should have sent "
      f"meanwhile are never timed.")
for s in strats:
    c = rows[s]["corrected"]["p99"]
    print(f"{s:17} corrected p99 {c:8.2f} ms = {c / hp99:6.1f} x hey's p99 ({hp99:.2f} ms); "
          f"its own service p99 {rows[s]['service']['p99']:.2f} ms")
EOF
