#!/usr/bin/env bash
# README's first command: installs what is missing, builds, and runs the main
# job on this machine: the seed's experiment (the five strategies, -r 1000,
# 3 warmup and 10 timed runs each) with an embedded agent and target-server
# on loopback. Leaves results.json here and prints hyperfine's summary.
# Extra arguments go to the coordinator (e.g. -r 100,1000 --runs 20).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

exec build/coordinator/coordinator --matrix all -r 1000 --export-json results.json "$@"
