#!/usr/bin/env bash
# The SQLite targets (issue 4), measured in one run on the same load:
# fan-out with --db against the in-memory server, and durable messages per
# second into one room. Each figure is the median of 3 runs, each on a
# fresh server (and a fresh database). Writes the section "Durable storage"
# at the end of bench/RESULTS.md, replacing an older one. Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p banterd -p banter-bench >&2
bin="${CARGO_TARGET_DIR:-target}/release"
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
. bench/lib.sh

# run MODE(mem|db) BENCH-ARGS... -> prints the harness's JSON
run() {
    local mode=$1; shift
    local db=()
    rm -f "$tmp"/chat.db*
    [ "$mode" = db ] && db=(--db "$tmp/chat.db")
    local json
    json=$(fanout_on "$bin/banterd" --rate 0 --max-clients 2000 --out-limit 67108864 \
        --max-per-ip 0 --conn-rate 0 --join-rate 0 --query-rate 0 "${db[@]}" -- "$@")
    [ "$json" != "{}" ] || { echo "durable.sh: fanout $* ($mode) failed" >&2; exit 1; }
    echo "$json"
}

# median FIELD JSON... (one JSON object per argument)
median() {
    local field=$1; shift
    python3 -c 'import json,sys,statistics; f=sys.argv[1]; print(round(statistics.median(json.loads(a)[f] for a in sys.argv[2:])))' "$field" "$@"
}

fan=(-r 100 -s 10 -b 64 -w 16 -d 3 --warmup 1)
one=(-r 1 -s 4 -b 64 -w 64 -d 3 --warmup 1)
declare -A out
for mode in mem db; do
    a=(); b=()
    for _ in 1 2 3; do a+=("$(run $mode "${fan[@]}")"); b+=("$(run $mode "${one[@]}")"); done
    out[$mode.fan]=$(median delivered_per_s "${a[@]}")
    out[$mode.fancpu]=$(python3 -c 'import json,sys,statistics; print(round(statistics.median(json.loads(a)["server_cpu_s_per_m"] for a in sys.argv[1:]),2))' "${a[@]}")
    out[$mode.one]=$(median sent_per_s "${b[@]}")
done
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

section=$(cat <<MD
## Durable storage (\`--db\`)

Written by \`bench/durable.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); banterd pinned to CPU 0, the harness to CPU 1; medians of 3 runs, each on a fresh server and database (\`--sync normal\`).

\`\`\`sh
banterd --bind 127.0.0.1 --port 0 --rate 0 --max-clients 2000 --out-limit 67108864 --max-per-ip 0 --conn-rate 0 --join-rate 0 --query-rate 0 [--db FILE]
banter-bench fanout --target URL ${fan[*]} --server-pid PID --json -q
banter-bench fanout --target URL ${one[*]} --server-pid PID --json -q
\`\`\`

| load | in memory | with --db | ratio (db / memory) |
|---|---|---|---|
| fan-out R=100 S=10 B=64, deliveries/s | ${out[mem.fan]} | ${out[db.fan]} | $(ratio "${out[db.fan]}" "${out[mem.fan]}") |
| fan-out R=100 S=10 B=64, server CPU s per million deliveries | ${out[mem.fancpu]} | ${out[db.fancpu]} | $(ratio "${out[db.fancpu]}" "${out[mem.fancpu]}") |
| one room, 4 senders x 64 in flight, messages stored/s | ${out[mem.one]} | ${out[db.one]} | $(ratio "${out[db.one]}" "${out[mem.one]}") |

Every message counted with \`--db\` was committed to SQLite before its ACK left the server (group commit: one transaction per loop iteration).
MD
)
python3 - "$section" <<'PY'
import sys, re
path = "bench/RESULTS.md"
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# Banter benchmarks\n"
text = re.sub(r"\n## Durable storage \(`--db`\).*", "", text, flags=re.S).rstrip("\n")
open(path, "w").write(text + "\n\n" + sys.argv[1] + "\n")
PY
echo "durable.sh: wrote the Durable storage section of bench/RESULTS.md" >&2
