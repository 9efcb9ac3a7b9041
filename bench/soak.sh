#!/usr/bin/env bash
# bench/soak.sh: target-server under wrk for a long time, built with ASan +
# LeakSanitizer, sampling its RSS; at the end a graceful SIGTERM must leave no
# leak report. A flat RSS and a clean exit are the result. Loopback only.
#
# Usage: bench/soak.sh [MINUTES (default 10)] [CONNECTIONS (default 100)]
# FB_SOAK_SANITIZE=address (default) or "" (a plain build: RSS without ASan's
# quarantine of freed memory, which grows with every reconnect).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
conns=${2:-100}
[[ "$minutes" =~ ^[0-9]+$ && "$conns" =~ ^[0-9]+$ && $minutes -ge 1 ]] || {
    echo "usage: bench/soak.sh [MINUTES >= 1] [CONNECTIONS]" >&2
    exit 1
}
scripts/install-deps.sh --bench
san=${FB_SOAK_SANITIZE-address}
build=build-soak${san:+-$san}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFB_SANITIZE="$san" >/dev/null
cmake --build "$build" -j"$(nproc)" --target target-server >/dev/null

tmp=$(mktemp -d)
pid=""
cleanup() {
    [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

ASAN_OPTIONS=detect_leaks=1 "$build/target-server/target-server" --host 127.0.0.1 --port 0 \
    --threads 2 >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/out" && break; sleep 0.1; done
url="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$tmp/out")/multiply?number=7"
[[ "$url" == http* ]] || { echo "soak: target-server did not start" >&2; cat "$tmp/err" >&2; exit 1; }

rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "soak: $minutes min of wrk -t1 -c$conns against $url (sanitizer: ${san:-none})"
printf '%8s %12s %14s\n' "minute" "RSS (KiB)" "requests"
total=0
for m in $(seq "$minutes"); do
    reqs=$(timeout 90 wrk -t1 -c"$conns" -d60s "$url" | awk '/requests in/ {print $1}')
    total=$((total + ${reqs:-0}))
    printf '%8d %12s %14s\n' "$m" "$(rss)" "${reqs:-?}"
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
echo "soak: $total requests; target-server exited $status after SIGTERM"
if grep -q "LeakSanitizer\|AddressSanitizer" "$tmp/err"; then
    echo "soak: sanitizer report:" >&2
    cat "$tmp/err" >&2
    exit 1
fi
echo "soak: no leak or memory error reported"
exit "$status"
