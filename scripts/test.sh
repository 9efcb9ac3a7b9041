#!/usr/bin/env bash
# README's test command: installs what is missing, then builds and runs the
# whole ctest suite twice, as a plain build and under ASan + UBSan.
# FB_TEST_BUILDS="plain asan" chooses the builds (also: tsan).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

run_build() { # name sanitizer
    local dir="build-test-$1"
    echo "== $1 build ($dir) =="
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFB_SANITIZE="$2" >/dev/null
    cmake --build "$dir" -j"$(nproc)" >/dev/null
    (cd "$dir" && ctest --output-on-failure --timeout 600)
}

for b in ${FB_TEST_BUILDS:-plain asan}; do
    case "$b" in
    plain) run_build plain "" ;;
    asan) run_build asan address ;;
    tsan) run_build tsan thread ;;
    *) echo "test.sh: unknown build '$b' (plain, asan, tsan)" >&2; exit 1 ;;
    esac
done
