// ainet-bench: the benchmark harness. Every run is bounded in count and time, measures ainet
// against a baseline in the same run, and prints a table for people or JSON for scripts.
//
//   ainet-bench relay [--shape one-flow|many-flows|both] [--sizes 64,512,1200] [--gso] [--pin]
#include "commands.hpp"

#include <iostream>
#include <vector>

int main(int argc, char** argv) {
    CLI::App app{"ainet-bench: bounded, same-run comparative benchmarks"};
    app.require_subcommand(1);
    std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
    auto relay = ainet::bench::add_relay_command(app);
    commands.emplace_back(app.get_subcommand("relay"), relay);
    CLI11_PARSE(app, argc, argv);
    for (auto& [command, run] : commands)
        if (command->parsed())
            return run();
    return 2;
}
