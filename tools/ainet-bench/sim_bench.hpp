#pragma once
// `ainet-bench sim`: how fast and how small the deterministic simulator runs the gossip demo.

#include <CLI/CLI.hpp>

namespace ainet::bench {

// Registers the `sim` subcommand on app; its callback runs the benchmark.
void add_sim_command(CLI::App& app);

} // namespace ainet::bench
