#!/usr/bin/env bash
# Goal: a registry write acknowledged with 201 survives a SIGKILL of ainetd. Several clients
# PUT entries in a loop against one node; the node is killed with SIGKILL mid-load (puts are in
# flight); after a restart on the same data directory every entry that got 201 is present with
# its value, and the node's root equals the root recomputed from scratch from its entries
# (GET /registry/root?verify=1). Bounded waits only.
# Usage: registry_crash_test.sh AINETCTL AINETD
set -euo pipefail

AINETCTL=$(realpath "$1")
AINETD=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/registry-crash.XXXXXX")
source "$(dirname "$(realpath "$0")")/ports.sh"
BASE=$(free_port_base 4)
DAEMON_PID=
LOADERS=()
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

loader() { # loader ID: puts c<ID>-<i> until killed, logs each name that got 201
    local i=0
    while true; do
        i=$((i + 1))
        if "$AINETCTL" registry put --http "$HTTP" --key writer.key --name "c$1-$i" \
            --value "value-$1-$i" > /dev/null 2>&1; then
            echo "c$1-$i" >> "acked$1.txt"
        fi
    done
}

step "start, load with 4 clients, SIGKILL mid-load"
start_node
for c in 1 2 3 4; do
    touch "acked$c.txt"
    loader "$c" &
    LOADERS+=($!)
done
for _ in $(seq 1 100); do
    [[ $(cat acked*.txt | wc -l) -ge 100 ]] && break
    sleep 0.1
done
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
for pid in "${LOADERS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
for pid in "${LOADERS[@]}"; do wait "$pid" 2>/dev/null || true; done
LOADERS=()
acked=$(cat acked*.txt | wc -l)
[[ $acked -gt 0 ]] || die "no put was acknowledged before the kill"
echo "acknowledged before SIGKILL: $acked"

step "restart: every acknowledged entry is present, root == root from scratch"
start_node
"$AINETCTL" registry list --http "$HTTP" --public-key "$writer" --limit 1000 > list.txt
present=$(wc -l < list.txt)
echo "entries after restart: $present"
missing=0
for c in 1 2 3 4; do
    while read -r name; do
        grep -q " $name [0-9]* value-${name#c}\$" list.txt || {
            echo "missing: $name" >&2
            missing=$((missing + 1))
        }
    done < "acked$c.txt"
done
[[ $missing -eq 0 ]] || die "$missing acknowledged entries missing after restart"
"$AINETCTL" registry root --http "$HTTP" --verify > root.txt || die "root differs from scratch"
[[ ${present} -ge $acked ]] || die "fewer entries ($present) than acknowledged ($acked)"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=
[[ $rc -eq 0 ]] || die "ainetd exited $rc on SIGTERM"
step "ok"
