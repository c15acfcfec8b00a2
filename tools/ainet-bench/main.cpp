// ainet-bench: end-to-end benchmarks of ainet's engines, one subcommand each (each in its own
// file, registered here).
//
//   ainet-bench sim [--nodes N]... [--seconds S] [--seed X] [--json]
//
// Exit codes: 0 success; 1 the benchmark failed; 2 usage errors.

#include "sim_bench.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
    CLI::App app{"ainet-bench: ainet's end-to-end benchmarks"};
    app.require_subcommand(1);
    ainet::bench::add_sim_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) { // a subcommand failed; it printed why
        return e.get_exit_code();
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2; // --help is success; every other parse error is usage
    }
    return 0;
}
