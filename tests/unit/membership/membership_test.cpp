// Goal: the membership codecs have one encoding per message and reject malformed input; the
// core probes, acks, suspects, refutes only with valid signatures, applies the Lifeguard
// suspicion formula, never answers larger than it was asked, and holds deaths back during a
// partition. Hand-driven cores with a recording sink; the simulator scenarios
// (tests/sim/membership_*.cpp) cover the protocol at scale.
#include <ainet/membership/membership_core.hpp>
#include <ainet/membership/messages.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace ainet::membership {

namespace {

struct recording_sink final : datagram_sink {
    struct sent {
        endpoint to;
        std::vector<uint8_t> bytes;
    };
    std::vector<sent> datagrams;
    std::array<uint8_t, 1472> buffer{};
    endpoint pending_to;

    mutable_bytes prepare(const endpoint& to) noexcept override {
        pending_to = to;
        return buffer;
    }
    void commit(size_t size) noexcept override {
        datagrams.push_back(
            {pending_to, std::vector<uint8_t>(buffer.begin(),
                                              buffer.begin() + static_cast<std::ptrdiff_t>(size))});
    }
    void abandon() noexcept override {}
};

crypto::key_pair key_of(uint8_t n) {
    crypto::seed s{};
    s.fill(n);
    return crypto::key_pair::from_seed(s);
}

claim alive_of(const crypto::key_pair& keys, const endpoint& at, uint64_t incarnation) {
    claim c;
    c.kind = claim_kind::alive;
    c.subject = keys.id();
    c.incarnation = incarnation;
    c.address = at;
    sign_claim(c, keys);
    return c;
}

std::vector<uint8_t> bytes_of(const message& m) {
    std::vector<uint8_t> out(datagram_size_max);
    auto size = encode(m, out);
    REQUIRE(size);
    out.resize(*size);
    return out;
}

// A small cluster of cores wired by hand: deliver() moves every sent datagram to its endpoint.
struct cluster {
    membership_config config;
    std::vector<crypto::key_pair> keys;
    std::vector<endpoint> addresses;
    std::vector<std::unique_ptr<membership_counters>> counters;
    std::vector<std::unique_ptr<membership_core>> cores;
    std::vector<bool> down;
    instant now{1'000'000'000};

    explicit cluster(size_t count, membership_config c = {}) : config(c) {
        for (size_t i = 0; i < count; ++i) {
            keys.push_back(key_of(static_cast<uint8_t>(i + 1)));
            addresses.push_back(make_ipv4(10, static_cast<uint8_t>(i), 0, 1, 7000));
        }
        for (size_t i = 0; i < count; ++i) {
            counters.push_back(std::make_unique<membership_counters>());
            cores.push_back(std::make_unique<membership_core>(config, keys[i], addresses[i], i + 7,
                                                              *counters[i]));
            cores[i]->start(now);
            down.push_back(false);
        }
        for (size_t i = 0; i < count; ++i) {
            for (size_t j = 0; j < count; ++j) {
                if (i != j)
                    cores[i]->learn(now, alive_of(keys[j], addresses[j], 0), false);
            }
            cores[i]->clear_events();
        }
    }

    size_t index_of(const endpoint& e) const {
        for (size_t i = 0; i < addresses.size(); ++i) {
            if (addresses[i] == e)
                return i;
        }
        return SIZE_MAX;
    }

    // Advances in 10 ms steps, delivering datagrams with no delay (down nodes drop them).
    void run_for(duration d) {
        const instant end = now + d;
        std::vector<std::pair<size_t, recording_sink::sent>> pending;
        while (now < end) {
            now = now + std::chrono::milliseconds(10);
            for (size_t i = 0; i < cores.size(); ++i) {
                if (down[i])
                    continue;
                recording_sink sink;
                if (now >= cores[i]->next_deadline())
                    cores[i]->tick(now, sink);
                for (auto& s : sink.datagrams)
                    pending.push_back({i, std::move(s)});
            }
            while (!pending.empty()) {
                auto batch = std::move(pending);
                pending.clear();
                for (auto& [from, s] : batch) {
                    const size_t to = index_of(s.to);
                    if (to == SIZE_MAX || down[to])
                        continue;
                    recording_sink sink;
                    cores[to]->on_datagram(now, datagram_ref{s.bytes, addresses[from]}, sink);
                    for (auto& r : sink.datagrams)
                        pending.push_back({to, std::move(r)});
                }
            }
        }
    }

    std::optional<member_state> view(size_t observer, size_t subject) const {
        auto m = cores[observer]->find(keys[subject].id());
        if (!m)
            return std::nullopt;
        return m->state;
    }
};

} // namespace

TEST_CASE("membership messages round-trip and have one encoding", "[membership][codec]") {
    const auto a = key_of(1);
    const auto b = key_of(2);
    const endpoint at = make_ipv4(10, 0, 0, 1, 7000);
    claim suspect;
    suspect.kind = claim_kind::suspect;
    suspect.subject = a.id();
    suspect.incarnation = 300;
    suspect.accuser = b.id();
    const std::vector<claim> updates{alive_of(a, at, 5), suspect};
    const std::vector<message> messages{
        ping{0x01020304, a.id(), updates},
        ack{7, updates},
        ping_req{9, b.id(), at, updates},
        nack{11, {}},
        gossip{updates},
        push_pull{push_pull::flag_reply_wanted, 200, updates},
    };
    for (const message& m : messages) {
        const auto bytes = bytes_of(m);
        CHECK(bytes.size() == encoded_size(m));
        auto decoded = decode(bytes);
        REQUIRE(decoded);
        CHECK(*decoded == m);
        // Every strict prefix fails to decode (truncation is always detected).
        for (size_t cut = 0; cut < bytes.size(); ++cut) {
            std::vector<uint8_t> prefix(bytes.begin(),
                                        bytes.begin() + static_cast<std::ptrdiff_t>(cut));
            CHECK_FALSE(decode(prefix));
        }
    }
}

TEST_CASE("the nack example of docs/PROTOCOL.md", "[membership][codec]") {
    const std::vector<uint8_t> expected{0xa1, 0x4e, 0x01, 0x33, 0x00, 0x00, 0x05,
                                        0x00, 0x05, 0x00, 0x00, 0x00, 0x00};
    CHECK(bytes_of(nack{5, {}}) == expected);
}

TEST_CASE("membership decoders reject malformed fields", "[membership][codec]") {
    const auto a = key_of(1);
    const endpoint at = make_ipv4(10, 0, 0, 1, 7000);
    SECTION("claim kind outside 1..4") {
        auto bytes = bytes_of(gossip{{alive_of(a, at, 1)}});
        bytes[wire::header_size + 1] = 9;
        CHECK(decode(bytes).error() == wire::errc::bad_field);
    }
    SECTION("too many claims") {
        gossip g;
        auto bytes = bytes_of(g);
        bytes[wire::header_size] = update_count_max + 1;
        CHECK(decode(bytes).error() == wire::errc::field_too_long);
        g.updates.assign(update_count_max + 1, alive_of(a, at, 1));
        std::vector<uint8_t> out(4096);
        CHECK(encode(g, out).error() == wire::errc::field_too_long);
    }
    SECTION("non-zero padding and unknown push_pull flags") {
        auto bytes = bytes_of(push_pull{0, 4, {}});
        bytes[wire::header_size + 2] = 1;
        CHECK(decode(bytes).error() == wire::errc::bad_padding);
        bytes = bytes_of(push_pull{0, 0, {}});
        bytes[wire::header_size] = 0x80;
        CHECK(decode(bytes).error() == wire::errc::bad_field);
    }
    SECTION("a datagram above 1200 bytes") {
        std::vector<uint8_t> big(datagram_size_max + 1, 0);
        CHECK(decode(big).error() == wire::errc::datagram_too_large);
        gossip g;
        g.updates.assign(update_count_max, alive_of(a, make_ipv4(10, 0, 0, 1, 7000), 1));
        std::vector<uint8_t> out(4096);
        CHECK(encode(g, out).error() == wire::errc::field_too_long);
    }
    SECTION("a non-membership type") {
        auto bytes = bytes_of(nack{1, {}});
        bytes[3] = static_cast<uint8_t>(wire::message_type::ping);
        CHECK(decode(bytes).error() == wire::errc::unknown_type);
    }
}

TEST_CASE("suspicion bounds follow the Lifeguard formula", "[membership]") {
    membership_config c;
    c.suspicion_mult = 4; // memberlist's LAN setting
    auto [min, max] = membership_core::suspicion_bounds(c, 1000);
    CHECK(min == std::chrono::seconds(12)); // 4 * log10(1000) * 1 s
    CHECK(max == std::chrono::seconds(72));
    std::tie(min, max) = membership_core::suspicion_bounds(c, 5);
    CHECK(min == std::chrono::seconds(4));                   // log10 floored at 1
    CHECK(membership_core::retransmit_limit(c, 1000) == 16); // 4 * ceil(log10(1001))
    CHECK(membership_core::retransmit_limit(c, 100) == 12);
}

TEST_CASE("a healthy cluster probes without suspicion", "[membership]") {
    cluster net(5);
    net.run_for(std::chrono::seconds(20));
    for (size_t i = 0; i < 5; ++i) {
        CHECK(net.counters[i]->probes.load() >= 15);
        CHECK(net.counters[i]->probes_failed.load() == 0);
        CHECK(net.counters[i]->suspicions.load() == 0);
        CHECK(net.cores[i]->awareness() == 0);
        for (const auto& row : net.cores[i]->snapshot()) {
            CHECK(row.state == member_state::alive);
            CHECK(row.last_contact.has_value());
        }
    }
}

TEST_CASE("a crashed member is suspected, then declared dead by everyone", "[membership]") {
    cluster net(6);
    net.down[5] = true;
    net.run_for(std::chrono::seconds(3));
    bool suspected = false;
    for (size_t i = 0; i < 5; ++i)
        suspected = suspected || net.view(i, 5) == member_state::suspect;
    CHECK(suspected);
    // N = 6: min = 3 * max(1, log10(6)) = 3 s, max = 18 s; confirmations shrink it toward min.
    net.run_for(std::chrono::seconds(25));
    for (size_t i = 0; i < 5; ++i) {
        CHECK(net.view(i, 5) == member_state::dead);
        for (size_t j = 0; j < 5; ++j) {
            if (i != j)
                CHECK(net.view(i, j) == member_state::alive);
        }
    }
}

TEST_CASE("dead members are reaped after dead_retention and return only above their death",
          "[membership][reap]") {
    // Goal: the table does not keep the dead forever; a stale alive claim of a reaped member is
    // refused and answered with its death (so the subject refutes), a newer one rejoins it.
    membership_config config;
    config.dead_retention = std::chrono::seconds(40);
    cluster net(6, config);
    net.down[5] = true;
    net.run_for(std::chrono::seconds(28));
    for (size_t i = 0; i < 5; ++i)
        REQUIRE(net.view(i, 5) == member_state::dead);
    net.run_for(std::chrono::seconds(45));
    for (size_t i = 0; i < 5; ++i) {
        CHECK_FALSE(net.view(i, 5).has_value());
        CHECK(net.cores[i]->member_count() == 4);
        CHECK(net.cores[i]->tombstone_count() == 1);
        CHECK(net.counters[i]->members_reaped.load() == 1);
    }

    // Its old alive claim (incarnation 0, what it died at) is stale: dropped, answered with the
    // death, which the subject would refute.
    recording_sink sink;
    const claim old = alive_of(net.keys[5], net.addresses[5], 0);
    net.cores[0]->on_datagram(net.now, {bytes_of(gossip{{old}}), net.addresses[5]}, sink);
    CHECK_FALSE(net.view(0, 5).has_value());
    CHECK(net.counters[0]->drop_reaped_alive.load() == 1);
    REQUIRE(sink.datagrams.size() == 1);
    auto answer = decode(sink.datagrams[0].bytes);
    REQUIRE(answer);
    const auto* g = std::get_if<gossip>(&*answer);
    REQUIRE(g != nullptr);
    REQUIRE(g->updates.size() == 1);
    CHECK(g->updates[0].kind == claim_kind::dead);
    CHECK(g->updates[0].subject == net.keys[5].id());

    // A restart one above its death rejoins everyone.
    net.down[5] = false;
    net.cores[5] = std::make_unique<membership_core>(
        [&] {
            membership_config c = config;
            c.initial_incarnation = 1;
            return c;
        }(),
        net.keys[5], net.addresses[5], 99, *net.counters[5]);
    net.cores[5]->start(net.now);
    recording_sink join;
    net.cores[5]->add_seed(net.now, net.addresses[0], join);
    for (auto& d : join.datagrams) {
        recording_sink reply;
        net.cores[0]->on_datagram(net.now, {d.bytes, net.addresses[5]}, reply);
    }
    CHECK(net.view(0, 5) == member_state::alive);
    CHECK(net.cores[0]->tombstone_count() == 0);
    // Gossip (4 transmissions each at N = 6) and then push-pull (every 30 s) carry it on.
    net.run_for(std::chrono::seconds(40));
    for (size_t i = 0; i < 5; ++i)
        CHECK(net.view(i, 5) == member_state::alive);
}

TEST_CASE("a full member table evicts its oldest dead member for a newcomer",
          "[membership][reap]") {
    membership_config config;
    config.member_count_max = 3;
    cluster net(4, config); // node 0 knows 1, 2, 3: full
    net.down[3] = true;
    net.run_for(std::chrono::seconds(25));
    REQUIRE(net.view(0, 3) == member_state::dead);
    const auto newcomer = key_of(77);
    const endpoint where = make_ipv4(10, 77, 0, 1, 7000);
    recording_sink sink;
    net.cores[0]->on_datagram(net.now, {bytes_of(gossip{{alive_of(newcomer, where, 0)}}), where},
                              sink);
    CHECK(net.cores[0]->find(newcomer.id()).has_value());
    CHECK_FALSE(net.view(0, 3).has_value());
    CHECK(net.cores[0]->member_count() == 3);
    CHECK(net.counters[0]->members_reaped.load() == 1);
    // With no dead member left to evict, the next newcomer is refused.
    const auto another = key_of(78);
    net.cores[0]->on_datagram(net.now, {bytes_of(gossip{{alive_of(another, where, 0)}}), where},
                              sink);
    CHECK_FALSE(net.cores[0]->find(another.id()).has_value());
    CHECK(net.counters[0]->drop_member_table_full.load() == 1);
}

TEST_CASE("a suspected member refutes with a signed, higher incarnation", "[membership]") {
    cluster net(4);
    claim accusation;
    accusation.kind = claim_kind::suspect;
    accusation.subject = net.keys[3].id();
    accusation.incarnation = 0;
    accusation.accuser = net.keys[1].id();
    recording_sink sink;
    net.cores[0]->on_datagram(net.now, {bytes_of(gossip{{accusation}}), net.addresses[1]}, sink);
    CHECK(net.view(0, 3) == member_state::suspect);
    net.run_for(std::chrono::seconds(3));
    CHECK(net.cores[3]->incarnation() >= 1);
    CHECK(net.counters[3]->refutations.load() >= 1);
    for (size_t i = 0; i < 3; ++i)
        CHECK(net.view(i, 3) == member_state::alive);
}

TEST_CASE("nobody can refute, revive or retire another node", "[membership]") {
    cluster net(3);
    const auto mallory = key_of(99);
    claim accusation;
    accusation.kind = claim_kind::suspect;
    accusation.subject = net.keys[2].id();
    accusation.incarnation = 0;
    accusation.accuser = net.keys[1].id();
    recording_sink sink;
    net.cores[0]->on_datagram(net.now, {bytes_of(gossip{{accusation}}), net.addresses[1]}, sink);
    REQUIRE(net.view(0, 2) == member_state::suspect);

    // A refutation signed by another key, and one whose address was changed after signing.
    claim forged = alive_of(net.keys[2], net.addresses[2], 1);
    forged.signature = alive_of(mallory, net.addresses[2], 1).signature;
    claim moved = alive_of(net.keys[2], net.addresses[2], 1);
    moved.address = make_ipv4(6, 6, 6, 6, 666);
    claim retire = alive_of(net.keys[2], net.addresses[2], 5);
    retire.kind = claim_kind::left; // the signature covers the kind
    net.cores[0]->on_datagram(net.now,
                              {bytes_of(gossip{{forged, moved, retire}}), net.addresses[1]}, sink);
    CHECK(net.counters[0]->drop_bad_signature.load() == 3);
    CHECK(net.view(0, 2) == member_state::suspect);
    CHECK(net.cores[0]->find(net.keys[2].id())->address == net.addresses[2]);

    // An accusation above the signed incarnation is not believed.
    claim future = accusation;
    future.kind = claim_kind::dead;
    future.subject = net.keys[1].id();
    future.accuser = net.keys[2].id();
    future.incarnation = 7;
    net.cores[0]->on_datagram(net.now, {bytes_of(gossip{{future}}), net.addresses[2]}, sink);
    CHECK(net.counters[0]->drop_future_incarnation.load() == 1);
    CHECK(net.view(0, 1) == member_state::alive);
}

TEST_CASE("replies are never larger than the datagram that caused them", "[membership]") {
    cluster net(3);
    // Fill node 0's broadcast queue so that it has plenty to piggyback.
    for (uint8_t k = 0; k < 40; ++k) {
        const auto extra = key_of(static_cast<uint8_t>(100 + k));
        net.cores[0]->learn(net.now, alive_of(extra, make_ipv4(10, 9, 0, k, 7000), 0));
    }
    const std::vector<uint8_t> ping_bytes = bytes_of(ping{42, net.keys[0].id(), {}});
    recording_sink sink;
    net.cores[0]->on_datagram(net.now, {ping_bytes, net.addresses[1]}, sink);
    REQUIRE(sink.datagrams.size() == 1);
    CHECK(sink.datagrams[0].bytes.size() <= ping_bytes.size());

    const auto req = bytes_of(ping_req{5, net.keys[2].id(), net.addresses[2], {}});
    sink.datagrams.clear();
    net.cores[0]->on_datagram(net.now, {req, net.addresses[1]}, sink);
    REQUIRE(sink.datagrams.size() == 1);
    CHECK(sink.datagrams[0].to == net.addresses[2]);
    CHECK(sink.datagrams[0].bytes.size() <= req.size());

    // ping_req for a stranger, or for a member at another address: nothing is sent.
    sink.datagrams.clear();
    net.cores[0]->on_datagram(
        net.now, {bytes_of(ping_req{5, key_of(77).id(), net.addresses[2], {}}), net.addresses[1]},
        sink);
    net.cores[0]->on_datagram(
        net.now,
        {bytes_of(ping_req{5, net.keys[2].id(), make_ipv4(1, 2, 3, 4, 5), {}}), net.addresses[1]},
        sink);
    CHECK(sink.datagrams.empty());
    CHECK(net.counters[0]->drop_unknown_target.load() == 2);

    const auto join = bytes_of(push_pull{push_pull::flag_reply_wanted, 0, {}});
    sink.datagrams.clear();
    net.cores[0]->on_datagram(net.now, {join, net.addresses[1]}, sink);
    REQUIRE(sink.datagrams.size() == 1);
    CHECK(sink.datagrams[0].bytes.size() <= join.size());
}

TEST_CASE("a node joins through a seed and everyone learns it", "[membership]") {
    cluster net(4);
    const auto newcomer_keys = key_of(50);
    const endpoint newcomer_at = make_ipv4(10, 50, 0, 1, 7000);
    net.keys.push_back(newcomer_keys);
    net.addresses.push_back(newcomer_at);
    net.counters.push_back(std::make_unique<membership_counters>());
    net.cores.push_back(std::make_unique<membership_core>(net.config, net.keys[4], newcomer_at, 99,
                                                          *net.counters[4]));
    net.down.push_back(false);
    net.cores[4]->start(net.now);
    recording_sink sink;
    net.cores[4]->add_seed(net.now, net.addresses[0], sink);
    REQUIRE(sink.datagrams.size() == 1);
    CHECK(sink.datagrams[0].bytes.size() == datagram_size_max); // padded for a full answer
    recording_sink answer;
    net.cores[0]->on_datagram(net.now, {sink.datagrams[0].bytes, newcomer_at}, answer);
    REQUIRE(answer.datagrams.size() == 1);
    net.cores[4]->on_datagram(net.now, {answer.datagrams[0].bytes, net.addresses[0]}, sink);
    CHECK(net.cores[4]->member_count() == 4);
    net.run_for(std::chrono::seconds(3));
    for (size_t i = 0; i < 4; ++i)
        CHECK(net.view(i, 4) == member_state::alive);
}

TEST_CASE("a suspicion that runs out while many members fail is a partition, not deaths",
          "[membership]") {
    cluster net(10);
    // Nodes 5..9 vanish at once from the view of 0..4 (both ways).
    for (size_t i = 5; i < 10; ++i)
        net.down[i] = true;
    net.run_for(std::chrono::seconds(40));
    for (size_t i = 0; i < 5; ++i) {
        CHECK(net.cores[i]->in_partition());
        CHECK(net.counters[i]->partitions_suspected.load() == 1);
        for (size_t j = 5; j < 10; ++j)
            CHECK(net.view(i, j) == member_state::unreachable);
    }
    // They come back: contact heals the partition.
    for (size_t i = 5; i < 10; ++i)
        net.down[i] = false;
    net.run_for(std::chrono::seconds(15));
    for (size_t i = 0; i < 5; ++i) {
        CHECK_FALSE(net.cores[i]->in_partition());
        CHECK(net.counters[i]->partitions_healed.load() == 1);
        // The whole set is alive again, not only those that answered a probe already.
        for (size_t j = 5; j < 10; ++j)
            CHECK(net.view(i, j) == member_state::alive);
    }

    // For heal_grace after the heal, accusations across the healed cut are dropped.
    const auto accusation = [&](size_t subject, size_t accuser) {
        claim c;
        c.kind = claim_kind::suspect;
        c.subject = net.keys[subject].id();
        c.incarnation = net.cores[0]->find(c.subject)->incarnation;
        c.accuser = net.keys[accuser].id();
        return c;
    };
    recording_sink sink;
    auto& dropped = net.counters[0]->drop_partition_artifact;
    const uint64_t before = dropped.load(); // the cut's own leftovers may have come already
    net.cores[0]->on_datagram(
        net.now, {bytes_of(gossip{{accusation(1, 6), accusation(6, 1)}}), net.addresses[2]}, sink);
    CHECK(dropped.load() == before + 2);
    net.run_for(std::chrono::seconds(31));
    const uint64_t later = dropped.load();
    net.cores[0]->on_datagram(net.now, {bytes_of(gossip{{accusation(1, 6)}}), net.addresses[2]},
                              sink);
    CHECK(dropped.load() == later);
}

TEST_CASE("random datagrams never crash the core nor get a larger reply", "[membership]") {
    auto rng = test::seeded_rng(0x6d62);
    cluster net(3);
    const auto valid =
        bytes_of(ping{1, net.keys[0].id(), {alive_of(net.keys[1], net.addresses[1], 3)}});
    for (int round = 0; round < 3000; ++round) {
        std::vector<uint8_t> input;
        if (round % 2 == 0) {
            input = valid;
            const size_t flips = 1 + rng() % 4;
            for (size_t f = 0; f < flips; ++f)
                input[rng() % input.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        } else {
            input = test::random_bytes(rng, rng() % 300);
            if (input.size() >= 8) {
                input[0] = 0xA1;
                input[1] = 0x4E;
                input[2] = 1;
                input[3] = static_cast<uint8_t>(0x30 + rng() % 6);
                input[4] = 0;
                input[5] = 0;
                input[6] = static_cast<uint8_t>(input.size() - 8);
                input[7] = static_cast<uint8_t>((input.size() - 8) >> 8);
            }
        }
        recording_sink sink;
        net.cores[0]->on_datagram(net.now, {input, net.addresses[1]}, sink);
        for (const auto& s : sink.datagrams)
            REQUIRE(s.bytes.size() <= input.size());
    }
}

} // namespace ainet::membership
