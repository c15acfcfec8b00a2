// Goal: every rule of the reliability core holds on its own, two cores joined by a seeded
// in-memory network (pair_harness.hpp): in-order exactly-once delivery under loss, reordering
// and duplication; NACK-driven retransmission; the 100..1600 ms backoff, undeliverable, peer
// suspect and resend on alive; TTL expiry; durability before acceptance; restarts with and
// without state; flow control against a slow receiver; congestion control under random loss;
// packing; bounds.
#include <ainet/reliability/reliability_core.hpp>

#include "../support/rng.hpp"
#include "pair_harness.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace std::chrono_literals;

namespace ainet::reliability {

using test::check_exact_in_order;
using test::pair_harness;

namespace {

uint64_t seed_of(uint64_t stream) {
    return ainet::test::seeded_rng(stream)();
}

bool all_acked(const pair_harness& h) {
    return h.a.core->outbox_count() == 0;
}

} // namespace

TEST_CASE("messages arrive in order, once, over a clean path", "[reliability]") {
    pair_harness h(seed_of(1));
    auto ids = h.send_many(500);
    // Not durable yet: nothing may leave before the flush that commits it.
    CHECK(h.a.counters.data_frames_sent.load() == 0);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 5s));
    check_exact_in_order(h.b.delivered, 500);
    CHECK(h.count(h.a, event_kind::accepted) == 500);
    CHECK(h.count(h.a, event_kind::acknowledged) == 500);
    CHECK(h.a.counters.retransmissions.load() == 0);
    // Packing: 500 messages of 32 B in 1200 B datagrams.
    CHECK(h.a.counters.datagrams_sent.load() < 40);
    // Ids are distinct and ascending.
    for (size_t i = 1; i < ids.size(); ++i)
        CHECK(static_cast<uint64_t>(ids[i]) > static_cast<uint64_t>(ids[i - 1]));
    // Sessions are per channel: a second channel numbers from 1 again, independently.
    h.send_many(10, channel_id{2});
    REQUIRE(h.run_until([&] { return all_acked(h); }, 5s));
    check_exact_in_order(h.b.delivered, 10, channel_id{2});
}

TEST_CASE("loss, reordering and duplication: exactly the sent set, in order", "[reliability]") {
    for (double loss : {0.05, 0.20}) {
        const uint64_t seed = seed_of(2) + static_cast<uint64_t>(loss * 100);
        CAPTURE(seed, loss);
        pair_harness h(seed);
        h.loss = loss;
        h.duplicate = 0.05;
        h.reorder = 0.10;
        uint32_t sent = 0;
        for (int burst = 0; burst < 20; ++burst) {
            h.send_many(100, channel_id{1}, 40, sent);
            sent += 100;
            h.run_for(20ms);
        }
        const bool done = h.run_until([&] { return all_acked(h); }, 60s);
        if (!done)
            WARN(
                "outbox " << h.a.core->outbox_count() << " suspect " << h.a.core->is_suspect(h.b.id)
                          << " inflight " << h.a.core->in_flight(h.b.id) << " cwnd "
                          << h.a.core->congestion_window(h.b.id) << " delivered "
                          << h.b.delivered.size() << " retx " << h.a.counters.retransmissions.load()
                          << " undeliv " << h.a.counters.messages_undeliverable.load() << " beyond "
                          << h.b.counters.drop_beyond_window.load() << " ignored "
                          << h.a.counters.ignored_acks.load() << " acks "
                          << h.b.counters.acks_sent.load());
        REQUIRE(done);
        check_exact_in_order(h.b.delivered, sent);
        CHECK(h.a.counters.retransmissions.load() > 0);
        CHECK(h.b.counters.duplicates.load() > 0);
        CHECK(h.count(h.a, event_kind::undeliverable) == 0);
    }
}

TEST_CASE("a gap is NACKed and repaired before any timeout", "[reliability]") {
    pair_harness h(seed_of(3));
    h.jitter = 0ms;
    h.send_many(20);
    h.step(); // commit and send: one datagram
    REQUIRE(h.network.size() == 1);
    h.network.clear(); // lose it
    h.run_for(1ms);
    h.send_many(20, channel_id{1}, 32, 20);
    REQUIRE(h.run_until([&] { return h.b.delivered.size() == 40; }, 90ms)); // < rto_initial
    check_exact_in_order(h.b.delivered, 40);
    CHECK(h.b.counters.nacks_sent.load() >= 1);
    CHECK(h.a.counters.retransmissions_nack.load() == 20);
    CHECK(h.a.counters.retransmissions_timeout.load() == 0);
}

