#!/usr/bin/env python3
"""Goal: issue #8's crash test. Two real ainetd processes (2 shards each) exchange a stream of
reliable messages over a lossy path (each node's fault layer drops 5% of what it receives, so
5% each way) while the sender and the receiver are SIGKILLed at random moments and restarted on
their data directories. Afterwards every message the sender's node accepted (HTTP 202) has been
delivered to the receiving application, in order per channel (8 channels, one sender thread
each): taking each message's first delivery, a channel's stream indices ascend (a receiver that dies before acknowledging gets messages again, at least
once, which is allowed; a message the sender never saw accepted may or may not arrive).

Usage: messaging_crash_test.py AINETCTL AINETD
Environment: AINET_CRASH_MESSAGES (default 3000; the issue's full size is 100000),
AINET_CRASH_KILLS (default 8, at random points of the stream), AINET_CRASH_SEED (default
random, printed), AINET_CRASH_DROP (default 0.05).
Every wait is bounded; on failure the seed and both nodes' last log lines are printed.
"""

import base64
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

CHANNELS = 8  # one sender thread each: POSTs answer after a durable commit, so one at a time is slow


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u.bind(("127.0.0.1", port))  # free for UDP too
        return port


class Node:
    def __init__(self, name, work, ainetd):
        self.name, self.work, self.ainetd = name, work, ainetd
        self.udp, self.http = free_port(), free_port()
        self.proc = None
        self.log_path = os.path.join(work, f"{name}.log")
        self.starts = 0

    def start(self):
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"--- start {self.starts}\n")
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.ainetd, "--config", f"{self.name}.json"],
                                     cwd=self.work, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ainetd {self.name} exited at start: {self.tail()}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.http, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"ainetd {self.name} did not answer /healthz in 30 s")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def tail(self, lines=15):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


class Client:
    """One keep-alive HTTP connection that reconnects after the node restarts."""

    def __init__(self, node):
        self.node, self.conn = node, None

    def call(self, method, path, body=None, timeout=10):
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.node.http, timeout=timeout)
            headers = {"Content-Type": "application/json"} if body is not None else {}
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            return None, b""


