# Sourced by the shell integration tests. free_port_base COUNT prints a port P such that
# P .. P+COUNT-1 were free for TCP and UDP on 127.0.0.1 when checked, chosen below the kernel's
# ephemeral range (32768..): a random base up to 40000, as the tests used before, collided with
# client sockets that the kernel hands out from that range (a CI run failed with "cannot bind
# the control address").
free_port_base() {
    python3 - "$1" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 32768 - count)
    held = []
    try:
        for port in range(base, base + count):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind)
                held.append(s)
                s.bind(("127.0.0.1", port))
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in held:
            s.close()
sys.exit("free_port_base: no free range of %d ports below 32768" % count)
PY
}
