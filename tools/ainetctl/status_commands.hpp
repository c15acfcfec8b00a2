#pragma once
// ainetctl status [--http ADDR] [--json]
//   One call to GET /status: node id, version, uptime, backend per shard, peers by state,
//   partition state, registry entries and root prefix, messaging outbox/inbox depths,
//   discovery known nodes, control-plane load. Exit 0, or 1 when the node cannot be asked.
// ainetctl metrics [--http ADDR] [--filter PREFIX] [--json]
//   GET /metrics, parsed: a table of families (type, total; one indented row per label set
//   when there are several), or with --json {"family": {"type", "help", "samples":
//   [{"labels": {...}, "value": N}]}}. --filter keeps the families whose name starts with
//   PREFIX or with "ainet_" PREFIX.

#include <CLI/CLI.hpp>

namespace ainet::ctl {

void add_status_commands(CLI::App& app, int& status);

} // namespace ainet::ctl
