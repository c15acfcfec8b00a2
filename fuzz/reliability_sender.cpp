// Fuzzes both ends of reliability_core together, the sender's side under attack: a sender A
// and an honest receiver B exchange datagrams through a network the input controls (each
// datagram delivered, dropped, duplicated or held back), while forged ack and NACK frames with
// arbitrary fields arrive at A under B's id, A's store fails commits, A crashes and restarts
// with its durable state, peers are reported alive and time jumps. Invariants (abort on
// violation): nothing asserts inside the cores; B delivers A's messages in ascending sequence
// order, each with exactly the bytes A sent under that number (forged acks may make A give
// messages up, so B may skip, never reorder or invent); A's in-flight count never exceeds its
// outbox.
#include <ainet/reliability/reliability_core.hpp>
#include <ainet/wire/header.hpp>

#include "invariant.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

using namespace ainet;
using namespace ainet::reliability;

namespace {

node_id id_of(uint8_t tag) {
    node_id id;
    id.bytes.fill(tag);
    return id;
}

struct collect final : packet_sink {
    std::vector<uint8_t> buffer = std::vector<uint8_t>(2048);
    std::vector<std::vector<uint8_t>>& out;
    explicit collect(std::vector<std::vector<uint8_t>>& o) : out(o) {}
    mutable_bytes prepare(const node_id&) noexcept override { return buffer; }
    void commit(size_t size) noexcept override {
        out.emplace_back(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(size));
    }
    void abandon() noexcept override {}
};

// A's payload for the n-th message it sends: the tag n, padded by a tag-derived length.
std::vector<uint8_t> payload_for(uint32_t tag) {
    std::vector<uint8_t> p(4 + tag % 37, static_cast<uint8_t>(tag * 7));
    std::memcpy(p.data(), &tag, 4);
    return p;
}

struct fuzz_world {
    reliability_config config;
    memory_store store_a, store_b;
    reliability_counters counters_a, counters_b;
    std::unique_ptr<reliability_core> a, b;
    const node_id ida = id_of(1), idb = id_of(2);
    instant now{1'000'000'000};
    uint64_t incarnation = 10;
    uint32_t next_tag = 0;
    uint64_t last_delivered_seq = 0;
    std::vector<std::vector<uint8_t>> to_b, to_a;

    fuzz_world() {
        config.receive_window = 16;
        config.channels_per_peer_max = 2;
        config.message_ttl = std::chrono::seconds(5);
        config.datagram_size_max = 256;
        config.incarnation = 1;
        b = std::make_unique<reliability_core>(config, store_b, counters_b);
        start_a(std::nullopt);
    }

    void start_a(const std::optional<recovered_state>& state) {
        config.incarnation = ++incarnation;
        a = std::make_unique<reliability_core>(config, store_a, counters_a);
        if (state)
            a->restore(now, *state);
        to_b.clear(); // what the old process had queued dies with it
    }

    void turn() {
        a->tick(now);
        collect sa(to_b);
        a->flush(now, sa);
        a->clear_events();
        b->tick(now);
        collect sb(to_a);
        b->flush(now, sb);
        for (const event& e : b->events()) {
            if (e.kind != event_kind::delivered)
                continue;
            FUZZ_CHECK(e.peer == ida);
            FUZZ_CHECK(e.seq > last_delivered_seq || last_delivered_seq == 0 || e.seq == 1);
            last_delivered_seq = e.seq;
            const bytes_view got = b->payload_of(e);
            FUZZ_CHECK(got.size() >= 4);
            uint32_t tag = 0;
            std::memcpy(&tag, got.data(), 4);
            const auto expected = payload_for(tag);
            FUZZ_CHECK(std::equal(got.begin(), got.end(), expected.begin(), expected.end()));
        }
        b->clear_events();
        FUZZ_CHECK(a->in_flight(idb) <= a->outbox_count());
        if (to_b.size() > 64)
            to_b.erase(to_b.begin(), to_b.begin() + 32);
        if (to_a.size() > 64)
            to_a.erase(to_a.begin(), to_a.begin() + 32);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz_world w;
    size_t i = 0;
    while (i + 2 < size) {
        const uint8_t op = data[i];
        const uint8_t x = data[i + 1];
        const uint8_t y = data[i + 2];
        i += 3;
        switch (op % 10) {
        case 0:
        case 1: // A's application sends
            for (uint8_t k = 0; k < x % 8; ++k) {
                const auto p = payload_for(w.next_tag);
                if (w.a->send(w.now, w.idb, channel_id{1}, p))
                    ++w.next_tag;
            }
            break;
        case 2:
        case 3: // deliver (or drop, or duplicate) the datagram at x to B
            if (!w.to_b.empty()) {
                const size_t at = x % w.to_b.size();
                if (y % 4 != 0)
                    w.b->on_packet(w.now, w.ida, w.to_b[at]);
                if (y % 4 != 3)
                    w.to_b.erase(w.to_b.begin() + static_cast<ptrdiff_t>(at));
            }
            break;
        case 4: // deliver (or drop) B's datagram at x to A
            if (!w.to_a.empty()) {
                const size_t at = x % w.to_a.size();
                if (y % 3 != 0)
                    w.a->on_packet(w.now, w.idb, w.to_a[at]);
                w.to_a.erase(w.to_a.begin() + static_cast<ptrdiff_t>(at));
            }
            break;
        case 5: { // a forged ack or NACK under B's id, fields from the input
            std::vector<uint8_t> buf(256);
            packet_writer pw(buf, packet_head{1, 1, y % 2 ? w.a->stream_epoch() : y});
            range_list ranges;
            uint64_t end = x % 40;
            for (uint8_t r = 0; r < y % 5; ++r) {
                const uint64_t first = end + 1 + (data[(i + r) % size] % 4);
                ranges.push({first, first + (data[(i + r + 1) % size] % 6)});
                end = ranges.items[r].last;
            }
            if (x % 2 == 0) {
                ack_frame f;
                f.channel = channel_id{1};
                f.cumulative = x % 40;
                f.window = y;
                f.ranges = ranges;
                (void)pw.add_ack(f);
            } else if (ranges.count > 0) {
                nack_frame f;
                f.channel = channel_id{1};
                f.base = x % 40;
                f.ranges = ranges;
                (void)pw.add_nack(f);
            }
            buf.resize(pw.finish());
            w.a->on_packet(w.now, w.idb, buf);
            break;
        }
        case 6:
            w.store_a.fail_next_commits(x % 3);
            break;
        case 7: { // A crashes and restarts from what it made durable
            auto state = decode_state(w.store_a.encode());
            FUZZ_CHECK(state.has_value());
            w.start_a(*state);
            break;
        }
        case 8:
            w.a->on_peer_alive(w.now, w.idb);
            break;
        default:
            w.now = w.now + std::chrono::milliseconds(uint32_t{x} * (y % 16 + 1));
            break;
        }
        w.turn();
    }
    return 0;
}
