#!/usr/bin/env bash
# Goal: the operator's view of a running node works end to end (issue #9 "Operations"):
# `ainetctl status` prints a table and `--json` a parseable object with the node id, version,
# shards, peers, partition, registry, messaging, discovery and control-plane sections;
# `ainetctl metrics` prints a table, honours --filter and gives parsed JSON; every other command
# that talks to a node (peers, registry, send, recv) answers with parseable JSON under --json;
# and the GET /messages long-poll bound holds: with long_poll_count_max (4) polls waiting, the
# next one is answered 503 at once and counted; a stopping node answers a waiting long poll at
# once (503 "node stopping") instead of holding its stop. JSON is checked with python3. Bounded
# waits.
# Usage: ctl_status_test.sh AINETCTL AINETD
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
AINETCTL=$(realpath "$1")
AINETD=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ctl-status-test.XXXXXX")
POLL_PIDS=(); A_PID=; B_PID=
cleanup() {
    for pid in "${POLL_PIDS[@]}" $A_PID $B_PID; do
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
    exit 1
}
# json_check PYTHON_EXPR < JSON: exits non-zero unless the expression over `j` is true.
json_check() {
    python3 -c "import json, sys; j = json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}

source "$HERE/two_nodes.sh"
writer=$("$AINETCTL" keygen --out writer.key)
start_node a
start_node b

step "status: a table, and JSON with every section"
"$AINETCTL" status --http "$A" > status.txt || die "status failed"
grep -Eq "^node_id +$a\$" status.txt || die "status table: $(cat status.txt)"
grep -Eq '^shards +2$' status.txt || die "status table: $(cat status.txt)"
grep -Eq '^SHARD +BACKEND +RX_DATAGRAMS +TX_DATAGRAMS$' status.txt || die "no shard table"
"$AINETCTL" status --node "$A" --json > status.json || die "status --json failed"
python3 -m json.tool status.json > /dev/null || die "status --json is not JSON"
json_check "j['node_id'] == '$a' and j['shard_count'] == 2 and j['version'] != '' \
    and len(j['shards']) == 2 and j['udp'] == '127.0.0.1:$A_UDP' \
    and isinstance(j['uptime_s'], int) and j['backend'] in ('epoll', 'io_uring') \
    and isinstance(j['peers']['alive'], int) and isinstance(j['partition']['suspected'], bool) \
    and j['registry']['entries'] == 0 and len(j['registry']['root']) == 16 \
    and isinstance(j['messaging']['outbox'], int) and isinstance(j['messaging']['inbox'], int) \
    and isinstance(j['discovery']['known_nodes'], int) \
    and j['http_control']['threads'] == 8 and 'rate_limited' in j['http_control']['rejected']" \
    < status.json || die "status JSON: $(cat status.json)"
# Membership finds B from the bootstrap list (bounded).
tries=0
until "$AINETCTL" status --http "$A" --json | json_check "j['peers']['alive'] >= 1"; do
    (( ++tries <= 150 )) || die "status never showed B alive"
    sleep 0.2
done

step "metrics: a table, --filter, and parsed JSON"
"$AINETCTL" metrics --http "$A" > metrics.txt || die "metrics failed"
grep -Eq '^METRIC +TYPE +LABELS +VALUE$' metrics.txt || die "no metrics header"
grep -Eq '^ainet_http_served_total +counter +[0-9]+$' metrics.txt || die "no served row"
grep -Eq '^ainet_shard_rx_datagrams_total +counter +\(2 series\) +[0-9]+$' metrics.txt \
    || die "no grouped shard family"
grep -Eq '^ +shard=1 +[0-9]+$' metrics.txt || die "no per-shard row"
"$AINETCTL" metrics --http "$A" --filter http_rejected > filtered.txt
[[ $(grep -c '^ainet_' filtered.txt) -ge 7 ]] || die "filter: $(cat filtered.txt)"
grep -v '^METRIC' filtered.txt | grep -vq '^ainet_http_rejected_' && die "filter let others in"
"$AINETCTL" metrics --http "$A" --json > metrics.json
json_check "j['ainet_http_served_total']['type'] == 'counter' \
    and isinstance(j['ainet_http_served_total']['samples'][0]['value'], int) \
    and len(j['ainet_shard_rx_datagrams_total']['samples']) == 2 \
    and j['ainet_shard_rx_datagrams_total']['samples'][1]['labels'] == {'shard': '1'} \
    and 'ainet_http_rejected_slow_request_total' in j" < metrics.json \
    || die "metrics JSON"

step "--json on peers, registry, send and recv"
"$AINETCTL" peers --http "$A" --json | json_check "isinstance(j, list)" || die "peers --json"
"$AINETCTL" peers --http "$A" | grep -Eq '^ID +UDP +HTTP +STATE' || die "peers table header"
"$AINETCTL" registry put --http "$A" --key writer.key --name ops/one --value v1 --json \
    | json_check "j['name'] == 'ops/one'" || die "registry put --json"
"$AINETCTL" registry list --http "$A" --json \
    | json_check "j['entries'][0]['name'] == 'ops/one'" || die "registry list --json"
"$AINETCTL" registry root --http "$A" --json | json_check "j['entries'] == 1" \
    || die "registry root --json"
"$AINETCTL" status --http "$A" --json | json_check "j['registry']['entries'] == 1" \
    || die "status does not count the entry"
"$AINETCTL" send --http "$A" --to "$b" --channel 3 --body hello --json \
    | json_check "isinstance(j['id'], int)" || die "send --json"
tries=0
until "$AINETCTL" recv --http "$B" --channel 3 --wait-ms 500 --json > recv.json 2>/dev/null; do
    (( ++tries <= 20 )) || die "B never received the message"
done
json_check "j['messages'][0]['from'] == '$a'" < recv.json || die "recv --json: $(cat recv.json)"

step "long polls beyond the bound are answered 503 at once and counted"
long_polls_waiting() {
    "$AINETCTL" metrics --http "$A" --json \
        | python3 -c "import json,sys; print(json.load(sys.stdin)['ainet_messaging_long_polls_waiting']['samples'][0]['value'])"
}
for i in 1 2 3 4; do
    "$AINETCTL" recv --http "$A" --channel 99 --wait-ms 8000 > /dev/null 2>&1 &
    POLL_PIDS+=($!)
done
tries=0
until [[ $(long_polls_waiting) == 4 ]]; do
    (( ++tries <= 100 )) || die "4 long polls never waited at once ($(long_polls_waiting))"
    sleep 0.1
done
rc=0
"$AINETCTL" recv --http "$A" --channel 99 --wait-ms 8000 > /dev/null 2> refused.txt || rc=$?
[[ $rc -eq 2 ]] || die "the fifth long poll exited $rc, want 2 (refused)"
grep -q 'HTTP 503' refused.txt || die "refusal: $(cat refused.txt)"
"$AINETCTL" metrics --http "$A" --filter messaging_long_polls_refused --json \
    | json_check "j['ainet_messaging_long_polls_refused_total']['samples'][0]['value'] == 1" \
    || die "refusal not counted"
"$AINETCTL" status --http "$A" --json | json_check "j['messaging']['long_polls_waiting'] == 4" \
    || die "status does not show the waiting polls"
# A poll that does not wait is always served.
rc=0
"$AINETCTL" recv --http "$A" --channel 99 > /dev/null 2>&1 || rc=$?
[[ $rc -eq 1 ]] || die "a non-waiting poll exited $rc, want 1 (nothing there)"
for pid in "${POLL_PIDS[@]}"; do
    wait "$pid" || true
done
POLL_PIDS=()
[[ $(long_polls_waiting) == 0 ]] || die "long polls still counted as waiting"

step "a stopping node answers its long polls at once and exits within its drain timeout"
"$AINETCTL" recv --http "$A" --channel 98 --wait-ms 25000 > /dev/null 2> stopped_poll.txt &
POLL_PIDS+=($!)
tries=0
until [[ $(long_polls_waiting) == 1 ]]; do
    (( ++tries <= 100 )) || die "the long poll never waited"
    sleep 0.1
done
kill -TERM "$A_PID" "$B_PID"
# ainetd drains for at most 5 s; the poll would hold it 25 s. 15 s is the generous bound.
for pid in $A_PID $B_PID; do
    tries=0
    while kill -0 "$pid" 2>/dev/null; do
        (( ++tries <= 150 )) || die "ainetd $pid did not exit within 15 s of SIGTERM"
        sleep 0.1
    done
    rc=0
    wait "$pid" || rc=$?
    [[ $rc -eq 0 ]] || die "ainetd exited $rc"
done
A_PID=; B_PID=
rc=0
wait "${POLL_PIDS[0]}" || rc=$?
POLL_PIDS=()
[[ $rc -eq 2 ]] || die "the long poll exited $rc, want 2: $(cat stopped_poll.txt)"
grep -q 'HTTP 503: {"error":"node stopping"}' stopped_poll.txt \
    || die "long poll at stop: $(cat stopped_poll.txt)"
[[ -n "${SHOW:-}" ]] && { cat status.txt; head -30 metrics.txt; cat status.json; }
echo "PASS"
