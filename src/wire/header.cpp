#include <ainet/wire/header.hpp>

namespace ainet::wire {

bool is_defined(message_type type) noexcept {
    switch (type) {
    case message_type::hello_request:
    case message_type::hello_challenge:
    case message_type::hello:
    case message_type::hello_ack:
    case message_type::relay_data:
    case message_type::ping:
    case message_type::pong:
    case message_type::membership_ping:
    case message_type::membership_ack:
    case message_type::membership_ping_req:
    case message_type::membership_nack:
    case message_type::membership_gossip:
    case message_type::membership_push_pull:
    case message_type::sync_begin:
    case message_type::sync_reply:
    case message_type::sync_descend:
    case message_type::sync_buckets:
    case message_type::sync_wants:
    case message_type::sync_entries:
    case message_type::sync_end:
    case message_type::reliable:
        return true;
    }
    return false;
}

std::string_view to_string(message_type type) noexcept {
    switch (type) {
    case message_type::hello_request:
        return "hello_request";
    case message_type::hello_challenge:
        return "hello_challenge";
    case message_type::hello:
        return "hello";
    case message_type::hello_ack:
        return "hello_ack";
    case message_type::relay_data:
        return "relay_data";
    case message_type::ping:
        return "ping";
    case message_type::pong:
        return "pong";
    case message_type::membership_ping:
        return "membership_ping";
    case message_type::membership_ack:
        return "membership_ack";
    case message_type::membership_ping_req:
        return "membership_ping_req";
    case message_type::membership_nack:
        return "membership_nack";
    case message_type::membership_gossip:
        return "membership_gossip";
    case message_type::membership_push_pull:
        return "membership_push_pull";
    case message_type::sync_begin:
        return "sync_begin";
    case message_type::sync_reply:
        return "sync_reply";
    case message_type::sync_descend:
        return "sync_descend";
    case message_type::sync_buckets:
        return "sync_buckets";
    case message_type::sync_wants:
        return "sync_wants";
    case message_type::sync_entries:
        return "sync_entries";
    case message_type::sync_end:
        return "sync_end";
    case message_type::reliable:
        return "reliable";
    }
    return "unknown";
}

result<void> encode_header(const header& h, mutable_bytes out) noexcept {
    if (!is_defined(h.type))
        return fail(errc::unknown_type);
    if ((h.flags & ~flags_defined_mask) != 0)
        return fail(errc::bad_flags);
    if (h.payload_size > payload_size_max)
        return fail(errc::field_too_long);
    if (out.size() < header_size)
        return fail(errc::buffer_full);
    byte_writer w(out.first(header_size));
    w.u8(magic_byte_0);
    w.u8(magic_byte_1);
    w.u8(protocol_version);
    w.u8(static_cast<uint8_t>(h.type));
    w.u8(h.flags);
    w.u8(0);
    w.u16(h.payload_size);
    AINET_ASSERT(w.ok() && w.position() == header_size);
    return {};
}

result<header> decode_header(bytes_view datagram) noexcept {
    if (datagram.size() < header_size)
        return fail(errc::truncated);
    if (datagram.size() > datagram_size_max)
        return fail(errc::datagram_too_large);
    // Every read below is in bounds: the datagram holds at least header_size bytes.
    byte_reader r(datagram.first(header_size));
    const uint8_t magic_0 = r.u8().value();
    const uint8_t magic_1 = r.u8().value();
    if (magic_0 != magic_byte_0 || magic_1 != magic_byte_1)
        return fail(errc::bad_magic);
    if (r.u8().value() != protocol_version)
        return fail(errc::unsupported_version);
    header h;
    h.type = static_cast<message_type>(r.u8().value());
    if (!is_defined(h.type))
        return fail(errc::unknown_type);
    h.flags = r.u8().value();
    if ((h.flags & ~flags_defined_mask) != 0)
        return fail(errc::bad_flags);
    if (r.u8().value() != 0)
        return fail(errc::bad_reserved);
    h.payload_size = r.u16().value();
    if (h.payload_size != datagram.size() - header_size)
        return fail(errc::size_mismatch);
    return h;
}

result<datagram_view> decode_datagram(bytes_view datagram) noexcept {
    AINET_TRY(h, decode_header(datagram));
    return datagram_view{h, datagram.subspan(header_size)};
}

} // namespace ainet::wire
