#!/usr/bin/env bash
# bench/strategies.sh: the five agent strategies against each other and
# against `curl --parallel`, on the real target-server over 127.0.0.1. A
# benchmark, not a test: it prints figures (and with --strict fails when
# async-for is slower than curl --parallel). Traffic goes to 127.0.0.1 only;
# every command has a timeout; every process started here is stopped on exit.
set -euo pipefail

usage() {
  cat <<EOF
Usage: bench/strategies.sh [OPTIONS]

Starts target-server --threads 2 on 127.0.0.1, then for each N runs, in
alternating order for a few rounds, each contender once:
  agent run STRATEGY -r N -c 100 --connections 100    (the five strategies)
  curl --parallel --parallel-max 100 -K FILE          (the same N URLs, bodies to /dev/null)
and prints per contender the median req/s (N / wall time of the whole
process), CPU per request ((user + sys) / N) and the spread, then the ratios
async-for / curl --parallel and async / threads.

Options:
  -r, --rounds N       rounds (default \$ROUNDS or 5)
  -n, --requests LIST  values of N, comma-separated (default \$REQUESTS or 1000,20000)
  -c, --chunk C        -c and --connections of the agent, --parallel-max of curl
                       (default 100)
      --queue          also run async-for --in-flight 0 (every transfer added to
                       curl at once; slow with libcurl < 8.1, see agent/README.md;
                       --timeout 120000, since queued time counts against it)
      --build-dir DIR  CMake build directory (default \$BUILD_DIR or <repo>/build-bench)
      --no-build       use the binaries already in --build-dir
      --strict         exit 3 if async-for is slower than curl --parallel at the
                       largest N
  -h, --help           this text
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-1000,20000}
CHUNK=100
QUEUE=0
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
DO_BUILD=1
STRICT=0
STRATEGIES=(threads-recreate threads-reuse threads-map async-for async-map)

die() {
  echo "strategies: error: $*" >&2
  exit 1
}
need_arg() { if (($# < 2)) || [[ -z "$2" ]]; then die "$1 needs a value (see --help)"; fi; }

while (($#)); do
  case "$1" in
  -r | --rounds) need_arg "$@"; ROUNDS=$2; shift 2 ;;
  -n | --requests) need_arg "$@"; REQUESTS=$2; shift 2 ;;
  -c | --chunk) need_arg "$@"; CHUNK=$2; shift 2 ;;
  --queue) QUEUE=1; shift ;;
  --build-dir) need_arg "$@"; BUILD_DIR=$2; shift 2 ;;
  --no-build) DO_BUILD=0; shift ;;
  --strict) STRICT=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds: '$ROUNDS' is not a positive integer"
[[ "$CHUNK" =~ ^[1-9][0-9]*$ ]] || die "--chunk: '$CHUNK' is not a positive integer"
IFS=, read -r -a NS <<<"$REQUESTS"
for n in "${NS[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] && ((n <= 1000000)) || die "--requests: '$n' is not in 1..1000000"
done
for t in curl python3 timeout; do command -v "$t" >/dev/null || die "$t not found"; done
AGENT=$BUILD_DIR/agent/agent
SERVER=$BUILD_DIR/target-server/target-server

TMP=$(mktemp -d "${TMPDIR:-/tmp}/strategies.XXXXXX")
TS_PID=""
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  if [[ -n "$TS_PID" ]] && kill -0 "$TS_PID" 2>/dev/null; then
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

# The server: 127.0.0.1, a free port, 2 event loops.
"$SERVER" --host 127.0.0.1 --port 0 --threads 2 >"$TMP/ts.out" 2>"$TMP/ts.err" &
TS_PID=$!
for ((i = 0; i < 100; i++)); do
  grep -q 'listening on http://' "$TMP/ts.out" 2>/dev/null && break
  kill -0 "$TS_PID" 2>/dev/null || { cat "$TMP/ts.err" >&2; die "target-server exited"; }
  sleep 0.05
done
PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$TMP/ts.out")
[[ -n "$PORT" ]] || die "target-server did not start within 5 s"
TARGET=127.0.0.1:$PORT

# measure LABEL N TIMEOUT CMD...: runs CMD once; appends "label n wall user
# sys" to $TMP/results (CPU from the child's rusage, so the helper's own
# start-up is not counted). An agent run must report ok == N, curl must exit 0.
cat >"$TMP/measure.py" <<'EOF'
import json, resource, subprocess, sys, time
label, n, timeout, cmd = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
try:
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
except subprocess.TimeoutExpired:
    sys.exit(f"{label} N={n}: no result within {timeout:.0f} s")
wall = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode != 0:
    sys.exit(f"{label} N={n}: exit {p.returncode}: {p.stderr.decode()[-2000:]}")
