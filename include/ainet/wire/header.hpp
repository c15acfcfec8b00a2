#pragma once
// The datagram header: the 8 bytes in front of everything ainet sends over UDP.
//
//     offset 0  magic          2 bytes  A1 4E
//     offset 2  version        u8       protocol_version (1)
//     offset 3  type           u8       message_type
//     offset 4  flags          u8       only bits in flags_defined_mask (none in version 1)
//     offset 5  reserved       u8       0
//     offset 6  payload_size   u16 LE   exactly the number of bytes after the header
//
// decode_datagram() is the first thing the receive path runs on untrusted bytes: it validates
// the header against the whole datagram and hands back the type and a borrowed view of the
// payload, which the per-type decoder (handshake.hpp, relay_data.hpp, ping.hpp, or
// decode_message() in messages.hpp) then parses. Pure functions on bytes: no allocation, no
// state, any thread. Spec: docs/PROTOCOL.md, "Datagram header".

#include <ainet/core/bytes.hpp>
#include <ainet/wire/errc.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ainet::wire {

inline constexpr uint8_t magic_byte_0 = 0xA1;
inline constexpr uint8_t magic_byte_1 = 0x4E;
inline constexpr uint8_t protocol_version = 1;
inline constexpr size_t header_size = 8;
// The largest datagram the protocol allows: the largest UDP payload over IPv4 (65535 - 20 IP -
// 8 UDP). A node's configured limits.datagram_size_max (default 1472) may be smaller; the
// runtime enforces that one when it sizes its receive buffers.
inline constexpr size_t datagram_size_max = 65507;
inline constexpr size_t payload_size_max = datagram_size_max - header_size;
static_assert(payload_size_max <= UINT16_MAX, "payload_size is a u16");

// Message type codes. Stable: a code never changes meaning. Ranges are reserved per protocol
// area (docs/PROTOCOL.md, "Message types") so later issues add codes without renumbering.
enum class message_type : uint8_t {
    // 0x01..0x0f: relay handshake
    hello_request = 0x01,
    hello_challenge = 0x02,
    hello = 0x03,
    hello_ack = 0x04,
    // 0x10..0x1f: relayed traffic
    relay_data = 0x10,
    // 0x20..0x2f: liveness
    ping = 0x20,
    pong = 0x21,
    // 0x30..0x3f: membership (SWIM + Lifeguard; codecs in include/ainet/membership/messages.hpp)
    membership_ping = 0x30,
    membership_ack = 0x31,
    membership_ping_req = 0x32,
    membership_nack = 0x33,
    membership_gossip = 0x34,
    membership_push_pull = 0x35,
    // 0x40..0x4f: registry anti-entropy (include/ainet/sync/messages.hpp)
    sync_begin = 0x40,
    sync_reply = 0x41,
    sync_descend = 0x42,
    sync_buckets = 0x43,
    sync_wants = 0x44,
    sync_entries = 0x45,
    sync_end = 0x46,
    // 0x50..0x5f: reliability (end to end; a relay forwards these inside relay_data unread)
    reliable = 0x50, // sequenced data, acks and NACKs: reliability/packet.hpp
};

// True when the code is one this protocol version defines.
[[nodiscard]] bool is_defined(message_type type) noexcept;
[[nodiscard]] std::string_view to_string(message_type type) noexcept;

// Header flag bits. Version 1 defines none, so the flags byte must be zero; a later version
// adds bits here and to docs/PROTOCOL.md. A set bit outside the mask is rejected (bad_flags)
// rather than ignored, so that every datagram has one meaning and one encoding.
inline constexpr uint8_t flags_defined_mask = 0x00;

struct header {
    message_type type = message_type::ping;
    uint8_t flags = 0;
    uint16_t payload_size = 0;

    friend constexpr bool operator==(const header&, const header&) = default;
};

// Writes the 8 header bytes to out.first(header_size). Fails with buffer_full when out is
// shorter than header_size, unknown_type, bad_flags, or field_too_long when payload_size is
// above payload_size_max.
[[nodiscard]] result<void> encode_header(const header& h, mutable_bytes out) noexcept;

// Validates the header of a complete datagram, in this order: at least header_size bytes
// (truncated), at most datagram_size_max (datagram_too_large), magic (bad_magic), version
// (unsupported_version), type (unknown_type), flags (bad_flags), reserved (bad_reserved), and
// payload_size == datagram.size() - header_size (size_mismatch).
[[nodiscard]] result<header> decode_header(bytes_view datagram) noexcept;

// A validated datagram: its header and its payload, borrowed from the datagram's buffer (valid
// only while that buffer is).
struct datagram_view {
    header head;
    bytes_view payload;
};

// decode_header(), then the payload as a view.
[[nodiscard]] result<datagram_view> decode_datagram(bytes_view datagram) noexcept;

} // namespace ainet::wire
