#!/usr/bin/env bash
# bench/server-vs-nginx.sh: target-server against nginx returning the same
# body (README.md: never the bottleneck), plus target-server's memory with 10,000 idle
# keep-alive connections. See bench/README.md. Traffic goes to 127.0.0.1 only.
set -euo pipefail

usage() {
  cat <<EOF
Usage: bench/server-vs-nginx.sh [OPTIONS]

Benchmarks target-server (--threads 2) against nginx (worker_processes 2)
serving GET /multiply?number=7 -> {"result":14}, with wrk -t1 -c100, then
measures target-server's RSS with N idle keep-alive connections open.

Options:
  -d, --duration SEC     seconds per wrk run (default \$DURATION or 5)
  -r, --rounds N         rounds; each runs wrk once per server (default \$ROUNDS or 3)
  -c, --connections N    wrk connections (default \$CONNS or 100)
  -w, --warmup SEC       untimed wrk warm-up per server, 0 for none (default \$WARMUP or 1)
  -n, --idle-conns N     idle connections for the RSS test (default \$IDLE_CONNS or 10000)
      --idle-bare        idle connections send no request (default: one request each)
      --build-dir DIR    CMake build directory (default \$BUILD_DIR or <repo>/build-bench)
      --server-bin PATH  use this target-server binary; implies --no-build
      --no-build         do not (re)build target-server, use the one in --build-dir
      --no-install       do not run scripts/install-deps.sh --bench
      --no-wrk           skip the throughput comparison
      --no-rss           skip the idle-connection memory test
      --strict           exit 3 when a requirement (ratio >= 1.00, RSS < 64 MiB) fails
  -h, --help             this text

Requirements checked: req/s median ratio target-server/nginx >= 1.00 (aim 1.20);
RSS with N idle connections < 64 MiB. Every wait has a timeout; every process
started here is stopped on exit.
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-100}
WARMUP=${WARMUP:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
SERVER_BIN=""
IDLE_REQUEST=1
DO_INSTALL=1
DO_BUILD=1
DO_WRK=1
DO_RSS=1
STRICT=0
THREADS=2
URL_PATH='/multiply?number=7'
EXPECTED_BODY='{"result":14}'
RSS_LIMIT_MIB=64

die() {
  echo "server-vs-nginx: error: $*" >&2
  exit 1
}

need_arg() { if (($# < 2)) || [[ -z "$2" ]]; then die "$1 needs a value (see --help)"; fi; }

while (($#)); do
  case "$1" in
  -d | --duration) need_arg "$@"; DURATION=$2; shift 2 ;;
  -r | --rounds) need_arg "$@"; ROUNDS=$2; shift 2 ;;
  -c | --connections) need_arg "$@"; CONNS=$2; shift 2 ;;
  -w | --warmup) need_arg "$@"; WARMUP=$2; shift 2 ;;
  -n | --idle-conns) need_arg "$@"; IDLE_CONNS=$2; shift 2 ;;
  --idle-bare) IDLE_REQUEST=0; shift ;;
  --build-dir) need_arg "$@"; BUILD_DIR=$2; shift 2 ;;
  --server-bin) need_arg "$@"; SERVER_BIN=$2; DO_BUILD=0; shift 2 ;;
  --no-build) DO_BUILD=0; shift ;;
  --no-install) DO_INSTALL=0; shift ;;
  --no-wrk) DO_WRK=0; shift ;;
  --no-rss) DO_RSS=0; shift ;;
  --strict) STRICT=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done

for v in DURATION ROUNDS CONNS WARMUP IDLE_CONNS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((DURATION >= 1 && ROUNDS >= 1 && CONNS >= 1 && IDLE_CONNS >= 1)) ||
  die "duration, rounds, connections and idle-conns must be >= 1"
[[ -n "$SERVER_BIN" ]] || SERVER_BIN=$BUILD_DIR/target-server/target-server

# ---- processes and cleanup --------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/server-vs-nginx.XXXXXX")
PIDS=() # everything started here, stopped in reverse order on exit

