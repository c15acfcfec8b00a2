#pragma once
// `ainet-bench reliable-sim`: the reliability core's throughput and efficiency in the simulator.

#include <CLI/CLI.hpp>

namespace ainet::bench {

// Registers the `reliable-sim` subcommand on app; its callback runs the benchmark.
void add_reliable_sim_command(CLI::App& app);

} // namespace ainet::bench
