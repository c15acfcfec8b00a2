#!/usr/bin/env bash
# Goal: the runtime fault layer makes a real partition between ainetd processes on loopback and
# the protocols see it and heal. Four nodes on 127.0.0.1..4 (one static bootstrap entry) find
# each other; node 4 is cut off with the block list (`ainetctl fault set --block`, both sides);
# the others mark it suspect or dead and node 4 loses them, /metrics counts the blocked
# datagrams; a registry entry written on each side while cut; `ainetctl fault clear` heals:
# every node sees every other alive again and the registry roots converge. Bad settings get 400
# naming the field. Every wait is a bounded poll; never hangs.
# Usage: faults_test.sh AINETCTL AINETD
set -euo pipefail

AINETCTL=$(realpath "$1")
AINETD=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/faults-test.XXXXXX")
source "$(dirname "$(realpath "$0")")/ports.sh"
BASE=$(free_port_base 32)
N=4
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

step() { echo "--- $*"; }
die() {
    echo "FAIL: $*" >&2
    for i in $(seq 1 $N); do
        echo "== node$i peers" >&2; "$AINETCTL" peers --http "$(http "$i")" >&2 || true
        echo "== node$i log" >&2; tail -5 "node$i.log" >&2 || true
    done
    exit 1
}
udp() { echo "127.0.0.$1:$((BASE + 2 * $1))"; }
http() { echo "127.0.0.1:$((BASE + 2 * $1 + 1))"; }
# alive_count I: peers node I reports alive
alive_count() { "$AINETCTL" peers --json --http "$(http "$1")" 2>/dev/null | grep -o '"state":"alive"' | wc -l; }
# state_of I J: the state node I reports for node J's UDP address ("none" if absent)
state_of() {
    "$AINETCTL" peers --json --http "$(http "$1")" 2>/dev/null |
        python3 -c 'import json,sys; t=json.load(sys.stdin); print(next((p["state"] for p in t if p["udp"]==sys.argv[1]), "none"))' "$(udp "$2")" ||
        echo none
}
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.25 s
    local limit=$1 what=$2
    shift 2
    local start=$SECONDS deadline=$((SECONDS + limit))
    while ((SECONDS < deadline)); do
        if "$@"; then echo "    ($what: $((SECONDS - start)) s)"; return 0; fi
        sleep 0.25
    done
    die "timed out after ${limit}s: $what"
}

ids=()
for i in $(seq 1 $N); do ids+=("$("$AINETCTL" keygen --out "node$i.key")"); done
echo "{\"version\": 1, \"nodes\": [{\"public_key\": \"${ids[0]}\", \"udp\": \"$(udp 1)\", \"http\": \"$(http 1)\"}]}" > bootstrap.json
for i in $(seq 1 $N); do
    cat > "node$i.json" <<JSON
{"key_file": "node$i.key", "udp_listen": "$(udp "$i")", "http_listen": "$(http "$i")",
 "data_dir": "state$i", "shard_count": 2, "bootstrap_file": "bootstrap.json"}
JSON
done

step "a config with a bad fault field is refused at start-up, naming the field"
echo '{"faults": {"drop_probability": 2}}' > bad.json
if "$AINETCTL" config check bad.json > bad.out 2>&1; then die "bad faults accepted"; fi
grep -q '/faults/drop_probability' bad.out || die "error does not name the field: $(cat bad.out)"

step "start $N nodes"
for i in $(seq 1 $N); do
    "$AINETD" --config "node$i.json" 2> "node$i.log" &
    PIDS+=($!)
done
for i in $(seq 1 $N); do
    wait_for 20 "node$i start" grep -q ' started node_id=' "node$i.log"
done
all_alive() { for i in $(seq 1 $N); do [[ $(alive_count "$i") -ge $((N - 1)) ]] || return 1; done; }
wait_for 60 "every node sees the others alive" all_alive

