#!/usr/bin/env bash
# Builds the libFuzzer targets in a clang build of their own and runs them.
# Usage: fuzz/run.sh --smoke | --long [SECONDS [TARGET]] | --corpus
#   --smoke      each target FB_FUZZ_SMOKE_SECONDS (default 10) over fuzz/corpus,
#                in a scratch corpus (ctest's fuzz.smoke)
#   --long [S [T]]  each target (or only T: http, proto) S seconds (default
#                600) as two jobs on two cores; the corpus grows in the build
#                directory from one run to the next
#   --corpus     rewrites fuzz/corpus from gen_corpus.c
# Env: FB_FUZZ_BUILD, the build directory (default: build-fuzz at the root).
# Findings go to $FB_FUZZ_BUILD/findings/. Exit: 0 nothing found, 1 a finding
# or a target failed, 2 usage or build error, 77 clang or its libFuzzer
# runtime (libclang-rt-14-dev) missing: ctest reports the test as skipped.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FB_FUZZ_BUILD:-$root/build-fuzz}
findings=$build/findings
targets=(http proto)
opts=(-max_len=20000 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

usage() {
  sed -n '3,9p' "$0" >&2
  exit 2
}

have_libfuzzer() {
  local dir rc=0
  command -v clang >/dev/null || return 1
  dir=$(mktemp -d)
  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$dir/t.c"
  clang -fsanitize=fuzzer,address,undefined "$dir/t.c" -o "$dir/t" 2>/dev/null || rc=1
  rm -rf "$dir"
  return $rc
}

build() {
  local log=$build/fuzz-build.log
  mkdir -p "$build"
  # configure once: a re-run naming the compiler again would reset the cache
  if ! grep -qs '^FB_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
    cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DFB_SANITIZE=address \
      -DFB_FUZZ=ON >"$log" 2>&1 || { cat "$log" >&2; exit 2; }
  fi
  cmake --build "$build" -j "$(nproc)" --target fuzz_http fuzz_proto gen_corpus \
    >"$log" 2>&1 || { cat "$log" >&2; exit 2; }
}

# Target-specific flags: the HTTP tokens http_parser's keywords are made of.
flags() {
  [[ $1 == http ]] && echo "-dict=$root/fuzz/http.dict"
  return 0
}

# Prints one line for one or more libFuzzer logs (the jobs of one run):
# executions and exec/s added up, the largest coverage of any job.
summary() {
  local t=$1 execs rate cov
  shift
  execs=$(awk '/^stat::number_of_executed_units/ {n += $NF} END {print n + 0}' "$@")
  rate=$(awk '/^stat::average_exec_per_sec/ {n += $NF} END {print n + 0}' "$@")
  cov=$(grep -ohE 'DONE +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$@" | sort -k3,3n | tail -n 1 |
    sed 's/^DONE *//' || true)
  printf 'fuzz_%s: %s executions, %s exec/s, %s\n' "$t" "$execs" "$rate" "${cov:-no DONE line}"
}

# Lists what a run left in findings/ (crash-, leak-, timeout-, oom-, slow-unit-).
report_findings() {
  local t=$1 f found=0
  for f in "$findings/$t"-*; do
    [[ -e $f ]] || continue
    echo "fuzz_$t: FINDING $f (reproduce: $build/fuzz/fuzz_$t $f)"
    found=1
  done
  return $found
}

smoke() {
  local secs=${FB_FUZZ_SMOKE_SECONDS:-10} t status=0
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "$findings"
    rm -f "$findings/$t"-*
    if ! "$build/fuzz/fuzz_$t" "${opts[@]}" $(flags "$t") -max_total_time="$secs" \
      -artifact_prefix="$findings/$t-" "$work/$t" "$root/fuzz/corpus/$t" >"$work/$t.log" 2>&1; then
      tail -n 60 "$work/$t.log" >&2
      status=1
    fi
    summary "$t" "$work/$t.log"
    report_findings "$t" || status=1
  done
  return $status
}

long() {
  local secs=$1 t status=0 dir
  for t in "${targets[@]}"; do
    dir=$build/long-$t
    mkdir -p "$dir" "$build/corpus/$t" "$findings"
    rm -f "$findings/$t"-* "$dir"/fuzz-*.log
    echo "fuzz_$t: ${secs}s, 2 jobs, logs $dir/fuzz-{0,1}.log"
    # two jobs share the corpus (each reloads what the other adds); a job
    # that finds something stops there, the other goes on
    (cd "$dir" && "$build/fuzz/fuzz_$t" "${opts[@]}" $(flags "$t") -jobs=2 -workers=2 \
      -max_total_time="$secs" -artifact_prefix="$findings/$t-" \
      "$build/corpus/$t" "$root/fuzz/corpus/$t" >jobs.log 2>&1) || status=1
    summary "$t" "$dir"/fuzz-*.log
    report_findings "$t" || status=1
  done
  return $status
}

mode=${1:-}
case $mode in
--smoke | --long | --corpus) ;;
*) usage ;;
esac
have_libfuzzer || {
  echo "fuzz: skipped: needs clang with its libFuzzer runtime (apt-get install libclang-rt-14-dev)" >&2
  exit 77
}
build
case $mode in
--smoke) smoke ;;
--long)
  case ${3:-} in
  "") ;;
  http | proto) targets=("$3") ;;
  *) usage ;;
  esac
  long "${2:-600}"
  ;;
--corpus)
  rm -rf "$root/fuzz/corpus"
  mkdir -p "$root/fuzz/corpus/http" "$root/fuzz/corpus/proto"
  "$build/fuzz/gen_corpus" "$root/fuzz/corpus"
  ;;
esac
