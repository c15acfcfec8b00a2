#!/usr/bin/env python3
"""End-to-end test across network namespaces (issue #9): real ainetd processes on real
(namespaced) hosts under a partition, crashes and restarts.

    e2e_netns_test.py AINETCTL AINETD

Topology: four network namespaces ("hosts") ainet-e2e-<pid>-{a,b,c,d}, each joined by a veth
pair to a bridge that lives in a fifth namespace, ainet-e2e-<pid>-br, so nothing is created in
the root namespace. Host i (1..4) has the addresses 10.77.<i>.1-3/16, one per node; the bridge
namespace has 10.77.0.254/16, and this script moves its own network namespace there (setns)
to reach every node's HTTP address directly. Three ainetd per host, 12 in all, each with its own
data_dir and config, UDP on <addr>:7000, the admin HTTP API on <addr>:8000 (exposed on the
node's address only because this script drives every node from outside) and the public
listener on <addr>:8080 (public_http_listen: GET /bootstrap/nodes and /healthz only), which is
what bootstrap records name, so discovery runs as on a real multi-host network. Concrete
addresses, so membership and discovery run; started with `ip netns exec`. Node a1's bootstrap
list is empty, every other node's list names only node a1's public listener.

Scenario (every wait is a poll with a deadline):
  1. discovery: every node sees the 11 others alive in GET /peers;
  2. a registry write from every node (`ainetctl registry put`, signed with the node's key,
     name e2e/p1/<node>), run inside the node's namespace; reliable messages on fixed
     (sender, receiver, channel) flows, some within a host, some across hosts (`ainetctl
     send`, POST /messages); two agents talk through a relay node on a third host (`ainetctl
     relay listen|send`);
  3. partition: an nftables table of our own in every host namespace drops traffic between
     {a,b} and {c,d}; rounds of writes (e2e/p2r<k>/...) and sends continue on both sides (sends
     across the cut are accepted, 202, and wait at the sender) until every node reports the
     partition (ainet_membership_partition_suspected 1); then one writer key writes the same
     names on both sides (conflicts; the {c,d} side's higher HLC must win everywhere);
  4. one node on each side (seeded choice, never a1 or the relay c1) is SIGKILLed and
     restarted on the same data_dir; writes (e2e/p3/...) and sends again, including on the
     restarted nodes;
  5. the cut is lifted; one more relay exchange, writes (e2e/p4/...) and sends.
Checks after the heal:
  - every node answers GET /registry/root with the same root and entry count, and every write
    acknowledged with 201 is present, with its value, on every node; `ainetctl registry root
    --verify` (incremental root == from-scratch recompute) passes on every node;
  - messages: on every flow the messages the receiver got, deduplicated by (from, seq), are
    exactly the accepted ones (202) in send order, none missing, none extra. Messaging is
    at-least-once (messaging_service.hpp: a message is acknowledged to its sender only once the
    application's POST /messages/ack is durable), so a duplicate (same from and seq, same body)
    is allowed only on a receiver that was SIGKILLed; duplicates are reported;
  - every node shows the partition detected and healed in /metrics
    (ainet_membership_partitions_suspected_total >= 1, ainet_membership_partitions_healed_total
    >= 1, ainet_membership_partition_suspected == 0), and its registry counted both partition
    epoch moves (ainet_registry_partition_events_total >= 2). That includes the two nodes
    restarted during the cut (their counters start at zero): they take back the members they
    knew from their member snapshot, probe the far side, and must detect the cut before the
    heal (the scenario waits for it), then see it heal;
  - no crash: every node exits 0 on SIGTERM, and no log carries a sanitizer report.
On failure it prints, per node, the last 30 log lines and its membership/registry/messaging
metrics, and the seed and names used. Exit 77 (skip) where namespaces or nftables cannot be
used (not root, no `ip`/`nft`, refused by the kernel). AINET_E2E_SEED replays a seed.
Everything created (namespaces, veths, bridge, nft tables, processes) is removed on exit, also
on failure or SIGTERM; leftovers of a run that was SIGKILLed are removed by the next run.
"""

import atexit
import base64
import ctypes
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
HOSTS = ["a", "b", "c", "d"]
NODES_PER_HOST = 3
SIDE_A = {"a", "b"}  # cut off from {"c", "d"} in the partition
UDP_PORT = 7000
HTTP_PORT = 8000
PUBLIC_HTTP_PORT = 8080
PREFIX = "ainet-e2e-"

