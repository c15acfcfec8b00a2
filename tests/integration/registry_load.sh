# Sourced by the registry crash tests (registry-crash, registry-shards): PUT load from several
# clients against one node, killed with the node, then the check that every write answered 201
# survived. Expects AINETCTL, writer.key in the current directory, and die() from the test.
#   start_put_load HTTP CLIENTS MIN   starts CLIENTS loaders, each putting c<ID>-<i> = value-<ID>-<i>
#                                     to HTTP and logging the names answered 201 in acked<ID>.txt;
#                                     returns once MIN are acknowledged, or after 10 s
#   stop_put_load                     kills the loaders; ACKED = writes acknowledged (dies if none)
#   check_acked_present HTTP WRITER CLIENTS
#                                     every acknowledged name is listed with its value, and the
#                                     node's root equals the one recomputed from scratch
LOADERS=()

put_loader() {
    local http=$1 id=$2 i=0
    while true; do
        i=$((i + 1))
        if "$AINETCTL" registry put --http "$http" --key writer.key --name "c$id-$i" \
            --value "value-$id-$i" > /dev/null 2>&1; then
            echo "c$id-$i" >> "acked$id.txt"
        fi
    done
}

start_put_load() {
    local http=$1 clients=$2 min=$3 c
    for c in $(seq 1 "$clients"); do
        touch "acked$c.txt"
        put_loader "$http" "$c" &
        LOADERS+=($!)
    done
    for _ in $(seq 1 100); do
        [[ $(cat acked*.txt | wc -l) -ge $min ]] && break
        sleep 0.1
    done
}

stop_put_load() {
    local pid
    for pid in "${LOADERS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${LOADERS[@]}"; do wait "$pid" 2>/dev/null || true; done
    LOADERS=()
    ACKED=$(cat acked*.txt | wc -l)
    [[ $ACKED -gt 0 ]] || die "no put was acknowledged before the kill"
    echo "acknowledged before SIGKILL: $ACKED"
}

check_acked_present() {
    local http=$1 writer=$2 clients=$3 missing=0 c name
    "$AINETCTL" registry list --http "$http" --public-key "$writer" --limit 1000 > list.txt
    PRESENT=$(wc -l < list.txt)
    echo "entries after restart: $PRESENT"
    for c in $(seq 1 "$clients"); do
        while read -r name; do
            grep -q " $name [0-9]* value-${name#c}\$" list.txt || {
                echo "missing: $name" >&2
                missing=$((missing + 1))
            }
        done < "acked$c.txt"
    done
    [[ $missing -eq 0 ]] || die "$missing acknowledged entries missing after restart"
    "$AINETCTL" registry root --http "$http" --verify > /dev/null || die "root differs from scratch"
}
