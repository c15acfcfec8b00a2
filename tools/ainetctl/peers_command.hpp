#pragma once
// `ainetctl peers [--json] [--http ADDR]`: the node's peer table (GET /peers on its HTTP control
// address, default 127.0.0.1:8000): one row per peer with its membership state, incarnation,
// probe RTT, discovery score and netgroup. --json prints the node's answer as is. Exit codes:
// 0 ok, 1 the node did not answer (or answered something else than 200 with a JSON array).

#include <CLI/CLI.hpp>

namespace ainet::ctl {

// Adds the peers subcommand; status receives the exit code once it ran.
void add_peers_command(CLI::App& app, int& status);

} // namespace ainet::ctl
