#!/usr/bin/env bash
# Installs the Debian 12 packages fleetbench needs to build and test.
# Idempotent: installs only what is missing, prints nothing when all is there.
# Usage: scripts/install-deps.sh [--test] [--bench]
#   --test   what the tests add: chromium (the HTML report screenshot), shellcheck,
#            numpy, matplotlib and scipy (hyperfine's scripts read our exports),
#            the seed's Python client's libraries (test_commands runs it on agents)
#   --bench  what the benchmarks add: wrk, nginx, hyperfine, hey and the seed's Python
#            client's libraries (python3-aiohttp, python3-requests), valgrind
#            (bench/startup.sh counts instructions)
set -euo pipefail

pkgs=(build-essential cmake pkg-config clang
      libuv1-dev libcurl4-openssl-dev libzmq3-dev libmsgpack-dev
      libhttp-parser-dev libjansson-dev libcmocka-dev libclang-rt-14-dev
      python3 curl procps iproute2)
for arg in "$@"; do
    case "$arg" in
    --test) pkgs+=(chromium shellcheck awscli python3-numpy python3-matplotlib python3-scipy
                   python3-aiohttp python3-requests) ;;
    --bench) pkgs+=(wrk nginx-light hyperfine hey python3-aiohttp python3-requests valgrind) ;;
    *) echo "install-deps: unknown option '$arg' (--test, --bench)" >&2; exit 1 ;;
    esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

sudo=""
((EUID != 0)) && sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
