#!/usr/bin/env bash
# Goal: the registry runs end to end in real ainetd processes. Three nodes whose static
# bootstrap lists name each other: an entry put on node A (201 once durable) becomes visible on
# B and C, and all three report identical Merkle roots within a bounded time; a forged entry
# (signature over other bytes) is refused with 400 and counted in /metrics; a deleted entry
# reads 404 everywhere after sync. Bounded waits only; never hangs.
# Usage: registry_test.sh AINETCTL AINETD
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
AINETCTL=$(realpath "$1")
AINETD=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/registry-test.XXXXXX")
source "$HERE/ports.sh"
BASE=$(free_port_base 32)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
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
for i in 0 1 2; do
    cat > "node$i.json" <<JSON
{"key_file": "node$i.key", "udp_listen": "$(udp $i)", "http_listen": "$(http $i)",
 "data_dir": "state$i", "shard_count": 2, "bootstrap_file": "bootstrap.json"}
JSON
done

start_node() { # start_node I
    "$AINETD" --config "node$1.json" 2> "node$1.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do
        grep -q ' started node_id=' "node$1.log" 2>/dev/null && return 0
        sleep 0.1
    done
    die "node$1 did not start"
}

step "start three nodes"
for i in 0 1 2; do start_node "$i"; done

step "put on node 0, 201 once durable"
"$AINETCTL" keygen --out writer.key > writer.id
writer=$(cat writer.id)
"$AINETCTL" registry put --http "$(http 0)" --key writer.key --name svc/alpha --value hello \
    > put.txt || die "put failed: $(cat put.txt)"
"$AINETCTL" registry put --http "$(http 1)" --key writer.key --name svc/beta --value world \
    > /dev/null || die "put on node 1 failed"
[[ $("$AINETCTL" registry get --http "$(http 0)" --public-key "$writer" --name svc/alpha) == hello ]] \
    || die "get on node 0"

wait_converged() { # wait_converged ENTRIES: all three roots equal with ENTRIES entries, bounded
    local t0
    t0=$(date +%s%N)
    for _ in $(seq 1 150); do
        r0=$("$AINETCTL" registry root --http "$(http 0)" || true)
        r1=$("$AINETCTL" registry root --http "$(http 1)" || true)
        r2=$("$AINETCTL" registry root --http "$(http 2)" || true)
        if [[ -n $r0 && $r0 == "$r1" && $r0 == "$r2" && ${r0#* } == "$1" ]]; then
            echo "roots identical on 3 nodes after $((($(date +%s%N) - t0) / 1000000)) ms (info)"
            return 0
        fi
        sleep 0.2
    done
    die "roots did not converge in 30 s: '$r0' '$r1' '$r2' (want $1 entries)"
}

step "visible on nodes 1 and 2, identical roots"
wait_converged 2
for i in 1 2; do
    [[ $("$AINETCTL" registry get --http "$(http $i)" --public-key "$writer" --name svc/alpha) == hello ]] \
        || die "svc/alpha not visible on node $i"
done
[[ $("$AINETCTL" registry get --http "$(http 2)" --key writer.key --name svc/beta) == world ]] \
    || die "svc/beta not visible on node 2"
"$AINETCTL" registry list --http "$(http 2)" --public-key "$writer" > list.txt
[[ $(wc -l < list.txt) == 2 ]] || die "list: $(cat list.txt)"
"$AINETCTL" registry root --http "$(http 2)" --verify > /dev/null || die "root verify on node 2"

step "a forged entry is refused with 400 and counted"
good=$("$AINETCTL" registry get --http "$(http 0)" --public-key "$writer" --name svc/alpha --json)
forged=$(echo "$good" | sed -E 's/"value_base64":"[^"]*"/"value_base64":"ZXZpbA=="/; s/,"value":"[^"]*"//;
    s/"name_base64":"[^"]*",?//; s/"tombstone":(true|false),?//; s/,}/}/; s/"hlc":([0-9]+)/"hlc":\1/')
code=$(curl -s -o forged.txt -w '%{http_code}' -X PUT --data "$forged" "http://$(http 0)/registry/entries")
[[ $code == 400 ]] || die "forged PUT answered $code: $(cat forged.txt) (sent $forged)"
grep -q "bad signature" forged.txt || die "forged reason: $(cat forged.txt)"
# Captured first: grep -q exiting early would SIGPIPE curl and fail the pipeline (pipefail).
metrics=$(curl -s "http://$(http 0)/metrics")
grep -q '^ainet_registry_http_forged_total 1$' <<<"$metrics" \
    || die "forged not counted: $(grep registry_http <<<"$metrics")"
code=$(curl -s -o bad.txt -w '%{http_code}' -X PUT --data '{"name": 1}' "http://$(http 0)/registry/entries")
[[ $code == 400 ]] || die "malformed PUT answered $code"
big=$(head -c 2000 /dev/zero | tr '\0' a)
code=$(curl -s -o big.txt -w '%{http_code}' -X PUT --data "{\"public_key\": \"$writer\", \"name\": \"x\", \"value\": \"$big\", \"hlc\": 1, \"signature\": \"$(printf '0%.0s' $(seq 1 128))\"}" "http://$(http 0)/registry/entries")
[[ $code == 413 ]] || die "oversized PUT answered $code"

step "delete on node 2 reads 404 everywhere"
"$AINETCTL" registry put --http "$(http 2)" --key writer.key --name svc/alpha --delete > /dev/null \
    || die "delete failed"
wait_converged 2
for i in 0 1 2; do
    if "$AINETCTL" registry get --http "$(http $i)" --public-key "$writer" --name svc/alpha \
        > /dev/null 2>&1; then
        die "deleted entry still readable on node $i"
    fi
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$(http 1)/registry/entries/$writer/svc/alpha")
[[ $code == 404 ]] || die "GET of a deleted entry answered $code"
metrics=$(curl -s "http://$(http 1)/metrics")
grep -q '^ainet_registry_sync_converged_total [1-9]' <<<"$metrics" \
    || die "no converged session counted on node 1"

step "SIGTERM: every node exits 0"
for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
for pid in "${PIDS[@]}"; do
    rc=0
    wait "$pid" || rc=$?
    [[ $rc -eq 0 ]] || die "ainetd $pid exited $rc"
done
PIDS=()

step "ok"
