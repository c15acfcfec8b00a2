// Goal: the LMDB durable_store of the messaging service keeps exactly what the in-memory
// reference store (reliability::memory_store) keeps, across a close and reopen: random record
// streams (outbox puts, sender acks, receiver watermarks, meta) committed to both restore to the
// same recovered_state; a turn larger than one write transaction's limits still commits whole;
// and a reliability_core restarted on the reopened store resends exactly its unacknowledged
// outbox.
#include "../config/temp_dir.hpp"
#include "../support/rng.hpp"

#include <ainet/node/messaging_store.hpp>
#include <ainet/reliability/reliability_core.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace ainet;
using namespace ainet::node;
namespace rel = ainet::reliability;

namespace {

node_id peer_of(uint8_t n) {
    node_id id{};
    id.bytes[0] = n;
    id.bytes[31] = static_cast<uint8_t>(n * 7);
    return id;
}

std::unique_ptr<messaging_store> open_store(const std::filesystem::path& dir) {
    std::string error;
    auto store = messaging_store::open(dir, false, error);
    INFO(error);
    REQUIRE(store);
    return store;
}

rel::recovered_state load(messaging_store& store) {
    rel::recovered_state state;
    std::string error;
    INFO(error);
    REQUIRE(store.load(state, error));
    return state;
}

// Random, well-formed turns: per session, outbox seqs are contiguous and acks advance.
struct stream_model {
    std::map<std::pair<uint8_t, uint32_t>, std::pair<uint64_t, uint64_t>> sessions; // acked, top
    std::vector<std::vector<uint8_t>> payloads; // kept alive across commit()
    uint64_t next_message = 1;
    uint64_t watermark = 0;

    std::vector<rel::persist_record> turn(std::mt19937_64& rng, size_t count) {
        std::vector<rel::persist_record> out;
        payloads.clear();
        payloads.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            const auto p = static_cast<uint8_t>(rng() % 3);
            const auto c = static_cast<uint32_t>(rng() % 3);
            auto& [acked, top] = sessions[{p, c}];
            rel::persist_record r;
            r.peer = peer_of(p);
            r.channel = channel_id{c};
            switch (rng() % 6) {
            case 0:
            case 1:
            case 2:
                r.kind = rel::record_kind::outbox_put;
                r.seq = ++top;
                r.message = next_message++;
                payloads.push_back(test::random_bytes(rng, rng() % 64));
                r.payload = payloads.back();
                break;
            case 3:
                if (top == acked)
                    continue;
                r.kind = rel::record_kind::sender_acked;
                acked += 1 + rng() % (top - acked);
                r.seq = acked;
                break;
            case 4:
                r.kind = rel::record_kind::receiver_watermark;
                r.epoch = 77;
                r.seq = ++watermark;
                break;
            default:
                r.kind = rel::record_kind::meta;
                r.epoch = 1234;
                r.message = next_message;
                break;
            }
            out.push_back(r);
        }
        return out;
    }
};

} // namespace

TEST_CASE("messaging_store restores what memory_store holds", "[node][messaging]") {
    test::temp_dir dir;
    auto rng = test::seeded_rng(11);
    rel::memory_store reference;
    stream_model model;
    {
        auto store = open_store(dir.path());
        for (int t = 0; t < 40; ++t) {
            auto records = model.turn(rng, 1 + rng() % 50);
            REQUIRE(reference.commit(records).has_value());
            REQUIRE(store->commit(records).has_value());
        }
        CHECK(rel::encode_state(load(*store)) == reference.encode());
    }
    // Reopen: the state survives the close, and later commits continue it.
    auto store = open_store(dir.path());
    CHECK(rel::encode_state(load(*store)) == reference.encode());
    for (int t = 0; t < 10; ++t) {
        auto records = model.turn(rng, 1 + rng() % 50);
        REQUIRE(reference.commit(records).has_value());
        REQUIRE(store->commit(records).has_value());
    }
    CHECK(rel::encode_state(load(*store)) == reference.encode());
}

