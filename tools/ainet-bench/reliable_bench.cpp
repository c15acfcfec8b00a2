// ainet-bench reliable: reliable, ordered messaging on loopback, every contender in the same run
// (issue #8, "ainet-bench reliable"). For each message size: messages/s, goodput (message
// bytes/s), datagrams per message each way, retransmissions; then a ping run with RTT
// percentiles. Contenders implement reliable_contender.hpp: the ENet baseline, then ainet's
// reliability core over UDP without persistence ("ainet") and with its state in LMDB
// ("ainet-lmdb", durable commits); --baseline-only measures ENet alone. --loss-percent P runs
// every contender over a lossy_path instead of loopback: two network namespaces joined by veth,
// nft dropping P% of the datagrams each way (needs root; exit 77 where it cannot be set up).
//
//   ainet-bench reliable --baseline-only [--sizes 32,256,1024] [--count 200000]
//                        [--ping-count 20000] [--mode both|throughput|ping] [--json]
//   ainet-bench reliable --loss-percent 5 --sizes 1024 --count 100000
#include "commands.hpp"
#include "reliable_contender.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

namespace ainet::bench {

namespace {

struct options {
    std::vector<size_t> sizes{32, 256, 1024};
    uint64_t count = 200'000;
    uint64_t ping_count = 20'000;
    uint32_t duration_ms_max = 30'000;
    std::string mode = "both";
    bool baseline_only = false;
    bool no_gso = false;
    std::vector<std::string> contenders{"enet", "ainet", "ainet-lmdb"};
    bool json = false;
    int loss_percent = -1; // -1: loopback
};

constexpr int exit_skip = 77; // the lossy path cannot be made here

struct throughput_row {
    std::string contender;
    size_t size = 0;
    throughput_result result;
};

struct ping_row {
    std::string contender;
    size_t size = 0;
    uint64_t count = 0;
    bool complete = false;
    double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

// Nearest-rank percentile of sorted values (q in (0, 1]).
double percentile_us(const std::vector<uint64_t>& sorted, double q) {
    if (sorted.empty())
        return 0;
    const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return static_cast<double>(sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1]) / 1000.0;
}

ping_row summarize(const std::string& name, size_t size, const ping_result& r) {
    std::vector<uint64_t> sorted = r.rtt_ns;
    std::sort(sorted.begin(), sorted.end());
    ping_row row{name, size, sorted.size(), r.complete};
    row.p50_us = percentile_us(sorted, 0.50);
    row.p90_us = percentile_us(sorted, 0.90);
    row.p99_us = percentile_us(sorted, 0.99);
    row.p999_us = percentile_us(sorted, 0.999);
    row.max_us = sorted.empty() ? 0 : static_cast<double>(sorted.back()) / 1000.0;
    return row;
}

double per_message(uint64_t datagrams, uint64_t messages) {
    return messages > 0 ? static_cast<double>(datagrams) / static_cast<double>(messages) : 0;
}

// A run that hit its time limit is a failed benchmark (exit 1), after its row was printed.
bool all_complete(const std::vector<throughput_row>& throughput,
                  const std::vector<ping_row>& pings) {
    return std::all_of(throughput.begin(), throughput.end(),
                       [](const throughput_row& r) { return r.result.complete; }) &&
           std::all_of(pings.begin(), pings.end(), [](const ping_row& r) { return r.complete; });
}

int run(const options& o) {
    std::string error;
    const std::optional<lossy_path> lossy =
        o.loss_percent >= 0 ? lossy_path::create(static_cast<unsigned>(o.loss_percent), error)
                            : std::nullopt;
    bench_path path;
    if (o.loss_percent >= 0) {
        if (!lossy) {
            std::cerr << "ainet-bench reliable: skipped: " << error << "\n";
            return exit_skip;
        }
        path = lossy->path();
    }
    std::vector<std::unique_ptr<contender>> contenders;
    const auto wanted = [&](std::string_view name) {
        return std::find(o.contenders.begin(), o.contenders.end(), name) != o.contenders.end();
    };
    if (wanted("enet"))
        contenders.push_back(make_enet_contender(path));
    if (!o.baseline_only) {
        // GSO only on loopback: nft on the lossy path sees a train as one packet.
        const bool gso = o.loss_percent < 0 && !o.no_gso;
        if (wanted("ainet"))
            contenders.push_back(make_ainet_contender(false, path, gso));
        if (wanted("ainet-lmdb"))
            contenders.push_back(make_ainet_contender(true, path, gso));
    }

    std::vector<throughput_row> throughput_rows;
    std::vector<ping_row> ping_rows;
    const bool do_throughput = o.mode == "both" || o.mode == "throughput";
    const bool do_ping = o.mode == "both" || o.mode == "ping";
    for (size_t size : do_throughput ? o.sizes : std::vector<size_t>{}) {
        for (auto& c : contenders) {
            throughput_params p{size, o.count, o.duration_ms_max};
            throughput_row row{c->name(), size, c->run_throughput(p)};
            if (!row.result.error.empty()) {
                std::cerr << "ainet-bench reliable: " << row.contender << " " << size
                          << " B: " << row.result.error << "\n";
                return 1;
            }
            if (!o.json)
                std::cerr << "  measured " << row.contender << " throughput " << size << " B\n";
            throughput_rows.push_back(std::move(row));
        }
    }
    if (do_ping) {
        for (auto& c : contenders) {
            ping_params p{32, o.ping_count, o.duration_ms_max};
            const ping_result r = c->run_ping(p);
            if (!r.error.empty()) {
                std::cerr << "ainet-bench reliable: " << c->name() << " ping: " << r.error << "\n";
                return 1;
            }
            ping_rows.push_back(summarize(c->name(), p.message_size, r));
        }
    }

    if (o.json) {
        std::ostringstream out;
        out << "{\"benchmark\":\"reliable\",\"path\":\"" << path.description
            << "\",\"loss_percent\":" << std::max(o.loss_percent, 0) << ",\"throughput\":[";
        bool first = true;
        for (const auto& row : throughput_rows) {
            const auto& r = row.result;
            out << (first ? "" : ",") << "{\"contender\":\"" << row.contender
                << "\",\"message_bytes\":" << row.size << ",\"messages\":" << r.messages_delivered
                << ",\"complete\":" << (r.complete ? "true" : "false")
                << ",\"seconds\":" << r.seconds
                << ",\"messages_per_second\":" << r.messages_per_second()
                << ",\"goodput_mb_per_second\":"
                << r.messages_per_second() * static_cast<double>(row.size) / 1e6
                << ",\"datagrams_per_message\":"
                << per_message(r.datagrams_sent, r.messages_delivered)
                << ",\"return_datagrams_per_message\":"
                << per_message(r.datagrams_returned, r.messages_delivered)
                << ",\"sender_bytes\":" << r.bytes_sent
                << ",\"retransmissions\":" << r.retransmissions
                << ",\"repeats\":" << r.repeats << "}";
            first = false;
        }
        out << "],\"ping\":[";
        first = true;
        for (const auto& row : ping_rows) {
            out << (first ? "" : ",") << "{\"contender\":\"" << row.contender
                << "\",\"message_bytes\":" << row.size << ",\"pings\":" << row.count
                << ",\"complete\":" << (row.complete ? "true" : "false")
                << ",\"rtt_us_p50\":" << row.p50_us << ",\"rtt_us_p90\":" << row.p90_us
                << ",\"rtt_us_p99\":" << row.p99_us << ",\"rtt_us_p999\":" << row.p999_us
                << ",\"rtt_us_max\":" << row.max_us << "}";
            first = false;
        }
        out << "]}";
        std::cout << out.str() << "\n";
        return all_complete(throughput_rows, ping_rows) ? 0 : 1;
    }

    if (!throughput_rows.empty()) {
        std::printf("ainet-bench reliable: %s, one reliable ordered channel, %llu messages "
                    "per run (at most %u ms)\n",
                    path.description.c_str(), static_cast<unsigned long long>(o.count),
                    o.duration_ms_max);
        std::printf("%-10s %6s %10s %12s %12s %11s %11s %9s %8s %9s %8s\n", "contender",
                    "bytes", "messages", "messages/s", "goodput MB/s", "dgrams/msg", "acks/msg",
                    "retrans", "repeats", "complete", "vs ENet");
        for (const auto& row : throughput_rows) {
            const auto& r = row.result;
            const std::string retrans =
                r.retransmissions < 0 ? "n/a" : std::to_string(r.retransmissions);
            const std::string repeats = r.repeats < 0 ? "n/a" : std::to_string(r.repeats);
            // messages/s relative to the ENet row of the same size in this run.
            double ratio = 0;
            for (const auto& base : throughput_rows)
                if (base.contender == "enet" && base.size == row.size &&
                    base.result.messages_per_second() > 0)
                    ratio = r.messages_per_second() / base.result.messages_per_second();
            std::printf("%-10s %6zu %10llu %12.0f %12.1f %11.3f %11.3f %9s %8s %9s %7.2fx\n",
                        row.contender.c_str(), row.size,
                        static_cast<unsigned long long>(r.messages_delivered),
                        r.messages_per_second(),
                        r.messages_per_second() * static_cast<double>(row.size) / 1e6,
                        per_message(r.datagrams_sent, r.messages_delivered),
                        per_message(r.datagrams_returned, r.messages_delivered), retrans.c_str(),
                        repeats.c_str(), r.complete ? "yes" : "NO", ratio);
        }
    }
    if (!ping_rows.empty()) {
        std::printf("ping: %zu B messages, one in flight, echoed on the same channel; RTT in us\n",
                    ping_rows.front().size);
        std::printf("%-10s %8s %8s %8s %8s %8s %9s %9s\n", "contender", "pings", "p50", "p90", "p99",
                    "p99.9", "max", "complete");
        for (const auto& row : ping_rows)
            std::printf("%-10s %8llu %8.1f %8.1f %8.1f %8.1f %9.1f %9s\n", row.contender.c_str(),
                        static_cast<unsigned long long>(row.count), row.p50_us, row.p90_us,
                        row.p99_us, row.p999_us, row.max_us, row.complete ? "yes" : "NO");
    }
    if (!all_complete(throughput_rows, ping_rows)) {
        std::cerr << "ainet-bench reliable: a run hit --duration-ms-max before completing\n";
        return 1;
    }
    return 0;
}

} // namespace

std::function<int()> add_reliable_command(CLI::App& app) {
    auto o = std::make_shared<options>();
    CLI::App* cmd = app.add_subcommand(
        "reliable", "reliable ordered messaging on loopback, every contender in the same run");
    cmd->add_option("--sizes", o->sizes, "message sizes in bytes (8..1200)")->delimiter(',');
    cmd->add_option("--count", o->count, "messages per throughput run")
        ->check(CLI::Range(uint64_t{1}, uint64_t{10'000'000}));
    cmd->add_option("--ping-count", o->ping_count, "pings in the RTT run")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
    cmd->add_option("--duration-ms-max", o->duration_ms_max, "time limit of each run")
        ->check(CLI::Range(100u, 600'000u));
    cmd->add_option("--mode", o->mode, "both, throughput or ping")
        ->check(CLI::IsMember({"both", "throughput", "ping"}));
    cmd->add_flag("--baseline-only", o->baseline_only, "measure only the ENet baseline");
    cmd->add_flag("--no-gso", o->no_gso,
                  "ainet contenders send one datagram per sendmmsg entry (no UDP_SEGMENT/GRO)");
    cmd->add_option("--contenders", o->contenders,
                    "which contenders to run (enet,ainet,ainet-lmdb; profiling one alone)")
        ->delimiter(',')
        ->check(CLI::IsMember({"enet", "ainet", "ainet-lmdb"}));
    cmd->add_flag("--json", o->json, "JSON output for scripts");
    cmd->add_option("--loss-percent", o->loss_percent,
                    "run over two network namespaces with this % random drop each way (root)")
        ->check(CLI::Range(0, 100));
    return [o] {
        for (size_t s : o->sizes)
            if (s < 8 || s > 1200) {
                std::cerr << "ainet-bench reliable: sizes must be 8..1200 bytes\n";
                return 2;
            }
        return run(*o);
    };
}

} // namespace ainet::bench
