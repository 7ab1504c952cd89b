#!/usr/bin/env bash
# Banter vs Redis pub/sub (plain TCP and both over TLS) and vs a Node ws
# server (WebSocket), the standard matrix, then banterd's read receipts and
# file transfer on their own (no baseline has either), and banterd as a
# cluster against itself, in one run (about 23 minutes):
# builds the release binaries, installs Debian's redis-server, openssl and
# Node.js if missing, installs the Node baseline's locked dependencies
# (npm ci in bench/ws-baseline), makes a throwaway CA and server
# certificate (deleted at the end; nothing that expires is committed), then
# runs `banter-bench compare`, which starts its own servers pinned to CPU 0,
# runs the harness on CPU 1 and writes bench/RESULTS.md. Banter's TLS and
# WebSocket rows say "n/a (server lacks TLS/WebSocket)" while banterd lacks
# them. The files section starts its own banterd with --files in a
# temporary directory; the cluster section (issue 17) starts its own Redis
# (no persistence) and 1, 2, 3 `banterd --cluster` nodes on it per row,
# plus a plain banterd of the same shape, and writes a capacity model
# (about 6 more minutes). Extra arguments go to `banter-bench compare` (its
# --help; e.g. --only receipts,files --out /tmp/ext.md for those two
# sections alone: the output file is rewritten with only what ran; the
# cluster section carries its own header so it can be merged into
# RESULTS.md, and a later full run replaces it).
set -euo pipefail
cd "$(dirname "$0")/.."

need() { # need COMMAND DEBIAN-PACKAGE...
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "compare.sh: installing $* (Debian packages)" >&2
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${@:2}"
}
need redis-server redis-server
need openssl openssl
need node nodejs npm
need npm npm

# The Node baseline's dependencies, exactly as locked.
if [ ! bench/ws-baseline/node_modules/.package-lock.json -nt bench/ws-baseline/package-lock.json ]; then
    (cd bench/ws-baseline && npm ci --no-audit --no-fund --silent)
fi

cargo build --release -p banterd -p banter-bench
bin="${CARGO_TARGET_DIR:-target}/release"

# A throwaway CA and a server certificate for 127.0.0.1/localhost (ECDSA
# P-256, valid one day), used by banterd, redis-server and the harness.
pki=$(mktemp -d)
trap 'rm -rf "$pki"' EXIT
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -days 1 -subj "/CN=banter-bench throwaway CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$pki/server.key" \
    -out "$pki/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$pki/ext.cnf"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 1 -extfile "$pki/ext.cnf" -out "$pki/server.pem" 2>/dev/null
tls=(--tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --ca "$pki/ca.pem")

# Each process may hold as many descriptors as the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    taskset -c 1 "$bin/banter-bench" compare --banterd "$bin/banterd" \
        --out bench/RESULTS.md "${tls[@]}" "$@"
else
    echo "compare.sh: no taskset or a single CPU: running unpinned" >&2
    "$bin/banter-bench" compare --no-pin --banterd "$bin/banterd" \
        --out bench/RESULTS.md "${tls[@]}" "$@"
fi
