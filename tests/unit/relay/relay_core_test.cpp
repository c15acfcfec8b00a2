// Goal: the relay authenticates peers statelessly, forwards only for authenticated peers with
// the hop limit decremented, drops and counts every other datagram by reason, never answers
// an unauthenticated datagram with a larger one, and forwards without allocating.
#define AINET_COUNT_ALLOCATIONS_DEFINE
#include "../support/allocation_counter.hpp"

#include "../support/rng.hpp"
#include "relay_harness.hpp"

#include <ainet/wire/ping.hpp>

#include <catch2/catch.hpp>

using namespace ainet;
using namespace ainet::test;

namespace {
const endpoint alice_at = make_ipv4(127, 0, 0, 2, 5001);
const endpoint bob_at = make_ipv4(127, 0, 0, 3, 5002);
const endpoint mallory_at = make_ipv4(127, 0, 0, 4, 5003);
} // namespace

TEST_CASE("handshake opens a session and a route", "[relay]") {
    relay_fixture f;
    const auto alice = peer_keys(1);
    REQUIRE(f.authenticate(alice, alice_at));
    CHECK(f.core->session_count() == 1);
    CHECK(f.core->route_count() == 1);
    CHECK(f.counters.challenges_sent.load() == 1);
    CHECK(f.counters.sessions_opened.load() == 1);
}

TEST_CASE("relay_data between authenticated peers is forwarded with hop limit - 1", "[relay]") {
    relay_fixture f;
    const auto alice = peer_keys(1), bob = peer_keys(2);
    REQUIRE(f.authenticate(alice, alice_at));
    REQUIRE(f.authenticate(bob, bob_at));
    const auto datagram = relay_fixture::data(alice, bob, 8, 300);
    auto out = f.feed(alice_at, datagram);
    REQUIRE(out.size() == 1);
    CHECK(out[0].to == bob_at);
    REQUIRE(out[0].bytes.size() == datagram.size());
    CHECK(out[0].bytes[wire::relay_data_hop_limit_offset] == 7);
    auto expected = datagram;
    expected[wire::relay_data_hop_limit_offset] = 7;
    CHECK(out[0].bytes == expected);
    CHECK(f.counters.forwarded.load() == 1);
}

TEST_CASE("every refusal is silent and counted by reason", "[relay]") {
    relay_fixture f;
    const auto alice = peer_keys(1), bob = peer_keys(2), carol = peer_keys(3);
    REQUIRE(f.authenticate(alice, alice_at));
    REQUIRE(f.authenticate(bob, bob_at));

    SECTION("unauthenticated source") {
        CHECK(f.feed(mallory_at, relay_fixture::data(alice, bob, 8, 10)).empty());
        CHECK(f.counters.drop_unauthenticated.load() == 1);
    }
    SECTION("source id that is not the session's node") {
        CHECK(f.feed(alice_at, relay_fixture::data(carol, bob, 8, 10)).empty());
        CHECK(f.counters.drop_spoofed_source.load() == 1);
    }
    SECTION("hop limit exhausted") {
        CHECK(f.feed(alice_at, relay_fixture::data(alice, bob, 1, 10)).empty());
        CHECK(f.counters.drop_hop_limit.load() == 1);
    }
    SECTION("unknown destination") {
        CHECK(f.feed(alice_at, relay_fixture::data(alice, carol, 8, 10)).empty());
        CHECK(f.counters.drop_unknown_destination.load() == 1);
    }
    SECTION("route back to the sender") {
        CHECK(f.feed(alice_at, relay_fixture::data(alice, alice, 8, 10)).empty());
        CHECK(f.counters.drop_loop.load() == 1);
    }
    SECTION("malformed and truncated datagrams") {
        auto good = relay_fixture::data(alice, bob, 8, 10);
        for (size_t cut = 0; cut < good.size(); ++cut)
            CHECK(f.feed(alice_at, bytes_view(good.data(), cut)).empty());
        CHECK(f.counters.drop_malformed.load() == good.size());
        CHECK(f.counters.forwarded.load() == 0);
    }
    SECTION("message types a relay does not take") {
        wire::pong p;
        CHECK(f.feed(alice_at, relay_fixture::encode(p)).empty());
        CHECK(f.counters.drop_unknown_type.load() == 1);
    }
    SECTION("send queue full") {
        recording_sink sink;
        sink.capacity = 0;
        auto datagram = relay_fixture::data(alice, bob, 8, 10);
        const datagram_ref d{datagram, alice_at};
        f.core->on_datagrams(f.now, f.wall, std::span<const datagram_ref>(&d, 1), sink);
        CHECK(f.counters.drop_tx_full.load() == 1);
    }
}

