#pragma once
// The membership targets of issue 5 as runnable scenarios, shared by the simulator tests
// (tests/sim/membership_scenario_test.cpp, small N) and `ainet-bench sim --workload membership`
// (N = 100, 1,000, 5,000). Each builds a world of membership_nodes (membership_node.hpp) that
// starts converged (every node knows every other), lets it settle, applies one fault and
// reports what the targets measure, in virtual time. Deterministic for a given seed.
//
// Single-threaded; each call builds and destroys its own world (memory ~N^2 * 250 bytes).

#include <ainet/membership/membership_core.hpp>
#include <ainet/sim/link.hpp>

#include <cstdint>
#include <vector>

namespace ainet::sim {

struct membership_scenario {
    uint32_t node_count = 100;
    uint64_t seed = 1;
    membership::membership_config config{};
    link_profile link{};
    duration settle = std::chrono::seconds(5); // before the fault
};

// Traffic over a window: membership bytes sent per node per virtual second.
struct membership_traffic {
    double bytes_per_node_per_second = 0;
    double datagrams_per_node_per_second = 0;
};

// A node joins through 3 seeds; how long until the others learn of it.
struct dissemination_result {
    uint32_t reached = 0;      // nodes (of node_count) that learned of the joiner
    duration p50{0};           // time until half of them knew
    duration p9999{0};         // until 99.99% knew (all of them below 10,000 nodes)
    duration last{0};          // until the last one knew
    membership_traffic steady; // during the settle period, before the join
};
[[nodiscard]] dissemination_result run_dissemination(const membership_scenario& s,
                                                     duration horizon = std::chrono::seconds(10));

// One node crashes; when does every live node hold it dead?
struct detection_result {
    uint32_t declared = 0; // live nodes that hold it dead at the end
    uint32_t live = 0;
    duration first_suspect{0};
    duration first_dead{0};
    duration all_dead{0};
    uint64_t false_deaths = 0; // dead events about live nodes
    duration suspicion_min{0};
    duration suspicion_max{0};
};
[[nodiscard]] detection_result run_crash_detection(const membership_scenario& s,
                                                   duration horizon = std::chrono::seconds(40));

// Everything is up for span (on s.link, e.g. 10% loss); nothing may be declared dead.
struct false_positive_result {
    uint64_t deaths = 0;
    uint64_t suspicions = 0;
    uint64_t refutations = 0;
    uint64_t partitions = 0;
    membership_traffic traffic;
};
[[nodiscard]] false_positive_result run_false_positives(const membership_scenario& s,
                                                        duration span);

// Node 0 stalls (world::pause) for `stall`, then runs on for `after`.
struct stall_result {
    uint64_t deaths = 0;                 // anyone declared dead, anywhere
    uint64_t stalled_was_suspected = 0;  // suspect events about the stalled node
    uint64_t accusations_after_wake = 0; // suspect/dead events the stalled node raised after waking
    uint64_t stalled_refutations = 0;
};
[[nodiscard]] stall_result run_stall(const membership_scenario& s,
                                     duration stall = std::chrono::seconds(5),
                                     duration after = std::chrono::seconds(30));

// Node 0 loses every link (both ways) for `cut`, then gets them back for `after`.
struct isolation_result {
    uint64_t others_declared_dead = 0;   // dead events about nodes other than the isolated one
    uint64_t isolated_declared_dead = 0; // dead events raised by the isolated node itself
    uint64_t isolated_partition_events = 0;
    uint32_t see_isolated_alive_at_end = 0; // live nodes that hold it alive again at the end
    uint32_t live = 0;
};
[[nodiscard]] isolation_result run_isolation(const membership_scenario& s,
                                             duration cut = std::chrono::seconds(60),
                                             duration after = std::chrono::seconds(60));

// The nodes split into two halves for `cut`, then heal for `after`.
struct partition_result {
    uint32_t nodes = 0;
    uint32_t reported_partition = 0; // nodes that raised partition_suspected
    uint64_t deaths = 0;             // dead events anywhere
    uint64_t deaths_after_heal = 0;  // ... of them, after the heal
    uint32_t sets_on_other_side = 0; // partition sets made only of the other half
    duration suspected_max{0};       // partition start -> the last node's partition_suspected
    uint32_t healed = 0;             // nodes that raised partition_healed
    duration heal_max{0};            // heal -> the last node's partition_healed
    uint32_t all_alive_at_end = 0;   // nodes that hold every other node alive at the end
    duration all_alive_after{0};     // heal -> every node holds every other alive (1 s steps;
                                     // `after` if never)
    // With crash_during: the last node crashes halfway through the cut.
    uint64_t false_deaths = 0;        // dead events about nodes that did not crash
    uint32_t crashed_dead_at_end = 0; // live nodes holding it dead (or reaped) at the end
};
[[nodiscard]] partition_result run_partition(const membership_scenario& s,
                                             duration cut = std::chrono::seconds(60),
                                             duration after = std::chrono::seconds(30),
                                             bool crash_during = false);

// The last node crashes; `down` later it restarts (with its persisted incarnation, or fresh).
// With down > dead_retention + the detection time, every live node has reaped it by then.
struct rejoin_result {
    uint32_t live = 0;
    uint32_t declared_dead = 0; // live nodes that held it dead before the restart
    uint32_t reaped = 0;        // live nodes whose table no longer had it before the restart
    uint64_t incarnation_before = 0;
    uint64_t incarnation_after = 0; // the restarted node's first incarnation
    uint32_t rejoined = 0;          // live nodes holding it alive at incarnation_after (or above)
    duration rejoin_last{0};        // restart -> the last of them learned it (horizon if not all)
    uint64_t false_deaths = 0;      // dead events about other nodes
};
[[nodiscard]] rejoin_result run_rejoin(const membership_scenario& s, bool with_state,
                                       duration down = std::chrono::seconds(90),
                                       duration horizon = std::chrono::seconds(10));

} // namespace ainet::sim
