// ainet-bench sim --workload membership [--nodes N]... [--seed X] [--fp-seconds S]
//                 [--scenarios join,crash,fp,stall,isolate,partition,rejoin] [--json]
//
// Runs the membership scenarios of sim/membership_scenarios.hpp at each node count (default
// 100, 1000, 5000) with the default membership_config (probe 1 s, timeout 500 ms, 3 indirect
// probes, gossip 200 ms to 3, suspicion multiplier 3 and 6) and prints, in virtual time:
//   join       time until 50% / 99.99% / all nodes know a joining node; steady bytes/node/s
//   crash      time to the first suspicion, first and last death; suspicion min..max
//   fp         deaths, suspicions, refutations in --fp-seconds with 10% loss, 20 +- 10 ms;
//              bytes and datagrams per node per second (O(1) in N)
//   stall      a node paused 5 s: deaths, accusations it raised after waking
//   isolate    a node cut off 60 s: deaths it got others to raise, its partition events
//   partition  a 50/50 split for 60 s: nodes reporting it, deaths, heal time after 60 s,
//              time until every node holds every other alive again
//   rejoin     a node down 90 s (dead, then reaped everywhere) restarts with its persisted
//              incarnation: nodes that reaped it, time until all hold it alive again
// Plus wall seconds per run. Memory grows as N^2 (every node knows every other).

#include "membership_bench.hpp"

#include <ainet/sim/membership_scenarios.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace ainet::bench {

namespace {

using namespace std::chrono_literals;

double seconds_of(duration d) {
    return std::chrono::duration<double>(d).count();
}

bool wanted(const std::string& list, const std::string& name) {
    if (list == "all")
        return true;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item == name)
            return true;
    }
    return false;
}

template <class Fn>
double timed(Fn&& fn) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

sim::link_profile lossy_link() {
    sim::link_profile l;
    l.latency_base = 10ms;
    l.jitter = 20ms;
    l.loss = 0.10;
    return l;
}

} // namespace

