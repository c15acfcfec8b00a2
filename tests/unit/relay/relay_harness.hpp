#pragma once
// A relay_core with peers that can run the handshake against it, for tests, fuzzing and
// benchmarks: no sockets, no clock, everything in memory.

#include <ainet/relay/relay_core.hpp>
#include <ainet/wire/handshake.hpp>
#include <ainet/wire/header.hpp>
#include <ainet/wire/ping.hpp>
#include <ainet/wire/relay_data.hpp>

#include <array>
#include <memory>
#include <vector>

namespace ainet::test {

// Records what a core sends. Buffers are 1472 bytes, like a shard's send slots.
struct recording_sink final : datagram_sink {
    struct sent {
        endpoint to;
        std::vector<uint8_t> bytes;
    };
    std::vector<sent> datagrams;
    std::array<uint8_t, 1472> buffer{};
    endpoint pending_to;
    size_t capacity = SIZE_MAX; // datagrams accepted before prepare() says "full"
    // Preallocated storage for the zero-allocation test: commit() copies into it instead of
    // datagrams when set.
    bool count_only = false;
    size_t committed = 0;

    mutable_bytes prepare(const endpoint& to) noexcept override {
        if (committed >= capacity)
            return {};
        pending_to = to;
        return buffer;
    }
    void commit(size_t size) noexcept override {
        ++committed;
        if (!count_only)
            datagrams.push_back({pending_to, std::vector<uint8_t>(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(size))});
    }
    void abandon() noexcept override {}
};

struct relay_fixture {
    crypto::key_pair relay_keys = crypto::key_pair::from_seed(crypto::seed{1});
    crypto::mac_key cookie_key = crypto::mac_key{2};
    relay::relay_counters counters;
    relay::relay_config config;
    std::unique_ptr<relay::relay_core> core;
    instant now{1'000'000'000};
    unix_ms wall{1'700'000'000'000};

    explicit relay_fixture(relay::relay_config c = {}) : config(c) {
        core = std::make_unique<relay::relay_core>(config, relay_keys, cookie_key, counters);
    }

    std::vector<recording_sink::sent> feed(const endpoint& from, bytes_view bytes) {
        recording_sink sink;
        const datagram_ref d{bytes, from};
        core->on_datagrams(now, wall, std::span<const datagram_ref>(&d, 1), sink);
        return std::move(sink.datagrams);
    }

    // Applies the route outbox to the core itself, as a one-shard node does.
    void apply_routes() {
        for (const auto& r : core->route_outbox())
            core->apply_route(r);
        core->clear_route_outbox();
    }

    template <class Message>
    static std::vector<uint8_t> encode(const Message& m) {
        std::vector<uint8_t> out(2048);
        auto size = wire::encode(m, out);
        REQUIRE(size);
        out.resize(*size);
        return out;
    }

    // Builds a signed hello for peer at `from`, answering `challenge`.
    static wire::hello sign_hello(const crypto::key_pair& peer, const wire::hello_challenge& challenge) {
        return relay::sign_hello(peer, challenge);
    }

    // Runs the whole handshake for peer at from; returns true when hello_ack came back.
    bool authenticate(const crypto::key_pair& peer, const endpoint& from) {
        wire::hello_request request;
        request.sender = peer.id();
        auto replies = feed(from, encode(request));
        if (replies.size() != 1)
            return false;
        auto view = wire::decode_datagram(replies[0].bytes);
        REQUIRE(view);
        REQUIRE(view->head.type == wire::message_type::hello_challenge);
        auto challenge = wire::decode_hello_challenge(view->payload);
        REQUIRE(challenge);
        auto acks = feed(from, encode(sign_hello(peer, *challenge)));
        apply_routes();
        if (acks.size() != 1)
            return false;
        auto ack_view = wire::decode_datagram(acks[0].bytes);
        return ack_view && ack_view->head.type == wire::message_type::hello_ack;
    }

    static std::vector<uint8_t> data(const crypto::key_pair& from, const crypto::key_pair& to,
                                     uint8_t hop, size_t payload_size) {
        std::vector<uint8_t> payload(payload_size, 0x5a);
        wire::relay_data m;
        m.destination = to.id();
        m.source = from.id();
        m.hop_limit = hop;
        m.payload = payload;
        return encode(m);
    }
};

inline crypto::key_pair peer_keys(uint8_t n) {
    crypto::seed s{};
    s[0] = 100;
    s[1] = n;
    return crypto::key_pair::from_seed(s);
}

} // namespace ainet::test
