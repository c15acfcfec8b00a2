// Goal: 5,000 nodes run in one process: the gossip demo converges on a lossy, jittery network
// within a few virtual seconds, with bounded memory (datagrams in flight return to the pool).

#include "sim_support.hpp"

#include <ainet/sim/gossip_demo.hpp>

#include <catch2/catch.hpp>

using namespace ainet;
using namespace ainet::sim;
using namespace std::chrono_literals;

TEST_CASE("5,000 gossip nodes converge", "[sim][scale]") {
    const uint64_t seed = test::run_seed();
    CAPTURE(seed);
    constexpr uint32_t node_count = 5000;
    world_config config;
    config.seed = seed;
    config.default_link.latency_base = 20ms;
    config.default_link.jitter = 10ms;
    config.default_link.shape = jitter_shape::exponential;
    config.default_link.loss = 0.01;
    gossip_config gossip;
    gossip.period = 500ms;
    gossip.fanout = 2;
    gossip.increments_max = 12; // done by ~6 s; then every node must converge
    world w(config, make_gossip_factory(gossip));
    w.add_nodes(node_count);
    w.run_for(10s);

    const uint64_t origin = w.process_as<gossip_node>(node_index{0})->counter();
    CHECK(origin == 12);
    uint32_t behind = 0;
    for (uint32_t i = 0; i < node_count; ++i)
        behind += w.process_as<gossip_node>(node_index{i})->counter() < origin ? 1 : 0;
    CHECK(behind == 0);
    // Every node ticks every 500 ms: ~20 ticks each.
    CHECK(w.stats().timers_fired >= node_count * 19);
    CHECK(w.stats().delivered > node_count * 40);
    // The queue holds only what is in flight plus one timer per node.
    CHECK(w.queued_events() < node_count * 4);
}
