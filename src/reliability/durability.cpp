#include <ainet/reliability/durability.hpp>
#include <ainet/wire/header.hpp>

#include <cstring>

namespace ainet::reliability {

namespace {

template <class T>
result<T> lift(ainet::result<T, ainet::errc>&& r) noexcept {
    if (!r)
        return fail(from_core(r.error()));
    return std::move(r).value();
}

result<node_id> read_peer(byte_reader& r) {
    AINET_TRY(bytes, lift(r.fixed<node_id_size>()));
    return node_id{bytes};
}

result<channel_id> read_channel(byte_reader& r) {
    AINET_TRY(v, lift(r.varint()));
    if (v > UINT32_MAX)
        return fail(errc::bad_field);
    return channel_id{static_cast<uint32_t>(v)};
}

// A count that the remaining bytes could hold at min_entry_size each (no huge reservations).
result<uint64_t> read_count(byte_reader& r, size_t min_entry_size) {
    AINET_TRY(count, lift(r.varint()));
    if (count > r.remaining() / min_entry_size)
        return fail(errc::truncated);
    return count;
}

uint32_t raw(channel_id c) noexcept {
    return static_cast<uint32_t>(c);
}

} // namespace

result<void> memory_store::commit(std::span<const persist_record> records) noexcept {
    if (m_fail_count > 0) {
        --m_fail_count;
        return fail(errc::store_failed);
    }
    for (const persist_record& rec : records) {
        const session_key session{rec.peer, raw(rec.channel)};
        switch (rec.kind) {
        case record_kind::outbox_put:
            m_outbox[key{rec.peer, raw(rec.channel), rec.seq}] = stored_message{
                rec.message, std::vector<uint8_t>(rec.payload.begin(), rec.payload.end())};
            break;
        case record_kind::sender_acked: {
            auto it = m_outbox.lower_bound(key{rec.peer, raw(rec.channel), 0});
            while (it != m_outbox.end() && std::get<0>(it->first) == rec.peer &&
                   std::get<1>(it->first) == raw(rec.channel) && std::get<2>(it->first) <= rec.seq)
                it = m_outbox.erase(it);
            uint64_t& acked = m_senders[session];
            acked = std::max(acked, rec.seq);
            break;
        }
        case record_kind::receiver_watermark:
            m_receivers[session] = {rec.epoch, rec.seq};
            break;
        case record_kind::meta:
            m_epoch = rec.epoch;
            m_next_message = rec.message;
            break;
        }
    }
    ++m_commits;
    return {};
}

recovered_state memory_store::state() const {
    recovered_state s;
    s.stream_epoch = m_epoch;
    s.next_message = m_next_message;
    for (const auto& [k, v] : m_outbox)
        s.outbox.push_back(
            {std::get<0>(k), channel_id{std::get<1>(k)}, std::get<2>(k), v.message, v.payload});
    for (const auto& [k, v] : m_senders)
        s.senders.push_back({k.first, channel_id{k.second}, v});
    for (const auto& [k, v] : m_receivers)
        s.receivers.push_back({k.first, channel_id{k.second}, v.first, v.second});
    return s;
}

std::vector<uint8_t> memory_store::encode() const {
    return encode_state(state());
}

void memory_store::load(const recovered_state& state) {
    m_outbox.clear();
    m_senders.clear();
    m_receivers.clear();
    m_epoch = state.stream_epoch;
    m_next_message = state.next_message;
    for (const auto& m : state.outbox)
        m_outbox[key{m.peer, raw(m.channel), m.seq}] = stored_message{m.message, m.payload};
    for (const auto& p : state.senders)
        m_senders[session_key{p.peer, raw(p.channel)}] = p.acked;
    for (const auto& p : state.receivers)
        m_receivers[session_key{p.peer, raw(p.channel)}] = {p.epoch, p.processed};
}

std::vector<uint8_t> encode_state(const recovered_state& state) {
    size_t size = 1 + 8 + varint_size_max + 3 * varint_size_max;
    for (const auto& m : state.outbox)
        size += node_id_size + 3 * varint_size_max + varint_size_max + m.payload.size();
    size +=
        (state.senders.size() + state.receivers.size()) * (node_id_size + 3 * varint_size_max + 8);
    std::vector<uint8_t> out(size);
    byte_writer w(out);
    w.u8(1);
    w.u64(state.stream_epoch);
    w.varint(state.next_message);
    w.varint(state.outbox.size());
    for (const auto& m : state.outbox) {
        w.bytes(bytes_view(m.peer.bytes));
        w.varint(raw(m.channel));
        w.varint(m.seq);
        w.varint(m.message);
        w.length_prefixed(bytes_view(m.payload));
    }
    w.varint(state.senders.size());
    for (const auto& p : state.senders) {
        w.bytes(bytes_view(p.peer.bytes));
        w.varint(raw(p.channel));
        w.varint(p.acked);
    }
    w.varint(state.receivers.size());
    for (const auto& p : state.receivers) {
        w.bytes(bytes_view(p.peer.bytes));
        w.varint(raw(p.channel));
        w.u64(p.epoch);
        w.varint(p.processed);
    }
    const auto written = w.finish();
    AINET_ASSERT(written.has_value());
    out.resize(*written);
    return out;
}

result<recovered_state> decode_state(bytes_view blob) {
    if (blob.size() > state_blob_size_max)
        return fail(errc::field_too_long);
    byte_reader r(blob);
    AINET_TRY(version, lift(r.u8()));
    if (version != 1)
        return fail(errc::bad_field);
    recovered_state s;
    AINET_TRY(epoch, lift(r.u64()));
    s.stream_epoch = epoch;
    AINET_TRY(next_message, lift(r.varint()));
    s.next_message = next_message;

    AINET_TRY(outbox_count, read_count(r, node_id_size + 4));
    s.outbox.reserve(outbox_count);
    for (uint64_t i = 0; i < outbox_count; ++i) {
        recovered_state::outbox_message m;
        AINET_TRY(peer, read_peer(r));
        AINET_TRY(channel, read_channel(r));
        AINET_TRY(seq, lift(r.varint()));
        AINET_TRY(message, lift(r.varint()));
        AINET_TRY(payload, lift(r.length_prefixed(wire::payload_size_max)));
        if (seq == 0 || message >= s.next_message)
            return fail(errc::bad_field);
        m.peer = peer;
        m.channel = channel;
        m.seq = seq;
        m.message = message;
        m.payload.assign(payload.begin(), payload.end());
        if (!s.outbox.empty()) {
            const auto& b = s.outbox.back();
            if (std::tie(b.peer, b.channel, b.seq) >= std::tie(m.peer, m.channel, m.seq))
                return fail(errc::bad_state);
            // A session's outbox is contiguous: a hole would be a message the receiver waits
            // for and nobody sends.
            if (b.peer == m.peer && b.channel == m.channel && m.seq != b.seq + 1)
                return fail(errc::bad_state);
        }
        s.outbox.push_back(std::move(m));
    }
    AINET_TRY(sender_count, read_count(r, node_id_size + 2));
    s.senders.reserve(sender_count);
    for (uint64_t i = 0; i < sender_count; ++i) {
        AINET_TRY(peer, read_peer(r));
        AINET_TRY(channel, read_channel(r));
        AINET_TRY(acked, lift(r.varint()));
        if (!s.senders.empty() &&
            std::tie(s.senders.back().peer, s.senders.back().channel) >= std::tie(peer, channel))
            return fail(errc::bad_state);
        s.senders.push_back({peer, channel, acked});
    }
    AINET_TRY(receiver_count, read_count(r, node_id_size + 10));
    s.receivers.reserve(receiver_count);
    for (uint64_t i = 0; i < receiver_count; ++i) {
        AINET_TRY(peer, read_peer(r));
        AINET_TRY(channel, read_channel(r));
        AINET_TRY(epoch_of_peer, lift(r.u64()));
        AINET_TRY(processed, lift(r.varint()));
        if (!s.receivers.empty() && std::tie(s.receivers.back().peer, s.receivers.back().channel) >=
                                        std::tie(peer, channel))
            return fail(errc::bad_state);
        s.receivers.push_back({peer, channel, epoch_of_peer, processed});
    }
    if (!r.at_end())
        return fail(errc::trailing_bytes);
    // Every outbox message lies above its session's acknowledged position.
    size_t sender = 0;
    for (const auto& m : s.outbox) {
        while (sender < s.senders.size() &&
               std::tie(s.senders[sender].peer, s.senders[sender].channel) <
                   std::tie(m.peer, m.channel))
            ++sender;
        if (sender < s.senders.size() && s.senders[sender].peer == m.peer &&
            s.senders[sender].channel == m.channel && m.seq <= s.senders[sender].acked)
            return fail(errc::bad_state);
    }
    return s;
}

} // namespace ainet::reliability