TEST_CASE("forged hellos are refused: signature, cookie, address, expiry", "[relay]") {
    relay_fixture f;
    const auto alice = peer_keys(1), mallory = peer_keys(9);
    wire::hello_request request;
    request.sender = alice.id();
    auto replies = f.feed(alice_at, relay_fixture::encode(request));
    REQUIRE(replies.size() == 1);
    auto challenge = wire::decode_hello_challenge(wire::decode_datagram(replies[0].bytes)->payload).value();

    SECTION("signed by another key") {
        auto h = relay_fixture::sign_hello(mallory, challenge);
        h.sender = alice.id();
        CHECK(f.feed(alice_at, relay_fixture::encode(h)).empty());
        CHECK(f.counters.drop_bad_signature.load() == 1);
    }
    SECTION("cookie made for another address") {
        auto h = relay_fixture::sign_hello(alice, challenge);
        h.observed = mallory_at;
        CHECK(f.feed(mallory_at, relay_fixture::encode(relay_fixture::sign_hello(alice, [&] {
                  auto c = challenge;
                  c.observed = mallory_at;
                  return c;
              }()))).empty());
        CHECK(f.counters.drop_bad_cookie.load() == 1);
    }
    SECTION("replayed from another address") {
        CHECK(f.feed(mallory_at, relay_fixture::encode(relay_fixture::sign_hello(alice, challenge))).empty());
        CHECK(f.counters.drop_address_mismatch.load() == 1);
    }
    SECTION("expired challenge") {
        f.wall = unix_ms{static_cast<int64_t>(challenge.expiry) + 1};
        CHECK(f.feed(alice_at, relay_fixture::encode(relay_fixture::sign_hello(alice, challenge))).empty());
        CHECK(f.counters.drop_expired_cookie.load() == 1);
    }
    SECTION("a genuine hello still works") {
        CHECK(f.feed(alice_at, relay_fixture::encode(relay_fixture::sign_hello(alice, challenge))).size() == 1);
    }
    CHECK(f.core->session_count() <= 1);
}

TEST_CASE("no unauthenticated datagram gets a larger reply", "[relay][property]") {
    relay_fixture f;
    const auto alice = peer_keys(1);
    auto rng = seeded_rng();
    wire::hello_request request;
    request.sender = alice.id();
    const auto valid_request = relay_fixture::encode(request);
    for (int i = 0; i < 20000; ++i) {
        std::vector<uint8_t> input;
        switch (rng() % 3) {
        case 0: input = random_bytes(rng, rng() % 200); break;
        case 1:
            input = valid_request;
            input[8 + rng() % (input.size() - 8)] ^= static_cast<uint8_t>(1u << (rng() % 8));
            break;
        default: input = valid_request; break;
        }
        endpoint from = make_ipv4(10, 0, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()), 9);
        for (const auto& reply : f.feed(from, input)) {
            REQUIRE(reply.to == from);
            REQUIRE(reply.bytes.size() <= input.size());
        }
    }
    CHECK(f.core->session_count() == 0);
    CHECK(f.counters.forwarded.load() == 0);
}

TEST_CASE("challenges are budgeted so the relay cannot reflect a flood", "[relay]") {
    relay::relay_config config;
    config.challenges_per_second = 100;
    relay_fixture f(config);
    wire::hello_request request;
    request.sender = peer_keys(1).id();
    const auto bytes = relay_fixture::encode(request);
    size_t replies = 0;
    for (int i = 0; i < 1000; ++i)
        replies += f.feed(mallory_at, bytes).size();
    CHECK(replies == 100);
    CHECK(f.counters.drop_challenge_budget.load() == 900);
}

TEST_CASE("sessions are rate limited", "[relay]") {
    relay::relay_config config;
    config.session_rate_per_second = 10;
    config.session_burst = 10;
    relay_fixture f(config);
    const auto alice = peer_keys(1), bob = peer_keys(2);
    REQUIRE(f.authenticate(alice, alice_at));
    REQUIRE(f.authenticate(bob, bob_at));
    const auto datagram = relay_fixture::data(alice, bob, 8, 10);
    size_t forwarded = 0;
    for (int i = 0; i < 50; ++i)
        forwarded += f.feed(alice_at, datagram).size();
    CHECK(forwarded == 10);
    CHECK(f.counters.drop_rate_limited.load() == 40);
    f.now = f.now + std::chrono::seconds(1);
    CHECK(f.feed(alice_at, datagram).size() == 1);
}

