#!/usr/bin/env python3
"""Goal: docs/grafana/ainet.json is a valid dashboard and queries only metrics a node exports.

Usage: dashboard_test.py AINETCTL AINETD DASHBOARD_JSON

Parses the dashboard, collects every ainet_* metric name from every panel target's PromQL
expression and from the templating queries, starts a real ainetd on free loopback ports, scrapes
its /metrics and fails if any queried name is missing from the exposition (names are compared
with the sample names, e.g. ainet_relay_forwarded_total). Bounded: every wait has a deadline.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

METRIC = re.compile(r"\bainet_[a-z0-9_]+\b")


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queried_metrics(dashboard):
    names = set()
    exprs = 0

    def walk(panels):
        nonlocal exprs
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                expr = target.get("expr", "")
                if not expr:
                    fail(f"panel {panel.get('title')!r} has a target without expr")
                exprs += 1
                found = METRIC.findall(expr)
                if not found:
                    fail(f"panel {panel.get('title')!r}: expr queries no ainet metric: {expr}")
                names.update(found)

    walk(dashboard.get("panels", []))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        names.update(METRIC.findall(text))
    return names, exprs


def exported_metrics(text):
    names = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def main():
    if len(sys.argv) != 4:
        fail(__doc__)
    ainetctl, ainetd, dashboard_path = sys.argv[1:]
    try:
        with open(dashboard_path, encoding="utf-8") as f:
            dashboard = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{dashboard_path}: {e}")
    for field in ("title", "uid", "panels", "schemaVersion"):
        if field not in dashboard:
            fail(f"dashboard lacks {field!r}")
    ids = [p["id"] for p in dashboard["panels"]]
    if len(ids) != len(set(ids)):
        fail("duplicate panel ids")
    queried, exprs = queried_metrics(dashboard)
    if exprs == 0:
        fail("no panel queries anything")

    with tempfile.TemporaryDirectory() as work:
        key = os.path.join(work, "node.key")
        subprocess.run([ainetctl, "keygen", "--out", key], check=True, stdout=subprocess.DEVNULL)
        http_port = free_port(socket.SOCK_STREAM)
        udp_port = free_port(socket.SOCK_DGRAM)
        config = os.path.join(work, "node.json")
        with open(config, "w", encoding="utf-8") as f:
            json.dump({"key_file": key, "udp_listen": f"127.0.0.1:{udp_port}",
                       "http_listen": f"127.0.0.1:{http_port}", "data_dir": os.path.join(work, "data"),
                       "shard_count": 2}, f)
        log = open(os.path.join(work, "daemon.log"), "w+", encoding="utf-8")
        daemon = subprocess.Popen([ainetd, "--config", config], stderr=log)
        try:
            text = None
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and text is None:
                if daemon.poll() is not None:
                    log.seek(0)
                    fail(f"ainetd exited {daemon.returncode}: {log.read()}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=2) as r:
                        text = r.read().decode()
                except OSError:
                    time.sleep(0.1)
            if text is None:
                fail("no /metrics within 15 s")
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                daemon.kill()
                fail("ainetd did not stop within 15 s of SIGTERM")
        if daemon.returncode != 0:
            fail(f"ainetd exited {daemon.returncode} after SIGTERM")

    exported = exported_metrics(text)
    missing = sorted(queried - exported)
    if missing:
        fail(f"the dashboard queries metrics /metrics does not export: {', '.join(missing)}")
    print(f"ok: {exprs} queries over {len(queried)} metrics, all exported "
          f"({len(exported)} exported, {len(exported - queried)} not on the dashboard)")


if __name__ == "__main__":
    main()
