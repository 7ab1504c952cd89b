#!/usr/bin/env bash
# Banter vs Redis pub/sub, the standard matrix, in one run (< 15 minutes):
# builds the release binaries, installs Debian's redis-server if it is
# missing, then runs `banter-bench compare`, which starts its own
# redis-server and banterd pinned to CPU 0, runs the harness on CPU 1 and
# writes bench/RESULTS.md. Extra arguments go to `banter-bench compare`
# (see `banter-bench compare --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
    echo "compare.sh: installing redis-server (Debian package)" >&2
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server
fi

cargo build --release -p banterd -p banter-bench
bin="${CARGO_TARGET_DIR:-target}/release"

# Each process may hold as many descriptors as the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    exec taskset -c 1 "$bin/banter-bench" compare --banterd "$bin/banterd" \
        --out bench/RESULTS.md "$@"
else
    echo "compare.sh: no taskset or a single CPU: running unpinned" >&2
    exec "$bin/banter-bench" compare --no-pin --banterd "$bin/banterd" \
        --out bench/RESULTS.md "$@"
fi