TEST_CASE("a lost tail is re-sent by a tail-loss probe, long before the first timeout",
          "[reliability]") {
    pair_harness h(seed_of(31));
    h.jitter = 0ms;
    h.send_many(1);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 50ms)); // an RTT sample
    h.send_many(1, channel_id{1}, 32, 1);
    h.step(); // commit and send: one datagram, the flight's only one
    REQUIRE(h.network.size() == 1);
    h.network.clear(); // lose it: no later datagram can reveal the gap
    // 2 x srtt (~11 ms) then the one-way latency (5 ms): far below rto_initial (100 ms).
    REQUIRE(h.run_until([&] { return h.b.delivered.size() == 2; }, 50ms));
    check_exact_in_order(h.b.delivered, 2);
    CHECK(h.a.counters.tail_probes.load() == 1);
    CHECK(h.a.counters.retransmissions_timeout.load() == 0);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 20ms));
    // A healthy flight is acknowledged before its probe is due: no spurious probes.
    h.send_many(50, channel_id{1}, 32, 2);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 50ms));
    CHECK(h.a.counters.tail_probes.load() == 1);
}

TEST_CASE("retries back off 100..1600 ms, then undeliverable + suspect, resent when alive",
          "[reliability]") {
    pair_harness h(seed_of(4));
    h.partitioned = true;
    const instant start = h.now;
    auto ids = h.send_many(3);
    std::vector<instant> sends;
    uint64_t frames = 0;
    while (h.count(h.a, event_kind::peer_suspect) == 0 && h.now < start + 10s) {
        h.step();
        if (h.a.counters.data_frames_sent.load() != frames) {
            frames = h.a.counters.data_frames_sent.load();
            sends.push_back(h.now - h.turn);
        }
    }
    REQUIRE(sends.size() == 6); // the first send and 5 retries (3 messages per datagram)
    const duration expected[] = {100ms, 200ms, 400ms, 800ms, 1600ms};
    for (size_t i = 0; i < 5; ++i) {
        const duration gap = sends[i + 1] - sends[i];
        CHECK(gap >= expected[i]);
        CHECK(gap <= expected[i] + 2ms);
    }
    CHECK(h.count(h.a, event_kind::undeliverable) == 3);
    CHECK(h.a.counters.peer_suspect.load() == 1);
    CHECK(h.a.core->is_suspect(h.b.id));
    CHECK(h.a.core->outbox_count() == 3); // kept
    // Silent while suspect.
    frames = h.a.counters.data_frames_sent.load();
    h.run_for(5s);
    CHECK(h.a.counters.data_frames_sent.load() == frames);
    // Healed and reported alive: everything goes out again and arrives.
    h.partitioned = false;
    h.a.core->on_peer_alive(h.now, h.b.id);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 2s));
    check_exact_in_order(h.b.delivered, 3);
    CHECK(h.count(h.a, event_kind::acknowledged) == ids.size());
}

TEST_CASE("messages past their TTL expire; the receiver skips them", "[reliability]") {
    reliability_config config;
    config.message_ttl = 3s;
    pair_harness h(seed_of(5), config);
    h.send_many(5);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 1s));
    h.partitioned = true;
    h.send_many(5, channel_id{1}, 32, 5);
    h.run_for(config.message_ttl + 100ms);
    CHECK(h.count(h.a, event_kind::expired) == 5);
    CHECK(h.a.core->outbox_count() == 0);
    h.partitioned = false;
    h.send_many(5, channel_id{1}, 32, 10);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 10s));
    // 0..4, then 10..14: the expired 5..9 never arrive and nothing waits for them.
    REQUIRE(h.b.delivered.size() == 10);
    CHECK(test::tag_of(h.b.delivered[5].payload) == 10);
    CHECK(h.b.counters.skipped_expired.load() == 5);
}