TEST_CASE("expired sessions are collected and their routes withdrawn", "[relay]") {
    relay_fixture f;
    const auto alice = peer_keys(1);
    REQUIRE(f.authenticate(alice, alice_at));
    f.now = f.now + f.config.session_lease + std::chrono::seconds(1);
    for (int i = 0; i < 1000 && f.core->session_count() > 0; ++i)
        f.core->on_tick(f.now);
    CHECK(f.core->session_count() == 0);
    f.apply_routes();
    CHECK(f.core->route_count() == 0);
    CHECK(f.counters.sessions_expired.load() == 1);
}

TEST_CASE("forwarding allocates nothing in steady state", "[relay][alloc]") {
    relay_fixture f;
    const auto alice = peer_keys(1), bob = peer_keys(2);
    REQUIRE(f.authenticate(alice, alice_at));
    REQUIRE(f.authenticate(bob, bob_at));
    std::vector<datagram_ref> batch;
    const auto a_to_b = relay_fixture::data(alice, bob, 8, 1000);
    const auto b_to_a = relay_fixture::data(bob, alice, 8, 64);
    for (int i = 0; i < 64; ++i)
        batch.push_back(i % 2 ? datagram_ref{a_to_b, alice_at} : datagram_ref{b_to_a, bob_at});
    recording_sink sink;
    sink.count_only = true;
    f.core->on_datagrams(f.now, f.wall, batch, sink); // warm-up
    const uint64_t before = allocation_count();
    for (int round = 0; round < 200; ++round)
        f.core->on_datagrams(f.now, f.wall, batch, sink);
    const uint64_t allocations = allocation_count() - before;
    CHECK(allocations == 0);
    CHECK(f.counters.forwarded.load() == 64 * 201);
}

TEST_CASE("session expiry with a small table visits each bucket once", "[relay]") {
    // Regression: with fewer buckets than the per-tick scan, a key used to be collected twice
    // and erased through an end() iterator.
    relay::relay_config config;
    config.session_count_max = 8;
    relay_fixture f(config);
    for (uint8_t i = 0; i < 5; ++i)
        REQUIRE(f.authenticate(peer_keys(i), make_ipv4(127, 0, 1, i, 4000)));
    f.now = f.now + f.config.session_lease + std::chrono::seconds(1);
    for (int i = 0; i < 100 && f.core->session_count() > 0; ++i)
        f.core->on_tick(f.now);
    CHECK(f.core->session_count() == 0);
    CHECK(f.counters.sessions_expired.load() == 5);
}

TEST_CASE("an address that changes keys withdraws the old key's route", "[relay]") {
    relay_fixture f;
    // One address cycling through many keys must leave one route, not one per key.
    for (uint8_t i = 0; i < 50; ++i)
        REQUIRE(f.authenticate(peer_keys(i), mallory_at));
    CHECK(f.core->session_count() == 1);
    CHECK(f.core->route_count() == 1);
}

TEST_CASE("a node that moves back to an older address is routed there", "[relay]") {
    relay_fixture f;
    const auto alice = peer_keys(1), bob = peer_keys(2);
    const endpoint a1 = make_ipv4(127, 0, 0, 2, 6001), a2 = make_ipv4(127, 0, 0, 2, 6002);
    REQUIRE(f.authenticate(bob, bob_at));
    REQUIRE(f.authenticate(alice, a1));
    REQUIRE(f.authenticate(alice, a2));
    REQUIRE(f.authenticate(alice, a1)); // back to a1 while a1's session still lives
    auto out = f.feed(bob_at, relay_fixture::data(bob, alice, 8, 10));
    REQUIRE(out.size() == 1);
    CHECK(out[0].to == a1);
}

