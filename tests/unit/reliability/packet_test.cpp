// Goal: the reliable packet codec round-trips every frame kind, has one encoding per packet, and
// rejects each malformed field with its own error; the persisted-state blob does the same.
#include <ainet/reliability/durability.hpp>
#include <ainet/reliability/packet.hpp>
#include <ainet/wire/header.hpp>

#include "../support/rng.hpp"
#include "pair_harness.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace ainet::reliability {

namespace {

range_list random_ranges(std::mt19937_64& rng, uint64_t base, size_t count) {
    range_list list;
    uint64_t end = base;
    for (size_t i = 0; i < count; ++i) {
        const uint64_t first = end + 1 + rng() % 5;
        const uint64_t last = first + rng() % 7;
        list.push({first, last});
        end = last;
    }
    return list;
}

} // namespace

TEST_CASE("reliable packets round-trip data, ack and nack frames", "[reliability][packet]") {
    auto rng = ainet::test::seeded_rng(801);
    for (int round = 0; round < 500; ++round) {
        std::vector<uint8_t> buffer(1200);
        const packet_head head{rng(), rng() | 1, rng()};
        packet_writer w(buffer, head);
        std::vector<frame> written;
        std::vector<std::vector<uint8_t>> payloads;
        payloads.reserve(64);
        for (int i = 0; i < 40; ++i) {
            frame f;
            const auto kind = rng() % 3;
            if (kind == 0) {
                payloads.push_back(ainet::test::random_bytes(rng, rng() % 60));
                const uint64_t seq = 1 + (rng() >> (rng() % 64));
                f.type = frame_type::data;
                f.data = data_frame{channel_id{static_cast<uint32_t>(rng())}, seq, rng() % seq,
                                    payloads.back()};
                if (!w.add_data(f.data))
                    break;
            } else if (kind == 1) {
                f.type = frame_type::ack;
                f.ack.channel = channel_id{static_cast<uint32_t>(rng() % 5)};
                f.ack.cumulative = rng() % 100000;
                f.ack.window = static_cast<uint32_t>(rng());
                f.ack.ranges = random_ranges(rng, f.ack.cumulative, rng() % (ranges_max + 1));
                if (!w.add_ack(f.ack))
                    break;
            } else {
                f.type = frame_type::nack;
                f.nack.channel = channel_id{7};
                f.nack.base = rng() % 1000;
                f.nack.ranges = random_ranges(rng, f.nack.base, 1 + rng() % ranges_max);
                if (!w.add_nack(f.nack))
                    break;
            }
            written.push_back(f);
        }
        const size_t size = w.finish();
        REQUIRE(size <= buffer.size());
        buffer.resize(size);
        auto view = decode_reliable_datagram(buffer);
        REQUIRE(view);
        CHECK(view->head == head);
        frame_reader reader(view->frames);
        for (const frame& expected : written) {
            REQUIRE(!reader.at_end());
            auto f = reader.next();
            REQUIRE(f);
            REQUIRE(f->type == expected.type);
            if (f->type == frame_type::data) {
                CHECK(f->data.channel == expected.data.channel);
                CHECK(f->data.seq == expected.data.seq);
                CHECK(f->data.base_delta == expected.data.base_delta);
                CHECK(std::equal(f->data.payload.begin(), f->data.payload.end(),
                                 expected.data.payload.begin(), expected.data.payload.end()));
            } else if (f->type == frame_type::ack) {
                CHECK(f->ack.channel == expected.ack.channel);
                CHECK(f->ack.cumulative == expected.ack.cumulative);
                CHECK(f->ack.window == expected.ack.window);
                CHECK(f->ack.ranges == expected.ack.ranges);
            } else {
                CHECK(f->nack.base == expected.nack.base);
                CHECK(f->nack.ranges == expected.nack.ranges);
            }
        }
        CHECK(reader.at_end());
    }
}