TEST_CASE("nothing is accepted or sent before the store commits it", "[reliability]") {
    pair_harness h(seed_of(6));
    h.a.store.fail_next_commits(3);
    h.send_many(10);
    h.run_for(3ms);
    CHECK(h.a.counters.store_failures.load() == 3);
    CHECK(h.count(h.a, event_kind::accepted) == 0);
    CHECK(h.a.counters.data_frames_sent.load() == 0);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 1s));
    CHECK(h.count(h.a, event_kind::accepted) == 10);
    check_exact_in_order(h.b.delivered, 10);
    // The receiver acknowledges only what its own store made durable.
    h.b.store.fail_next_commits(50);
    h.send_many(10, channel_id{1}, 32, 10);
    h.run_for(30ms);
    CHECK(h.b.delivered.size() == 20);
    CHECK(h.a.core->outbox_count() == 10); // selectively acked, not cumulatively
    REQUIRE(h.run_until([&] { return all_acked(h); }, 1s));
}

TEST_CASE("sender restart with state resends its outbox; without state starts a new stream",
          "[reliability]") {
    pair_harness h(seed_of(7));
    h.send_many(50);
    h.step();
    h.partitioned = true;
    h.run_for(10ms);
    // Crash a with its durable state; the restarted incarnation restores it.
    const auto blob = h.a.store.encode();
    auto state = decode_state(blob);
    REQUIRE(state);
    h.a.config.incarnation += 100;
    h.a.start(h.now, *state);
    CHECK(h.a.core->outbox_count() == 50);
    h.partitioned = false;
    h.send_many(10, channel_id{1}, 32, 50);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 5s));
    check_exact_in_order(h.b.delivered, 60);

    // Now a restart that lost everything: a new (larger) stream epoch; b follows it.
    h.a.store = memory_store{};
    h.a.config.incarnation += 100;
    h.a.config.stream_epoch = 2;
    h.a.start(h.now);
    h.b.delivered.clear();
    h.send_many(10);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 5s));
    check_exact_in_order(h.b.delivered, 10);
}

TEST_CASE("receiver restart: with state no re-delivery, without state at-least-once",
          "[reliability]") {
    pair_harness h(seed_of(8));
    h.send_many(30);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 1s));
    // With state: what b processed is not delivered again.
    auto state = decode_state(h.b.store.encode());
    REQUIRE(state);
    h.b.config.incarnation += 100;
    h.b.start(h.now, *state);
    h.b.delivered.clear();
    h.send_many(10, channel_id{1}, 32, 30);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 2s));
    check_exact_in_order(h.b.delivered, 10, channel_id{1}, 30);

    // A receiver that crashes holding delivered-but-unprocessed messages gets them again.
    reliability_config manual;
    manual.auto_process = false;
    pair_harness m(seed_of(9), manual);
    m.send_many(20);
    m.run_for(50ms);
    REQUIRE(m.b.delivered.size() == 20);
    m.b.core->processed(m.a.id, channel_id{1}, 12); // the application handled 1..12
    m.run_for(20ms);
    CHECK(m.a.core->outbox_count() == 8);
    auto bstate = decode_state(m.b.store.encode());
    REQUIRE(bstate);
    m.b.config.incarnation += 100;
    m.b.start(m.now, *bstate);
    m.b.delivered.clear();
    REQUIRE(m.run_until([&] { return m.b.delivered.size() == 8; }, 3s));
    check_exact_in_order(m.b.delivered, 8, channel_id{1}, 12); // 13..20 again, not 1..12
    CHECK(m.a.counters.peer_restarts.load() == 1);
}

TEST_CASE("a slow receiver throttles the sender instead of being flooded", "[reliability]") {
    reliability_config config;
    config.auto_process = false;
    config.receive_window = 64;
    pair_harness h(seed_of(10), config);
    h.send_many(1000);
    uint64_t processed = 0;
    size_t in_flight_max = 0;
    for (int turn = 0; turn < 20000 && processed < 1000; ++turn) {
        h.step();
        in_flight_max = std::max<size_t>(in_flight_max, h.a.core->in_flight(h.b.id));
        if (turn % 10 == 0 && processed < h.b.delivered.size()) { // 1 message per 10 ms
            ++processed;
            h.b.core->processed(h.a.id, channel_id{1}, processed);
        }
    }
    REQUIRE(processed == 1000);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 1s));
    check_exact_in_order(h.b.delivered, 1000);
    CHECK(in_flight_max <= 64);
    CHECK(h.b.counters.drop_beyond_window.load() == 0);
    CHECK(h.a.counters.messages_undeliverable.load() == 0);
}

