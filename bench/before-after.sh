#!/usr/bin/env bash
# Two banterd binaries side by side on the fan-out matrix (issue 9's "no
# fan-out row may lose more than 5% of deliveries/s or gain more than 5%
# server CPU per delivery"): every row is run on BEFORE and AFTER in
# turn, three times each, each run on a fresh server pinned to CPU 0 with
# the harness on CPU 1; prints a Markdown table of medians. Needs python3.
#
#   bench/before-after.sh BEFORE-BANTERD [AFTER-BANTERD]
#
# AFTER defaults to target/release/banterd (built here). A binary that
# knows the admission-control flags of issue 15 gets them turned off, so
# both see the same load.
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?usage: bench/before-after.sh BEFORE-BANTERD [AFTER-BANTERD]}
cargo build --release -p banterd -p banter-bench >&2
bin="${CARGO_TARGET_DIR:-target}/release"
after=${2:-$bin/banterd}
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
. bench/lib.sh

# run BANTERD BENCH-ARGS... -> prints the harness's JSON
run() {
    local server=$1; shift
    local extra=()
    if "$server" --help 2>&1 | grep -q -- --max-per-ip; then
        extra=(--max-per-ip 0 --conn-rate 0 --join-rate 0 --query-rate 0)
    fi
    fanout_on "$server" --rate 0 --max-clients 6000 --out-limit 67108864 "${extra[@]}" -- "$@"
}

# median FIELD JSON... (one JSON object per argument; missing: nan)
median() {
    python3 -c 'import json,sys,statistics
v=[json.loads(a).get(sys.argv[1]) for a in sys.argv[2:]]
v=[x for x in v if x is not None]
print(statistics.median(v) if v else float("nan"))' "$@"
}

echo "| R | B | S | before deliv/s | after deliv/s | ratio | before CPU s/M | after CPU s/M | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in 100 1000 5000; do
    for b in 64 1024; do
        for s in 1 10; do
            args=(-r "$r" -s "$s" -b "$b" -w 16 -d 1.5 --warmup 0.5)
            x=(); y=()
            for _ in 1 2 3; do
                x+=("$(run "$before" "${args[@]}")")
                y+=("$(run "$after" "${args[@]}")")
            done
            python3 - "$r" "$b" "$s" \
                "$(median delivered_per_s "${x[@]}")" "$(median delivered_per_s "${y[@]}")" \
                "$(median server_cpu_s_per_m "${x[@]}")" "$(median server_cpu_s_per_m "${y[@]}")" <<'EOF'
import sys
r, b, s, d0, d1, c0, c1 = sys.argv[1:4] + [float(x) for x in sys.argv[4:]]
ratio = lambda a, z: f"{a / z:.2f}" if z else "-"
print(f"| {r} | {b} | {s} | {d0:,.0f} | {d1:,.0f} | {ratio(d1, d0)} | {c0:.2f} | {c1:.2f} | {ratio(c1, c0)} |".replace(",", " "))
EOF
        done
    done
done
