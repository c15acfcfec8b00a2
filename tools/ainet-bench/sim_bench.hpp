#pragma once
// `ainet-bench sim`: how fast and how small the deterministic simulator runs the gossip demo.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <vector>

namespace ainet::bench {

// Registers the `sim` subcommand on app; its callback runs the benchmark.
void add_sim_command(CLI::App& app);

// `ainet-bench sim --discovery` (discovery_sim_bench.cpp): bootstrap auto-discovery figures.
int run_discovery_sim(const std::vector<uint32_t>& node_counts, double seconds, uint64_t seed,
                      uint32_t netgroups, double adversarial_fraction, bool json);

} // namespace ainet::bench
