#!/usr/bin/env bash
# Goal: reliable messaging works end to end between two real ainetd processes (2 shards each,
# so sessions are pinned and datagrams handed over between shards): messages sent with
# `ainetctl send` (HTTP 202 = durable) arrive in order at the other node and `ainetctl recv
# --ack` sees each once; bad requests get 400/413; when the receiver is SIGKILLed in the
# middle of a stream and restarted, every message that got its 202 is delivered (in order, at
# least once); and messages accepted while the receiver is down survive a SIGKILL of the sender
# (restored from its LMDB outbox). Every wait is bounded.
# Usage: messaging_test.sh AINETCTL AINETD
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
AINETCTL=$(realpath "$1")
AINETD=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/messaging-test.XXXXXX")
SENDER_PID=; A_PID=; B_PID=
cleanup() {
    for pid in $SENDER_PID $A_PID $B_PID; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "work dir: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
cd "$WORK"

step() { echo "--- $*"; }
die() {
    echo "FAIL: $*" >&2
    echo "--- a.log" >&2; tail -5 a.log >&2 || true
    echo "--- b.log" >&2; tail -5 b.log >&2 || true
    exit 1
}

source "$HERE/two_nodes.sh"

start_node a
start_node b

step "send A -> B, recv on B in order, each once with --ack"
for i in 1 2 3 4 5; do
    id=$("$AINETCTL" send --node "$A" --to "$b" --channel 7 --body "hello-$i") \
        || die "send $i failed"
    [[ $id =~ ^[0-9]+$ ]] || die "send printed '$id'"
done
got=()
tries=0
while (( ${#got[@]} < 5 )); do
    (( ++tries <= 20 )) || die "B received ${#got[@]} of 5: ${got[*]}"
    while read -r _id from _seq body; do
        [[ $from == "$a" ]] || die "message from '$from', want $a"
        got+=("$body")
    done < <("$AINETCTL" recv --node "$B" --channel 7 --wait-ms 1000 --ack || true)
done
[[ "${got[*]}" == "hello-1 hello-2 hello-3 hello-4 hello-5" ]] || die "order: ${got[*]}"
if "$AINETCTL" recv --node "$B" --channel 7 --wait-ms 200 > again.txt; then
    die "acknowledged messages came back: $(cat again.txt)"
fi

step "bad requests: 400 (bad id, bad body), 413 (oversize)"
"$AINETCTL" send --node "$A" --to "abc" --channel 1 --body x 2> err.txt && die "bad id accepted"
grep -q "HTTP 400" err.txt || die "bad id: $(cat err.txt)"
head -c 5000 /dev/zero > big.bin
"$AINETCTL" send --node "$A" --to "$b" --channel 1 --file big.bin 2> err.txt && die "oversize accepted"
grep -q "HTTP 413" err.txt || die "oversize: $(cat err.txt)"

step "SIGKILL B mid-stream, restart it: every 202'd message arrives, in order"
count=40
(
    for i in $(seq 1 $count); do
        if "$AINETCTL" send --node "$A" --to "$b" --channel 9 --body "m-$i" > /dev/null 2>&1; then
            echo "m-$i" >> accepted.txt
        fi
        sleep 0.02
    done
) &
SENDER_PID=$!
: > received.txt
# Consume some of the stream, then kill B without warning (unacked messages must come back).
tries=0
while (( $(wc -l < received.txt) < 5 )); do
    (( ++tries <= 50 )) || die "no stream before the kill"
    "$AINETCTL" recv --node "$B" --channel 9 --wait-ms 200 --ack 2>/dev/null \
        | awk '{print $4}' >> received.txt || true
done
kill -KILL "$B_PID"
wait "$B_PID" 2>/dev/null || true
B_PID=
sleep 0.5
start_node b
wait "$SENDER_PID" || true
SENDER_PID=
accepted=$(wc -l < accepted.txt)
(( accepted == count )) || die "only $accepted of $count sends were accepted"
tries=0
while true; do
    # Dedupe keeping first occurrences (at least once: a message unacknowledged at the kill
    # may come twice); the result must be exactly the accepted sequence.
    if awk '!seen[$0]++' received.txt | cmp -s - accepted.txt; then
        break
    fi
    (( ++tries <= 40 )) || die "after restart B has $(awk '!seen[$0]++' received.txt | wc -l) of $accepted: $(awk '!seen[$0]++' received.txt | tr '\n' ' ')"
    "$AINETCTL" recv --node "$B" --channel 9 --wait-ms 500 --ack 2>/dev/null \
        | awk '{print $4}' >> received.txt || true
done
echo "received $(wc -l < received.txt) deliveries for $accepted accepted messages"

step "SIGKILL the sender with its outbox pending (receiver down), restart both: delivered"
kill -KILL "$B_PID"; wait "$B_PID" 2>/dev/null || true; B_PID=
for i in 1 2 3; do
    "$AINETCTL" send --node "$A" --to "$b" --channel 11 --body "kept-$i" > /dev/null \
        || die "send kept-$i while B is down"
done
kill -KILL "$A_PID"; wait "$A_PID" 2>/dev/null || true; A_PID=
start_node a
start_node b
: > kept.txt
tries=0
until [[ "$(tr '\n' ' ' < kept.txt)" == "kept-1 kept-2 kept-3 " ]]; do
    (( ++tries <= 30 )) || die "after both restarts B has: $(tr '\n' ' ' < kept.txt)"
    "$AINETCTL" recv --node "$B" --channel 11 --wait-ms 500 --ack 2>/dev/null \
        | awk '{print $4}' >> kept.txt || true
done

step "metrics: ainet_messaging_* counters on /metrics"
metrics() { # metrics PORT: GET /metrics over bash's /dev/tcp (no curl needed)
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    timeout 5 cat <&3 || true
    exec 3<&-
}
metrics "$A_HTTP" > a.metrics
metrics "$B_HTTP" > b.metrics
accepted_total=$(awk '/^ainet_messaging_send_accepted_total/ {s += $2} END {print s + 0}' a.metrics)
# A restarted (its counters start again): the three sends above were its last accepted ones.
grep -q '^ainet_messaging_send_accepted_total' a.metrics || die "no send counters"
grep -q '^ainet_messaging_reliability_datagrams_sent_total' a.metrics || die "no core counters"
grep -q '^ainet_messaging_inbox_messages' b.metrics || die "no inbox gauge"
# Which shard receives a flow is the kernel's choice, so hand-overs are reported, not asserted.
echo "hand-overs between shards: A $(awk '/^ainet_messaging_handoffs_total/ {s += $2} END {print s + 0}' a.metrics), B $(awk '/^ainet_messaging_handoffs_total/ {s += $2} END {print s + 0}' b.metrics)"
kill -TERM "$A_PID" "$B_PID"
for pid in $A_PID $B_PID; do
    tries=0
    while kill -0 "$pid" 2>/dev/null; do
        (( ++tries <= 100 )) || die "ainetd $pid did not stop in 10 s"
        sleep 0.1
    done
done
A_PID=; B_PID=
echo "PASS"
