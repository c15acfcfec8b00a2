// Goal: the simulator's request/response messages (the HTTP model bootstrap discovery uses:
// context::send_message, node::on_message) are reliable and ordered per pair even on jittery
// links, take the link's latency, ignore the destination port, and are dropped (and traced)
// when a partition separates the pair, the receiver is down, the address is no node, or the
// message is oversize; runs with messages replay to the same trace hash.
#include "sim_support.hpp"

namespace ainet::sim::test {

namespace {

struct message_node final : node {
    struct received {
        std::vector<uint8_t> bytes;
        endpoint from;
        instant at;
    };
    std::vector<received> inbox;
    bool echo = false;

    void on_start(context&) override {}
    void on_datagram(context&, const datagram_ref&) override {}
    void on_timer(context&, uint64_t) override {}
    void on_message(context& ctx, const endpoint& from, bytes_view message) override {
        inbox.push_back({std::vector<uint8_t>(message.begin(), message.end()), from, ctx.now()});
        if (echo)
            ctx.send_message(from, message);
    }
};

std::unique_ptr<world> make(uint64_t seed, duration jitter) {
    world_config config;
    config.seed = seed;
    config.default_link.latency_base = std::chrono::milliseconds(10);
    config.default_link.jitter = jitter;
    config.default_link.loss = 0.5; // datagrams only: messages are reliable
    auto w = std::make_unique<world>(
        config, [](const node_spec&) { return std::make_unique<message_node>(); });
    w->add_nodes(3);
    w->run_for(std::chrono::milliseconds(1));
    return w;
}

std::vector<uint8_t> numbered(uint32_t n) {
    return {static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8), 0xab};
}

} // namespace

TEST_CASE("messages: reliable and in order per pair on a lossy, jittery link",
          "[sim][discovery][messages]") {
    const uint64_t seed = run_seed(11);
    CAPTURE(seed);
    auto w = make(seed, std::chrono::milliseconds(30));
    const instant sent_at = w->now();
    for (uint32_t n = 0; n < 200; ++n)
        w->send_message_from(node_index{0}, w->endpoint_of(node_index{1}), numbered(n));
    w->run_for(std::chrono::seconds(1));
    auto* b = w->process_as<message_node>(node_index{1});
    REQUIRE(b->inbox.size() == 200);
    for (uint32_t n = 0; n < 200; ++n) {
        CHECK(b->inbox[n].bytes == numbered(n));
        CHECK(b->inbox[n].from == w->endpoint_of(node_index{0}));
        CHECK(b->inbox[n].at - sent_at >= std::chrono::milliseconds(10));
    }
    CHECK(w->messages_sent() == 200);
}

TEST_CASE("messages: the destination port is ignored, replies reach the sender",
          "[sim][discovery][messages]") {
    auto w = make(1, duration{0});
    w->process_as<message_node>(node_index{1})->echo = true;
    endpoint other_port = w->endpoint_of(node_index{1});
    other_port.port = 8000;
    w->send_message_from(node_index{0}, other_port, numbered(7));
    w->run_for(std::chrono::milliseconds(25));
    auto* a = w->process_as<message_node>(node_index{0});
    REQUIRE(a->inbox.size() == 1);
    CHECK(a->inbox[0].bytes == numbered(7));
}

TEST_CASE("messages: partitions, down nodes, unknown addresses and oversize drop them",
          "[sim][discovery][messages]") {
    auto w = make(2, duration{0});
    auto* b = w->process_as<message_node>(node_index{1});
    const std::array<node_index, 1> side_a{node_index{0}};
    const std::array<node_index, 1> side_b{node_index{1}};
    const auto p = w->partition(side_a, side_b);
    w->send_message_from(node_index{0}, w->endpoint_of(node_index{1}), numbered(1));
    w->run_for(std::chrono::milliseconds(20));
    CHECK(b->inbox.empty());
    CHECK(w->stats().dropped_by(drop_reason::partition) == 1);
    w->heal(p);

    w->send_message_from(node_index{0}, make_ipv4(192, 0, 2, 1, 7000), numbered(2));
    CHECK(w->stats().dropped_by(drop_reason::no_route) == 1);
    std::vector<uint8_t> huge(world::message_size_max + 1, 0);
    w->send_message_from(node_index{0}, w->endpoint_of(node_index{1}), huge);
    CHECK(w->stats().dropped_by(drop_reason::oversize) == 1);

    // Sent, then the receiver crashes before delivery.
    w->send_message_from(node_index{0}, w->endpoint_of(node_index{2}), numbered(3));
    w->crash(node_index{2});
    w->run_for(std::chrono::milliseconds(20));
    CHECK(w->stats().dropped_by(drop_reason::node_down) == 1);

    w->send_message_from(node_index{0}, w->endpoint_of(node_index{1}), numbered(4));
    w->run_for(std::chrono::milliseconds(20));
    REQUIRE(b->inbox.size() == 1);
    CHECK(b->inbox[0].bytes == numbered(4));
}

TEST_CASE("messages: the same seed gives the same trace", "[sim][discovery][messages]") {
    auto run = [](uint64_t seed) {
        auto w = make(seed, std::chrono::milliseconds(20));
        w->process_as<message_node>(node_index{1})->echo = true;
        for (uint32_t n = 0; n < 50; ++n)
            w->send_message_from(node_index{n % 2 == 0 ? 0u : 2u}, w->endpoint_of(node_index{1}),
                                 numbered(n));
        w->run_for(std::chrono::seconds(1));
        return w->trace_hash();
    };
    CHECK(run(5) == run(5));
    CHECK(run(5) != run(6));
}

} // namespace ainet::sim::test
