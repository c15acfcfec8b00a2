#pragma once
// `ainet-bench sim --workload membership`: the membership targets of issue 5 (sim/
// membership_scenarios.hpp) at N nodes each, printed as one table per scenario.

#include <cstdint>
#include <string>
#include <vector>

namespace ainet::bench {

struct membership_bench_options {
    std::vector<uint32_t> nodes;
    uint64_t seed = 1;
    double false_positive_seconds = 3600; // --fp-seconds
    std::string scenarios = "all"; // --scenarios a,b,...: join,crash,fp,stall,isolate,partition,rejoin
    bool json = false;
};

// Runs the scenarios; returns the process exit code.
int run_membership_bench(const membership_bench_options& o);

} // namespace ainet::bench