int run_membership_bench(const membership_bench_options& o) {
    nlohmann::json runs = nlohmann::json::array();
    for (uint32_t n : o.nodes) {
        if (n < 8 || n > 20000) {
            std::cerr << "ainet-bench sim --workload membership: --nodes must be in [8, 20000]\n";
            return 2;
        }
        sim::membership_scenario s;
        s.node_count = n;
        s.seed = o.seed;
        nlohmann::json run{{"nodes", n}};
        if (wanted(o.scenarios, "join")) {
            sim::dissemination_result r;
            const double wall = timed([&] { r = sim::run_dissemination(s); });
            run["join"] = {
                {"reached", r.reached},
                {"p50_s", seconds_of(r.p50)},
                {"p9999_s", seconds_of(r.p9999)},
                {"last_s", seconds_of(r.last)},
                {"steady_bytes_per_node_per_s", r.steady.bytes_per_node_per_second},
                {"steady_datagrams_per_node_per_s", r.steady.datagrams_per_node_per_second},
                {"wall_s", wall}};
            if (!o.json)
                std::printf(
                    "N=%-5u join      reached %u/%u  p50 %.2f s  p99.99 %.2f s  last %.2f s  "
                    "steady %.0f B/node/s %.1f dgram/node/s  (wall %.1f s)\n",
                    n, r.reached, n, seconds_of(r.p50), seconds_of(r.p9999), seconds_of(r.last),
                    r.steady.bytes_per_node_per_second, r.steady.datagrams_per_node_per_second,
                    wall);
        }
        if (wanted(o.scenarios, "crash")) {
            sim::detection_result r;
            const double wall = timed([&] { r = sim::run_crash_detection(s); });
            run["crash"] = {{"declared", r.declared},
                            {"live", r.live},
                            {"first_suspect_s", seconds_of(r.first_suspect)},
                            {"first_dead_s", seconds_of(r.first_dead)},
                            {"all_dead_s", seconds_of(r.all_dead)},
                            {"false_deaths", r.false_deaths},
                            {"suspicion_min_s", seconds_of(r.suspicion_min)},
                            {"suspicion_max_s", seconds_of(r.suspicion_max)},
                            {"wall_s", wall}};
            if (!o.json)
                std::printf(
                    "N=%-5u crash     dead at %u/%u  first suspect %.2f s  first dead %.2f s  "
                    "all dead %.2f s  (suspicion %.1f..%.1f s, false deaths %llu, wall "
                    "%.1f s)\n",
                    n, r.declared, r.live, seconds_of(r.first_suspect), seconds_of(r.first_dead),
                    seconds_of(r.all_dead), seconds_of(r.suspicion_min),
                    seconds_of(r.suspicion_max), static_cast<unsigned long long>(r.false_deaths),
                    wall);
        }
        if (wanted(o.scenarios, "fp")) {
            sim::membership_scenario lossy = s;
            lossy.link = lossy_link();
            const auto span = std::chrono::duration_cast<duration>(
                std::chrono::duration<double>(o.false_positive_seconds));
            sim::false_positive_result r;
            const double wall = timed([&] { r = sim::run_false_positives(lossy, span); });
            run["fp"] = {{"virtual_s", o.false_positive_seconds},
                         {"deaths", r.deaths},
                         {"suspicions", r.suspicions},
                         {"refutations", r.refutations},
                         {"partitions", r.partitions},
                         {"bytes_per_node_per_s", r.traffic.bytes_per_node_per_second},
                         {"datagrams_per_node_per_s", r.traffic.datagrams_per_node_per_second},
                         {"wall_s", wall}};
            if (!o.json)
                std::printf(
                    "N=%-5u fp        %.0f virtual s, 10%% loss: deaths %llu  suspicion events "
                    "%llu  refutations %llu  partitions %llu  %.0f B/node/s %.1f "
                    "dgram/node/s  (wall %.1f s)\n",
                    n, o.false_positive_seconds, static_cast<unsigned long long>(r.deaths),
                    static_cast<unsigned long long>(r.suspicions),
                    static_cast<unsigned long long>(r.refutations),
                    static_cast<unsigned long long>(r.partitions),
                    r.traffic.bytes_per_node_per_second, r.traffic.datagrams_per_node_per_second,
                    wall);
        }
        if (wanted(o.scenarios, "stall")) {
            sim::stall_result r;
            const double wall = timed([&] { r = sim::run_stall(s); });
            run["stall"] = {{"deaths", r.deaths},
                            {"stalled_was_suspected", r.stalled_was_suspected},
                            {"accusations_after_wake", r.accusations_after_wake},
                            {"refutations", r.stalled_refutations},
                            {"wall_s", wall}};
            if (!o.json)
                std::printf(
                    "N=%-5u stall     5 s pause: deaths %llu  accusations after waking %llu  "
                    "suspect events about it %llu  its refutations %llu  (wall %.1f s)\n",
                    n, static_cast<unsigned long long>(r.deaths),
                    static_cast<unsigned long long>(r.accusations_after_wake),
                    static_cast<unsigned long long>(r.stalled_was_suspected),
                    static_cast<unsigned long long>(r.stalled_refutations), wall);
        }
        if (wanted(o.scenarios, "isolate")) {
            sim::isolation_result r;
            const double wall = timed([&] { r = sim::run_isolation(s); });
            run["isolate"] = {{"others_declared_dead", r.others_declared_dead},
                              {"isolated_declared_dead", r.isolated_declared_dead},
                              {"isolated_partition_events", r.isolated_partition_events},
                              {"see_isolated_alive_at_end", r.see_isolated_alive_at_end},
                              {"live", r.live},
                              {"wall_s", wall}};
            if (!o.json)
                std::printf(
                    "N=%-5u isolate   60 s cut off: others declared dead %llu  deaths it raised "
                    "%llu  its partition events %llu  alive again at %u/%u  (wall %.1f s)\n",
                    n, static_cast<unsigned long long>(r.others_declared_dead),
                    static_cast<unsigned long long>(r.isolated_declared_dead),
                    static_cast<unsigned long long>(r.isolated_partition_events),
                    r.see_isolated_alive_at_end, r.live, wall);
        }
        if (wanted(o.scenarios, "partition")) {
            sim::partition_result r;
            const double wall = timed([&] { r = sim::run_partition(s); });
            run["partition"] = {{"reported", r.reported_partition},
                                {"deaths", r.deaths},
                                {"deaths_after_heal", r.deaths_after_heal},
                                {"all_alive_after_s", seconds_of(r.all_alive_after)},
                                {"sets_on_other_side", r.sets_on_other_side},
                                {"suspected_max_s", seconds_of(r.suspected_max)},
                                {"healed", r.healed},
                                {"heal_max_s", seconds_of(r.heal_max)},
                                {"all_alive_at_end", r.all_alive_at_end},
                                {"wall_s", wall}};
            if (!o.json)
                std::printf(
                    "N=%-5u partition 50/50 for 60 s: reported by %u/%u (last after %.1f s)  "
                    "deaths %llu (%llu after the heal)  healed %u/%u (last %.1f s after)  all "
                    "alive at end %u/%u (everyone all alive %.0f s after the heal)  (wall %.1f "
                    "s)\n",
                    n, r.reported_partition, r.nodes, seconds_of(r.suspected_max),
                    static_cast<unsigned long long>(r.deaths),
                    static_cast<unsigned long long>(r.deaths_after_heal), r.healed, r.nodes,
                    seconds_of(r.heal_max), r.all_alive_at_end, r.nodes,
                    seconds_of(r.all_alive_after), wall);
        }
        if (wanted(o.scenarios, "rejoin")) {
            sim::rejoin_result r;
            const double wall = timed([&] { r = sim::run_rejoin(s, true); });
            run["rejoin"] = {{"live", r.live},
                             {"reaped", r.reaped},
                             {"incarnation_before", r.incarnation_before},
                             {"incarnation_after", r.incarnation_after},
                             {"rejoined", r.rejoined},
                             {"rejoin_last_s", seconds_of(r.rejoin_last)},
                             {"false_deaths", r.false_deaths},
                             {"wall_s", wall}};
            if (!o.json)
                std::printf("N=%-5u rejoin    down 90 s: reaped by %u/%u  restarted at "
                            "incarnation %llu (was %llu)  alive again at %u/%u, last after "
                            "%.2f s  false deaths %llu  (wall %.1f s)\n",
                            n, r.reaped, r.live,
                            static_cast<unsigned long long>(r.incarnation_after),
                            static_cast<unsigned long long>(r.incarnation_before), r.rejoined,
                            r.live, seconds_of(r.rejoin_last),
                            static_cast<unsigned long long>(r.false_deaths), wall);
        }
        std::fflush(stdout);
        runs.push_back(run);
    }
    if (o.json) {
        nlohmann::json out{
            {"benchmark", "sim"}, {"workload", "membership"}, {"seed", o.seed}, {"runs", runs}};
        std::cout << out.dump(2) << "\n";
    }
    return 0;
}

} // namespace ainet::bench