TEST_CASE("5% random loss does not collapse the congestion window", "[reliability]") {
    const uint64_t seed = seed_of(11);
    CAPTURE(seed);
    pair_harness h(seed);
    h.loss = 0.05;
    double window_min = 1e9;
    for (int i = 0; i < 40; ++i) {
        h.send_many(200, channel_id{1}, 32, static_cast<uint32_t>(i * 200));
        h.run_for(25ms);
        if (i >= 5)
            window_min = std::min(window_min, h.a.core->congestion_window(h.b.id));
    }
    REQUIRE(h.run_until([&] { return all_acked(h); }, 30s));
    check_exact_in_order(h.b.delivered, 8000);
    // Random loss at 5% may cost at most one cut (a rare run of timeouts), not a collapse.
    CHECK(window_min >= 32);
    CHECK(h.a.counters.congestion_reductions.load() <= 1);
}

TEST_CASE("send refuses what it cannot take, and says why", "[reliability]") {
    reliability_config config;
    config.outbox_message_count_max = 5;
    config.channels_per_peer_max = 2;
    pair_harness h(seed_of(12), config);
    std::vector<uint8_t> big(message_size_max(config) + 1);
    CHECK(h.a.core->send(h.now, h.b.id, channel_id{1}, big).error() == errc::message_too_large);
    big.pop_back();
    CHECK(h.a.core->send(h.now, h.b.id, channel_id{1}, big).has_value());
    CHECK(h.a.core->send(h.now, h.b.id, channel_id{2}, big).has_value());
    CHECK(h.a.core->send(h.now, h.b.id, channel_id{3}, big).error() == errc::channel_table_full);
    h.send_many(3);
    CHECK(h.a.core->send(h.now, h.b.id, channel_id{1}, big).error() == errc::outbox_full);
    CHECK(h.a.counters.send_refused.load() == 3);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 1s));
    CHECK(h.b.delivered.size() == 5);
}

TEST_CASE("shard_for spreads peers evenly and is stable", "[reliability]") {
    std::vector<uint32_t> counts(8);
    auto rng = ainet::test::seeded_rng(813);
    for (int i = 0; i < 8000; ++i) {
        node_id id;
        for (auto& b : id.bytes)
            b = static_cast<uint8_t>(rng());
        const uint32_t shard = shard_for(id, 8);
        REQUIRE(shard < 8);
        CHECK(shard_for(id, 8) == shard);
        ++counts[shard];
    }
    for (uint32_t c : counts) {
        CHECK(c > 850);
        CHECK(c < 1150);
    }
    CHECK(shard_for(test::make_id(1), 1) == 0);
}

} // namespace ainet::reliability

namespace ainet::reliability {

TEST_CASE("acks that claim more than was accepted are ignored", "[reliability]") {
    pair_harness h(seed_of(13));
    h.partitioned = true;
    h.send_many(5);
    h.step();                             // 5 accepted and sent (lost)
    h.send_many(5, channel_id{1}, 32, 5); // staged: not durable until the next flush
    // A forged ack from b claiming all ten.
    std::vector<uint8_t> buffer(1200);
    packet_writer w(buffer, packet_head{1, 99, h.a.core->stream_epoch()});
    ack_frame a;
    a.channel = channel_id{1};
    a.cumulative = 10;
    a.window = 1024;
    REQUIRE(w.add_ack(a));
    buffer.resize(w.finish());
    h.a.core->on_packet(h.now, h.b.id, buffer);
    CHECK(h.a.core->outbox_count() == 10);
    CHECK(h.a.counters.ignored_acks.load() == 1);
    // An ack for another stream epoch is ignored too.
    std::vector<uint8_t> other(1200);
    packet_writer w2(other, packet_head{1, 99, h.a.core->stream_epoch() + 1});
    a.cumulative = 3;
    REQUIRE(w2.add_ack(a));
    other.resize(w2.finish());
    h.a.core->on_packet(h.now, h.b.id, other);
    CHECK(h.a.core->outbox_count() == 10);
    CHECK(h.a.counters.ignored_acks.load() == 2);
    h.partitioned = false;
    REQUIRE(h.run_until([&] { return all_acked(h); }, 5s));
    check_exact_in_order(h.b.delivered, 10);
}

} // namespace ainet::reliability

