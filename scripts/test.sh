#!/usr/bin/env bash
# README's test command: installs what is missing, then builds and runs the
# ctest suite as a plain build and under ASan + UBSan, and the tests of the
# threaded code (label tsan) under ThreadSanitizer. Within CI's time: the
# fuzz smoke runs on the ASan build only (where a memory error shows); the
# packaging/deploy tests (shell, .deb, aws CLI: no C code under test) and the
# randomized fault schedules (processes killed and frozen: exit codes and
# files, FB_FAULTS_SCHEDULES for the long mode) on the plain build only.
# FB_TEST_BUILDS="plain asan tsan" chooses the builds.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test

# What the run leaves must be ignored by git: `git status` is compared after.
status_now() { git status --porcelain --untracked-files=all 2>/dev/null | sort || true; }
before=$(status_now)

run_build() { # name sanitizer [ctest arguments]
    local dir="build-test-$1" san="$2"
    shift 2
    echo "== $dir (sanitizer: ${san:-none}) =="
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFB_SANITIZE="$san" >/dev/null
    cmake --build "$dir" -j"$(nproc)" >/dev/null
    (cd "$dir" && ctest --output-on-failure --timeout 900 "$@")
}

for b in ${FB_TEST_BUILDS:-plain asan tsan}; do
    case "$b" in
    plain) run_build plain "" -LE fuzz ;;
    asan) run_build asan address -E 'integration\.test_deploy|integration\.test_faults' ;;
    tsan) run_build tsan thread -L tsan ;;
    *) echo "test.sh: unknown build '$b' (plain, asan, tsan)" >&2; exit 1 ;;
    esac
done

after=$(status_now)
if [[ "$after" != "$before" ]]; then
    echo "test.sh: the run left files git does not ignore (add them to .gitignore):" >&2
    comm -13 <(echo "$before") <(echo "$after") >&2
    exit 1
fi
