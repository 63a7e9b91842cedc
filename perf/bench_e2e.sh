#!/usr/bin/env bash
# bench_e2e.sh - order entry end to end over FIXP on TCP loopback: for each
# wait strategy (block, the default, and spin-yield), starts dtx-engine with
# perf/loadgen.conf (free ports, its own key file in a temp dir), runs
# dtx-loadgen with 1, 10 and 100 sessions (one request in flight per session:
# the round trip; then windows of 8 with batched sends: throughput), and
# stops the engine. With --record, each run is appended to perf/RESULTS.md.
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
pid=""
stop() { [ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }; }
trap 'stop; rm -rf "$tmp"' EXIT

for wait in block spin-yield; do
    conf="$tmp/engine-$wait.conf" log="$tmp/engine-$wait.log"
    { cat perf/loadgen.conf; printf '\n[rings]\nwait = %s\n' "$wait"; } > "$conf"
    "$bin/dtx-engine" --config "$conf" --port 0 --fix-port 0 --keys-file "$tmp/keys.txt" 2>"$log" &
    pid=$!
    port=""
    for _ in $(seq 100); do
        port=$(grep 'msg="listening"' "$log" | grep -v fix44 | head -1 |
               sed -n 's/.*addr=[0-9.]*:\([0-9]*\).*/\1/p' || true)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "bench_e2e: dtx-engine did not start:" >&2; cat "$log" >&2; exit 1; }
    echo "== dtx-engine (wait = $wait) pid $pid on 127.0.0.1:$port"
    if [ ${#record[@]} -gt 0 ]; then
        printf '\n## bench_e2e, %s: dtx-engine with `[rings] wait = %s`\n\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$wait" >> perf/RESULTS.md
        printf 'command: `perf/bench_e2e.sh %s --record --seconds %s` (engine: perf/loadgen.conf plus the wait line; engine and load generator share the %s vCPUs; load average %s before)\n' \
            "$bin" "$secs" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" >> perf/RESULTS.md
    fi
    run() { "$bin/dtx-loadgen" --port "$port" --keys-file "$tmp/keys.txt" --seconds "$secs" "$@" ${record[@]+"${record[@]}"}; }
    for n in 1 10 100; do run --sessions "$n" --window 1; done
    for n in 1 10 100; do run --sessions "$n" --window 8 --batch; done
    stop
done
