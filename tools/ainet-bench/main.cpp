// ainet-bench: the benchmark harness. Every run is bounded in count and time, measures ainet
// against a baseline in the same run where one exists, and prints a table for people or JSON
// for scripts. One subcommand per engine, each in its own file, registered here.
//
//   ainet-bench relay [--shape one-flow|many-flows|both] [--sizes 64,512,1200] [--gso] [--pin]
//   ainet-bench sim [--nodes N]... [--seconds S] [--seed X] [--json]
//   ainet-bench reliable --baseline-only [--sizes 32,256,1024] [--count N] [--mode both|ping]
//   ainet-bench reliable-sim [--messages N] [--size B] [--loss L]... [--json]
//   ainet-bench verify [--sizes 1,4,...,256] [--seconds S] [--repetitions N] [--json]
//   ainet-bench report [--out DIR] [--quick | --tiny]
//
// Exit codes: 0 success; 1 the benchmark failed; 2 usage errors.
#include "commands.hpp"
#include "report_bench.hpp"
#include "reliable_sim_bench.hpp"
#include "sim_bench.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
    CLI::App app{"ainet-bench: bounded, same-run comparative benchmarks"};
    app.require_subcommand(1);
    auto run_relay = ainet::bench::add_relay_command(app);
    auto run_reliable = ainet::bench::add_reliable_command(app);
    auto run_verify = ainet::bench::add_verify_command(app);
    auto run_report = ainet::bench::add_report_command(app);
    ainet::bench::add_sim_command(app); // runs from its parse callback
    ainet::bench::add_reliable_sim_command(app); // likewise
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) { // a subcommand failed; it printed why
        return e.get_exit_code();
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2; // --help is success; every other parse error is usage
    }
    if (app.get_subcommand("relay")->parsed())
        return run_relay();
    if (app.get_subcommand("reliable")->parsed())
        return run_reliable();
    if (app.get_subcommand("verify")->parsed())
        return run_verify();
    if (app.get_subcommand("report")->parsed())
        return run_report();
    return 0;
}
