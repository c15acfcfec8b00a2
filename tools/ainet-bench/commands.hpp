#pragma once
// Each ainet-bench subcommand registers itself on the CLI11 app and runs when selected.

#include <CLI/CLI.hpp>

#include <functional>

namespace ainet::bench {

// Returns the function that runs the subcommand once parsing chose it (its exit code).
std::function<int()> add_relay_command(CLI::App& app);
std::function<int()> add_reliable_command(CLI::App& app);
std::function<int()> add_verify_command(CLI::App& app);

} // namespace ainet::bench
