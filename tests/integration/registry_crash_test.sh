#!/usr/bin/env bash
# Goal: a registry write acknowledged with 201 survives a SIGKILL of ainetd. Several clients
# PUT entries in a loop against one node; the node is killed with SIGKILL mid-load (puts are in
# flight); after a restart on the same data directory every entry that got 201 is present with
# its value, and the node's root equals the root recomputed from scratch from its entries
# (GET /registry/root?verify=1). Bounded waits only.
# Usage: registry_crash_test.sh AINETCTL AINETD
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
AINETCTL=$(realpath "$1")
AINETD=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/registry-crash.XXXXXX")
source "$HERE/ports.sh"
BASE=$(free_port_base 4)
DAEMON_PID=
source "$HERE/registry_load.sh"
cleanup() {
    for pid in "${LOADERS[@]}" $DAEMON_PID; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

step() { echo "--- $*"; }
die() { echo "FAIL: $*" >&2; tail -5 node.log >&2 || true; exit 1; }
HTTP=127.0.0.1:$((BASE + 1))

"$AINETCTL" keygen --out node.key > /dev/null
"$AINETCTL" keygen --out writer.key > writer.id
writer=$(cat writer.id)
cat > node.json <<JSON
{"key_file": "node.key", "udp_listen": "127.0.0.1:$BASE", "http_listen": "$HTTP",
 "data_dir": "state", "shard_count": 2}
JSON

start_node() {
    # A fresh log first: the background start truncates it only once it runs.
    rm -f node.log
    "$AINETD" --config node.json 2> node.log &
    DAEMON_PID=$!
    for _ in $(seq 1 100); do
        grep -q ' started node_id=' node.log 2>/dev/null && return 0
        sleep 0.1
    done
    die "ainetd did not start"
}

step "start, load with 4 clients, SIGKILL mid-load"
start_node
start_put_load "$HTTP" 4 100
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
stop_put_load

step "restart: every acknowledged entry is present, root == root from scratch"
start_node
check_acked_present "$HTTP" "$writer" 4
[[ $PRESENT -ge $ACKED ]] || die "fewer entries ($PRESENT) than acknowledged ($ACKED)"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=
[[ $rc -eq 0 ]] || die "ainetd exited $rc on SIGTERM"
step "ok"