step "bad settings are refused with the field named"
if "$AINETCTL" fault set --http "$(http 1)" --drop 1.5 > bad-set.out 2>&1; then die "drop 1.5 accepted"; fi
grep -q '/drop_probability' bad-set.out || die "400 does not name the field: $(cat bad-set.out)"
# Captured first: under pipefail, grep -q leaving early could fail the writer (SIGPIPE).
shown=$("$AINETCTL" fault show --http "$(http 1)")
grep -q '"block":\[\]' <<<"$shown" || die "faults not empty at start"

step "cut node $N off (block lists on both sides)"
for i in $(seq 1 $((N - 1))); do
    "$AINETCTL" fault set --http "$(http "$i")" --block "127.0.0.$N" > /dev/null || die "fault set on node$i"
done
others=()
for i in $(seq 1 $((N - 1))); do others+=(--block "127.0.0.$i"); done
"$AINETCTL" fault set --http "$(http $N)" "${others[@]}" > /dev/null || die "fault set on node$N"
shown=$("$AINETCTL" fault show --http "$(http 1)")
grep -q "127.0.0.$N" <<<"$shown" || die "show lacks the block"
cut_seen() {
    for i in $(seq 1 $((N - 1))); do
        case $(state_of "$i" $N) in suspect|dead|unreachable) ;; *) return 1 ;; esac
    done
    [[ $(alive_count $N) -eq 0 ]]
}
wait_for 60 "the majority marks node $N suspect/dead and node $N loses them" cut_seen
for i in $(seq 1 $((N - 1))); do echo "node$i sees node$N: $(state_of "$i" $N)"; done
blocked=$(curl -s "http://$(http 1)/metrics" | awk '/^ainet_fault_rx_blocked_total/ {s += $2} END {print s + 0}')
tx_blocked=$(curl -s "http://$(http 1)/metrics" | awk '/^ainet_fault_tx_blocked_total/ {s += $2} END {print s + 0}')
echo "node1 ainet_fault_rx_blocked_total=$blocked ainet_fault_tx_blocked_total=$tx_blocked"
[[ $((blocked + tx_blocked)) -gt 0 ]] || die "no blocked datagram counted"

step "write on both sides while cut"
"$AINETCTL" keygen --out writer.key > /dev/null
"$AINETCTL" registry put --http "$(http 1)" --key writer.key --name side/majority --value a > /dev/null || die "put majority"
"$AINETCTL" registry put --http "$(http $N)" --key writer.key --name side/minority --value b > /dev/null || die "put minority"

step "clear the faults: the partition heals"
for i in $(seq 1 $N); do "$AINETCTL" fault clear --http "$(http "$i")" > /dev/null || die "clear node$i"; done
wait_for 90 "every node sees the others alive again" all_alive
roots_equal() {
    local first="" r
    for i in $(seq 1 $N); do
        r=$("$AINETCTL" registry root --http "$(http "$i")" 2>/dev/null) || return 1
        [[ ${r##* } == 2 ]] || return 1
        [[ -z $first || $r == "$first" ]] || return 1
        first=$r
    done
}
wait_for 60 "registry roots converge with both writes" roots_equal
metrics=$(curl -s "http://$(http 1)/metrics")
grep -q '^ainet_fault_active{shard="0"} 0' <<<"$metrics" || die "faults still active"
for pid in "${PIDS[@]}"; do kill -0 "$pid" || die "a node died"; done

step "SIGTERM: every node drains and exits 0 (under ASan: no leak or error report)"
for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
for i in $(seq 1 $N); do
    pid=${PIDS[$((i - 1))]}
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "node$i did not exit within 30 s of SIGTERM"
    wait "$pid" || die "node$i exited with status $?: $(tail -5 "node$i.log")"
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "node$i.log"; then
        die "sanitizer report in node$i.log: $(grep -m3 -E 'Sanitizer|runtime error' "node$i.log")"
    fi
done
PIDS=()
echo "PASS"
