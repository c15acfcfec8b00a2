#include <ainet/reliability/packet.hpp>
#include <ainet/wire/header.hpp>

namespace ainet::reliability {

namespace {

template <class T>
result<T> lift(ainet::result<T, ainet::errc>&& r) noexcept {
    if (!r)
        return fail(from_core(r.error()));
    return std::move(r).value();
}

result<uint64_t> read_varint(byte_reader& r) noexcept {
    return lift(r.varint());
}

result<channel_id> read_channel(byte_reader& r) noexcept {
    AINET_TRY(v, read_varint(r));
    if (v > UINT32_MAX)
        return fail(errc::bad_field);
    return channel_id{static_cast<uint32_t>(v)};
}

// Reads range_count then the (gap, length) pairs above base.
result<void> read_ranges(byte_reader& r, uint64_t base, size_t count_min,
                         range_list& out) noexcept {
    AINET_TRY(count, read_varint(r));
    if (count > ranges_max)
        return fail(errc::too_many_ranges);
    if (count < count_min)
        return fail(errc::bad_field);
    uint64_t previous_end = base;
    for (uint64_t i = 0; i < count; ++i) {
        AINET_TRY(gap, read_varint(r));
        AINET_TRY(length, read_varint(r));
        if (length == 0)
            return fail(errc::bad_field);
        // Overflow-safe: first = previous_end + 1 + gap, last = first + length - 1.
        if (gap >= UINT64_MAX - previous_end)
            return fail(errc::bad_field);
        const uint64_t first = previous_end + 1 + gap;
        if (length - 1 > UINT64_MAX - first)
            return fail(errc::bad_field);
        const uint64_t last = first + (length - 1);
        out.push(seq_range{first, last});
        previous_end = last;
    }
    return {};
}

size_t ranges_size(uint64_t base, const range_list& ranges) noexcept {
    size_t size = varint_size(ranges.count);
    uint64_t previous_end = base;
    for (const seq_range& range : ranges.view()) {
        size +=
            varint_size(range.first - previous_end - 1) + varint_size(range.last - range.first + 1);
        previous_end = range.last;
    }
    return size;
}

void write_ranges(byte_writer& w, uint64_t base, const range_list& ranges) noexcept {
    w.varint(ranges.count);
    uint64_t previous_end = base;
    for (const seq_range& range : ranges.view()) {
        AINET_ASSERT(range.first > previous_end && range.last >= range.first);
        w.varint(range.first - previous_end - 1);
        w.varint(range.last - range.first + 1);
        previous_end = range.last;
    }
}

} // namespace

result<packet_view> decode_packet(bytes_view payload) noexcept {
    if (payload.size() < packet_head_size)
        return fail(errc::truncated);
    byte_reader r(payload);
    packet_view v;
    v.head.sender_epoch = r.u64().value();
    v.head.sender_incarnation = r.u64().value();
    v.head.receiver_epoch = r.u64().value();
    v.frames = r.rest();
    return v;
}

result<packet_view> decode_reliable_datagram(bytes_view datagram) noexcept {
    auto view = wire::decode_datagram(datagram);
    if (!view || view->head.type != wire::message_type::reliable)
        return fail(errc::not_reliable);
    return decode_packet(view->payload);
}

result<frame> frame_reader::next() noexcept {
    byte_reader& r = m_reader;
    AINET_TRY(type, lift(r.u8()));
    frame f;
    switch (static_cast<frame_type>(type)) {
    case frame_type::data: {
        f.type = frame_type::data;
        AINET_TRY(channel, read_channel(r));
        AINET_TRY(seq, read_varint(r));
        AINET_TRY(base_delta, read_varint(r));
        if (seq == 0 || base_delta >= seq)
            return fail(errc::bad_field);
        AINET_TRY(payload, lift(r.length_prefixed(wire::payload_size_max)));
        f.data = data_frame{channel, seq, base_delta, payload};
        return f;
    }
    case frame_type::ack: {
        f.type = frame_type::ack;
        AINET_TRY(channel, read_channel(r));
        AINET_TRY(cumulative, read_varint(r));
        AINET_TRY(window, read_varint(r));
        if (window > UINT32_MAX)
            return fail(errc::bad_field);
        f.ack.channel = channel;
        f.ack.cumulative = cumulative;
        f.ack.window = static_cast<uint32_t>(window);
        AINET_TRY_VOID(read_ranges(r, cumulative, 0, f.ack.ranges));
        return f;
    }
    case frame_type::nack: {
        f.type = frame_type::nack;
        AINET_TRY(channel, read_channel(r));
        AINET_TRY(base, read_varint(r));
        f.nack.channel = channel;
        f.nack.base = base;
        AINET_TRY_VOID(read_ranges(r, base, 1, f.nack.ranges));
        return f;
    }
    }
    return fail(errc::unknown_frame);
}

size_t data_frame_size(const data_frame& f) noexcept {
    return 1 + varint_size(static_cast<uint32_t>(f.channel)) + varint_size(f.seq) +
           varint_size(f.base_delta) + varint_size(f.payload.size()) + f.payload.size();
}

size_t ack_frame_size(const ack_frame& f) noexcept {
    return 1 + varint_size(static_cast<uint32_t>(f.channel)) + varint_size(f.cumulative) +
           varint_size(f.window) + ranges_size(f.cumulative, f.ranges);
}

size_t nack_frame_size(const nack_frame& f) noexcept {
    return 1 + varint_size(static_cast<uint32_t>(f.channel)) + varint_size(f.base) +
           ranges_size(f.base, f.ranges);
}

packet_writer::packet_writer(mutable_bytes out, const packet_head& head) noexcept
    : m_out(out.first(std::min(out.size(), wire::datagram_size_max))),
      m_writer(m_out.subspan(std::min(m_out.size(), wire::header_size))) {
    AINET_ASSERT(out.size() >= wire::header_size + packet_head_size);
    m_writer.u64(head.sender_epoch);
    m_writer.u64(head.sender_incarnation);
    m_writer.u64(head.receiver_epoch);
}

bool packet_writer::add_data(const data_frame& f) noexcept {
    AINET_ASSERT(f.seq >= 1 && f.base_delta < f.seq);
    if (data_frame_size(f) > m_writer.remaining())
        return false;
    m_writer.u8(static_cast<uint8_t>(frame_type::data));
    m_writer.varint(static_cast<uint32_t>(f.channel));
    m_writer.varint(f.seq);
    m_writer.varint(f.base_delta);
    m_writer.length_prefixed(f.payload);
    AINET_ASSERT(m_writer.ok());
    ++m_frame_count;
    return true;
}

bool packet_writer::add_ack(const ack_frame& f) noexcept {
    if (ack_frame_size(f) > m_writer.remaining())
        return false;
    m_writer.u8(static_cast<uint8_t>(frame_type::ack));
    m_writer.varint(static_cast<uint32_t>(f.channel));
    m_writer.varint(f.cumulative);
    m_writer.varint(f.window);
    write_ranges(m_writer, f.cumulative, f.ranges);
    AINET_ASSERT(m_writer.ok());
    ++m_frame_count;
    return true;
}

bool packet_writer::add_nack(const nack_frame& f) noexcept {
    AINET_ASSERT(f.ranges.count >= 1);
    if (nack_frame_size(f) > m_writer.remaining())
        return false;
    m_writer.u8(static_cast<uint8_t>(frame_type::nack));
    m_writer.varint(static_cast<uint32_t>(f.channel));
    m_writer.varint(f.base);
    write_ranges(m_writer, f.base, f.ranges);
    AINET_ASSERT(m_writer.ok());
    ++m_frame_count;
    return true;
}

size_t packet_writer::finish() noexcept {
    AINET_ASSERT(m_writer.ok());
    const size_t payload_size = m_writer.position();
    const auto ok = wire::encode_header(
        wire::header{wire::message_type::reliable, 0, static_cast<uint16_t>(payload_size)}, m_out);
    AINET_ASSERT(ok.has_value());
    return wire::header_size + payload_size;
}

} // namespace ainet::reliability
