#pragma once
// Test nodes and helpers for the simulator's scenarios.
//
// Seeds: statistical tests draw their world seed from Catch2's run seed (printed at the top of
// every run; rerun with --rng-seed N) and CAPTURE it, so a failure prints the seed that replays
// it. Determinism tests use fixed seeds.

#include <ainet/sim/world.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace ainet::sim::test {

inline uint64_t run_seed(uint64_t stream = 0) {
    return derive_seed(uint64_t{Catch::rngSeed()}, 0x7465737473ull, stream);
}

// Records every datagram it receives; sends only what tests inject with world::send_from or
// queue in `script` (sent at on_start). Optionally arms one timer at start.
struct recorder_node final : node {
    struct received {
        std::vector<uint8_t> bytes;
        endpoint from;
        instant local_now;
        unix_ms wall;
    };
    std::vector<received> inbox;
    std::vector<uint64_t> fired_cookies;
    std::vector<instant> fired_at;
    instant started_at{};
    unix_ms started_wall{};
    std::optional<duration> timer_after;
    std::optional<timer_id> armed;

    void on_start(context& ctx) override {
        started_at = ctx.now();
        started_wall = ctx.wall();
        if (timer_after) {
            auto id = ctx.arm_after(*timer_after, 42);
            REQUIRE(id);
            armed = *id;
        }
    }
    void on_datagram(context& ctx, const datagram_ref& d) override {
        inbox.push_back({std::vector<uint8_t>(d.payload.begin(), d.payload.end()), d.source,
                         ctx.now(), ctx.wall()});
    }
    void on_timer(context& ctx, uint64_t cookie) override {
        fired_cookies.push_back(cookie);
        fired_at.push_back(ctx.now());
    }
};

// Sends `count` datagrams (a u32 sequence number, padded to `size` bytes) to `target`, one per
// `interval`, from a timer.
struct sender_node final : node {
    endpoint target;
    uint32_t count = 0;
    uint32_t size = 4;
    duration interval = std::chrono::milliseconds(1);
    uint32_t sent = 0;

    void on_start(context& ctx) override {
        if (count > 0)
            (void)ctx.arm_after(interval, 1);
    }
    void on_datagram(context&, const datagram_ref&) override {}
    void on_timer(context& ctx, uint64_t) override {
        std::vector<uint8_t> message(size, 0xa5);
        for (size_t b = 0; b < 4 && b < message.size(); ++b)
            message[b] = static_cast<uint8_t>(sent >> (8 * b));
        ctx.out().send(target, message);
        if (++sent < count)
            (void)ctx.arm_after(interval, 1);
    }
};

inline uint32_t sequence_of(const std::vector<uint8_t>& bytes) {
    uint32_t v = 0;
    for (size_t b = 0; b < 4 && b < bytes.size(); ++b)
        v |= uint32_t{bytes[b]} << (8 * b);
    return v;
}

// Counts trace events by kind and drop reason.
struct counting_observer final : trace_observer {
    std::array<uint64_t, 8> kinds{};
    std::array<uint64_t, drop_reason_count> drops{};
    void on_event(const trace_event& e) noexcept override {
        ++kinds[static_cast<size_t>(e.kind)];
        if (e.kind == event_kind::dropped)
            ++drops[static_cast<size_t>(e.reason)];
    }
};

// A factory that makes node 0 a sender_node and every other node a recorder_node.
inline node_factory sender_and_recorders(uint32_t count, uint32_t size, duration interval,
                                         node_index target, const address_plan& plan) {
    return [=](const node_spec& spec) -> std::unique_ptr<node> {
        if (to_index(spec.index) == 0) {
            auto s = std::make_unique<sender_node>();
            s->target = plan.endpoint_of(target);
            s->count = count;
            s->size = size;
            s->interval = interval;
            return s;
        }
        return std::make_unique<recorder_node>();
    };
}

} // namespace ainet::sim::test