libc = ctypes.CDLL(None, use_errno=True)
started_at = time.monotonic()


def log(text):
    print(f"[{time.monotonic() - started_at:7.1f}s] {text}", flush=True)


def skip(reason):
    print(f"SKIP: e2e-netns: {reason}", flush=True)
    sys.exit(SKIP)


def run(args, check=True, timeout=30, **kw):
    return subprocess.run(args, check=check, timeout=timeout, capture_output=True, text=True, **kw)


def die_with_parent():
    # The daemons die with the test even if it is SIGKILLed (meson's timeout).
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Node:
    def __init__(self, index, host, k, work):
        self.index = index
        self.host = host
        self.name = f"{host}{k}"
        self.addr = f"10.77.{HOSTS.index(host) + 1}.{k}"
        self.udp = f"{self.addr}:{UDP_PORT}"
        self.http = f"{self.addr}:{HTTP_PORT}"
        self.public_http = f"{self.addr}:{PUBLIC_HTTP_PORT}"
        self.dir = os.path.join(work, self.name)
        self.log_path = os.path.join(self.dir, "log")
        self.proc = None
        self.id = None
        self.starts = 0
        self.restarted = False


class E2E:
    def __init__(self, ainetctl, ainetd):
        self.ainetctl = ainetctl
        self.ainetd = ainetd
        self.pid = os.getpid()
        self.seed = int(os.environ.get("AINET_E2E_SEED", random.randrange(1 << 32)))
        self.rng = random.Random(self.seed)
        self.ns = {h: f"{PREFIX}{self.pid}-{h}" for h in HOSTS}
        self.br_ns = f"{PREFIX}{self.pid}-br"
        self.nft_table = f"ainet_e2e_{self.pid}"
        self.created_ns = []
        self.cut_hosts = []
        self.work = None
        self.nodes = []
        self.failures = []
        self.timings = []
        self.cleaned = False

    # --- setup and teardown ---------------------------------------------------------------

    def remove_stale(self):
        # Namespaces of earlier runs that were killed before they could clean up.
        out = run(["ip", "netns", "list"], check=False).stdout
        for line in out.splitlines():
            name = line.split()[0] if line.split() else ""
            if not name.startswith(PREFIX):
                continue
            pid = name[len(PREFIX):].split("-")[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                run(["ip", "netns", "del", name], check=False)

    def make_network(self):
        if os.geteuid() != 0:
            skip("needs root to create network namespaces (ip netns add)")
        for tool in ("ip", "nft"):
            if shutil.which(tool) is None:
                skip(f"`{tool}` not found")
        self.remove_stale()
        for name in [self.br_ns] + list(self.ns.values()):
            r = run(["ip", "netns", "add", name], check=False)
            if r.returncode != 0:
                skip(f"`ip netns add {name}` refused: {r.stderr.strip()}")
            self.created_ns.append(name)
        br = self.br_ns
        steps = [
            ["ip", "-n", br, "link", "add", "br0", "type", "bridge"],
            ["ip", "-n", br, "addr", "add", "10.77.0.254/16", "dev", "br0"],
            ["ip", "-n", br, "link", "set", "br0", "up"],
            ["ip", "-n", br, "link", "set", "lo", "up"],
        ]
        for i, h in enumerate(HOSTS):
            ns = self.ns[h]
            steps += [
                ["ip", "-n", br, "link", "add", f"v{h}", "type", "veth", "peer", "name", "eth0",
                 "netns", ns],
                ["ip", "-n", br, "link", "set", f"v{h}", "master", "br0"],
                ["ip", "-n", br, "link", "set", f"v{h}", "up"],
                ["ip", "-n", ns, "link", "set", "lo", "up"],
                ["ip", "-n", ns, "link", "set", "eth0", "up"],
            ]
            for k in range(1, NODES_PER_HOST + 1):
                steps.append(["ip", "-n", ns, "addr", "add", f"10.77.{i + 1}.{k}/16", "dev", "eth0"])
        for step in steps:
            r = run(step, check=False)
            if r.returncode != 0:
                skip(f"`{' '.join(step)}` failed: {r.stderr.strip()}")
        # nftables must work in the namespaces (the partition); try it once.
        probe = f"{self.nft_table}_probe"
        r = run(["ip", "netns", "exec", self.ns["a"], "nft", "add", "table", "inet", probe],
                check=False)
        if r.returncode != 0:
            skip(f"nft refused in a namespace: {r.stderr.strip()}")
        run(["ip", "netns", "exec", self.ns["a"], "nft", "delete", "table", "inet", probe],
            check=False)
        # Join the bridge's namespace: urllib reaches every node's HTTP address from here.
        fd = os.open(f"/run/netns/{br}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                skip(f"setns into {br}: {os.strerror(ctypes.get_errno())}")
        finally:
            os.close(fd)

    def cleanup(self):
        if self.cleaned:
            return
        self.cleaned = True
        for n in self.nodes:
            if n.proc and n.proc.poll() is None:
                n.proc.kill()
                try:
                    n.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        for h in list(self.cut_hosts):
            run(["ip", "netns", "exec", self.ns[h], "nft", "delete", "table", "inet",
                 self.nft_table], check=False)
        # Deleting a namespace removes its interfaces (veths, bridge) with it.
        for name in reversed(self.created_ns):
            run(["ip", "netns", "del", name], check=False)
        self.created_ns = []
        if self.work and not self.failures and os.environ.get("AINET_E2E_KEEP") is None:
            shutil.rmtree(self.work, ignore_errors=True)

    # --- nodes ----------------------------------------------------------------------------

    def ctl(self, node, *args, timeout=30):
        """Runs ainetctl inside the node's namespace."""
        return run(["ip", "netns", "exec", self.ns[node.host], self.ainetctl, *args],
                   check=False, timeout=timeout)

    def write_nodes(self):
        self.work = tempfile.mkdtemp(prefix=f"ainet-e2e-{self.pid}.")
        for i, h in enumerate(HOSTS):
            for k in range(1, NODES_PER_HOST + 1):
                self.nodes.append(Node(len(self.nodes), h, k, self.work))
        for n in self.nodes:
            os.makedirs(n.dir)
            r = run([self.ainetctl, "keygen", "--out", os.path.join(n.dir, "node.key")])
            n.id = r.stdout.strip()
        first = self.nodes[0]
        for n in self.nodes:
            entries = [] if n is first else [
                {"public_key": first.id, "udp": first.udp, "http": first.public_http}]
            with open(os.path.join(n.dir, "bootstrap_nodes.json"), "w") as f:
                json.dump({"version": 1, "nodes": entries}, f)
            with open(os.path.join(n.dir, "node.json"), "w") as f:
                json.dump({"key_file": "node.key", "udp_listen": n.udp, "http_listen": n.http,
                           "public_http_listen": n.public_http,
                           "data_dir": "data", "shard_count": 1,
                           "bootstrap_file": "bootstrap_nodes.json", "log_level": "info"}, f)

    def start(self, n):
        out = open(n.log_path, "ab")
        n.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns[n.host], self.ainetd, "--config",
             os.path.join(n.dir, "node.json")],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        out.close()
        n.starts += 1

    def started_count(self, n):
        try:
            with open(n.log_path, errors="replace") as f:
                return f.read().count(" started node_id=")
        except OSError:
            return 0

    def wait_started(self, nodes, limit):
        def ok():
            for n in nodes:
                if n.proc.poll() is not None:
                    raise Failure(f"{n.name} exited with {n.proc.returncode} at start-up")
            return all(self.started_count(n) >= n.starts for n in nodes)
        self.wait("nodes started", ok, limit)

    # --- HTTP -----------------------------------------------------------------------------

    def get(self, n, path, timeout=3):
        try:
            with urllib.request.urlopen(f"http://{n.http}{path}", timeout=timeout) as r:
                return r.read().decode()
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def status_of(self, address, path, timeout=3):
        try:
            with urllib.request.urlopen(f"http://{address}{path}", timeout=timeout) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def metrics(self, n):
        body = self.get(n, "/metrics")
        values = {}
        for line in (body or "").splitlines():
            if line.startswith("#") or " " not in line:
                continue
            name, value = line.rsplit(" ", 1)
            try:
                values[name] = float(value)
            except ValueError:
                pass
        return values

    def peers(self, n):
        body = self.get(n, "/peers")
        try:
            return {row.get("id"): row.get("state") for row in json.loads(body or "[]")}
        except (ValueError, AttributeError):
            return {}

    def root(self, n):
        body = self.get(n, "/registry/root")
        try:
            j = json.loads(body or "")
            return (j["root"], j["entries"])
        except (ValueError, KeyError, TypeError):
            return None

    # --- waiting --------------------------------------------------------------------------

    def wait(self, what, done, limit):
        t0 = time.monotonic()
        deadline = t0 + limit
        while True:
            if done():
                took = time.monotonic() - t0
                self.timings.append((what, took))
                log(f"{what}: {took:.1f}s")
                return took
            if time.monotonic() >= deadline:
                raise Failure(f"timed out after {limit}s waiting for: {what}")
            time.sleep(0.5)

    def all_alive(self, nodes):
        ids = {n.id for n in nodes}
        for n in nodes:
            states = self.peers(n)
            if any(states.get(other) != "alive" for other in ids - {n.id}):
                return False
        return True

    # --- workload -------------------------------------------------------------------------

    def put_all(self, phase, nodes):
        for n in nodes:
            name = f"e2e/{phase}/{n.name}"
            value = f"{n.name} {phase} {self.seed}"
            r = self.ctl(n, "registry", "put", "--http", n.http, "--key",
                         os.path.join(n.dir, "node.key"), "--name", name, "--value", value)
            if r.returncode == 0:
                self.acked.append((n.id, name, value, n.name))
            else:
                self.put_refused.append((n.name, name, r.stderr.strip()))

    def send_all(self, phase, count=3):
        for f in self.flows:
            s, r = f["from"], f["to"]
            if s.proc is None or s.proc.poll() is not None:
                continue
            for i in range(count):
                body = f"{s.name}->{r.name} {phase} #{i}"
                res = self.ctl(s, "send", "--node", s.http, "--to", r.id, "--channel",
                               str(f["channel"]), "--body", body)
                if res.returncode == 0:
                    f["accepted"].append(body)
                else:
                    f["refused"].append((body, res.stderr.strip()))

    def receive_all(self):
        """Drains every flow's receiver inbox (ack what it printed)."""
        for f in self.flows:
            r = f["to"]
            if r.proc is None or r.proc.poll() is not None:
                continue
            res = self.ctl(r, "recv", "--node", r.http, "--channel", str(f["channel"]),
                           "--wait-ms", "0", "--max", "1024", "--ack", "--json")
            if not res.stdout.strip():
                continue  # nothing waiting (recv exits 1 with no output)
            try:  # `recv --json` prints the node's answer: {"messages": [...]}
                for m in json.loads(res.stdout)["messages"]:
                    body = base64.b64decode(m["body"]).decode(errors="replace")
                    f["received"].append((m["from"], m["seq"], body))
            except (ValueError, KeyError, TypeError):
                f["garbage"].append(res.stdout)

    def flow_complete(self, f):
        seen = {}
        for frm, seq, body in f["received"]:
            seen.setdefault((frm, seq), body)
        return len(seen) >= len(f["accepted"])

    def relay_exchange(self, relay, listener_host, sender_host, tag):
        """Bob listens on relay (a node of a third host), Alice sends to him through it."""
        bob_key = os.path.join(self.work, f"bob-{tag}.key")
        alice_key = os.path.join(self.work, f"alice-{tag}.key")
        bob = run([self.ainetctl, "keygen", "--out", bob_key]).stdout.strip()
        alice = run([self.ainetctl, "keygen", "--out", alice_key]).stdout.strip()
        texts = [f"relay {tag} #{i}" for i in range(3)]
        listener = subprocess.Popen(
            ["ip", "netns", "exec", self.ns[listener_host], self.ainetctl, "relay", "listen",
             "--relay", relay.udp, "--key", bob_key, "--count", str(len(texts)),
             "--timeout-ms", "20000"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=die_with_parent)
        try:
            line = listener.stdout.readline()  # "listening as <id>" once the hello is done
            if not line.startswith("listening"):
                raise Failure(f"relay listen on {relay.name}: {line.strip()}")
            for t in texts:
                r = run(["ip", "netns", "exec", self.ns[sender_host], self.ainetctl, "relay",
                         "send", "--relay", relay.udp, "--key", alice_key, "--to", bob,
                         "--text", t], check=False)
                if r.returncode != 0:
                    raise Failure(f"relay send via {relay.name}: {r.stderr.strip()}")
            out, _ = listener.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            listener.kill()
            raise Failure(f"relay listen via {relay.name} did not end")
        finally:
            if listener.poll() is None:
                listener.kill()
                listener.wait()
        got = [l.split(" ", 1) for l in out.splitlines() if l.strip()]
        expected = [[alice, t] for t in texts]
        if listener.returncode != 0 or got != expected:
            raise Failure(f"relay via {relay.name}: listener exit {listener.returncode}, "
                          f"got {got}, expected {expected}")
        log(f"relay: {len(texts)} messages {sender_host} -> {relay.name} -> {listener_host}")

    def conflicting_writes(self):
        """During the cut, one writer key writes the same name on both sides; the higher HLC
        (the one written on the {c,d} side) must win everywhere after the heal."""
        key = os.path.join(self.work, "shared-writer.key")
        self.shared_writer = run([self.ainetctl, "keygen", "--out", key]).stdout.strip()
        hlc = (int(time.time() * 1000) << 16)
        self.conflicts = []
        for name_suffix, (left, right) in enumerate([("a1", "c1"), ("b1", "d1")]):
            name = f"e2e/conflict/{name_suffix}"
            results = []
            for node_name, bump in ((left, 1), (right, 2)):
                n = next(x for x in self.nodes if x.name == node_name)
                value = f"written on {node_name}"
                r = self.ctl(n, "registry", "put", "--http", n.http, "--key", key, "--name",
                             name, "--value", value, "--hlc", str(hlc + bump))
                results.append(r.returncode == 0)
            if all(results):
                self.conflicts.append((name, f"written on {right}"))
            else:
                self.failures.append(f"conflicting write {name} refused")

    # --- partition ------------------------------------------------------------------------

    def cut(self):
        for h in HOSTS:
            other = [f"10.77.{HOSTS.index(o) + 1}.0/24" for o in HOSTS
                     if (o in SIDE_A) != (h in SIDE_A)]
            nets = ", ".join(other)
            rules = (f"table inet {self.nft_table} {{\n"
                     f"  chain in {{ type filter hook input priority 0; policy accept;"
                     f" ip saddr {{ {nets} }} drop; }}\n"
                     f"  chain out {{ type filter hook output priority 0; policy accept;"
                     f" ip daddr {{ {nets} }} drop; }}\n}}\n")
            r = subprocess.run(["ip", "netns", "exec", self.ns[h], "nft", "-f", "-"],
                               input=rules, capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise Failure(f"nft in {self.ns[h]}: {r.stderr.strip()}")
            self.cut_hosts.append(h)

    def heal(self):
        for h in list(self.cut_hosts):
            run(["ip", "netns", "exec", self.ns[h], "nft", "delete", "table", "inet",
                 self.nft_table])
            self.cut_hosts.remove(h)

    # --- the scenario ---------------------------------------------------------------------

    def scenario(self):
        self.acked, self.put_refused = [], []
        for n in self.nodes:
            self.start(n)
        self.wait_started(self.nodes, 60)
        self.wait("discovery: every node sees the 11 others alive",
                  lambda: self.all_alive(self.nodes), 120)
        # The public listeners carried discovery; they answer nothing an operator uses.
        for n in self.nodes:
            got = {p: self.status_of(n.public_http, p)
                   for p in ("/bootstrap/nodes", "/healthz", "/metrics", "/peers", "/registry/root")}
            if got != {"/bootstrap/nodes": 200, "/healthz": 200, "/metrics": 404, "/peers": 404,
                       "/registry/root": 404}:
                self.failures.append(f"{n.name}: public listener answers {got}")

        by = {n.name: n for n in self.nodes}
        # Victims: one node per side, never a1 (the bootstrap entry) and never the relay (c1).
        side_a = [n for n in self.nodes if n.host in SIDE_A and n.name != "a1"]
        side_b = [n for n in self.nodes if n.host not in SIDE_A and n.name != "c1"]
        self.victims = [self.rng.choice(side_a), self.rng.choice(side_b)]
        log(f"victims (seed {self.seed}): {', '.join(v.name for v in self.victims)}")
        pairs = [("a1", "a2"), ("a2", "c2"), ("c3", "b1"), ("b2", "d1"), ("d3", "b3"),
                 ("d2", "c3")]
        # Flows to and from each victim, within its side and across the cut.
        for v in self.victims:
            peer_same = next(n for n in self.nodes if n.host == v.host and n is not v)
            peer_far = next(n for n in self.nodes if (n.host in SIDE_A) != (v.host in SIDE_A)
                            and n not in self.victims)
            pairs += [(peer_same.name, v.name), (v.name, peer_far.name), (peer_far.name, v.name)]
        self.flows = []
        for ch, (s, r) in enumerate(pairs, start=1):
            self.flows.append({"from": by[s], "to": by[r], "channel": ch, "accepted": [],
                               "refused": [], "received": [], "garbage": []})

        t0 = time.monotonic()
        self.put_all("p1", self.nodes)
        self.send_all("p1")
        log(f"phase 1: {len(self.acked)} writes acknowledged, "
            f"{sum(len(f['accepted']) for f in self.flows)} messages accepted "
            f"({time.monotonic() - t0:.1f}s)")
        self.relay_exchange(by["c1"], "d", "a", "before")
        self.wait("phase 1 messages delivered",
                  lambda: (self.receive_all(), all(map(self.flow_complete, self.flows)))[1],
                  60)

        log("partition: {a,b} | {c,d}")
        self.cut()
        # Writes and sends go on, on both sides, while the nodes find out about the cut: a
        # round at most every 2 s (and at least 3 rounds).
        rounds = [0]

        def round_and_detected():
            rounds[0] += 1
            self.put_all(f"p2r{rounds[0]}", self.nodes)
            self.send_all(f"p2r{rounds[0]}", count=1)
            self.receive_all()
            return rounds[0] >= 3 and all(
                self.metrics(n).get("ainet_membership_partition_suspected") == 1
                for n in self.nodes)
        self.wait("partition detected on every node (writes and sends going on)",
                  lambda: round_and_detected() or time.sleep(1.5), 90)
        log(f"during the cut: {rounds[0]} rounds of writes and sends")
        self.conflicting_writes()

        for v in self.victims:
            log(f"SIGKILL {v.name}")
            v.proc.send_signal(signal.SIGKILL)
            v.proc.wait()
            v.restarted = True
        for v in self.victims:
            self.start(v)
        self.wait_started(self.victims, 60)
        # A victim rejoins its side at once: its member snapshot names everyone it knew (before
        # the snapshot, a victim on the {c,d} side, whose only bootstrap entry a1 is across the
        # cut, waited up to 51 s for a peer's probe rotation to reach it). Measured and logged;
        # the checks after the heal cover these nodes fully.
        t0 = time.monotonic()
        rejoin = {v.name: None for v in self.victims}
        while time.monotonic() - t0 < 30 and None in rejoin.values():
            for v in self.victims:
                side = [n for n in self.nodes if (n.host in SIDE_A) == (v.host in SIDE_A)]
                if rejoin[v.name] is None and self.all_alive(side):
                    rejoin[v.name] = time.monotonic() - t0
            time.sleep(0.5)
        log("restarted nodes rejoin their side: " + ", ".join(
            f"{k} {'not within 30 s' if t is None else f'{t:.1f}s'}" for k, t in rejoin.items()))
        self.put_all("p3", self.nodes)
        self.send_all("p3")
        self.receive_all()
        # A node restarted during the cut takes back every member it knew from its member
        # snapshot (<data_dir>/membership.members, membership_service.hpp), so it probes the far
        # side too, fails, and detects the partition like the nodes that lived through it.
        for v in self.victims:
            m = self.metrics(v)
            log(f"{v.name} after restart: {m.get('ainet_membership_members_restored', 0):g} members "
                f"restored from its snapshot, {m.get('ainet_membership_members_alive', 0):g} alive, "
                f"{m.get('ainet_membership_members_unreachable', 0):g} unreachable")
        self.wait("restarted nodes detect the partition too", lambda: all(
            self.metrics(v).get("ainet_membership_partition_suspected") == 1
            for v in self.victims) or time.sleep(1), 90)

        log("heal: the nft tables are removed")
        self.heal()
        self.wait("heal: every node sees the 11 others alive",
                  lambda: self.all_alive(self.nodes), 180)
        self.wait("heal detected on every node", lambda: all(
            self.metrics(n).get("ainet_membership_partition_suspected") == 0 and
            self.metrics(n).get("ainet_membership_partitions_healed_total", 0) >= 1
            for n in self.nodes), 120)
        self.relay_exchange(by["a3"], "c", "d", "after")
        self.put_all("p4", self.nodes)
        self.send_all("p4")

        def roots_equal():
            roots = {self.root(n) for n in self.nodes}
            return len(roots) == 1 and None not in roots
        self.wait("registry roots identical on every node", roots_equal, 180)
        self.wait("every accepted message delivered",
                  lambda: (self.receive_all(), all(map(self.flow_complete, self.flows)))[1],
                  180)
        self.check()

    # --- checks ---------------------------------------------------------------------------

    def check(self):
        roots = {n.name: self.root(n) for n in self.nodes}
        if len(set(roots.values())) != 1:
            self.failures.append(f"registry roots differ: {roots}")
        for n in self.nodes:
            # The incrementally maintained root equals a from-scratch recompute.
            r = self.ctl(n, "registry", "root", "--verify", "--http", n.http, timeout=60)
            if r.returncode != 0:
                self.failures.append(f"{n.name}: registry root --verify: exit {r.returncode} "
                                     f"{r.stdout.strip()} {r.stderr.strip()}")
        root, entries = next(iter(roots.values())) or ("?", 0)
        log(f"registry: root {root[:16]}.. with {entries} entries on all 12 nodes; "
            f"{len(self.acked)} writes acknowledged, {len(self.put_refused)} refused")
        if self.put_refused:
            self.failures.append(f"registry writes refused: {self.put_refused}")
        for n in self.nodes:
            body = self.get(n, "/registry/entries?limit=1000", timeout=10)
            have = {}
            try:
                for e in json.loads(body or "")["entries"]:
                    value = base64.b64decode(e["value_base64"]).decode(errors="replace")
                    have[(e["public_key"], e["name"])] = value
            except (ValueError, KeyError, TypeError):
                self.failures.append(f"{n.name}: GET /registry/entries: {body!r:.200}")
                continue
            for name, winner in getattr(self, "conflicts", []):
                if have.get((self.shared_writer, name)) != winner:
                    self.failures.append(f"{n.name}: conflict {name} resolved to "
                                         f"{have.get((self.shared_writer, name))!r}, not "
                                         f"{winner!r} (higher HLC)")
            for pk, name, value, writer in self.acked:
                if have.get((pk, name)) != value:
                    self.failures.append(f"{n.name}: acknowledged write {name} by {writer} "
                                         f"missing or different: {have.get((pk, name))!r}")

        duplicates = 0
        for f in self.flows:
            label = f"{f['from'].name}->{f['to'].name} ch{f['channel']}"
            if f["refused"]:
                self.failures.append(f"{label}: sends refused: {f['refused']}")
            if f["garbage"]:
                self.failures.append(f"{label}: unparsable recv output: {f['garbage']}")
            first, order = {}, []
            for frm, seq, body in f["received"]:
                if frm != f["from"].id:
                    self.failures.append(f"{label}: message from {frm}")
                    continue
                if (frm, seq) in first:
                    duplicates += 1
                    if first[(frm, seq)] != body:
                        self.failures.append(f"{label}: seq {seq} delivered with two bodies")
                    if not f["to"].restarted:
                        self.failures.append(f"{label}: seq {seq} delivered twice to a receiver "
                                             "that never crashed")
                    continue
                first[(frm, seq)] = body
                order.append((seq, body))
            seqs = [s for s, _ in order]
            if seqs != sorted(seqs):
                self.failures.append(f"{label}: out of order: {seqs}")
            bodies = [b for _, b in order]
            if bodies != f["accepted"]:
                self.failures.append(f"{label}: delivered {bodies} but accepted {f['accepted']}")
        log(f"messages: {sum(len(f['accepted']) for f in self.flows)} accepted on "
            f"{len(self.flows)} flows, all delivered in order; {duplicates} duplicate deliveries "
            f"(allowed only on restarted receivers)")

        for n in self.nodes:
            m = self.metrics(n)
            if n.restarted:
                # Its counters start at zero with the restart, during the cut: it saw the
                # partition once (suspected, then healed), so its registry saw both epoch moves.
                if m.get("ainet_membership_members_restored", 0) < 1:
                    self.failures.append(f"{n.name} (restarted): no member restored from its "
                                         f"snapshot")
            # The registry saw both moves of the directory's partition epoch (it prioritises
            # anti-entropy across the former cut on the heal).
            if m.get("ainet_registry_partition_events_total", 0) < 2:
                self.failures.append(f"{n.name}: ainet_registry_partition_events_total "
                                     f"{m.get('ainet_registry_partition_events_total', 0):g} < 2")
            suspected = m.get("ainet_membership_partitions_suspected_total", 0)
            healed = m.get("ainet_membership_partitions_healed_total", 0)
            if suspected < 1 or healed < 1 or m.get("ainet_membership_partition_suspected") != 0:
                self.failures.append(f"{n.name}: partition metrics: suspected {suspected}, "
                                     f"healed {healed}, now "
                                     f"{m.get('ainet_membership_partition_suspected')}")

    def stop_all(self):
        died = set()
        for n in self.nodes:
            if n.proc and n.proc.poll() is not None:
                died.add(n.name)
                self.failures.append(f"{n.name} died before SIGTERM (exit {n.proc.returncode})")
        for n in self.nodes:
            if n.proc and n.proc.poll() is None:
                n.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        for n in self.nodes:
            if not n.proc:
                continue
            try:
                code = n.proc.wait(timeout=max(1.0, 60 - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired:
                n.proc.kill()
                n.proc.wait()
                self.failures.append(f"{n.name} did not exit within 60 s of SIGTERM")
                continue
            if code != 0 and n.name not in died:
                self.failures.append(f"{n.name} exited with {code} on SIGTERM")
        log(f"SIGTERM: every node stopped ({time.monotonic() - t0:.1f}s)")
        for n in self.nodes:
            text = open(n.log_path, errors="replace").read()
            for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                           "UndefinedBehaviorSanitizer"):
                if marker in text:
                    self.failures.append(f"{n.name}: log has a sanitizer report ({marker})")
                    break

    def describe(self):
        print(f"\n=== e2e-netns failure report: seed {self.seed} (AINET_E2E_SEED to replay), "
              f"namespaces {', '.join(self.ns.values())} + {self.br_ns}, work {self.work}",
              flush=True)
        for n in self.nodes:
            print(f"--- {n.name} id {n.id} udp {n.udp} http {n.http} ns {self.ns[n.host]} "
                  f"starts {n.starts}")
            m = self.metrics(n) if n.proc and n.proc.poll() is None else {}
            keep = ("ainet_membership_members", "ainet_membership_partition",
                    "ainet_registry_", "ainet_messaging_send", "ainet_messaging_delivered",
                    "ainet_messaging_undeliverable", "ainet_messaging_peer",
                    "ainet_messaging_drop", "ainet_messaging_no_endpoint")
            for k, v in sorted(m.items()):
                if k.startswith(keep) and v != 0:
                    print(f"  {k} {v:g}")
            print(f"  root {self.root(n) if m else None}; peers "
                  f"{sorted(self.peers(n).values()) if m else None}")
            try:
                lines = open(n.log_path, errors="replace").read().splitlines()[-30:]
            except OSError:
                lines = []
            for line in lines:
                print(f"  | {line}")
        sys.stdout.flush()


class Failure(Exception):
    pass


def main():
    if len(sys.argv) != 3:
        print("usage: e2e_netns_test.py AINETCTL AINETD", file=sys.stderr)
        return 2
    ainetctl, ainetd = (os.path.abspath(p) for p in sys.argv[1:3])
    t = E2E(ainetctl, ainetd)
    atexit.register(t.cleanup)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    try:
        t.make_network()
        log(f"network: {', '.join(t.ns.values())} joined by br0 in {t.br_ns}; seed {t.seed}")
        t.write_nodes()
        try:
            t.scenario()
        except Failure as e:
            t.failures.append(str(e))
        except subprocess.TimeoutExpired as e:
            t.failures.append(f"command timed out: {e}")
        if t.failures:
            t.describe()
        t.stop_all()
    finally:
        t.cleanup()
    total = time.monotonic() - started_at
    if t.failures:
        print("\nFAILED:", flush=True)
        for f in t.failures:
            print(f"  - {f}")
        print(f"seed {t.seed}; work directory kept: {t.work}")
        return 1
    print(f"e2e-netns passed in {total:.1f}s: "
          + ", ".join(f"{what} {took:.1f}s" for what, took in t.timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