if cmd[0].endswith("agent"):
    rec = json.loads(p.stdout)
    if rec["ok"] != n:
        sys.exit(f"{label} N={n}: ok {rec['ok']} of {n}: {rec['failures']}")
print(label, n, f"{wall:.6f}", f"{after.ru_utime - before.ru_utime:.6f}",
      f"{after.ru_stime - before.ru_stime:.6f}")
EOF

# curl's config for N: one url line per number, bodies to /dev/null.
curl_config() {
  local n=$1 f=$TMP/urls-$1.cfg
  [[ -f "$f" ]] || awk -v n="$n" -v t="$TARGET" 'BEGIN {
    for (i = 0; i < n; i++) printf "url = \"http://%s/multiply?number=%d\"\noutput = \"/dev/null\"\n", t, i }' >"$f"
  echo "$f"
}

# run_one LABEL N: one measured run of a contender.
run_one() {
  local label=$1 n=$2 limit=$((60 + $2 / 100))
  [[ "$label" != async-for-all ]] || limit=$((120 + $2 / 50))
  case "$label" in
  curl-parallel)
    python3 "$TMP/measure.py" "$label" "$n" "$limit" curl --silent --show-error \
      --no-progress-meter --fail --parallel --parallel-max "$CHUNK" --max-time 10 \
      --proxy "" -K "$(curl_config "$n")" ;;
  async-for-all)
    python3 "$TMP/measure.py" "$label" "$n" "$limit" "$AGENT" run async-for -r "$n" \
      --connections "$CHUNK" --in-flight 0 --timeout 120000 --target "$TARGET" --json ;;
  *)
    python3 "$TMP/measure.py" "$label" "$n" "$limit" "$AGENT" run "$label" -r "$n" \
      -c "$CHUNK" --connections "$CHUNK" --target "$TARGET" --json ;;
  esac
}

CONTENDERS=("${STRATEGIES[@]}" curl-parallel)
((QUEUE)) && CONTENDERS+=(async-for-all)
echo "target-server --threads 2 on http://$TARGET; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "agent $("$AGENT" --version | cut -d' ' -f2-); $(curl --version | head -1 | cut -d' ' -f1-2)"
: >"$TMP/results"
for n in "${NS[@]}"; do
  echo
  echo "== N=$n, -c $CHUNK --connections $CHUNK, curl --parallel-max $CHUNK; $ROUNDS rounds"
  for label in "${CONTENDERS[@]}"; do run_one "$label" "$n" >/dev/null; done # warm-up
  for ((r = 1; r <= ROUNDS; r++)); do
    order=("${CONTENDERS[@]}")
    if ((r % 2 == 0)); then # reversed every other round, to cancel drift
      order=()
      for ((i = ${#CONTENDERS[@]} - 1; i >= 0; i--)); do order+=("${CONTENDERS[i]}"); done
    fi
    for label in "${order[@]}"; do run_one "$label" "$n" >>"$TMP/results"; done
    printf '.'
  done
  echo
done

# The table and the ratios, from the medians.
python3 - "$TMP/results" "${NS[*]}" "$STRICT" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
ns = [int(x) for x in sys.argv[2].split()]
strict = sys.argv[3] == "1"
runs = {}
for label, n, wall, user, sys_ in rows:
    runs.setdefault((label, int(n)), []).append((float(wall), float(user) + float(sys_)))
rc = 0
for n in ns:
    labels = [l for (l, m) in runs if m == n]
    med = {}
    print(f"\nN={n}")
    print(f"  {'contender':<18} {'req/s':>9} {'wall s':>8} {'spread':>7} {'CPU us/req':>11} {'user+sys s':>11}")
    for l in labels:
        walls = [w for w, _ in runs[(l, n)]]
        cpus = [c for _, c in runs[(l, n)]]
        w, c = statistics.median(walls), statistics.median(cpus)
        med[l] = (n / w, c / n * 1e6)
        spread = (max(walls) - min(walls)) / w * 100
        print(f"  {l:<18} {n / w:9.0f} {w:8.4f} {spread:6.0f}% {c / n * 1e6:11.1f} {c:11.3f}")
    def ratio(a, b):
        if a in med and b in med:
            print(f"  {a} / {b}: {med[a][0] / med[b][0]:.2f}x req/s, "
                  f"{med[b][1] / med[a][1]:.2f}x less CPU per request")
            return med[a][0] / med[b][0]
        return None
    r = ratio("async-for", "curl-parallel")
    for t in ("threads-recreate", "threads-reuse", "threads-map"):
        ratio("async-for", t)
    ratio("async-map", "async-for")
    ratio("async-for-all", "async-for")
    if n == max(ns) and r is not None:
        verdict = "ok" if r >= 1.0 else "FAILED"
        print(f"  requirement async-for >= 1.0x curl --parallel (aim 2x): {r:.2f}x {verdict}")
        if r < 1.0 and strict:
            rc = 3
sys.exit(rc)
EOF
