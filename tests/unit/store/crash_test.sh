#!/usr/bin/env bash
# Goal: an acknowledged write survives SIGKILL. store-crash-writer group-commits keys and prints
# each commit's acknowledgement only after commit() returned ok; this driver kills it at a random
# moment during the load, reopens the store and checks that every acknowledged key is there and
# that no batch is torn. Several rounds on the same directory, so recovery after a crash is
# itself crashed into. Bounded: ROUNDS rounds, each writer stops after COMMITS_MAX commits, every
# wait has a deadline. SIGKILL tests a process crash (the page cache survives it); a power loss
# additionally relies on the fdatasync in each durable commit, which no test here can cut.
# Seeded from $AINET_CRASH_SEED or the clock; the seed is printed.
# Usage: crash_test.sh STORE_CRASH_WRITER
set -euo pipefail

WRITER=$(realpath "$1")
ROUNDS=${AINET_CRASH_ROUNDS:-6}
COMMITS_MAX=20000
SEED=${AINET_CRASH_SEED:-$(( $(date +%s%N) % 1000000 ))}
RANDOM=$SEED
echo "crash test seed $SEED (rerun with AINET_CRASH_SEED=$SEED)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/store-crash.XXXXXX")
PID=
cleanup() {
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

ACKS="$WORK/acks"
: > "$ACKS"
for round in $(seq 1 "$ROUNDS"); do
    batch=$(( (RANDOM % 3 == 0) ? 1 : 1 + RANDOM % 256 ))
    before=$(wc -l < "$ACKS")
    "$WRITER" write "$WORK/db" "$batch" "$COMMITS_MAX" >> "$ACKS" &
    PID=$!
    # Wait (at most 20 s) for the first acknowledgement of this round, so the kill lands
    # during the load and not before the writer opened the store.
    for _ in $(seq 1 400); do
        [[ $(wc -l < "$ACKS") -gt $before ]] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    delay_ms=$(( RANDOM % 400 ))
    sleep "$(printf '0.%03d' "$delay_ms")"
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
    acked=$(( $(wc -l < "$ACKS") - before ))
    echo "round $round: batch $batch, killed after ${delay_ms} ms, $acked commits acknowledged"
    if [[ $acked -eq 0 ]]; then
        echo "FAIL: the writer acknowledged nothing in round $round" >&2
        exit 1
    fi
    "$WRITER" check "$WORK/db" "$ACKS"
done
echo "crash test passed"
