#!/usr/bin/env bash
# What banterd's upload path takes when the client never makes it wait:
# bench/upload-check.py against a banterd started for it alone (pinned to
# CPU 0, the client to CPU 1, as compare.sh pins), ROUNDS rounds of N
# uploads of a 64 MiB file, each round with new files and with the same
# file again. Every banterd given is run in turn in each round, so their
# figures come from the same minutes.
#
#   bench/upload-check.sh [--rounds R] [--uploads N] BANTERD...
#
# Files go to a scratch directory under ${FILES_ROOT:-/tmp} (the disk
# matters: the ACK waits for fsync), deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 uploads=6
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --uploads) uploads=$2; shift 2 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { sed -n 2,13p "$0"; exit 2; }
tmp=$(mktemp -d "${FILES_ROOT:-/tmp}/upload-check.XXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
bin=target/release
source bench/lib.sh

# check BANTERD MODE: one run of N uploads; prints the client's total line.
check() {
    rm -rf "$tmp/files" && mkdir "$tmp/files"
    : >"$tmp/log" # now, not in the background job: the last run's port must not be read
    $(pin 0) "$1" --bind 127.0.0.1 --port 0 --rate 0 --max-per-ip 0 --conn-rate 0 \
        --join-rate 0 --query-rate 0 --files "$tmp/files" --file-quota 1125899906842624 \
        2>"$tmp/log" &
    pid=$!
    local port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$tmp/log")
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { cat "$tmp/log" >&2; exit 1; }
    $(pin 1) python3 bench/upload-check.py 127.0.0.1 "$port" "$uploads" 67108864 "$2" | tail -1
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

for r in $(seq "$rounds"); do
    for b in "$@"; do
        for mode in distinct same; do
            echo "round $r, $b, $mode: $(check "$b" "$mode")"
        done
    done
done
