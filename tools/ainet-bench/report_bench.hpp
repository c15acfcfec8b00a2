#pragma once
// `ainet-bench report [--out DIR] [--quick | --tiny]`: runs every suite at a bounded size in
// this process and writes DIR/report.md with SVG figures beside it (svg_plot.hpp).
//
// Suites and how each is measured (every number in the report comes from this one run):
//   verify    `ainet-bench verify --json` in-process: libsodium single (baseline), ainet single,
//             ainet batch at each batch size.
//   merkle    a small timing loop over merkle::tree here (bench/merkle is Google Benchmark and
//             is not built everywhere ainet-bench is; calling the tree directly needs no second
//             binary and no output format to parse): batched updates per hash backend, the
//             scalar backend as the baseline.
//   relay     `ainet-bench relay --shape one-flow --json` in-process: ainet vs the plain
//             recvmmsg/sendmmsg relay of the same run.
//   reliable  `ainet-bench reliable --json` in-process: ENet (baseline), ainet, ainet-lmdb;
//             throughput per message size and ping RTT percentiles.
//   sim       sim::run_dissemination and sim::run_crash_detection (membership) at a few N:
//             virtual seconds until a join reaches everyone, until a crash is known everywhere;
//             and `ainet-bench sim --json` in-process (the gossip demo): how fast the simulator
//             itself runs.
// The in-process subcommands are run through their own CLI11 registration with --json and
// their stdout captured, so the report reuses exactly the code `ainet-bench <suite>` runs.
//
// Output: DIR/report.md (machine, date, command, one reading per figure, every table) and the
// figures beside it: relay_throughput, relay_cpu, reliable_throughput, ratio_to_baseline,
// reliable_rtt, membership_convergence, verify_speedup (.svg); a figure whose suite failed is
// left out and the report lists the suite under "Not measured".
//
// Bounded: each suite has a count and a time limit per run (make_plan() in report_bench.cpp);
// a suite that fails is reported as not measured and the others still run; the report starts
// no new suite after a wall-clock budget (quick: 150 s). --quick targets < 3 minutes on a
// loaded 2-core machine (about 30 s measured), --tiny (the integration test) a few seconds.
//
// Exit codes: 0 report written and every suite measured; 1 written with a suite missing, or
// the directory could not be written; 2 usage.

#include <CLI/CLI.hpp>

#include <functional>

namespace ainet::bench {

std::function<int()> add_report_command(CLI::App& app);

} // namespace ainet::bench