# Stops one of our children: SIGTERM, then SIGKILL after $2 seconds (default
# 5); reaps it and forgets it, so its pid is never signalled again. Returns 1
# when SIGKILL was needed; STOP_RC is its exit status.
stop_pid() {
  local pid=$1 grace=${2:-5} i rc=0 keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      rc=1
    fi
  fi
  STOP_RC=0
  wait "$pid" 2>/dev/null || STOP_RC=$?
  return "$rc"
}

# nginx master plus its workers (the workers outlive a SIGKILLed master).
NGINX_PID=""
stop_nginx() {
  [[ -n "$NGINX_PID" ]] || return 0
  local kids=() k
  read -r -a kids <"/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null || true
  if ! stop_pid "$NGINX_PID" 5; then # master killed: its workers would stay
    for k in "${kids[@]}"; do kill -KILL "$k" 2>/dev/null || true; done
  fi
  NGINX_PID=""
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  stop_nginx
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}" 5 || true; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits until file $1 has a line matching ERE $2; prints it. $3: timeout s,
# $4: a pid that must stay alive meanwhile.
wait_line() {
  local file=$1 re=$2 timeout=$3 pid=${4:-} i line
  for ((i = 0; i < timeout * 20; i++)); do
    if line=$(grep -E -m1 -- "$re" "$file" 2>/dev/null); then
      printf '%s\n' "$line"
      return 0
    fi
    [[ -z "$pid" ]] || kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---- prerequisites ----------------------------------------------------------

if ((DO_INSTALL)); then
  "$ROOT/scripts/install-deps.sh" --bench || die "scripts/install-deps.sh --bench failed"
fi
NGINX=$(command -v nginx || true)
[[ -n "$NGINX" || ! -x /usr/sbin/nginx ]] || NGINX=/usr/sbin/nginx
for t in wrk curl python3; do command -v "$t" >/dev/null || die "$t not found (try without --no-install)"; done
[[ -n "$NGINX" ]] || die "nginx not found (try without --no-install)"

if ((DO_BUILD)); then
  echo "building target-server (Release) in $BUILD_DIR ..."
  if ! { timeout 600 cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release &&
    timeout 900 cmake --build "$BUILD_DIR" -j2 --target target-server; } >"$TMP/build.log" 2>&1; then
    tail -n 30 "$TMP/build.log" >&2
    die "build failed"
  fi
fi
[[ -x "$SERVER_BIN" ]] || die "no target-server binary at $SERVER_BIN"

# ---- servers ----------------------------------------------------------------

TS_PID=""
TS_PORT=""
# Starts target-server on 127.0.0.1:0 with extra flags "$@"; sets TS_PID/TS_PORT.
start_ts() {
  local tag=$1 line
  shift
  "$SERVER_BIN" --host 127.0.0.1 --port 0 --threads "$THREADS" "$@" \
    >"$TMP/ts-$tag.out" 2>"$TMP/ts-$tag.err" &
  TS_PID=$!
  PIDS+=("$TS_PID")
  line=$(wait_line "$TMP/ts-$tag.out" 'listening on http://' 10 "$TS_PID") || {
    cat "$TMP/ts-$tag.err" >&2
    die "target-server did not start within 10 s"
  }
  TS_PORT=${line##*:}
  TS_PORT=${TS_PORT%% *}
  [[ "$TS_PORT" =~ ^[0-9]+$ ]] || die "cannot parse the port from: $line"
}

free_port() {
  python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

NGINX_PORT=""
start_nginx() {
  local dir=$TMP/nginx attempt i
  mkdir -p "$dir"
  for attempt in 1 2 3; do
    NGINX_PORT=$(free_port)
    # keepalive_requests: nginx closes a keep-alive connection after 1000
    # requests by default; target-server has no such limit, so lift it to
    # compare servers rather than defaults (set NGINX_KEEPALIVE_REQUESTS=1000
    # for stock nginx).
    cat >"$dir/nginx.conf" <<EOF
worker_processes $THREADS;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile $((IDLE_CONNS + 4096));
events { worker_connections $((IDLE_CONNS + 2048)); }
http {
    access_log off;
    keepalive_requests ${NGINX_KEEPALIVE_REQUESTS:-1000000};
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /multiply { default_type application/json; return 200 '$EXPECTED_BODY'; }
    }
}
EOF
    "$NGINX" -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;' \
      >"$dir/stdout" 2>&1 &
    NGINX_PID=$!
    for ((i = 0; i < 100; i++)); do
      kill -0 "$NGINX_PID" 2>/dev/null || break
      if curl -fs --max-time 1 -o /dev/null "http://127.0.0.1:$NGINX_PORT$URL_PATH"; then
        return 0
      fi
      sleep 0.1
    done
    echo "nginx attempt $attempt on port $NGINX_PORT failed:" >&2
    cat "$dir/stdout" "$dir/error.log" >&2 2>/dev/null || true
    stop_nginx
  done
  die "nginx did not start"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
nfds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# RSS of an nginx master and its workers, summed (shared pages counted twice).
nginx_rss_kib() {
  local kids=() k sum
  read -r -a kids <"/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null || true
  sum=$(rss_kib "$NGINX_PID")
  for k in "${kids[@]}"; do sum=$((sum + $(rss_kib "$k"))); done
  echo "$sum"
}

# ---- 1. same answer? --------------------------------------------------------

declare -A HDR_BYTES BODY_BYTES
check_response() { # name port
  local name=$1 port=$2 w code hb bb
  w=$(curl -s --max-time 5 -D "$TMP/$name.hdr" -o "$TMP/$name.body" \
    -w '%{http_code} %{size_header} %{size_download}' "http://127.0.0.1:$port$URL_PATH") ||
    die "$name: no answer to $URL_PATH"
  read -r code hb bb <<<"$w"
  HDR_BYTES[$name]=$hb
  BODY_BYTES[$name]=$bb
  [[ "$code" == 200 ]] || die "$name: HTTP $code to $URL_PATH"
}

start_nginx
start_ts bench
echo "nginx         http://127.0.0.1:$NGINX_PORT (pid $NGINX_PID, worker_processes $THREADS)"
echo "target-server http://127.0.0.1:$TS_PORT (pid $TS_PID, --threads $THREADS, $SERVER_BIN)"
echo

check_response nginx "$NGINX_PORT"
check_response target-server "$TS_PORT"
echo "== GET $URL_PATH"
for name in nginx target-server; do
  printf -- '-- %s: %s header bytes + %s body bytes = %s bytes per response\n' "$name" \
    "${HDR_BYTES[$name]}" "${BODY_BYTES[$name]}" $((HDR_BYTES[$name] + BODY_BYTES[$name]))
  tr -d '\r' <"$TMP/$name.hdr" | sed '/^$/d; s/^/   /'
  printf '   body: %s\n' "$(cat "$TMP/$name.body")"
done
if cmp -s "$TMP/nginx.body" "$TMP/target-server.body" &&
  [[ "$(cat "$TMP/nginx.body")" == "$EXPECTED_BODY" ]]; then
  echo "bodies: identical ($EXPECTED_BODY, ${BODY_BYTES[nginx]} bytes)"
else
  die "bodies differ: nginx '$(cat "$TMP/nginx.body")' target-server '$(cat "$TMP/target-server.body")'"
fi
# Header lines (Date values blanked) present in one response only.
hdr_lines() { tr -d '\r' <"$1" | sed '1d; /^$/d; s/^\([Dd]ate:\).*/\1 <now>/' | sort; }
echo "header differences (< nginx only, > target-server only; sizes differ by $((HDR_BYTES[nginx] - HDR_BYTES[target-server])) bytes):"
diff <(hdr_lines "$TMP/nginx.hdr") <(hdr_lines "$TMP/target-server.hdr") |
  sed -n 's/^\([<>]\)/   \1/p' || true
echo

# ---- 2. throughput ----------------------------------------------------------

# median VALUES... (printf format $MEDIAN_FMT, default %.0f)
median() { printf '%s\n' "$@" | sort -g | awk -v f="${MEDIAN_FMT:-%.0f}" '{ v[NR] = $1 } END {
  if (NR % 2) printf f, v[(NR + 1) / 2]; else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

CLK_TCK=$(getconf CLK_TCK)
# CPU ticks (user + system) used so far by the processes "$@", threads included.
cpu_ticks() {
  local sum=0 p
  for p in "$@"; do sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
  echo "$sum"
}
# Busy CPU ticks of the whole machine (all CPUs, /proc/stat).
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# CPU ticks of this shell's reaped children (wrk, via timeout).
child_ticks() { awk '{ print $16 + $17 }' "/proc/$$/stat"; }
server_pids() {
  local kids=()
  if [[ "$1" == nginx ]]; then
    read -r -a kids <"/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null || true
    echo "$NGINX_PID" "${kids[@]}"
  else
    echo "$TS_PID"
  fi
}

# One wrk run; sets RUN_RPS, RUN_LAT, RUN_ERR, RUN_SCPU, RUN_WCPU and
# RUN_OCPU (cores used by the server, by wrk, by everything else on the
# machine) and RUN_US (server CPU us per request). $1 name $2 port $3 seconds.
run_wrk() {
  local name=$1 port=$2 secs=$3 out=$TMP/wrk.out pids s0 s1 w0 w1 b0 b1 n
  read -r -a pids <<<"$(server_pids "$name")"
  s0=$(cpu_ticks "${pids[@]}")
  w0=$(child_ticks)
  b0=$(busy_ticks)
  if ! timeout -k 5 $((secs + 30)) wrk -t1 -c"$CONNS" -d"${secs}s" --timeout 5s \
    "http://127.0.0.1:$port$URL_PATH" >"$out" 2>&1; then
    cat "$out" >&2
    die "wrk against $name failed"
  fi
  b1=$(busy_ticks)
  w1=$(child_ticks)
  s1=$(cpu_ticks "${pids[@]}")
  RUN_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  [[ -n "$RUN_RPS" ]] || { cat "$out" >&2; die "no Requests/sec in wrk output ($name)"; }
  n=$(awk '/ requests in / { print $1; exit }' "$out")
  RUN_LAT=$(awk '$1 == "Latency" { print $2; exit }' "$out")
  RUN_ERR=$(awk '/Non-2xx or 3xx/ { n += $NF }
    /Socket errors/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i }
    END { print n + 0 }' "$out")
  read -r RUN_SCPU RUN_WCPU RUN_OCPU RUN_US < <(awk -v s=$((s1 - s0)) -v w=$((w1 - w0)) \
    -v b=$((b1 - b0)) -v t="$CLK_TCK" -v d="$secs" -v n="${n:-0}" 'BEGIN {
      o = b - s - w; if (o < 0) o = 0
      printf "%.2f %.2f %.2f %.2f\n", s / t / d, w / t / d, o / t / d, (n > 0 ? s / t / n * 1e6 : 0) }')
}

# "spread" of VALUES: (max - min) / median, in percent.
spread() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "%.0f", (m > 0 ? (v[NR] - v[1]) / m * 100 : 0) }'; }

declare -a RPS_TS=() RPS_NG=() US_TS=() US_NG=() WCPU=()
if ((DO_WRK)); then
  echo "== wrk -t1 -c$CONNS -d${DURATION}s http://127.0.0.1:PORT$URL_PATH, $ROUNDS rounds" \
    "(order alternates each round)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
  if ((WARMUP > 0)); then
    run_wrk nginx "$NGINX_PORT" "$WARMUP"
    run_wrk target-server "$TS_PORT" "$WARMUP"
    echo "warm-up ${WARMUP}s each: done"
  fi
  hdr_fmt='  %-14s %10s %10s %7s %8s %8s %8s %11s\n'
  for ((r = 1; r <= ROUNDS; r++)); do
    order=(nginx target-server)
    ((r % 2)) || order=(target-server nginx)
    printf '\nround %d/%d\n' "$r" "$ROUNDS"
    # shellcheck disable=SC2059
    printf "$hdr_fmt" server req/s latency errors srv-cpu wrk-cpu other "srv-us/req"
    for name in "${order[@]}"; do
      if [[ "$name" == nginx ]]; then port=$NGINX_PORT; else port=$TS_PORT; fi
      run_wrk "$name" "$port" "$DURATION"
      # shellcheck disable=SC2059
      printf "$hdr_fmt" "$name" "$(printf '%.0f' "$RUN_RPS")" "$RUN_LAT" "$RUN_ERR" \
        "$RUN_SCPU" "$RUN_WCPU" "$RUN_OCPU" "$RUN_US"
      if [[ "$name" == nginx ]]; then
        RPS_NG+=("$RUN_RPS")
        US_NG+=("$RUN_US")
      else
        RPS_TS+=("$RUN_RPS")
        US_TS+=("$RUN_US")
      fi
      WCPU+=("$RUN_WCPU")
      if ((RUN_ERR > 0)); then echo "  warning: $name had $RUN_ERR errors/non-2xx responses"; fi
    done
  done
  MED_TS=$(median "${RPS_TS[@]}")
  MED_NG=$(median "${RPS_NG[@]}")
  RATIO=$(awk -v a="$MED_TS" -v b="$MED_NG" 'BEGIN { printf "%.2f", a / b }')
  MED_US_TS=$(MEDIAN_FMT=%.2f median "${US_TS[@]}")
  MED_US_NG=$(MEDIAN_FMT=%.2f median "${US_NG[@]}")
  MED_WCPU=$(MEDIAN_FMT=%.2f median "${WCPU[@]}")
  echo
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  for name in target-server nginx; do
    if [[ "$name" == nginx ]]; then sp=$(spread "${RPS_NG[@]}"); else sp=$(spread "${RPS_TS[@]}"); fi
    if ((sp > 15)); then
      echo "warning: $name req/s spread ${sp}% across rounds: a noisy machine? try more --rounds"
    fi
  done
  echo "RSS after the load: target-server $(mib "$(rss_kib "$TS_PID")") MiB" \
    "(peak $(mib "$(hwm_kib "$TS_PID")") MiB), nginx master+workers $(mib "$(nginx_rss_kib)") MiB"
  echo
fi
stop_ts() {
  stop_pid "$TS_PID" 10 || echo "warning: target-server needed SIGKILL" >&2
  ((STOP_RC == 0)) || echo "warning: target-server exited with status $STOP_RC on SIGTERM" >&2
}
stop_ts

# ---- 3. idle connections ----------------------------------------------------

if ((DO_RSS)); then
  mode="one request each"
  idle_flags=(--request)
  ((IDLE_REQUEST)) || { mode="no request"; idle_flags=(); }
  echo "== $IDLE_CONNS idle keep-alive connections ($mode), fresh target-server"
  start_ts idle --max-connections $((IDLE_CONNS + 1024)) --idle-timeout 600000 \
    --header-timeout 600000
  sleep 0.3
  RSS_BEFORE=$(rss_kib "$TS_PID")

  # Opens the connections to port $1; sets IDLE_PID once they are all open.
  open_idle() {
    local port=$1 log=$TMP/idle-$1.log
    timeout -k 5 200 python3 "$ROOT/bench/idle_conns.py" --host 127.0.0.1 --port "$port" \
      -n "$IDLE_CONNS" "${idle_flags[@]}" --hold 120 --setup-timeout 60 >"$log" 2>&1 &
    IDLE_PID=$!
    PIDS+=("$IDLE_PID")
    if ! wait_line "$log" '^idle_conns: open ' 90 "$IDLE_PID" >/dev/null; then
      cat "$log" >&2
      die "idle_conns.py could not open $IDLE_CONNS connections to port $port"
    fi
    grep -E '^idle_conns: (answered|open) ' "$log" | sed 's/^/  /'
  }
  # Waits (at most $2 s) until process $1 holds at least ($3 = ge) or fewer
  # than ($3 = lt) $4 descriptors.
  wait_fds() {
    local pid=$1 secs=$2 cmp=$3 n=$4 i c
    for ((i = 0; i < secs * 10; i++)); do
      c=$(nfds "$pid")
      if [[ "$cmp" == ge ]] && ((c >= n)); then return 0; fi
      if [[ "$cmp" == lt ]] && ((c < n)); then return 0; fi
      sleep 0.1
    done
    return 1
  }

  open_idle "$TS_PORT"
  wait_fds "$TS_PID" 15 ge "$IDLE_CONNS" ||
    echo "  warning: target-server holds only $(nfds "$TS_PID") descriptors"
  sleep 0.5
  RSS_WITH=$(rss_kib "$TS_PID")
  FDS_WITH=$(nfds "$TS_PID")
  stop_pid "$IDLE_PID" 10 || true
  sed -n 's/^\(idle_conns: closed .*\)/  \1/p' "$TMP/idle-$TS_PORT.log"
  # the server half-closes and lingers up to 2 s per connection
  wait_fds "$TS_PID" 15 lt 64 || echo "  warning: target-server still holds $(nfds "$TS_PID") descriptors"
  sleep 0.5
  RSS_AFTER=$(rss_kib "$TS_PID")
  HWM=$(hwm_kib "$TS_PID")
  printf '  target-server RSS: at rest %s MiB, with %d connections %s MiB (%d fds, %.2f KiB/conn), after closing %s MiB, peak %s MiB\n' \
    "$(mib "$RSS_BEFORE")" "$IDLE_CONNS" "$(mib "$RSS_WITH")" "$FDS_WITH" \
    "$(awk -v a="$RSS_WITH" -v b="$RSS_BEFORE" -v n="$IDLE_CONNS" 'BEGIN { print (a - b) / n }')" \
    "$(mib "$RSS_AFTER")" "$(mib "$HWM")"
  stop_ts

  # The same connections held by nginx, for comparison.
  NG_BEFORE=$(nginx_rss_kib)
  open_idle "$NGINX_PORT"
  sleep 1
  NG_WITH=$(nginx_rss_kib)
  stop_pid "$IDLE_PID" 10 || true
  printf '  nginx (master + %d workers, summed) RSS: before %s MiB, with %d connections %s MiB\n' \
    "$THREADS" "$(mib "$NG_BEFORE")" "$IDLE_CONNS" "$(mib "$NG_WITH")"
  echo
fi

# ---- summary ----------------------------------------------------------------

FAILED=()
echo "== summary"
if ((DO_WRK)); then
  printf 'target-server  req/s median %-7s (rounds: %s)\n' "$MED_TS" "$(printf '%.0f ' "${RPS_TS[@]}" | sed 's/ $//')"
  printf 'nginx          req/s median %-7s (rounds: %s)\n' "$MED_NG" "$(printf '%.0f ' "${RPS_NG[@]}" | sed 's/ $//')"
  printf 'ratio target-server/nginx  %s   (required >= 1.00, aim 1.20)\n' "$RATIO"
  printf 'server CPU per request (median)  target-server %s us, nginx %s us; wrk used %s of its 1 core\n' \
    "$MED_US_TS" "$MED_US_NG" "$MED_WCPU"
  awk -v r="$RATIO" 'BEGIN { exit !(r >= 1.00) }' || FAILED+=("ratio $RATIO < 1.00")
fi
if ((DO_RSS)); then
  printf 'RSS idle %d connections  %s MiB (required < %d MiB)   [at rest %s MiB, after closing %s MiB]\n' \
    "$IDLE_CONNS" "$(mib "$RSS_WITH")" "$RSS_LIMIT_MIB" "$(mib "$RSS_BEFORE")" "$(mib "$RSS_AFTER")"
  ((RSS_WITH < RSS_LIMIT_MIB * 1024)) || FAILED+=("RSS $(mib "$RSS_WITH") MiB >= $RSS_LIMIT_MIB MiB")
fi
if ((${#FAILED[@]})); then
  echo "requirements: FAIL (${FAILED[*]})"
  ((STRICT)) && exit 3
else
  echo "requirements: met"
fi
exit 0
