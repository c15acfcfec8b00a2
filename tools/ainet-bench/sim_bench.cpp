// ainet-bench sim [--nodes N]... [--seconds S] [--seed X] [--period-ms P] [--fanout F]
//                 [--loss L] [--json]
//
// For each node count (default 100, 1000, 5000), builds a world of gossip_nodes (sim/
// gossip_demo.hpp) on a jittery, lossy network, runs S virtual seconds, and reports virtual
// seconds simulated per wall second, events per wall second, and memory per node: the growth of
// the resident set (VmRSS in /proc/self/status) and of the malloc heap in use, divided by N.
// Runs go smallest first; freed memory is trimmed between runs so each measures its own growth.

#include "sim_bench.hpp"

#include "membership_bench.hpp"

#include <ainet/sim/gossip_demo.hpp>
#include <ainet/sim/world.hpp>

#include <nlohmann/json.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace ainet::bench {

namespace {

using namespace std::chrono_literals;

struct sim_options {
    std::vector<uint32_t> nodes{100, 1000, 5000};
    double seconds = 10;
    uint64_t seed = 1;
    uint32_t period_ms = 100;
    uint32_t fanout = 2;
    double loss = 0.01;
    bool json = false;
    std::string workload = "gossip"; // gossip | membership (membership_bench.cpp)
    double fp_seconds = 3600;
    std::string scenarios = "all";
    // --discovery: bootstrap auto-discovery instead of the gossip demo
    bool discovery = false;
    uint32_t netgroups = 64;
    double adversarial = 0;
};

// VmRSS of this process in bytes (0 if /proc is unreadable).
uint64_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stoull(line.substr(6)) * 1024; // "VmRSS:   1234 kB"
    }
    return 0;
}

// Heap in use: small chunks (uordblks) plus mmap-ed large blocks (hblkhd), main arena.
uint64_t heap_bytes() {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

struct sim_result {
    uint32_t nodes;
    double virtual_seconds;
    double wall_seconds;
    uint64_t events;
    uint64_t delivered;
    uint64_t dropped;
    uint64_t rss_per_node;
    uint64_t heap_per_node;
    uint64_t trace_hash;
};

sim_result run_one(const sim_options& o, uint32_t node_count) {
    malloc_trim(0);
    const uint64_t rss_before = rss_bytes();
    const uint64_t heap_before = heap_bytes();

    sim::world_config config;
    config.seed = o.seed;
    config.default_link.latency_base = 20ms;
    config.default_link.jitter = 10ms;
    config.default_link.shape = sim::jitter_shape::exponential;
    config.default_link.loss = o.loss;
    sim::gossip_config gossip;
    gossip.period = std::chrono::milliseconds(o.period_ms);
    gossip.fanout = o.fanout;
    auto w = std::make_unique<sim::world>(config, sim::make_gossip_factory(gossip));
    w->add_nodes(node_count);

    const auto virtual_span =
        std::chrono::duration_cast<duration>(std::chrono::duration<double>(o.seconds));
    const auto wall_start = std::chrono::steady_clock::now();
    w->run_for(virtual_span);
    const auto wall_end = std::chrono::steady_clock::now();

    const uint64_t rss_after = rss_bytes();
    const uint64_t heap_after = heap_bytes();
    sim_result r{};
    r.nodes = node_count;
    r.virtual_seconds = o.seconds;
    r.wall_seconds = std::chrono::duration<double>(wall_end - wall_start).count();
    r.events = w->stats().events;
    r.delivered = w->stats().delivered;
    r.dropped = w->stats().dropped_total();
    r.rss_per_node = rss_after > rss_before ? (rss_after - rss_before) / node_count : 0;
    r.heap_per_node = heap_after > heap_before ? (heap_after - heap_before) / node_count : 0;
    r.trace_hash = w->trace_hash();
    return r;
}

int run_sim(const sim_options& o) {
    if (o.seconds <= 0 || o.period_ms == 0 || o.fanout == 0 || o.loss < 0 || o.loss > 1) {
        std::cerr << "ainet-bench sim: --seconds, --period-ms and --fanout must be positive, "
                     "--loss in [0, 1]\n";
        return 2;
    }
    std::vector<uint32_t> counts = o.nodes;
    std::sort(counts.begin(), counts.end());
    nlohmann::json runs = nlohmann::json::array();
    if (!o.json)
        std::printf("%8s %9s %8s %12s %12s %11s %10s %11s\n", "nodes", "virtual_s", "wall_s",
                    "virt_s/wall", "events/s", "delivered", "rss_B/node", "heap_B/node");
    for (uint32_t count : counts) {
        if (count < 2 || count > 1'000'000) {
            std::cerr << "ainet-bench sim: --nodes must be in [2, 1000000]\n";
            return 2;
        }
        const sim_result r = run_one(o, count);
        const double speed = r.virtual_seconds / r.wall_seconds;
        const double events_per_second = static_cast<double>(r.events) / r.wall_seconds;
        if (o.json) {
            runs.push_back({{"nodes", r.nodes},
                            {"virtual_seconds", r.virtual_seconds},
                            {"wall_seconds", r.wall_seconds},
                            {"virtual_seconds_per_wall_second", speed},
                            {"events", r.events},
                            {"events_per_second", events_per_second},
                            {"delivered", r.delivered},
                            {"dropped", r.dropped},
                            {"rss_bytes_per_node", r.rss_per_node},
                            {"heap_bytes_per_node", r.heap_per_node},
                            {"trace_hash", r.trace_hash}});
        } else {
            std::printf("%8u %9.1f %8.3f %12.1f %12.0f %11llu %10llu %11llu\n", r.nodes,
                        r.virtual_seconds, r.wall_seconds, speed, events_per_second,
                        static_cast<unsigned long long>(r.delivered),
                        static_cast<unsigned long long>(r.rss_per_node),
                        static_cast<unsigned long long>(r.heap_per_node));
        }
    }
    if (o.json) {
        nlohmann::json out{{"benchmark", "sim"}, {"workload", "gossip_demo"},
                           {"seed", o.seed},     {"period_ms", o.period_ms},
                           {"fanout", o.fanout}, {"loss", o.loss},
                           {"runs", runs}};
        std::cout << out.dump(2) << "\n";
    }
    return 0;
}

} // namespace

