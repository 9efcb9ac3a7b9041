#!/usr/bin/env bash
# bench/soak.sh: target-server under wrk for a long time, built with ASan +
# LeakSanitizer, sampling its RSS; at the end a graceful SIGTERM must leave no
# leak report. Loopback only. It fails (exit 1) unless every minute wrk
# connected and got answers (requests > 0, no socket error, no non-2xx), the
# RSS stays under FB_SOAK_MAX_RSS_MIB and grows by at most FB_SOAK_GROWTH_MIB
# from the end of minute 1 to the end, and the server exits 0 with no
# sanitizer report.
#
# Usage: bench/soak.sh [MINUTES (default 10)] [CONNECTIONS (default 100)]
# FB_SOAK_SANITIZE=address (default) or "" (a plain build: RSS without ASan's
# quarantine of freed memory, which grows with every reconnect).
# FB_SOAK_MAX_RSS_MIB: default 64 plain (README's bound with 10,000 idle
# connections), 512 with ASan (shadow memory and its 256 MiB quarantine).
# FB_SOAK_GROWTH_MIB: default 8 plain, 288 with ASan (the quarantine filling).
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
if [[ -n "$san" ]]; then max_mib=512 growth_mib=288; else max_mib=64 growth_mib=8; fi
max_mib=${FB_SOAK_MAX_RSS_MIB:-$max_mib}
growth_mib=${FB_SOAK_GROWTH_MIB:-$growth_mib}
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
problems=()
first_rss="" peak_rss=0 rss_now=0
for m in $(seq "$minutes"); do
    timeout 90 wrk -t1 -c"$conns" -d60s "$url" >"$tmp/wrk" 2>&1 || true
    reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk")
    sockerr=$(sed -n 's/.*Socket errors: *//p' "$tmp/wrk")
    non2xx=$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$tmp/wrk")
    rss_now=$(rss)
    total=$((total + ${reqs:-0}))
    printf '%8d %12s %14s\n' "$m" "$rss_now" "${reqs:-?}"
    [[ "${reqs:-0}" -gt 0 ]] || problems+=("minute $m: wrk made no request: $(tr '\n' ' ' <"$tmp/wrk")")
    [[ -z "$sockerr" ]] || problems+=("minute $m: socket errors: $sockerr")
    [[ -z "$non2xx" ]] || problems+=("minute $m: $non2xx non-2xx answers")
    [[ -n "$first_rss" ]] || first_rss=$rss_now
    if ((rss_now > peak_rss)); then peak_rss=$rss_now; fi
done
echo "soak: RSS after minute 1 $((first_rss / 1024)) MiB, at the end $((rss_now / 1024)) MiB," \
     "peak $((peak_rss / 1024)) MiB (bounds: peak < $max_mib MiB, growth <= $growth_mib MiB)"
if ((peak_rss >= max_mib * 1024)); then
    problems+=("RSS peaked at $((peak_rss / 1024)) MiB >= $max_mib MiB")
fi
if ((rss_now - first_rss > growth_mib * 1024)); then
    problems+=("RSS grew by $(((rss_now - first_rss) / 1024)) MiB > $growth_mib MiB")
fi
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
[[ "$status" -eq 0 ]] || problems+=("target-server exited $status after SIGTERM")
if ((${#problems[@]} > 0)); then
    printf 'soak: FAILED: %s\n' "${problems[@]}" >&2
    exit 1
fi
echo "soak: passed"