namespace ainet::reliability {

TEST_CASE("NACKs are coalesced, bounded and rate-limited", "[reliability]") {
    reliability_config config;
    config.cwnd_initial = 4096;
    config.cwnd_max = 4096;
    pair_harness h(seed_of(14), config);
    h.jitter = 0ms;
    // 2,000 messages of 200 B: ~400 datagrams in one turn, every other one lost.
    h.send_many(2000, channel_id{1}, 200);
    h.step();
    size_t kept = 0;
    std::erase_if(h.network, [&](const test::in_flight_packet&) { return (kept++ % 2) == 0; });
    const instant start = h.now;
    REQUIRE(h.run_until([&] { return all_acked(h); }, 10s));
    check_exact_in_order(h.b.delivered, 2000);
    const duration took = h.now - start;
    // New gaps are NACKed once they have lasted reorder_delay, old ones again only after
    // nack_interval: at most one NACK frame per reorder_delay, each at most ranges_max ranges.
    CHECK(h.b.counters.nacks_sent.load() <= uint64_t(took / config.reorder_delay) + 1);
    CHECK(h.b.counters.nacks_sent.load() >= 2); // > 16 gaps need more than one NACK
    CHECK(h.a.counters.retransmissions_nack.load() >= 100);
}

TEST_CASE("outbox payloads stay intact while the payload ring grows, wraps and is freed",
          "[reliability]") {
    // Messages of every size from 0 to a few hundred bytes, sent in waves that are partly
    // acknowledged between them, so the per-session payload ring is re-packed when it grows,
    // skips its end when a payload does not fit before it, and frees its head on acks; each
    // delivered payload must be byte for byte what was sent.
    pair_harness h(seed_of(40));
    h.loss = 0.02;
    std::mt19937_64 rng(seed_of(41));
    std::vector<std::vector<uint8_t>> sent;
    for (int wave = 0; wave < 30; ++wave) {
        const auto count = static_cast<uint32_t>(1 + rng() % 200);
        for (uint32_t i = 0; i < count; ++i) {
            std::vector<uint8_t> payload(rng() % 400);
            for (auto& b : payload)
                b = static_cast<uint8_t>(rng());
            REQUIRE(h.a.core->send(h.now, h.b.id, channel_id{3}, payload));
            sent.push_back(std::move(payload));
        }
        h.run_for(std::chrono::milliseconds(rng() % 15));
    }
    REQUIRE(h.run_until([&] { return all_acked(h); }, 30s));
    REQUIRE(h.b.delivered.size() == sent.size());
    for (size_t i = 0; i < sent.size(); ++i)
        REQUIRE(h.b.delivered[i].payload == sent[i]);
    CHECK(h.a.core->outbox_bytes() == 0);
}

TEST_CASE("only a retransmission resent again counts as a repeat", "[reliability]") {
    pair_harness h(seed_of(42));
    h.jitter = 0ms;
    h.send_many(1);
    REQUIRE(h.run_until([&] { return all_acked(h); }, 50ms)); // an RTT sample
    h.send_many(40, channel_id{1}, 32, 1);
    h.step();
    REQUIRE(!h.network.empty());
    h.network.erase(h.network.begin()); // lose the first datagram: a gap, NACKed, repaired once
    REQUIRE(h.run_until([&] { return all_acked(h); }, 90ms));
    CHECK(h.a.counters.retransmissions.load() > 0);
    CHECK(h.a.counters.retransmissions_repeat.load() == 0);
    // Now lose every datagram for a while: the retransmissions of what is lost are resent
    // again (by NACK or timeout), and those count.
    h.send_many(40, channel_id{1}, 32, 41);
    h.step();
    h.partitioned = true;
    h.run_for(400ms);
    h.partitioned = false;
    REQUIRE(h.run_until([&] { return all_acked(h); }, 5s));
    check_exact_in_order(h.b.delivered, 81);
    CHECK(h.a.counters.retransmissions_repeat.load() > 0);
}

} // namespace ainet::reliability
