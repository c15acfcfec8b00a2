#!/usr/bin/env python3
"""Writes docs/grafana/ainet.json, the Grafana dashboard over what GET /metrics exports.

    python3 docs/grafana/make_dashboard.py > docs/grafana/ainet.json

Edit the panels here, not the JSON. The test grafana-dashboard (tests/integration/
dashboard_test.py) checks that every metric the JSON queries exists in a live node's /metrics.
Import in Grafana: Dashboards > New > Import, pick the Prometheus data source for DS_PROMETHEUS.
"""
import json
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
F = '{instance=~"$instance"}'
panels = []
pid = [0]
def panel(title, targets, x, y, w=12, h=8, unit="ops", desc="", stack=False, kind="timeseries"):
    pid[0] += 1
    p = {"id": pid[0], "type": kind, "title": title, "description": desc, "datasource": DS,
         "gridPos": {"h": h, "w": w, "x": x, "y": y},
         "fieldConfig": {"defaults": {"unit": unit, "custom": {"drawStyle": "line", "lineWidth": 1,
                          "fillOpacity": 10, "stacking": {"mode": "normal" if stack else "none"}}},
                         "overrides": []},
         "options": {"legend": {"displayMode": "table", "placement": "right", "calcs": ["mean", "max"]},
                     "tooltip": {"mode": "multi"}},
         "targets": []}
    if kind == "stat":
        p["fieldConfig"] = {"defaults": {"unit": unit}, "overrides": []}
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "textMode": "value_and_name"}
    for i, (expr, legend) in enumerate(targets):
        p["targets"].append({"refId": chr(65 + i) if i < 26 else "A" + chr(65 + i - 26),
                             "datasource": DS, "expr": expr, "legendFormat": legend})
    panels.append(p)
def rate(name, legend=None, by=""):
    expr = f"sum{(' by (' + by + ')') if by else ''}(rate({name}{F}[$__rate_interval]))"
    return (expr, legend or name)
