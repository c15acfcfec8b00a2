// Goal: the membership targets of issue 5, asserted in virtual time on reduced cluster sizes
// (the full sizes run in `ainet-bench sim --workload membership`, docs/BENCHMARKS.md):
//   - a join reaches every node of 300 within 2.5 virtual s (gossip 200 ms, fanout 3);
//   - a crash at N = 300 is declared dead by every live node within 15 virtual s
//     (suspicion min = 3 * log10(300) * 1 s = 7.4 s, plus detection and dissemination);
//   - no false positive in one virtual hour at N = 24 with 10% loss and 20 +- 10 ms latency;
//   - a node stalled for 5 s neither accuses others on waking nor is declared dead (N = 32);
//   - a node that loses all its links gets nobody else declared dead (N = 32);
//   - a 50/50 partition of 100 nodes is reported as a partition on both sides, with no death,
//     healed within 10 probe intervals, and everyone holds everyone alive within 10 more;
//   - a node that crashes during that partition is declared dead by all after the heal;
//   - a crashed node is reaped from every table after dead_retention, and when it restarts with
//     its persisted incarnation (one above) every node takes it back within 2.5 virtual s.
// Seeds come from Catch2's run seed (CAPTUREd, replay with --rng-seed N).
#include <ainet/sim/membership_scenarios.hpp>

#include "sim_support.hpp"

#include <catch2/catch.hpp>

namespace ainet::sim::test {

namespace {

using namespace std::chrono_literals;

membership_scenario scenario(uint32_t nodes, uint64_t stream) {
    membership_scenario s;
    s.node_count = nodes;
    s.seed = run_seed(stream);
    return s;
}

link_profile lossy_link() {
    link_profile l;
    l.latency_base = 10ms; // 20 +- 10 ms
    l.jitter = 20ms;
    l.loss = 0.10;
    return l;
}

} // namespace

TEST_CASE("membership: a join reaches every node within 2.5 virtual s", "[sim][membership]") {
    const auto s = scenario(300, 1);
    CAPTURE(s.seed);
    const auto r = run_dissemination(s);
    CAPTURE(r.reached, r.p50.count(), r.last.count());
    CHECK(r.reached == s.node_count);
    CHECK(r.p9999 <= 2500ms);
}

TEST_CASE("membership: a crashed node is declared dead by all within 15 virtual s",
          "[sim][membership]") {
    const auto s = scenario(300, 2);
    CAPTURE(s.seed);
    const auto r = run_crash_detection(s);
    CAPTURE(r.first_suspect.count(), r.first_dead.count(), r.all_dead.count());
    CHECK(r.declared == r.live);
    CHECK(r.false_deaths == 0);
    CHECK(r.first_dead >= r.suspicion_min); // never before the suspicion timeout
    CHECK(r.all_dead <= 15s);
}

TEST_CASE("membership: no false positive in a virtual hour with 10% loss", "[sim][membership]") {
    auto s = scenario(24, 3);
    s.link = lossy_link();
    CAPTURE(s.seed);
    const auto r = run_false_positives(s, 3600s);
    CAPTURE(r.suspicions, r.refutations, r.traffic.bytes_per_node_per_second);
    CHECK(r.deaths == 0);
    CHECK(r.partitions == 0);
    CHECK(r.suspicions > 0); // the loss did bite; refutation saved every one
}

TEST_CASE("membership: a node stalled for 5 s accuses nobody and is not declared dead",
          "[sim][membership]") {
    const auto s = scenario(32, 4);
    CAPTURE(s.seed);
    const auto r = run_stall(s);
    CAPTURE(r.stalled_was_suspected, r.stalled_refutations);
    CHECK(r.deaths == 0);
    CHECK(r.accusations_after_wake == 0);
}

TEST_CASE("membership: a node that loses all its links gets nobody else declared dead",
          "[sim][membership]") {
    const auto s = scenario(32, 5);
    CAPTURE(s.seed);
    const auto r = run_isolation(s);
    CAPTURE(r.isolated_partition_events, r.see_isolated_alive_at_end);
    CHECK(r.others_declared_dead == 0);
    CHECK(r.isolated_declared_dead == 0);
    CHECK(r.isolated_partition_events == 1);
    CHECK(r.see_isolated_alive_at_end == r.live); // it refuted its death after healing
}

TEST_CASE("membership: a 50/50 partition is reported on both sides and healed",
          "[sim][membership]") {
    const auto s = scenario(100, 6);
    CAPTURE(s.seed);
    const auto r = run_partition(s);
    CAPTURE(r.suspected_max.count(), r.heal_max.count(), r.all_alive_at_end,
            r.all_alive_after.count());
    CHECK(r.deaths == 0);
    CHECK(r.reported_partition == r.nodes);
    CHECK(r.sets_on_other_side == r.nodes);
    CHECK(r.healed == r.nodes);
    CHECK(r.heal_max <= 10 * s.config.probe_interval);
    CHECK(r.all_alive_at_end == r.nodes);
    // Every node holds every other alive again soon after the heal, not one refutation at a time.
    CHECK(r.all_alive_after <= 10 * s.config.probe_interval);
}

TEST_CASE("membership: a node that crashes during a partition is found dead after the heal",
          "[sim][membership]") {
    // Goal: taking the unreachable set back as alive at the heal does not hide a real death.
    const auto s = scenario(100, 8);
    CAPTURE(s.seed);
    const auto r = run_partition(s, 60s, 60s, true);
    CAPTURE(r.heal_max.count(), r.all_alive_after.count(), r.crashed_dead_at_end);
    CHECK(r.false_deaths == 0);
    CHECK(r.healed == r.nodes - 1);
    CHECK(r.crashed_dead_at_end == r.nodes - 1);
    CHECK(r.all_alive_at_end == r.nodes - 1);
}

TEST_CASE("membership: a dead node is reaped everywhere and rejoins at once after a restart",
          "[sim][membership][reap]") {
    const auto s = scenario(64, 7);
    CAPTURE(s.seed);
    // Down 90 s: dead after ~10 s, reaped 60 s later everywhere.
    const auto reaped = run_rejoin(s, true, 90s);
    CAPTURE(reaped.declared_dead, reaped.reaped, reaped.rejoin_last.count());
    CHECK(reaped.reaped == reaped.live);
    CHECK(reaped.false_deaths == 0);
    CHECK(reaped.incarnation_after == reaped.incarnation_before + 1);
    CHECK(reaped.rejoined == reaped.live);
    CHECK(reaped.rejoin_last <= 2500ms);

    // Down 20 s: dead everywhere but not reaped yet; one above its death wins at once too.
    const auto dead = run_rejoin(s, true, 20s);
    CAPTURE(dead.declared_dead, dead.reaped, dead.rejoin_last.count());
    CHECK(dead.reaped == 0);
    CHECK(dead.declared_dead == dead.live);
    CHECK(dead.rejoined == dead.live);
    CHECK(dead.rejoin_last <= 2500ms);
}

} // namespace ainet::sim::test