TEST_CASE("reliable packet decoding rejects malformed input", "[reliability][packet]") {
    const std::vector<uint8_t> head(packet_head_size, 0);
    auto decode_one = [&](std::vector<uint8_t> frame_bytes) {
        std::vector<uint8_t> payload = head;
        payload.insert(payload.end(), frame_bytes.begin(), frame_bytes.end());
        auto view = decode_packet(payload);
        REQUIRE(view);
        frame_reader r(view->frames);
        return r.next();
    };
    CHECK(decode_packet(std::vector<uint8_t>(23)).error() == errc::truncated);
    CHECK(decode_one({0x09}).error() == errc::unknown_frame);
    CHECK(decode_one({0x01, 0x01, 0x00, 0x00, 0x00}).error() == errc::bad_field); // seq 0
    CHECK(decode_one({0x01, 0x01, 0x02, 0x02, 0x00}).error() == errc::bad_field); // delta >= seq
    CHECK(decode_one({0x01, 0x01, 0x02, 0x01, 0x05, 0x00}).error() == errc::truncated);
    CHECK(decode_one({0x01, 0x81, 0x00, 0x01, 0x00, 0x00}).error() == errc::non_canonical);
    CHECK(decode_one({0x02, 0x01, 0x05, 0x10, 0x01, 0x00, 0x00}).error() ==
          errc::bad_field); // length 0
    CHECK(decode_one({0x02, 0x01, 0x05, 0x10, 0x41}).error() == errc::too_many_ranges); // 65
    CHECK(decode_one({0x03, 0x01, 0x05, 0x00}).error() == errc::bad_field); // NACK without ranges
    CHECK(decode_one({0x02, 0x01, 0x05, 0x10, 0x00}).has_value());
    // A range running past 2^64 - 1.
    std::vector<uint8_t> overflow{0x02, 0x01};
    for (int i = 0; i < 9; ++i)
        overflow.push_back(0xff);
    overflow.push_back(0x01); // cumulative = 2^64 - 1
    overflow.insert(overflow.end(), {0x00, 0x01, 0x00, 0x01});
    CHECK(decode_one(overflow).error() == errc::bad_field);
    // Not a reliable datagram at all.
    std::vector<uint8_t> ping(wire::header_size + 16);
    REQUIRE(wire::encode_header(wire::header{wire::message_type::ping, 0, 16}, ping));
    CHECK(decode_reliable_datagram(ping).error() == errc::not_reliable);
}

TEST_CASE("persisted state blobs round-trip and reject contradictions",
          "[reliability][durability]") {
    memory_store store;
    const node_id p1 = test::make_id(1);
    const node_id p2 = test::make_id(2);
    const std::vector<uint8_t> body{1, 2, 3};
    std::vector<persist_record> records;
    records.push_back({record_kind::meta, {}, {}, 0, 10, 77, {}});
    for (uint64_t seq = 1; seq <= 5; ++seq)
        records.push_back({record_kind::outbox_put, p1, channel_id{3}, seq, seq, 0, body});
    records.push_back({record_kind::outbox_put, p2, channel_id{1}, 1, 6, 0, body});
    records.push_back({record_kind::sender_acked, p1, channel_id{3}, 2, 0, 0, {}});
    records.push_back({record_kind::receiver_watermark, p2, channel_id{9}, 41, 0, 5, {}});
    REQUIRE(store.commit(records));
    CHECK(store.outbox_size() == 4);

    const auto blob = store.encode();
    auto state = decode_state(blob);
    REQUIRE(state);
    CHECK(state->stream_epoch == 77);
    CHECK(state->next_message == 10);
    REQUIRE(state->outbox.size() == 4);
    CHECK(state->outbox[0].seq == 3);
    REQUIRE(state->senders.size() == 1);
    CHECK(state->senders[0].acked == 2);
    REQUIRE(state->receivers.size() == 1);
    CHECK(state->receivers[0].processed == 41);
    CHECK(state->receivers[0].epoch == 5);
    CHECK(encode_state(*state) == blob); // canonical

    // An outbox message at or below its session's acknowledged position contradicts itself.
    auto bad = *state;
    bad.senders[0].acked = 3;
    CHECK(decode_state(encode_state(bad)).error() == errc::bad_state);
    // A hole in a session's outbox.
    bad = *state;
    bad.outbox[1].seq = 5;
    CHECK(decode_state(encode_state(bad)).error() == errc::bad_state);
    // Out of order.
    bad = *state;
    std::swap(bad.outbox[0], bad.outbox[1]);
    CHECK(decode_state(encode_state(bad)).error() == errc::bad_state);
    // Truncations and trailing bytes.
    for (size_t cut = 0; cut < blob.size(); ++cut)
        CHECK(!decode_state(bytes_view(blob.data(), cut)));
    auto longer = blob;
    longer.push_back(0);
    CHECK(decode_state(longer).error() == errc::trailing_bytes);

    // A failing store applies nothing.
    store.fail_next_commits(1);
    CHECK(store.commit(records).error() == errc::store_failed);
    CHECK(store.commit_count() == 1);
}

} // namespace ainet::reliability
