// Goal: a real protocol core runs in the simulator unchanged. relay::relay_core (the production
// relay, as each runtime shard runs it) is fed (now, wall, datagrams) by a thin sim::node
// adapter; simulated clients run the stateless-cookie handshake against it over a lossy network
// and then exchange relay_data through it. The run replays exactly from its seed.

#include "sim_support.hpp"

#include <ainet/crypto/ed25519.hpp>
#include <ainet/relay/relay_core.hpp>
#include <ainet/sim/world.hpp>
#include <ainet/wire/handshake.hpp>
#include <ainet/wire/header.hpp>
#include <ainet/wire/relay_data.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace ainet;
using namespace ainet::sim;
using namespace std::chrono_literals;

namespace {

crypto::key_pair keys_of(uint32_t index) {
    crypto::seed s{};
    s[0] = 0x51;
    for (size_t b = 0; b < 4; ++b)
        s[1 + b] = static_cast<uint8_t>(index >> (8 * b));
    return crypto::key_pair::from_seed(s);
}

// The adapter: everything relay_core needs comes from the context.
struct relay_sim_node final : node {
    crypto::key_pair identity = keys_of(0);
    crypto::mac_key cookie_key{7};
    relay::relay_counters counters;
    relay::relay_core core{relay::relay_config{}, identity, cookie_key, counters};

    void on_start(context& ctx) override { (void)ctx.arm_after(1s, 0); }
    void on_datagram(context& ctx, const datagram_ref& d) override {
        core.on_datagrams(ctx.now(), ctx.wall(), std::span<const datagram_ref>(&d, 1), ctx.out());
        for (const auto& r : core.route_outbox()) // a one-shard relay applies its own routes
            core.apply_route(r);
        core.clear_route_outbox();
    }
    void on_timer(context& ctx, uint64_t) override {
        core.on_tick(ctx.now());
        (void)ctx.arm_after(1s, 0);
    }
};

// A client: handshake (retried until acknowledged), then a relay_data to a random other client
// every 100 ms.
struct relay_client_node final : node {
    static constexpr uint64_t timer_retry = 1;
    static constexpr uint64_t timer_send = 2;

    crypto::key_pair keys;
    endpoint relay_at;
    std::shared_ptr<const std::vector<node_id>> peers; // ids of clients 1..N (index - 1)
    bool authenticated = false;
    uint64_t received = 0;
    uint64_t sent = 0;
    std::array<uint8_t, 512> buffer{};

    relay_client_node(uint32_t index, endpoint relay,
                      std::shared_ptr<const std::vector<node_id>> ids)
        : keys(keys_of(index)), relay_at(relay), peers(std::move(ids)) {}

    template <class Message>
    void send(context& ctx, const Message& m) {
        auto size = wire::encode(m, buffer);
        REQUIRE(size);
        ctx.out().send(relay_at, bytes_view(buffer.data(), *size));
    }

    void on_start(context& ctx) override {
        send(ctx, wire::hello_request{keys.id()});
        (void)ctx.arm_after(300ms, timer_retry);
    }

    void on_datagram(context& ctx, const datagram_ref& d) override {
        auto view = wire::decode_datagram(d.payload);
        if (!view)
            return;
        if (view->head.type == wire::message_type::hello_challenge && !authenticated) {
            auto challenge = wire::decode_hello_challenge(view->payload);
            if (!challenge)
                return;
            const wire::hello h = relay::sign_hello(keys, *challenge);
            send(ctx, h);
        } else if (view->head.type == wire::message_type::hello_ack && !authenticated) {
            authenticated = true;
            (void)ctx.arm_after(100ms, timer_send);
        } else if (view->head.type == wire::message_type::relay_data) {
            auto data = wire::decode_relay_data(view->payload);
            if (data && data->destination == keys.id())
                ++received;
        }
    }

    void on_timer(context& ctx, uint64_t cookie) override {
        if (cookie == timer_retry) {
            if (!authenticated) {
                send(ctx, wire::hello_request{keys.id()});
                (void)ctx.arm_after(300ms, timer_retry);
            }
            return;
        }
        const std::array<uint8_t, 24> payload{1, 2, 3};
        wire::relay_data m;
        m.source = keys.id();
        m.destination = (*peers)[ctx.random().below(peers->size())];
        m.hop_limit = 4;
        m.payload = payload;
        if (m.destination != m.source) {
            send(ctx, m);
            ++sent;
        }
        (void)ctx.arm_after(100ms, timer_send);
    }
};

struct relay_run {
    uint64_t hash;
    uint32_t authenticated;
    uint64_t sent;
    uint64_t received;
    uint64_t forwarded;
    uint64_t sessions;
};

relay_run run_relay(uint64_t seed, uint32_t client_count) {
    auto ids = std::make_shared<std::vector<node_id>>();
    for (uint32_t i = 1; i <= client_count; ++i)
        ids->push_back(keys_of(i).id());
    world_config config;
    config.seed = seed;
    config.default_link.latency_base = 15ms;
    config.default_link.jitter = 10ms;
    config.default_link.loss = 0.05;
    config.default_link.duplicate = 0.01;
    const endpoint relay_at = config.addresses.endpoint_of(node_index{0});
    world w(config, [&](const node_spec& spec) -> std::unique_ptr<node> {
        if (to_index(spec.index) == 0)
            return std::make_unique<relay_sim_node>();
        return std::make_unique<relay_client_node>(to_index(spec.index), relay_at, ids);
    });
    w.add_nodes(client_count + 1);
    w.set_clock(node_index{0}, clock_skew{-2s, -20'000}); // the relay's clock is off
    w.run_for(10s);
    relay_run r{w.trace_hash(), 0, 0, 0, 0, 0};
    for (uint32_t i = 1; i <= client_count; ++i) {
        auto* c = w.process_as<relay_client_node>(node_index{i});
        r.authenticated += c->authenticated ? 1 : 0;
        r.sent += c->sent;
        r.received += c->received;
    }
    auto* relay = w.process_as<relay_sim_node>(node_index{0});
    AINET_ASSERT(relay != nullptr); // (a null check also quiets gcc 12's -Wstringop-overflow)
    r.forwarded = relay->counters.forwarded.load();
    r.sessions = relay->core.session_count();
    return r;
}

} // namespace

TEST_CASE("relay_core runs unchanged in the simulator and replays from its seed", "[sim][relay]") {
    REQUIRE(crypto::init());
    const uint64_t seed = test::run_seed();
    CAPTURE(seed);
    constexpr uint32_t clients = 30;
    const relay_run a = run_relay(seed, clients);
    CHECK(a.authenticated == clients);
    CHECK(a.sessions == clients);
    CHECK(a.sent > clients * 80);
    // Each relay_data crosses two lossy hops (5% each), and some are duplicated.
    CHECK(a.forwarded > a.sent * 85 / 100);
    CHECK(a.received > a.sent * 80 / 100);
    CHECK(a.received <= a.forwarded * 105 / 100);

    const relay_run b = run_relay(seed, clients);
    CHECK(a.hash == b.hash);
    CHECK(a.received == b.received);
    CHECK(run_relay(seed + 1, clients).hash != a.hash);
}