TEST_CASE("replaying one's own hello does not refill the rate limit", "[relay]") {
    relay::relay_config config;
    config.session_rate_per_second = 1;
    config.session_burst = 5;
    relay_fixture f(config);
    const auto alice = peer_keys(1), bob = peer_keys(2);
    REQUIRE(f.authenticate(bob, bob_at));
    REQUIRE(f.authenticate(alice, alice_at));
    const auto datagram = relay_fixture::data(alice, bob, 8, 10);
    size_t forwarded = 0;
    for (int i = 0; i < 5; ++i)
        forwarded += f.feed(alice_at, datagram).size();
    REQUIRE(f.authenticate(alice, alice_at));
    for (int i = 0; i < 5; ++i)
        forwarded += f.feed(alice_at, datagram).size();
    CHECK(forwarded == 5);
}

namespace {

// A sink that forwards "zero copy" as the runtime's tx_queue does when its backend lends the
// receive buffer: it records (destination, where the bytes are) and patches them in place.
struct in_place_sink final : datagram_sink {
    struct forwarded {
        endpoint to;
        const uint8_t* data;
        size_t size;
    };
    std::vector<forwarded> sent;
    uint8_t* buffer_begin = nullptr;
    uint8_t* buffer_end = nullptr;
    mutable_bytes prepare(const endpoint&) noexcept override { return {}; }
    void commit(size_t) noexcept override {}
    void abandon() noexcept override {}
    bool forward(const endpoint& to, const datagram_ref& received, size_t patch_offset,
                 uint8_t patch_value) noexcept override {
        auto* bytes = const_cast<uint8_t*>(received.payload.data());
        if (bytes < buffer_begin || bytes + received.payload.size() > buffer_end)
            return false;
        bytes[patch_offset] = patch_value;
        sent.push_back({to, bytes, received.payload.size()});
        return true;
    }
};

} // namespace

TEST_CASE("a received train is forwarded in place: split across destinations, hop drops inside", "[relay]") {
    // Goal: relay_core forwards through datagram_sink::forward, so a lending sink sends each
    // datagram of a GRO train from the receive buffer with only its own hop limit rewritten;
    // a datagram dropped inside the train (hop limit) is left untouched and so are its
    // neighbours' other bytes.
    relay_fixture f;
    const auto alice = peer_keys(1), bob = peer_keys(2), carol = peer_keys(3);
    const endpoint carol_at = make_ipv4(127, 0, 0, 5, 5004);
    REQUIRE(f.authenticate(alice, alice_at));
    REQUIRE(f.authenticate(bob, bob_at));
    REQUIRE(f.authenticate(carol, carol_at));
    // One contiguous buffer holding 12 datagrams, as a GRO receive lays them out: to bob and
    // carol in turn, every fourth with hop limit 1 (dropped), the last one shorter.
    std::vector<std::vector<uint8_t>> datagrams;
    std::vector<uint8_t> buffer;
    for (size_t i = 0; i < 12; ++i) {
        datagrams.push_back(relay_fixture::data(alice, i % 2 ? carol : bob, i % 4 == 3 ? 1 : 6,
                                                i == 11 ? 50 : 200));
        buffer.insert(buffer.end(), datagrams.back().begin(), datagrams.back().end());
    }
    std::vector<datagram_ref> batch;
    size_t offset = 0;
    for (const auto& d : datagrams) {
        batch.push_back({bytes_view(buffer.data() + offset, d.size()), alice_at});
        offset += d.size();
    }
    in_place_sink sink;
    sink.buffer_begin = buffer.data();
    sink.buffer_end = buffer.data() + buffer.size();
    f.core->on_datagrams(f.now, f.wall, batch, sink);
    REQUIRE(sink.sent.size() == 9);
    CHECK(f.counters.forwarded.load() == 9);
    CHECK(f.counters.drop_hop_limit.load() == 3);
    size_t k = 0;
    offset = 0;
    for (size_t i = 0; i < 12; ++i) {
        auto expected = datagrams[i];
        if (i % 4 != 3) {
            expected[wire::relay_data_hop_limit_offset] = 5;
            REQUIRE(k < sink.sent.size());
            CHECK(sink.sent[k].to == (i % 2 ? carol_at : bob_at));
            CHECK(sink.sent[k].data == buffer.data() + offset);
            CHECK(sink.sent[k].size == expected.size());
            ++k;
        }
        CHECK(std::vector<uint8_t>(buffer.begin() + static_cast<std::ptrdiff_t>(offset),
                                   buffer.begin() + static_cast<std::ptrdiff_t>(offset + expected.size())) == expected);
        offset += expected.size();
    }
}
