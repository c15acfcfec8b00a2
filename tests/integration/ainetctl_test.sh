#!/usr/bin/env bash
# Goal: the built ainetctl and ainetd behave as documented end to end: key files are 0600,
# sign/verify round-trip, verify --stream answers one ok/bad per line in order (the same with
# --batch), config check accepts good files and names the field in bad ones, and ainetd starts
# from a config and exits 0 on SIGTERM/SIGINT (bounded waits, never hangs).
# Usage: ainetctl_test.sh AINETCTL AINETD
set -euo pipefail

AINETCTL=$(realpath "$1")
AINETD=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ainetctl-test.XXXXXX")
# Ports vary per run, so concurrent runs (release and ASan builds, parallel checkouts) never
# collide; ainetd binds UDP with SO_REUSEPORT, which would otherwise let two runs share one.
source "$(dirname "$(realpath "$0")")/ports.sh"
UDP_PORT=$(free_port_base 2)
HTTP_PORT=$((UDP_PORT + 1))
DAEMON_PID=
cleanup() {
    if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -KILL "$DAEMON_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

step() { echo "--- $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc WANT CMD...
    local want=$1
    shift
    local rc=0
    "$@" || rc=$?
    [[ $rc -eq $want ]] || die "'$*' exited $rc, want $want"
}

step "keygen writes a 0600 key file and prints the node id"
id=$("$AINETCTL" keygen --out alice.key)
[[ $id =~ ^[0-9a-f]{64}$ ]] || die "keygen printed '$id'"
[[ $(stat -c %a alice.key) == 600 ]] || die "alice.key has mode $(stat -c %a alice.key)"
expect_rc 1 "$AINETCTL" keygen --out alice.key 2>/dev/null
[[ $(cat alice.key | wc -c) -gt 0 ]] || die "existing key file was clobbered"
id_forced=$("$AINETCTL" keygen --out alice.key --force)
[[ $id_forced != "$id" ]] || die "--force did not make a new key"
id=$id_forced
json=$("$AINETCTL" keygen --out bob.key --json)
[[ $json == *"\"node_id\":\""* ]] || die "keygen --json printed '$json'"
bob=$(echo "$json" | sed -E 's/.*"node_id":"([0-9a-f]{64})".*/\1/')
[[ $bob =~ ^[0-9a-f]{64}$ ]] || die "cannot read node_id from '$json'"
[[ $(stat -c %a bob.key) == 600 ]] || die "bob.key has mode $(stat -c %a bob.key)"

step "sign then verify"
sig=$("$AINETCTL" sign --key alice.key --message-hex 68656c6c6f)
[[ $sig =~ ^[0-9a-f]{128}$ ]] || die "sign printed '$sig'"
[[ $("$AINETCTL" verify --public-key "$id" --signature "$sig" --message-hex 68656c6c6f) == ok ]] \
    || die "verify of a good signature did not print ok"
verify_hello() { # verify_hello KEY [ARGS...]: verifies $sig over "hello" under KEY
    local key=$1
    shift
    "$AINETCTL" verify --public-key "$key" --signature "$sig" "$@" >/dev/null
}
expect_rc 0 verify_hello "$id" --message-hex 68656c6c6f
expect_rc 1 verify_hello "$id" --message-hex 68656c6c6e
expect_rc 1 verify_hello "$bob" --message-hex 68656c6c6f
expect_rc 1 "$AINETCTL" verify --public-key "$id" --signature "$sig" --message-hex 68656c6c6f \
    --domain raw >/dev/null
expect_rc 1 "$AINETCTL" verify --public-key "${id:0:62}" --signature "$sig" \
    --message-hex 68656c6c6f >/dev/null 2>&1
printf 'hello' > hello.txt
[[ $("$AINETCTL" verify --public-key "$id" --signature "$sig" --file hello.txt) == ok ]] \
    || die "verify --file of the same bytes did not print ok"
raw=$("$AINETCTL" sign --key alice.key --domain raw --file hello.txt)
expect_rc 0 "$AINETCTL" verify --public-key "$id" --signature "$raw" --domain raw \
    --message-hex 68656c6c6f >/dev/null
empty=$("$AINETCTL" sign --key alice.key --message-hex -)
expect_rc 0 "$AINETCTL" verify --public-key "$id" --signature "$empty" --message-hex - >/dev/null
expect_rc 2 "$AINETCTL" sign --key alice.key 2>/dev/null
chmod 644 alice.key
expect_rc 1 "$AINETCTL" sign --key alice.key --message-hex 00 2>/dev/null
chmod 600 alice.key

step "verify --stream answers each line in order, with and without --batch"
bob_sig=$("$AINETCTL" sign --key bob.key --message-hex 0102)
{
    echo "$id 68656c6c6f $sig"              # ok
    echo "$bob 68656c6c6f $sig"             # bad: wrong key
    echo "$id - $empty"                     # ok: empty message
    echo "this is not a line"               # bad: not hex
    echo ""                                 # bad: empty line
    echo "$id 68656c6c6f ${sig:0:126}"      # bad: short signature
    echo "$id 68656c6c6f $sig extra"        # bad: four fields
    echo "$bob 0102 $bob_sig"               # ok
    head -c 300000 /dev/zero | tr '\0' 'a'; echo   # bad: overlong line
    echo "$id 6 $sig"                       # bad: odd hex
    printf '%s 0102 %s' "$bob" "$bob_sig"   # ok: last line without a newline
} > stream.txt
printf 'ok\nbad\nok\nbad\nbad\nbad\nbad\nok\nbad\nbad\nok\n' > expected.txt
"$AINETCTL" verify --stream < stream.txt > out.txt 2> err.txt || die "verify --stream failed"
diff -u expected.txt out.txt || die "verify --stream output differs"
grep -q '^line 5: empty line' err.txt || die "no line-numbered message for the empty line"
grep -q '^line 9: line too long' err.txt || die "no message for the overlong line"
for batch in 1 2 3 64; do
    "$AINETCTL" verify --stream --batch "$batch" < stream.txt > out_batch.txt 2>/dev/null \
        || die "verify --stream --batch $batch failed"
    diff -u expected.txt out_batch.txt || die "--batch $batch output differs"
done
: | "$AINETCTL" verify --stream > empty_out.txt || die "verify --stream on empty input failed"
[[ ! -s empty_out.txt ]] || die "empty input produced output"
expect_rc 2 "$AINETCTL" verify --stream --batch 0 </dev/null 2>/dev/null

step "config check"
cat > bootstrap.json <<JSON
{"version": 1, "nodes": [
  {"public_key": "$id", "udp": "127.0.0.1:17001", "http": "127.0.0.1:18001"},
  {"public_key": "$bob", "udp": "127.0.0.1:17002", "http": "127.0.0.1:18002"}]}
JSON
cat > node.json <<JSON
{"key_file": "alice.key", "udp_listen": "127.0.0.1:$UDP_PORT", "http_listen": "127.0.0.1:$HTTP_PORT",
 "data_dir": "state", "shard_count": 2, "bootstrap_file": "bootstrap.json", "log_level": "debug",
 "limits": {"recv_buffer_count": 1024}}
JSON
[[ $("$AINETCTL" config check node.json) == ok ]] || die "config check of a good file"
[[ $("$AINETCTL" config check --bootstrap bootstrap.json) == ok ]] || die "bootstrap check"
echo '{"udp_listen": "127.0.0.1:70000"}' > bad_node.json
expect_rc 1 "$AINETCTL" config check bad_node.json 2> bad.txt
grep -q 'bad_node.json: /udp_listen: bad endpoint' bad.txt || die "message: $(cat bad.txt)"
echo '{"limits": {"recv_buffer_count": 1000}}' > bad_limits.json
expect_rc 1 "$AINETCTL" config check bad_limits.json 2> bad.txt
grep -q '/limits/recv_buffer_count' bad.txt || die "message: $(cat bad.txt)"
sed "s/$bob/$id/" bootstrap.json > dup.json
expect_rc 1 "$AINETCTL" config check --bootstrap dup.json 2> bad.txt
grep -q '/nodes/1/public_key: duplicate public key' bad.txt || die "message: $(cat bad.txt)"
echo '{"bootstrap_file": "dup.json"}' > node_dup.json
expect_rc 1 "$AINETCTL" config check node_dup.json 2> bad.txt
grep -q 'dup.json' bad.txt || die "message: $(cat bad.txt)"
expect_rc 1 "$AINETCTL" config check missing.json 2>/dev/null

step "ainetd starts from a config and exits 0 on a signal"
# run_daemon SIGNAL: starts ainetd, waits (bounded) for its start-up line, signals it and
# waits (bounded) for a clean exit.
run_daemon() {
    local signal=$1
    # A fresh log: the background start truncates it only once it runs, and the wait below
    # must not see the previous run's start-up line.
    rm -f daemon.log
    "$AINETD" --config node.json 2> daemon.log &
    DAEMON_PID=$!
    local tries=0
    # Structured start-up line (node/log.hpp): time, level, node id prefix, shard, event.
    until grep -Eqs '^[0-9T:.-]+Z info node=[0-9a-f]{8} shard=- started ' daemon.log; do
        kill -0 "$DAEMON_PID" 2>/dev/null || die "ainetd exited early: $(cat daemon.log)"
        (( ++tries <= 100 )) || die "ainetd did not log its start-up line in 10 s"
        sleep 0.1
    done
    grep -q "node_id=$id" daemon.log || die "start-up line lacks the node id: $(cat daemon.log)"
    grep -q "udp=127.0.0.1:$UDP_PORT http=127.0.0.1:$HTTP_PORT shards=2" daemon.log \
        || die "start-up line: $(cat daemon.log)"
    grep -q 'bootstrap_nodes=2' daemon.log || die "start-up line: $(cat daemon.log)"
    kill "-$signal" "$DAEMON_PID"
    tries=0
    while kill -0 "$DAEMON_PID" 2>/dev/null; do
        (( ++tries <= 100 )) || die "ainetd did not exit within 10 s of SIG$signal"
        sleep 0.1
    done
    local rc=0
    wait "$DAEMON_PID" || rc=$?
    DAEMON_PID=
    [[ $rc -eq 0 ]] || die "ainetd exited $rc after SIG$signal: $(cat daemon.log)"
    grep -q "signal signal=SIG$signal action=\"shutting down\"" daemon.log || die "no shutdown line"
    grep -Eq ' info node=[0-9a-f]{8} shard=- stopped drained=yes drain_ms=[0-9]+$' daemon.log \
        || die "no drained stop line: $(cat daemon.log)"
}
run_daemon TERM
[[ -d state ]] || die "ainetd did not create its data_dir"
run_daemon INT

step "ainetd start-up failures exit 2 naming the file"
expect_rc 2 "$AINETD" --config bad_node.json 2> fail.txt
grep -q 'bad_node.json: /udp_listen' fail.txt || die "message: $(cat fail.txt)"
grep -Eq '^[0-9T:.-]+Z error node=- shard=- startup_failed error=' fail.txt \
    || die "start-up failure is not a structured log line: $(cat fail.txt)"
# Every kind of config error names its file and field (JSON pointer), as `config check` does.
expect_rc 2 "$AINETD" --config bad_limits.json 2> fail.txt
grep -q 'bad_limits.json: /limits/recv_buffer_count' fail.txt || die "message: $(cat fail.txt)"
echo '{"udp_listen": "127.0.0.1:7000", "colour": "blue"}' > unknown_field.json
expect_rc 2 "$AINETD" --config unknown_field.json 2> fail.txt
grep -q 'unknown_field.json: /colour' fail.txt || die "message: $(cat fail.txt)"
echo '{"shard_count": "two"}' > wrong_type.json
expect_rc 2 "$AINETD" --config wrong_type.json 2> fail.txt
grep -q 'wrong_type.json: /shard_count' fail.txt || die "message: $(cat fail.txt)"
echo '{"log_level": "chatty"}' > bad_level.json
expect_rc 2 "$AINETD" --config bad_level.json 2> fail.txt
grep -q 'bad_level.json: /log_level' fail.txt || die "message: $(cat fail.txt)"
sed 's/"bootstrap.json"/"dup.json"/' node.json > node_dup_bootstrap.json
expect_rc 2 "$AINETD" --config node_dup_bootstrap.json 2> fail.txt
grep -q 'dup.json: /nodes/1/public_key' fail.txt || die "message: $(cat fail.txt)"
: > not_a_dir
sed 's/"data_dir": "state"/"data_dir": "not_a_dir"/' node.json > file_data_dir.json
expect_rc 2 "$AINETD" --config file_data_dir.json 2> fail.txt
grep -q 'data_dir .*not_a_dir' fail.txt || die "message: $(cat fail.txt)"
chmod 644 alice.key
expect_rc 2 "$AINETD" --config node.json 2> fail.txt
grep -q 'alice.key' fail.txt || die "message: $(cat fail.txt)"
chmod 600 alice.key
echo '{"key_file": "nobody.key"}' > nokey.json
expect_rc 2 "$AINETD" --config nokey.json 2> fail.txt
grep -q 'nobody.key' fail.txt || die "message: $(cat fail.txt)"
expect_rc 2 "$AINETD" 2>/dev/null

echo "PASS"