void add_sim_command(CLI::App& app) {
    auto options = std::make_shared<sim_options>();
    CLI::App* sim = app.add_subcommand(
        "sim", "Deterministic simulator speed and memory: the gossip demo at N nodes");
    sim->add_option("--nodes", options->nodes, "node counts to run (repeatable)")
        ->capture_default_str();
    sim->add_option("--seconds", options->seconds, "virtual seconds per run")
        ->capture_default_str();
    sim->add_option("--seed", options->seed, "world seed")->capture_default_str();
    sim->add_option("--period-ms", options->period_ms, "gossip period")->capture_default_str();
    sim->add_option("--fanout", options->fanout, "gossip fanout")->capture_default_str();
    sim->add_option("--loss", options->loss, "link loss probability")->capture_default_str();
    sim->add_flag("--json", options->json, "print JSON");
    sim->add_option("--workload", options->workload, "gossip (the demo) or membership")
        ->capture_default_str();
    sim->add_option("--fp-seconds", options->fp_seconds,
                    "membership: virtual seconds of the false-positive run")
        ->capture_default_str();
    sim->add_option("--scenarios", options->scenarios,
                    "membership: all or a list of join,crash,fp,stall,isolate,partition,rejoin")
        ->capture_default_str();
    sim->add_flag("--discovery", options->discovery,
                  "bootstrap auto-discovery (default --nodes 1000 --seconds 30)");
    sim->add_option("--netgroups", options->netgroups, "discovery: /16 netgroups")
        ->capture_default_str();
    sim->add_option("--adversarial", options->adversarial,
                    "discovery: fraction of adversarial nodes")
        ->capture_default_str();
    sim->callback([options, sim] {
        if (options->discovery) {
            const bool nodes_given = sim->count("--nodes") > 0;
            const bool seconds_given = sim->count("--seconds") > 0;
            const int rc = run_discovery_sim(
                nodes_given ? options->nodes : std::vector<uint32_t>{1000},
                seconds_given ? options->seconds : 30, options->seed, options->netgroups,
                options->adversarial, options->json);
            if (rc != 0)
                throw CLI::RuntimeError(rc);
            return;
        }
        const int rc = options->workload == "membership"
                           ? run_membership_bench({options->nodes, options->seed,
                                                   options->fp_seconds, options->scenarios,
                                                   options->json})
                           : run_sim(*options);
        if (rc != 0)
            throw CLI::RuntimeError(rc);
    });
}

} // namespace ainet::bench