TEST_CASE("messaging_store commits a turn larger than one transaction", "[node][messaging]") {
    test::temp_dir dir;
    auto store = open_store(dir.path());
    std::vector<rel::persist_record> records;
    const std::vector<uint8_t> payload(600, 0xab);
    const size_t count = messaging_store::batch_entry_count_max + 500;
    for (size_t i = 1; i <= count; ++i) {
        rel::persist_record r;
        r.kind = rel::record_kind::outbox_put;
        r.peer = peer_of(1);
        r.channel = channel_id{5};
        r.seq = i;
        r.message = i;
        r.payload = payload;
        records.push_back(r);
    }
    REQUIRE(store->commit(records).has_value());
    CHECK(store->commit_count() >= 2);
    CHECK(load(*store).outbox.size() == count);
    rel::persist_record ack;
    ack.kind = rel::record_kind::sender_acked;
    ack.peer = peer_of(1);
    ack.channel = channel_id{5};
    ack.seq = count - 3;
    REQUIRE(store->commit(std::span(&ack, 1)).has_value());
    auto state = load(*store);
    REQUIRE(state.outbox.size() == 3);
    CHECK(state.outbox.front().seq == count - 2);
    REQUIRE(state.senders.size() == 1);
    CHECK(state.senders[0].acked == count - 3);
}

TEST_CASE("messaging_store keeps a turn's messages as one group and restores only the unacked",
          "[node][messaging]") {
    // One turn of 100 messages is one LMDB value; acknowledging part of it keeps the value but
    // a restore must not return what the sender position covers, and acknowledging the rest
    // erases it (nothing left to restore).
    test::temp_dir dir;
    std::vector<uint8_t> payload(32, 0x11);
    {
        auto store = open_store(dir.path());
        std::vector<rel::persist_record> records;
        for (uint64_t i = 1; i <= 100; ++i) {
            rel::persist_record r;
            r.kind = rel::record_kind::outbox_put;
            r.peer = peer_of(4);
            r.channel = channel_id{2};
            r.seq = i;
            r.message = 1000 + i;
            r.payload = payload;
            records.push_back(r);
        }
        REQUIRE(store->commit(records).has_value());
        CHECK(store->counters().puts.load() == 1);
        rel::persist_record ack;
        ack.kind = rel::record_kind::sender_acked;
        ack.peer = peer_of(4);
        ack.channel = channel_id{2};
        ack.seq = 60;
        REQUIRE(store->commit(std::span(&ack, 1)).has_value());
    }
    {
        auto store = open_store(dir.path());
        auto state = load(*store);
        REQUIRE(state.outbox.size() == 40);
        CHECK(state.outbox.front().seq == 61);
        CHECK(state.outbox.front().message == 1061);
        CHECK(state.outbox.back().seq == 100);
        CHECK(state.outbox.back().payload == payload);
        rel::persist_record ack;
        ack.kind = rel::record_kind::sender_acked;
        ack.peer = peer_of(4);
        ack.channel = channel_id{2};
        ack.seq = 100;
        REQUIRE(store->commit(std::span(&ack, 1)).has_value());
        CHECK(store->counters().erases.load() == 1);
    }
    auto store = open_store(dir.path());
    CHECK(load(*store).outbox.empty());
}

namespace {
struct collecting_sink final : rel::packet_sink {
    std::vector<uint8_t> buffer = std::vector<uint8_t>(1500);
    size_t datagrams = 0;
    mutable_bytes prepare(const node_id&) noexcept override { return buffer; }
    void commit(size_t) noexcept override { ++datagrams; }
    void abandon() noexcept override {}
};
} // namespace

TEST_CASE("a reliability_core restarted on the reopened store resends its outbox",
          "[node][messaging]") {
    test::temp_dir dir;
    rel::reliability_config config;
    config.auto_process = false;
    instant now{1'000'000'000};
    uint64_t epoch = 0;
    {
        auto store = open_store(dir.path());
        rel::reliability_counters counters;
        rel::reliability_core core(config, *store, counters);
        for (int i = 0; i < 10; ++i) {
            const uint8_t byte = static_cast<uint8_t>(i);
            REQUIRE(core.send(now, peer_of(2), channel_id{1}, bytes_view(&byte, 1)).has_value());
        }
        collecting_sink sink;
        core.flush(now, sink);
        size_t accepted = 0;
        for (const auto& e : core.events())
            accepted += e.kind == rel::event_kind::accepted;
        CHECK(accepted == 10);
        epoch = core.stream_epoch();
    }
    auto store = open_store(dir.path());
    auto state = load(*store);
    CHECK(state.stream_epoch == epoch);
    REQUIRE(state.outbox.size() == 10);
    rel::reliability_counters counters;
    config.incarnation = 2;
    rel::reliability_core core(config, *store, counters);
    core.restore(now, state);
    CHECK(core.outbox_count() == 10);
    collecting_sink sink;
    core.flush(now, sink);
    CHECK(counters.data_frames_sent.load() == 10);
}
