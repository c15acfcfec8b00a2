# Sourced by the shell integration tests that run two ainetd on loopback (a and b, 2 shards
# each, each other's bootstrap entries). Expects HERE (this folder), AINETCTL, AINETD, the
# current directory to be the test's work directory, and die() from the test. Defines:
#   A_UDP A_HTTP B_UDP B_HTTP   ports (free_port_base, ports.sh: consecutive, below 32768)
#   a b                         node ids (a.key, b.key written)
#   A B                         their HTTP addresses for ainetctl --node
#   A_PID B_PID                 set by start_node, cleared by the caller when it stops one
#   start_node a|b              starts the node, waits (bounded: 10 s) for its start-up line
source "$HERE/ports.sh"
BASE=$(free_port_base 4)
A_UDP=$BASE; A_HTTP=$((BASE + 1)); B_UDP=$((BASE + 2)); B_HTTP=$((BASE + 3))
A_PID=; B_PID=
A="127.0.0.1:$A_HTTP"
B="127.0.0.1:$B_HTTP"

a=$("$AINETCTL" keygen --out a.key)
b=$("$AINETCTL" keygen --out b.key)
cat > bootstrap.json <<JSON
{"version": 1, "nodes": [
  {"public_key": "$a", "udp": "127.0.0.1:$A_UDP", "http": "127.0.0.1:$A_HTTP"},
  {"public_key": "$b", "udp": "127.0.0.1:$B_UDP", "http": "127.0.0.1:$B_HTTP"}]}
JSON
for n in a b; do
    udp=$A_UDP; http=$A_HTTP
    [[ $n == b ]] && { udp=$B_UDP; http=$B_HTTP; }
    cat > $n.json <<JSON
{"key_file": "$n.key", "udp_listen": "127.0.0.1:$udp", "http_listen": "127.0.0.1:$http",
 "data_dir": "state-$n", "shard_count": 2, "bootstrap_file": "bootstrap.json",
 "limits": {"recv_buffer_count": 1024}}
JSON
done

start_node() {
    local n=$1
    rm -f $n.log
    "$AINETD" --config $n.json 2> $n.log &
    local pid=$!
    if [[ $n == a ]]; then A_PID=$pid; else B_PID=$pid; fi
    local tries=0
    until grep -qs ' started node_id=' $n.log; do
        kill -0 "$pid" 2>/dev/null || die "ainetd $n exited early: $(cat $n.log)"
        (( ++tries <= 100 )) || die "ainetd $n did not start in 10 s"
        sleep 0.1
    done
}
