#!/usr/bin/env bash
# README's first command: installs what is missing, builds, and runs the main
# job on this machine (loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

# Until the coordinator exists: start the target server, query it, stop it.
out=$(mktemp)
build/target-server/target-server --host 127.0.0.1 --port 0 >"$out" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
cat "$out"
url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out")
for q in "multiply?number=7" "multiply?number=-21" "multiply?number=x" "health"; do
    printf 'GET %s/%s -> ' "$url" "$q"
    curl -s -w ' (%{http_code})\n' "$url/$q"
done
