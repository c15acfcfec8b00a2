# Sourced by the shell tests that run several ainetd on 127.0.0.1 (node0, node1, ...), each
# listing all of them as bootstrap nodes. Expects AINETCTL, BASE (ports.sh) and the current
# directory to be the test's work directory.
#   udp I, http I                  node I's addresses (BASE + 2I, BASE + 2I + 1)
#   write_keys_and_bootstrap N     node<I>.key for I < N, their ids in ids[I], bootstrap.json
udp() { echo "127.0.0.1:$((BASE + 2 * $1))"; }
http() { echo "127.0.0.1:$((BASE + 2 * $1 + 1))"; }

write_keys_and_bootstrap() {
    local count=$1 i sep
    ids=()
    for ((i = 0; i < count; ++i)); do
        ids+=("$("$AINETCTL" keygen --out "node$i.key")")
    done
    {
        echo '{"version": 1, "nodes": ['
        for ((i = 0; i < count; ++i)); do
            sep=$([[ $i -lt $((count - 1)) ]] && echo , || true)
            echo "{\"public_key\": \"${ids[$i]}\", \"udp\": \"$(udp $i)\", \"http\": \"$(http $i)\"}$sep"
        done
        echo ']}'
    } > bootstrap.json
}
