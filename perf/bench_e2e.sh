#!/usr/bin/env bash
# bench_e2e.sh - order entry end to end: starts dtx-engine (perf/loadgen.conf,
# loopback, free ports, its own key file in a temp dir), runs dtx-loadgen
# with 1, 10 and 100 sessions (one request in flight per session for the
# round trip, then windows of 8 with batched sends for throughput), and stops
# the engine. With --record, each run is appended to perf/RESULTS.md.
#
# Usage: perf/bench_e2e.sh [BUILD_DIR (default build/release)] [--record] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release record=() secs=5
while [ $# -gt 0 ]; do
    case "$1" in
    --record) record=(--record perf/RESULTS.md) ;;
    --seconds) secs="$2"; shift ;;
    *) bin="$1" ;;
    esac
    shift
done
tmp=$(mktemp -d)
log="$tmp/engine.log"
"$bin/dtx-engine" --config perf/loadgen.conf --port 0 --fix-port 0 --keys-file "$tmp/keys.txt" 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=""
for _ in $(seq 100); do
    port=$(grep -m1 'msg="listening"' "$log" | grep -v fix44 | sed -n 's/.*addr=[0-9.]*:\([0-9]*\).*/\1/p' || true)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "bench_e2e: dtx-engine did not start:" >&2; cat "$log" >&2; exit 1; }
echo "bench_e2e: dtx-engine pid $pid on 127.0.0.1:$port"
run() { "$bin/dtx-loadgen" --port "$port" --keys-file "$tmp/keys.txt" --seconds "$secs" "$@" "${record[@]}"; }
for n in 1 10 100; do run --sessions "$n" --window 1; done
for n in 1 10 100; do run --sessions "$n" --window 8 --batch; done
