#!/usr/bin/env bash
# Goal: the registry's shard count is invisible to the network and to the disk. Three ainetd
# with 1, 2 and 4 shards (so 1, 2 and 4 store slices) in one network: entries put on each
# converge to one root everywhere, readable (get, list) on every node; a node restarted with a
# different shard count (4 -> 1, then 1 -> 4) loads every entry, re-partitions its store, keeps
# the root and still syncs; and after a SIGKILL under PUT load on a 4-shard node, a restart with
# 2 shards holds every entry that was answered 201 and the root equals the one recomputed from
# scratch. Bounded waits only; never hangs.
# Usage: registry_shards_test.sh AINETCTL AINETD
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
AINETCTL=$(realpath "$1")
AINETD=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/registry-shards.XXXXXX")
source "$HERE/ports.sh"
BASE=$(free_port_base 32)
PID=(0 0 0)
source "$HERE/registry_load.sh"
cleanup() {
    for pid in "${LOADERS[@]}" "${PID[@]}"; do
        [[ $pid -ne 0 ]] && kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

step() { echo "--- $*"; }
die() {
    echo "FAIL: $*" >&2
    for i in 0 1 2; do echo "== node$i log" >&2; tail -5 "node$i.log" >&2 || true; done
    exit 1
}

source "$HERE/node_list.sh"
write_keys_and_bootstrap 3
write_config() { # write_config I SHARDS
    cat > "node$1.json" <<JSON
{"key_file": "node$1.key", "udp_listen": "$(udp $1)", "http_listen": "$(http $1)",
 "data_dir": "state$1", "shard_count": $2, "bootstrap_file": "bootstrap.json"}
JSON
}
start_node() { # start_node I
    rm -f "node$1.log"
    "$AINETD" --config "node$1.json" 2> "node$1.log" &
    PID[$1]=$!
    for _ in $(seq 1 100); do
        grep -q ' started node_id=' "node$1.log" 2>/dev/null && return 0
        sleep 0.1
    done
    die "node$1 did not start"
}
stop_node() { # stop_node I: SIGTERM, must exit 0
    kill -TERM "${PID[$1]}"
    local rc=0
    wait "${PID[$1]}" || rc=$?
    PID[$1]=0
    [[ $rc -eq 0 ]] || die "node$1 exited $rc on SIGTERM"
}
slices() { # slices I: the store slice count node I reports
    curl -s "http://$(http "$1")/metrics" | sed -n 's/^ainet_registry_store_slices \([0-9]*\)$/\1/p'
}
wait_converged() { # wait_converged ENTRIES|any: all three roots equal (with ENTRIES entries)
    local t0
    t0=$(date +%s%N)
    for _ in $(seq 1 150); do
        r0=$("$AINETCTL" registry root --http "$(http 0)" || true)
        r1=$("$AINETCTL" registry root --http "$(http 1)" || true)
        r2=$("$AINETCTL" registry root --http "$(http 2)" || true)
        if [[ -n $r0 && $r0 == "$r1" && $r0 == "$r2" && ($1 == any || ${r0#* } == "$1") ]]; then
            echo "roots identical on 3 nodes after $((($(date +%s%N) - t0) / 1000000)) ms (info)"
            return 0
        fi
        sleep 0.2
    done
    die "roots did not converge in 30 s: '$r0' '$r1' '$r2' (want $1 entries)"
}

step "start nodes with 1, 2 and 4 shards"
write_config 0 1
write_config 1 2
write_config 2 4
for i in 0 1 2; do start_node "$i"; done
[[ $(slices 0) == 1 && $(slices 1) == 2 && $(slices 2) == 4 ]] \
    || die "store slices: $(slices 0) $(slices 1) $(slices 2)"

step "put 16 entries on each node (keys spread over every branch), identical roots"
"$AINETCTL" keygen --out writer.key > writer.id
writer=$(cat writer.id)
for i in 0 1 2; do
    for k in $(seq 1 16); do
        "$AINETCTL" registry put --http "$(http "$i")" --key writer.key --name "n$i/k$k" \
            --value "v$i-$k" > /dev/null || die "put n$i/k$k on node $i"
    done
done
wait_converged 48
root_before=$r0
check_all_readable() { # check_all_readable NODE
    "$AINETCTL" registry list --http "$(http "$1")" --public-key "$writer" --limit 1000 > list.txt
    [[ $(wc -l < list.txt) == 48 ]] || die "list on node $1: $(wc -l < list.txt) entries"
    for i in 0 1 2; do
        for k in 1 7 16; do
            [[ $("$AINETCTL" registry get --http "$(http "$1")" --public-key "$writer" \
                --name "n$i/k$k") == "v$i-$k" ]] || die "get n$i/k$k on node $1"
        done
    done
}
for i in 0 1 2; do check_all_readable "$i"; done

step "restart the 4-shard node with 1 shard, then the 1-shard node with 4: same root, syncs on"
stop_node 2
write_config 2 1
start_node 2
[[ $(slices 2) == 1 ]] || die "node 2 slices after restart: $(slices 2)"
[[ $("$AINETCTL" registry root --http "$(http 2)") == "$root_before" ]] \
    || die "node 2 root changed across 4 -> 1 shards"
[[ $(ls -d state2/store/registry-slice-* 2>/dev/null | wc -l) == 0 ]] \
    || die "slice directories left: $(ls state2/store)"
stop_node 0
write_config 0 4
start_node 0
[[ $(slices 0) == 4 ]] || die "node 0 slices after restart: $(slices 0)"
[[ $("$AINETCTL" registry root --http "$(http 0)") == "$root_before" ]] \
    || die "node 0 root changed across 1 -> 4 shards"
"$AINETCTL" registry root --http "$(http 0)" --verify > /dev/null || die "node 0 root verify"
check_all_readable 0
"$AINETCTL" registry put --http "$(http 2)" --key writer.key --name "n0/k1" --delete > /dev/null \
    || die "delete on node 2"
wait_converged 48
[[ $r0 != "$root_before" ]] || die "the delete did not change the root"

step "SIGKILL under PUT load on the 4-shard node, restart with 2 shards: every 201 is there"
start_put_load "$(http 0)" 3 60
kill -KILL "${PID[0]}"
wait "${PID[0]}" 2>/dev/null || true
PID[0]=0
stop_put_load
write_config 0 2
start_node 0
[[ $(slices 0) == 2 ]] || die "node 0 slices after the crash restart: $(slices 0)"
check_acked_present "$(http 0)" "$writer" 3
# The others may hold entries node 0 applied but never made durable: it re-learns them.
wait_converged any

step "SIGTERM: every node exits 0"
for i in 0 1 2; do stop_node "$i"; done
step "ok"
