#!/usr/bin/env bash
# bench_e2e.sh - order entry end to end over FIXP on TCP loopback. For each of
# three engine settings it starts dtx-engine with perf/loadgen.conf (free
# ports, its own key file in a temp dir), runs dtx-loadgen with 1, 10 and 100
# sessions (one request in flight per session: the round trip; then windows of
# 32 with batched sends: throughput), and stops the engine:
#
#   block       the default: every thread sleeps when idle, nothing pinned;
#               the load generator sleeps in poll() too
#   spin-yield  threads spin then yield, nothing pinned
#   pinned      spin-yield with the gateway thread pinned to CPU 0 and the
#               core thread to CPU 1; the load generator busy-polls
#               (--busy-poll) pinned to CPU 2, or on a 2-CPU machine to CPU 1
#               beside the core thread (they hand the CPU to each other with
#               sched_yield). This is the production layout (each thread on
#               its own core, a market maker polling its socket) squeezed
#               onto the machine at hand.
#
# With --record, each run is appended to perf/RESULTS.md.
#
# Usage: perf/bench_e2e.sh [BUILD_DIR (default build/release)] [--record]
#                          [--seconds S] [--only block|spin-yield|pinned]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release record=() secs=5 only=""
while [ $# -gt 0 ]; do
    case "$1" in
    --record) record=(--record perf/RESULTS.md) ;;
    --seconds) secs="$2"; shift ;;
    --only) only="$2"; shift ;;
    *) bin="$1" ;;
    esac
    shift
done
tmp=$(mktemp -d)
pid=""
stop() { [ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }; }
trap 'stop; rm -rf "$tmp"' EXIT

ncpu=$(nproc)
for setting in block spin-yield pinned; do
    [ -z "$only" ] || [ "$only" = "$setting" ] || continue
    conf="$tmp/engine-$setting.conf" log="$tmp/engine-$setting.log"
    lg=() lgpin=()
    case "$setting" in
    block) extra='[rings]\nwait = block\n' ;;
    spin-yield) extra='[rings]\nwait = spin-yield\n' ;;
    pinned)
        [ "$ncpu" -ge 2 ] || { echo "bench_e2e: pinned needs 2 CPUs, skipped" >&2; continue; }
        extra='[rings]\nwait = spin-yield\n[gateway]\ncpu = 0\n[core]\ncpu = 1\n'
        lg=(--busy-poll)
        lgpin=(taskset -c "$([ "$ncpu" -ge 3 ] && echo 2 || echo 1)")
        ;;
    esac
    { cat perf/loadgen.conf; printf "\n$extra"; } > "$conf"
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
    echo "== dtx-engine ($setting) pid $pid on 127.0.0.1:$port"
    if [ ${#record[@]} -gt 0 ]; then
        printf '\n## bench_e2e, %s: dtx-engine %s\n\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$setting" >> perf/RESULTS.md
        printf 'command: `perf/bench_e2e.sh %s --record --seconds %s` (engine: perf/loadgen.conf plus `%s`; load generator: `%s`; engine and load generator share the %s vCPUs; load average %s before)\n' \
            "$bin" "$secs" "$(printf "$extra" | tr '\n' ' ' | sed 's/ $//')" "${lgpin[*]+${lgpin[*]} }dtx-loadgen ${lg[*]+${lg[*]}}" "$ncpu" "$(cut -d' ' -f1 /proc/loadavg)" >> perf/RESULTS.md
    fi
    run() {
        ${lgpin[@]+"${lgpin[@]}"} "$bin/dtx-loadgen" --port "$port" --keys-file "$tmp/keys.txt" \
            --seconds "$secs" ${lg[@]+"${lg[@]}"} "$@" ${record[@]+"${record[@]}"}
    }
    for n in 1 10 100; do run --sessions "$n" --window 1; done
    for n in 1 10 100; do run --sessions "$n" --window 32 --batch; done
    stop
done