def main():
    ainetctl, ainetd = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    total = int(os.environ.get("AINET_CRASH_MESSAGES", "3000"))
    seed = int(os.environ.get("AINET_CRASH_SEED", str(random.randrange(1 << 32))))
    drop = float(os.environ.get("AINET_CRASH_DROP", "0.05"))
    rng = random.Random(seed)
    print(f"messaging crash test: {total} messages, drop {drop} each way, seed {seed}", flush=True)

    work = tempfile.mkdtemp(prefix="messaging-crash.")
    a, b = Node("a", work, ainetd), Node("b", work, ainetd)
    ids = {}
    for n in (a, b):
        out = subprocess.run([ainetctl, "keygen", "--out", os.path.join(work, f"{n.name}.key")],
                             check=True, capture_output=True, text=True)
        ids[n.name] = out.stdout.strip()
    with open(os.path.join(work, "bootstrap.json"), "w") as f:
        json.dump({"version": 1, "nodes": [
            {"public_key": ids[n.name], "udp": f"127.0.0.1:{n.udp}",
             "http": f"127.0.0.1:{n.http}"} for n in (a, b)]}, f)
    for i, n in enumerate((a, b)):
        with open(os.path.join(work, f"{n.name}.json"), "w") as f:
            config = {"key_file": f"{n.name}.key", "udp_listen": f"127.0.0.1:{n.udp}",
                      "http_listen": f"127.0.0.1:{n.http}", "data_dir": f"state-{n.name}",
                      "shard_count": 2, "bootstrap_file": "bootstrap.json",
                      "limits": {"recv_buffer_count": 1024}}
            if drop > 0:
                config["faults"] = {"drop_probability": drop, "seed": seed + i}
            json.dump(config, f)

    accepted = set()  # (channel, index)
    received = []  # (channel, index) in delivery order, duplicates included
    senders_done = threading.Event()
    stop = threading.Event()
    lock = threading.Lock()
    per_channel = [total // CHANNELS + (1 if c < total % CHANNELS else 0) for c in range(CHANNELS)]

    def sender(channel):
        client = Client(a)
        i = 0
        while i < per_channel[channel] and not stop.is_set():
            body = json.dumps({"to": ids["b"], "channel": channel + 1,
                               "body": base64.b64encode(f"{channel}-{i}".encode()).decode()})
            status, _ = client.call("POST", "/messages", body)
            if status == 202:
                with lock:
                    accepted.add((channel, i))
                i += 1
            elif status in (None, 429, 503):
                time.sleep(0.02)  # down, restarting or back-pressure: the same index again
            else:
                print(f"FAIL: POST /messages answered {status}", flush=True)
                stop.set()

    def receiver():
        client = Client(b)
        while not stop.is_set():
            idle = True
            for channel in range(CHANNELS):
                status, raw = client.call("GET", f"/messages?channel={channel + 1}&max=1024")
                if status != 200:
                    continue
                messages = json.loads(raw).get("messages", [])
                if not messages:
                    continue
                idle = False
                with lock:
                    for m in messages:
                        c, i = base64.b64decode(m["body"]).decode().split("-")
                        received.append((int(c), int(i)))
                client.call("POST", "/messages/ack",
                            json.dumps({"up_to": messages[-1]["id"], "channel": channel + 1}))
            if idle:
                time.sleep(0.02)

    def failure(reason):
        print(f"FAIL: {reason} (seed {seed}, work {work})", flush=True)
        for n in (a, b):
            print(f"--- {n.name}.log (last lines)\n{n.tail()}", flush=True)
        return 1

    sender_threads = [threading.Thread(target=sender, args=(c,)) for c in range(CHANNELS)]
    threads = sender_threads + [threading.Thread(target=receiver)]

    def sending():
        return any(t.is_alive() for t in sender_threads)
    kills = {"a": 0, "b": 0}
    try:
        a.start()
        b.start()
        for t in threads:
            t.start()
        started = time.monotonic()
        limit = started + float(os.environ.get("AINET_CRASH_SECONDS_MAX", "240"))
        # Kills at random points of the stream (not on a clock), so the number of restarts, and
        # the run's length, stay bounded whatever the machine's speed.
        kill_count = int(os.environ.get("AINET_CRASH_KILLS", "8"))
        kill_points = sorted(rng.randrange(total) for _ in range(kill_count))
        for point in kill_points:
            while True:
                with lock:
                    progress = len(accepted)
                if progress >= point or not sending():
                    break
                if time.monotonic() > limit:
                    stop.set()
                    return failure(f"sending did not finish in time ({progress} accepted)")
                time.sleep(0.01)
            if not sending():
                break
            victim = a if rng.random() < 0.5 else b
            victim.kill()
            kills[victim.name] += 1
            time.sleep(rng.uniform(0.05, 0.6))
            victim.start()
        while sending():
            time.sleep(0.1)
            if time.monotonic() > limit:
                stop.set()
                return failure(f"sending did not finish in time ({len(accepted)} accepted)")
        send_seconds = time.monotonic() - started

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with lock:
                missing = accepted - set(received)
            if not missing:
                break
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        if missing:
            return failure(f"{len(missing)} accepted messages never delivered, e.g. "
                           f"{sorted(missing)[:10]}")
        seen, firsts = set(), {c: [] for c in range(CHANNELS)}
        for c, i in received:
            if (c, i) not in seen:
                seen.add((c, i))
                firsts[c].append(i)
        disorder = [(c, x, y) for c in firsts for x, y in zip(firsts[c], firsts[c][1:]) if y <= x]
        if disorder:
            return failure(f"out of order first deliveries (channel, before, after), e.g. "
                           f"{disorder[:5]}")
        for n in (a, b):
            n.proc.send_signal(signal.SIGTERM)
            rc = n.proc.wait(timeout=60)
            if rc != 0:
                return failure(f"ainetd {n.name} exited {rc} on SIGTERM")
            with open(n.log_path, errors="replace") as f:
                log = f.read()
            if "Sanitizer" in log or "runtime error:" in log:
                return failure(f"sanitizer report in {n.name}.log")
        print(f"ok: {len(accepted)} accepted, {len(received)} deliveries "
              f"({len(received) - len(seen)} repeated after receiver restarts), "
              f"{len(seen) - len(accepted & seen)} delivered without a 202 seen, "
              f"kills: sender {kills['a']}, receiver {kills['b']}, "
              f"{send_seconds:.1f} s sending", flush=True)
        return 0
    finally:
        stop.set()
        for n in (a, b):
            if n.proc is not None and n.proc.poll() is None:
                n.proc.kill()
        if not os.environ.get("KEEP_WORK"):
            subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
