# Shared by bench/durable.sh and bench/before-after.sh (sourced, not run):
# pinning, and one harness run against a banterd started for it alone.
# The caller sets `bin` (the release directory) and `tmp` (a scratch
# directory), and kills "$pid" on exit.

pin() { if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then echo "taskset -c $1"; fi; }

# fanout_on BANTERD-ARGS... -- BENCH-ARGS...: starts banterd (pinned to CPU
# 0) with BANTERD-ARGS on a free port, runs `banter-bench fanout` (pinned
# to CPU 1) against it, stops it, and prints the harness's JSON ('{}' and
# the server's log on stderr when the run failed).
fanout_on() {
    local server=()
    while [ "$1" != "--" ]; do server+=("$1"); shift; done
    shift
    : >"$tmp/log" # now, not in the background job: the last run's port must not be read
    $(pin 0) "${server[@]}" --bind 127.0.0.1 --port 0 2>"$tmp/log" &
    pid=$!
    local port="" json=""
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$tmp/log")
        [ -n "$port" ] && break
        sleep 0.05
    done
    if [ -n "$port" ]; then
        json=$($(pin 1) "$bin/banter-bench" fanout --target "banter://127.0.0.1:$port" \
            --server-pid "$pid" --json -q "$@") || true
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""
    case "$json" in
        "{"*) echo "$json" ;;
        *) echo "fanout $* on ${server[0]} failed; its log:" >&2; cat "$tmp/log" >&2; echo '{}' ;;
    esac
}
