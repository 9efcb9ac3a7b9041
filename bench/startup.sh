#!/usr/bin/env bash
# bench/startup.sh: the C client against the seed's Python client, whole
# process, timed by hyperfine in one run (so the ratio holds whatever the
# machine). Also the bare start-up of agent and target-server, and what the
# dynamic loader costs the agent. A benchmark, not a test; traffic goes to
# 127.0.0.1 only; everything started here is stopped on exit.
set -euo pipefail

usage() {
  cat <<EOF
Usage: bench/startup.sh [OPTIONS]

Starts target-server on 127.0.0.1 and times with hyperfine (-N, warmup 3):
  agent run STRATEGY -r N -c C                       (C: libcurl + libuv)
  python3 examples/seed/benchmark.py STRATEGY -r N -c C   (requests / aiohttp)
  agent --version, target-server --version           (bare start-up)
then prints the ratio python / C and the loader's share of agent --version.

Options:
  -s, --strategy S     strategy of both clients (default async-for)
  -n, --requests N     requests per run (default 1000)
  -c, --chunk C        concurrency of both clients (default 100)
      --runs R         hyperfine runs (default 20)
      --build-dir DIR  build directory with the binaries (default <repo>/build)
  -h, --help           this text
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STRATEGY=async-for
REQUESTS=1000
CHUNK=100
RUNS=20
BUILD_DIR=$ROOT/build

die() {
  echo "startup: error: $*" >&2
  exit 1
}
while (($#)); do
  case "$1" in
  -s | --strategy) STRATEGY=${2:?}; shift 2 ;;
  -n | --requests) REQUESTS=${2:?}; shift 2 ;;
  -c | --chunk) CHUNK=${2:?}; shift 2 ;;
  --runs) RUNS=${2:?}; shift 2 ;;
  --build-dir) BUILD_DIR=${2:?}; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown option '$1' (see --help)" ;;
  esac
done

AGENT=$BUILD_DIR/agent/agent
SERVER=$BUILD_DIR/target-server/target-server
PY=/usr/bin/python3
CLIENT=$ROOT/examples/seed/benchmark.py
for b in "$AGENT" "$SERVER"; do [[ -x $b ]] || die "$b not built (cmake --build $BUILD_DIR)"; done
command -v hyperfine >/dev/null || die "hyperfine missing: apt-get install hyperfine"
$PY -c 'import aiohttp, requests' 2>/dev/null ||
  die "the Python client needs python3-aiohttp and python3-requests (scripts/install-deps.sh --bench)"

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$SERVER" --host 127.0.0.1 --port 0 >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.out")
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n ${port:-} ]] || die "target-server did not start: $(cat "$work/server.out")"
export BENCHMARK_SERVER_HOST=127.0.0.1 BENCHMARK_SERVER_PORT=$port

c_cmd="$AGENT run $STRATEGY -r $REQUESTS -c $CHUNK --connections $CHUNK"
py_cmd="$PY $CLIENT $STRATEGY -r $REQUESTS -c $CHUNK"
timeout 600 hyperfine -N -w 3 -r "$RUNS" --style basic --export-json "$work/h.json" \
  -n c "$c_cmd" -n python "$py_cmd" -n agent-version "$AGENT --version" \
  -n server-version "$SERVER --version" >"$work/h.out"

$PY - "$work/h.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for name in ("c", "python", "agent-version", "server-version"):
    x = r[name]
    print(f"{name:15s} {x['mean']*1e3:9.2f} ms ± {x['stddev']*1e3:6.2f}  "
          f"[user {x['user']*1e3:7.2f} ms, system {x['system']*1e3:6.2f} ms]")
c, py = r["c"], r["python"]
ratio = py["mean"] / c["mean"]
err = ratio * ((c["stddev"] / c["mean"]) ** 2 + (py["stddev"] / py["mean"]) ** 2) ** 0.5
cpu = (py["user"] + py["system"]) / (c["user"] + c["system"])
print(f"python / C, whole process: {ratio:.2f} ± {err:.2f} times the wall time, {cpu:.1f} times the CPU")
print(f"agent --version / target-server --version: "
      f"{r['agent-version']['mean'] / r['server-version']['mean']:.1f}x")
EOF
echo "agent: $(ldd "$AGENT" | wc -l) shared objects; target-server: $(ldd "$SERVER" | wc -l)"
LD_DEBUG=statistics "$AGENT" --version 2>&1 >/dev/null |
  sed -n 's/.*\(total startup time in dynamic loader: .*\)/agent --version: \1/p; s/.*\(number of relocations: .*\)/agent --version: \1/p' | head -2

# Instructions rather than time (valgrind's callgrind, when installed): the
# agent's start-up against target-server's, and the dynamic loader's share.
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
  irs() { # program args...: total instructions, then those in ld.so
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$@" >/dev/null 2>&1
    callgrind_annotate --inclusive=no "$work/cg.out" 2>/dev/null | awk '
      /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
      /ld-linux/ { gsub(",", "", $1); ld += $1 }
      END { print total + 0, ld + 0 }'
  }
  read -r a_ir a_ld < <(irs "$AGENT" --version)
  read -r s_ir _ < <(irs "$SERVER" --version)
  awk -v a="$a_ir" -v l="$a_ld" -v s="$s_ir" 'BEGIN {
    printf "instructions, agent --version / target-server --version: %.1fx (%d vs %d); ", a / s, a, s
    printf "the dynamic loader: %.0f %% of the agent'"'"'s\n", 100 * l / a }'
fi