def row(title, y):
    pid[0] += 1
    panels.append({"id": pid[0], "type": "row", "title": title, "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})

relay_drops = ["malformed", "unknown_type", "unauthenticated", "rate_limited", "spoofed_source",
               "hop_limit", "unknown_destination", "loop", "tx_full", "challenge_budget",
               "bad_cookie", "expired_cookie", "address_mismatch", "bad_signature",
               "verify_budget", "session_table_full"]
io_errors = ["rx_truncated", "rx_bad_address", "rx_buffer_exhausted", "rx_icmp_errors", "rx_errors",
             "tx_oversize", "tx_eagain", "tx_connection_refused", "tx_message_too_big",
             "tx_unreachable", "tx_errors", "tx_gso_fallbacks"]

row("Overview", 0)
panel("Shards", [(f"sum(ainet_shards{F})", "shards")], 0, 1, w=4, h=4, unit="none", kind="stat")
panel("IO backend", [(f"max by (backend)(ainet_io_backend_info{F})", "{{backend}}")], 4, 1, w=4, h=4, unit="none", kind="stat")
panel("Datagrams in / out", [rate("ainet_shard_rx_datagrams_total", "rx"), rate("ainet_shard_tx_datagrams_total", "tx")], 8, 1, w=8, h=4, unit="pps", kind="stat")
panel("Forwarded", [rate("ainet_relay_forwarded_total", "forwarded")], 16, 1, w=8, h=4, unit="pps", kind="stat")

row("Traffic", 5)
panel("Datagrams per second", [rate("ainet_shard_rx_datagrams_total", "rx"), rate("ainet_shard_tx_datagrams_total", "tx"),
      rate("ainet_relay_forwarded_total", "forwarded")], 0, 6, unit="pps",
      desc="Datagrams received and handed to the kernel by all shards, and relay_data forwarded.")
panel("Bytes per second", [rate("ainet_shard_rx_bytes_total", "rx"), rate("ainet_shard_tx_bytes_total", "tx"),
      rate("ainet_relay_forwarded_bytes_total", "forwarded")], 12, 6, unit="Bps")
panel("Received per shard", [rate("ainet_shard_rx_datagrams_total", "shard {{shard}}", by="shard")], 0, 14, unit="pps",
      desc="An uneven split means few flows (SO_REUSEPORT hashes per flow).")
panel("System calls per second", [rate("ainet_shard_rx_syscalls_total", "rx"), rate("ainet_shard_tx_syscalls_total", "tx"),
      rate("ainet_shard_loop_turns_total", "loop turns"), rate("ainet_shard_wakeups_total", "wake-ups"),
      rate("ainet_shard_rx_gro_trains_total", "GRO trains"), rate("ainet_shard_tx_gso_trains_total", "GSO trains"),
      rate("ainet_shard_rx_rearms_total", "receive re-arms"), rate("ainet_shard_rx_rearm_backoffs_total", "re-arm back-offs")], 12, 14, unit="ops")

row("Drops and errors", 22)
panel("Relay drops by reason", [rate(f"ainet_relay_drop_{r}_total", r) for r in relay_drops], 0, 23, w=24, h=9, unit="pps", stack=True,
      desc="Every datagram the relay refused, by reason (docs/OPERATIONS.md, Monitor).")
panel("IO errors by kind", [rate(f"ainet_shard_{n}_total", n) for n in io_errors], 0, 32, unit="ops", stack=True,
      desc="Receive and send errors the io backend mapped from the kernel.")
panel("Queues full", [rate("ainet_shard_tx_queue_full_total", "send queue full"),
      rate("ainet_shard_cross_shard_queue_full_total", "cross-shard queue full"),
      rate("ainet_shard_handoffs_refused_total", "handoffs refused"),
      rate("ainet_relay_drop_tx_full_total", "relay: send queue full"),
      rate("ainet_relay_routes_refused_full_total", "routes refused: table full")], 12, 32, unit="ops",
      desc="Non-zero means a bounded queue or table is at its limit: see limits in the config.")

row("Handshakes and sessions", 40)
panel("Handshakes", [rate("ainet_relay_hello_requests_total", "hello_requests"), rate("ainet_relay_challenges_sent_total", "challenges sent"),
      rate("ainet_relay_sessions_opened_total", "sessions opened"), rate("ainet_relay_sessions_expired_total", "sessions expired"),
      rate("ainet_relay_pongs_sent_total", "pongs")], 0, 41, unit="ops")
panel("Cross-shard traffic", [rate("ainet_shard_cross_shard_sent_total", "messages sent"),
      rate("ainet_shard_cross_shard_received_total", "messages received"), rate("ainet_shard_handoffs_sent_total", "handoffs sent"),
      rate("ainet_shard_handoffs_received_total", "handoffs received"), rate("ainet_relay_routes_applied_total", "routes applied")], 12, 41, unit="ops")

row("HTTP control plane", 49)
# operations: every refusal of the control server by reason, and its load (docs/OPERATIONS.md
# "HTTP control plane limits").
http_refusals = [("bad_request", "400 malformed"), ("not_found", "404 no such path"),
                 ("too_large", "413 too large"), ("rate_limited", "429 rate limited"),
                 ("overloaded", "503 overloaded"), ("read_timeout", "read timeout"),
                 ("slow_request", "slow request (deadline)")]
panel("HTTP requests and refusals", [rate("ainet_http_served_total", "served")] +
      [rate(f"ainet_http_rejected_{r}_total", legend) for r, legend in http_refusals], 0, 50,
      unit="reqps", desc="Requests a handler answered, and every refusal by reason.")
panel("HTTP control threads", [(f"sum(ainet_http_threads_busy{F})", "threads busy"),
      (f"sum(ainet_http_threads{F})", "threads"), (f"sum(ainet_http_connections_queued{F})", "connections queued"),
      (f"sum(ainet_messaging_long_polls_waiting{F})", "long polls waiting")], 12, 50, unit="short",
      desc="Control threads serving a connection, connections waiting for one, GET /messages long polls waiting (at most 4).")
# end operations

dash = {
  "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}],
  "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
                 {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
  "title": "ainet node", "uid": "ainet-node", "description": "ainet relay node: traffic, drops by reason, io errors, queues, HTTP (metrics from GET /metrics; docs/OPERATIONS.md, Monitor).",
  "tags": ["ainet"], "timezone": "utc", "schemaVersion": 37, "version": 1, "editable": True,
  "refresh": "30s", "time": {"from": "now-1h", "to": "now"},
  "templating": {"list": [{"name": "instance", "label": "instance", "type": "query", "datasource": DS,
      "query": {"query": "label_values(ainet_shards, instance)", "refId": "instance"},
      "definition": "label_values(ainet_shards, instance)", "refresh": 2, "includeAll": True, "multi": True,
      "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "allValue": ".*", "sort": 1}]},
  "annotations": {"list": []},
  "panels": panels,
}
print(json.dumps(dash, indent=2))
