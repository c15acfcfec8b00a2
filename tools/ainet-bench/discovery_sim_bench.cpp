// ainet-bench sim --discovery [--nodes N]... [--seconds S] [--seed X] [--netgroups G]
//                             [--adversarial F] [--json]
//
// Bootstrap auto-discovery (discovery/bootstrap_manager.hpp) in the simulator (sim/
// discovery_node.hpp): N nodes over G /16 netgroups, 3 static bootstrap nodes, links of
// 20 ms + up to 10 ms jitter. Once per virtual second it checks issue 5's target (every live
// honest node knows >= 64 live peers from >= 8 netgroups) and reports when it was first met,
// the worst node's figures at the end, the message traffic per node per second, and, with
// --adversarial F (a fraction of non-static nodes answering only adversarial records), how many
// honest nodes ended with an all-adversarial selected peer set (eclipsed).

#include "sim_bench.hpp"

#include <ainet/sim/discovery_node.hpp>
#include <ainet/sim/world.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <set>

namespace ainet::bench {

namespace {

using namespace std::chrono_literals;

struct figures {
    size_t worst_live_peers = SIZE_MAX;
    size_t worst_netgroups = SIZE_MAX;
    size_t median_live_peers = 0;
    size_t eclipsed = 0;
    size_t honest = 0;
    size_t selected_total = 0;
    size_t selected_adversarial = 0;
};

figures measure(sim::world& w, const std::function<bool(sim::node_index)>& adversarial) {
    figures f;
    std::vector<size_t> live_counts;
    for (uint32_t i = 0; i < w.node_count(); ++i) {
        const sim::node_index index{i};
        if (!w.is_up(index) || (adversarial && adversarial(index)))
            continue;
        auto* n = w.process_as<sim::discovery_node>(index);
        ++f.honest;
        size_t live = 0;
        std::set<uint32_t> groups;
        for (const auto& id : n->manager().known_ids()) {
            const auto at = w.config().addresses.index_of(n->manager().known().find(id)->udp);
            if (!at || !w.is_up(*at))
                continue;
            ++live;
            groups.insert(w.config().addresses.netgroup_of(*at));
        }
        live_counts.push_back(live);
        f.worst_live_peers = std::min(f.worst_live_peers, live);
        f.worst_netgroups = std::min(f.worst_netgroups, groups.size());
        if (adversarial) {
            const auto selected = n->manager().selected(w.local_now(index));
            size_t bad = 0;
            for (const auto& id : selected) {
                const auto at = w.config().addresses.index_of(n->manager().known().find(id)->udp);
                bad += at && adversarial(*at) ? 1 : 0;
            }
            f.eclipsed += bad == selected.size() ? 1 : 0;
            f.selected_total += selected.size();
            f.selected_adversarial += bad;
        }
    }
    if (!live_counts.empty()) {
        std::sort(live_counts.begin(), live_counts.end());
        f.median_live_peers = live_counts[live_counts.size() / 2];
    }
    return f;
}

} // namespace

int run_discovery_sim(const std::vector<uint32_t>& node_counts, double seconds, uint64_t seed,
                      uint32_t netgroups, double adversarial_fraction, bool json) {
    if (seconds <= 0 || netgroups == 0 || netgroups > 256 || adversarial_fraction < 0 ||
        adversarial_fraction >= 1) {
        std::cerr << "ainet-bench sim --discovery: --seconds > 0, --netgroups in [1, 256], "
                     "--adversarial in [0, 1)\n";
        return 2;
    }
    nlohmann::json runs = nlohmann::json::array();
    if (!json)
        std::printf("%6s %5s %6s %9s %8s %10s %10s %9s %11s %9s %8s %9s\n", "nodes", "adv%",
                    "groups", "target_s", "wall_s", "worst_live", "median", "worst_grp", "B/node/s",
                    "eclipsed", "honest", "adv_sel%");
    for (uint32_t count : node_counts) {
        if (count < 4 || count > 100'000) {
            std::cerr << "ainet-bench sim --discovery: --nodes must be in [4, 100000]\n";
            return 2;
        }
        const auto adversary_every =
            adversarial_fraction > 0 ? static_cast<uint32_t>(1.0 / adversarial_fraction + 0.5) : 0;
        std::function<bool(sim::node_index)> adversarial;
        if (adversary_every > 0)
            adversarial = [adversary_every](sim::node_index i) {
                return sim::to_index(i) >= 3 && sim::to_index(i) % adversary_every == 0;
            };
        sim::world_config config;
        config.seed = seed;
        config.addresses.netgroup_count = netgroups;
        config.default_link.latency_base = 20ms;
        config.default_link.jitter = 10ms;
        sim::discovery_sim_config d;
        d.static_count = 3;
        d.key_seed = seed;
        d.adversarial = adversarial;
        d.node_count = count;
        d.adversary_wall = config.wall_start;
        sim::world w(config, sim::make_discovery_factory(d, config.addresses));
        w.add_nodes(count);

        double target_at = -1;
        const auto wall_start = std::chrono::steady_clock::now();
        const auto steps = static_cast<int>(seconds);
        for (int s = 1; s <= steps; ++s) {
            w.run_for(1s);
            if (target_at < 0) {
                const figures f = measure(w, adversarial);
                if (f.worst_live_peers >= 64 && f.worst_netgroups >= 8)
                    target_at = s;
            }
        }
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
        const figures f = measure(w, adversarial);
        const double adversarial_share = f.selected_total == 0
                                             ? 0.0
                                             : static_cast<double>(f.selected_adversarial) /
                                                   static_cast<double>(f.selected_total);
        const double bytes_per_node_second =
            static_cast<double>(w.message_bytes_sent()) / count / static_cast<double>(steps);
        if (json) {
            runs.push_back({{"nodes", count},
                            {"adversarial_fraction", adversarial_fraction},
                            {"netgroups", netgroups},
                            {"virtual_seconds", steps},
                            {"target_met_at_s", target_at},
                            {"wall_seconds", wall},
                            {"worst_live_peers", f.worst_live_peers},
                            {"median_live_peers", f.median_live_peers},
                            {"worst_netgroups", f.worst_netgroups},
                            {"message_bytes_per_node_per_second", bytes_per_node_second},
                            {"eclipsed", f.eclipsed},
                            {"honest", f.honest},
                            {"selected_adversarial_fraction", adversarial_share},
                            {"trace_hash", w.trace_hash()}});
        } else {
            std::printf("%6u %5.1f %6u %9.0f %8.2f %10zu %10zu %9zu %11.0f %9zu %8zu %9.1f\n",
                        count, adversarial_fraction * 100, netgroups, target_at, wall,
                        f.worst_live_peers, f.median_live_peers, f.worst_netgroups,
                        bytes_per_node_second, f.eclipsed, f.honest, adversarial_share * 100);
        }
    }
    if (json)
        std::cout << nlohmann::json{{"benchmark", "sim"},
                                    {"workload", "discovery"},
                                    {"seed", seed},
                                    {"runs", runs}}
                         .dump(2)
                  << "\n";
    return 0;
}

} // namespace ainet::bench
