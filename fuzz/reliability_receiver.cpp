// Fuzzes the receiving side of reliability_core as a state machine. The input is a program:
// each byte pair picks an operation: a genuine data frame of a model sender (any sequence
// number, so loss, reordering and duplication are all covered), a malformed or forged packet
// from another node, the application processing what it was given, a store failure, a timer
// turn, or a crash and restart with the durable state. Invariants, checked after every step
// (abort on violation):
//   - messages from the model sender are delivered in order without gaps (each delivery is the
//     next sequence number), and each carries exactly the bytes the model sent for it;
//   - nothing the model never sent is delivered as the model's (forged packets come from
//     another node id, and may only deliver into that node's own stream);
//   - acks never claim more than was delivered, and the buffered bytes stay bounded.
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
    std::vector<std::vector<uint8_t>> sent; // to the model sender only
    bool to_sender = false;
    node_id sender;
    mutable_bytes prepare(const node_id& peer) noexcept override {
        to_sender = peer == sender;
        return buffer;
    }
    void commit(size_t size) noexcept override {
        if (to_sender)
            sent.emplace_back(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(size));
    }
    void abandon() noexcept override {}
};

// The model sender's payload for a sequence number: derived from it, variable length.
std::vector<uint8_t> payload_for(uint64_t seq) {
    std::vector<uint8_t> p(8 + seq % 23);
    for (size_t i = 0; i < p.size(); ++i)
        p[i] = static_cast<uint8_t>(seq >> (8 * (i % 8))) ^ static_cast<uint8_t>(i);
    return p;
}

struct harness {
    reliability_config config;
    memory_store store;
    reliability_counters counters;
    std::unique_ptr<reliability_core> core;
    instant now{1'000'000'000};
    uint64_t next_expected = 1; // the next sequence number the model may see delivered
    uint64_t incarnation = 1;
    const node_id sender = id_of(0xaa);
    const node_id stranger = id_of(0xbb);

    harness() {
        config.receive_window = 32;
        config.channels_per_peer_max = 4;
        config.auto_process = false;
        config.stream_epoch = 5;
        start(std::nullopt);
    }

    void start(const std::optional<recovered_state>& state) {
        config.incarnation = incarnation++;
        core = std::make_unique<reliability_core>(config, store, counters);
        if (state)
            core->restore(now, *state);
    }

    void deliver_model(uint64_t seq) {
        std::vector<uint8_t> buf(256);
        packet_writer w(buf, packet_head{7, 9, 0});
        const auto payload = payload_for(seq);
        const bool added = w.add_data(data_frame{channel_id{1}, seq, seq - 1, payload});
        FUZZ_CHECK(added);
        buf.resize(w.finish());
        core->on_packet(now, sender, buf);
    }

    void turn() {
        core->tick(now);
        collect sink;
        sink.sender = sender;
        core->flush(now, sink);
        for (const event& e : core->events()) {
            // The stranger may deliver its own stream to us (that is its right); what it can
            // never do is deliver into the model sender's stream.
            if (e.kind != event_kind::delivered || e.peer != sender)
                continue;
            FUZZ_CHECK(e.channel == channel_id{1});
            FUZZ_CHECK(e.seq == next_expected);
            const auto expected = payload_for(e.seq);
            const bytes_view got = core->payload_of(e);
            FUZZ_CHECK(std::equal(got.begin(), got.end(), expected.begin(), expected.end()));
            ++next_expected;
        }
        core->clear_events();
        for (const auto& d : sink.sent) {
            auto view = decode_reliable_datagram(d);
            FUZZ_CHECK(view.has_value());
            frame_reader r(view->frames);
            while (!r.at_end()) {
                auto f = r.next();
                FUZZ_CHECK(f.has_value());
                if (f->type == frame_type::ack)
                    FUZZ_CHECK(f->ack.cumulative < next_expected);
            }
        }
        // Two peers (the model and the stranger), each at most channels_per_peer_max sessions
        // of receive_window slots, each slot at most one datagram's payload.
        FUZZ_CHECK(core->buffered_bytes() <= 2 * 4 * size_t{config.receive_window} * 2048);
        now = now + std::chrono::milliseconds(7);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    harness h;
    size_t i = 0;
    while (i + 1 < size) {
        const uint8_t op = data[i];
        const uint8_t arg = data[i + 1];
        i += 2;
        switch (op % 8) {
        case 0:
        case 1:
        case 2: // a genuine frame near the expected position (loss, reorder, duplicates)
            h.deliver_model(static_cast<uint64_t>(
                std::max<int64_t>(1, int64_t(h.next_expected) + (arg % 48) - 8)));
            break;
        case 3: { // raw bytes from a stranger, as a reliable datagram
            const size_t take = std::min<size_t>(arg, size - i);
            std::vector<uint8_t> buf(wire::header_size + packet_head_size + take);
            std::memcpy(buf.data() + wire::header_size + packet_head_size, data + i, take);
            std::memcpy(buf.data() + wire::header_size, data,
                        std::min<size_t>(size, packet_head_size));
            (void)wire::encode_header(
                wire::header{wire::message_type::reliable, 0,
                             static_cast<uint16_t>(buf.size() - wire::header_size)},
                buf);
            h.core->on_packet(h.now, h.stranger, buf);
            h.core->on_packet(h.now, h.stranger, bytes_view(data + i, take));
            i += take;
            break;
        }
        case 4:
            h.core->processed(h.sender, channel_id{1}, h.next_expected - 1 - (arg % 4));
            break;
        case 5:
            h.store.fail_next_commits(arg % 3);
            break;
        case 6: { // crash and restart with the durable state
            auto state = decode_state(h.store.encode());
            FUZZ_CHECK(state.has_value());
            uint64_t processed = 0;
            for (const auto& r : state->receivers)
                if (r.peer == h.sender)
                    processed = r.processed;
            h.start(*state);
            h.next_expected = processed + 1; // at-least-once: what was not durable comes again
            break;
        }
        default:
            h.now = h.now + std::chrono::milliseconds(arg);
            break;
        }
        h.turn();
    }
    return 0;
}
