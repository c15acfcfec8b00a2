// ainet-bench reliable-sim [--messages N] [--size B] [--loss L]... [--latency-ms M]
//                          [--window W] [--mbps R] [--seed X] [--json]
//
// The reliability core's protocol efficiency in the deterministic simulator: one sender streams
// N messages of B bytes to one receiver over a link with M ms one-way latency (plus 10% jitter)
// and random loss L each way (default 0, 1% and 5%), optionally capped at R Mbit/s per node.
// Both ends run reliability_core unchanged (ainet/sim/reliability_node.hpp). Reports, per
// loss rate: messages delivered per virtual second (first send to last in-order delivery),
// datagrams sent per message (data side, and ack side), retransmissions per message, and the
// wall time the simulation took. Every run checks that exactly the sent messages arrived, in
// order, once; a run that does not fails the command (exit 1).

#include "reliable_sim_bench.hpp"

#include <ainet/sim/reliability_node.hpp>

#include <ainet/sim/world.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

namespace ainet::bench {

namespace {

using namespace std::chrono_literals;

struct reliable_sim_options {
    uint32_t messages = 100'000;
    uint32_t size = 64;
    std::vector<double> loss{0.0, 0.01, 0.05};
    uint32_t latency_ms = 10;
    uint32_t window = 4096;
    uint32_t mbps = 0;
    uint64_t seed = 1;
    bool json = false;
};

struct reliable_sim_result {
    double loss;
    bool exact;
    double virtual_seconds;
    double wall_seconds;
    uint64_t data_datagrams;
    uint64_t ack_datagrams;
    uint64_t retransmissions;
    uint64_t reductions;
    uint64_t delivered;
};

reliable_sim_result run_one(const reliable_sim_options& o, double loss) {
    (void)crypto::init();
    sim::world_config config;
    config.seed = o.seed;
    config.default_link.latency_base = std::chrono::milliseconds(o.latency_ms);
    config.default_link.jitter = std::chrono::microseconds(o.latency_ms * 100);
    config.default_link.loss = loss;
    config.packets_in_flight_max = 1u << 22;
    auto sender = std::make_shared<sim::reliable::options>();
    auto receiver = std::make_shared<sim::reliable::options>();
    auto log = std::make_shared<sim::reliable::app_log>();
    const std::vector<node_id> ids{sim::reliable::keys_of(0).id(), sim::reliable::keys_of(1).id()};
    for (auto* opt : {sender.get(), receiver.get()}) {
        opt->ids = ids;
        opt->config.receive_window = o.window;
    }
    sender->peer = 1;
    receiver->peer = 0;
    sender->send_count = o.messages;
    sender->size = o.size;
    sender->batch = 4 * o.window; // the application keeps the outbox ahead of the window
    sender->interval = 1ms;
    sim::world w(config, [&](const sim::node_spec& spec) -> std::unique_ptr<sim::node> {
        return std::make_unique<sim::reliable::reliable_node>(
            spec, to_index(spec.index) == 0 ? sender : receiver, log);
    });
    w.add_nodes(2);
    if (o.mbps > 0)
        for (uint32_t i = 0; i < 2; ++i)
            w.set_egress(sim::node_index{i}, uint64_t{o.mbps} * 125'000, uint64_t{1} << 20);
    const instant start = w.now();
    const auto wall_start = std::chrono::steady_clock::now();
    const instant limit = start + std::chrono::seconds(3600);
    while (w.now() < limit && log->delivered.size() < o.messages)
        w.run_for(100ms);
    const auto wall_end = std::chrono::steady_clock::now();
    auto* s = w.process_as<sim::reliable::reliable_node>(sim::node_index{0});
    auto* r = w.process_as<sim::reliable::reliable_node>(sim::node_index{1});
    reliable_sim_result out{};
    out.loss = loss;
    out.exact = log->delivered.size() == o.messages;
    for (uint32_t i = 0; out.exact && i < o.messages; ++i)
        out.exact = log->delivered[i] == i;
    out.virtual_seconds = std::chrono::duration<double>(log->last_delivery - start).count();
    out.wall_seconds = std::chrono::duration<double>(wall_end - wall_start).count();
    out.data_datagrams = s->counters().datagrams_sent.load();
    out.ack_datagrams = r->counters().datagrams_sent.load();
    out.retransmissions = s->counters().retransmissions.load();
    out.reductions = s->counters().congestion_reductions.load();
    out.delivered = log->delivered.size();
    if (std::getenv("AINET_BENCH_DEBUG")) {
#define AINET_PRINT_COUNTER(name, help)                                                            \
    std::fprintf(stderr, "  %-28s sender %10llu receiver %10llu\n", #name,                         \
                 static_cast<unsigned long long>(s->counters().name.load()),                       \
                 static_cast<unsigned long long>(r->counters().name.load()));
        AINET_RELIABILITY_COUNTERS(AINET_PRINT_COUNTER)
#undef AINET_PRINT_COUNTER
    }
    return out;
}

int run_reliable_sim(const reliable_sim_options& o) {
    if (o.messages == 0 || o.size < 4 || o.size > 1100 || o.window == 0 || o.latency_ms == 0) {
        std::cerr << "ainet-bench reliable-sim: --messages, --window, --latency-ms > 0; --size in "
                     "[4, 1100]\n";
        return 2;
    }
    nlohmann::json runs = nlohmann::json::array();
    if (!o.json)
        std::printf("%6s %9s %12s %10s %10s %10s %9s %8s %6s\n", "loss", "messages", "msg/virt_s",
                    "dgram/msg", "ack/msg", "retx/msg", "cwnd_cuts", "wall_s", "exact");
    bool all_exact = true;
    for (double loss : o.loss) {
        const auto r = run_one(o, loss);
        all_exact = all_exact && r.exact;
        const double n = double(o.messages);
        const double rate = r.virtual_seconds > 0 ? n / r.virtual_seconds : 0;
        if (o.json) {
            runs.push_back({{"loss", r.loss},
                            {"messages", o.messages},
                            {"delivered", r.delivered},
                            {"exact_in_order", r.exact},
                            {"virtual_seconds", r.virtual_seconds},
                            {"messages_per_virtual_second", rate},
                            {"data_datagrams_per_message", double(r.data_datagrams) / n},
                            {"ack_datagrams_per_message", double(r.ack_datagrams) / n},
                            {"retransmissions", r.retransmissions},
                            {"retransmissions_per_message", double(r.retransmissions) / n},
                            {"congestion_reductions", r.reductions},
                            {"wall_seconds", r.wall_seconds}});
        } else {
            std::printf("%5.1f%% %9u %12.0f %10.4f %10.4f %10.4f %9llu %8.2f %6s\n", r.loss * 100,
                        o.messages, rate, double(r.data_datagrams) / n, double(r.ack_datagrams) / n,
                        double(r.retransmissions) / n,
                        static_cast<unsigned long long>(r.reductions), r.wall_seconds,
                        r.exact ? "yes" : "NO");
        }
    }
    if (o.json) {
        nlohmann::json out{{"benchmark", "reliable-sim"},
                           {"size", o.size},
                           {"latency_ms", o.latency_ms},
                           {"window", o.window},
                           {"mbps", o.mbps},
                           {"seed", o.seed},
                           {"runs", runs}};
        std::cout << out.dump(2) << "\n";
    }
    return all_exact ? 0 : 1;
}

} // namespace

void add_reliable_sim_command(CLI::App& app) {
    auto options = std::make_shared<reliable_sim_options>();
    CLI::App* cmd = app.add_subcommand(
        "reliable-sim",
        "Reliability protocol efficiency in the simulator: msg/virtual s, datagrams "
        "and retransmissions per message at given loss rates");
    cmd->add_option("--messages", options->messages, "messages to stream")->capture_default_str();
    cmd->add_option("--size", options->size, "message size in bytes")->capture_default_str();
    cmd->add_option("--loss", options->loss, "random loss each way (repeatable)")
        ->capture_default_str();
    cmd->add_option("--latency-ms", options->latency_ms, "one-way latency")->capture_default_str();
    cmd->add_option("--window", options->window, "receive window (messages)")
        ->capture_default_str();
    cmd->add_option("--mbps", options->mbps, "egress cap per node, Mbit/s (0: none)")
        ->capture_default_str();
    cmd->add_option("--seed", options->seed, "world seed")->capture_default_str();
    cmd->add_flag("--json", options->json, "print JSON");
    cmd->callback([options] {
        const int rc = run_reliable_sim(*options);
        if (rc != 0)
            throw CLI::RuntimeError(rc);
    });
}

} // namespace ainet::bench
