#pragma once
// relay_data: an opaque application payload addressed from one node to another through relays.
//
//     destination node id (32) || source node id (32) || hop_limit u8 (1..16) || payload (rest)
//
// A relay that forwards a datagram decrements hop_limit and drops it at zero; since the hop
// limit sits at a fixed offset (relay_data_hop_limit_offset, from the start of the datagram) it
// can do so in place without re-encoding. The payload is the rest of the datagram, at most
// relay_payload_size_max bytes (the runtime's configured datagram_size_max may be smaller).
//
// Data path: decode_relay_data() borrows the payload from the receive buffer (no copy), so the
// decoded struct is valid only while that buffer is; encode() copies the payload into the
// caller's send buffer. No allocation, no state, any thread. Spec: docs/PROTOCOL.md.

#include <ainet/core/bytes.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/wire/errc.hpp>
#include <ainet/wire/header.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace ainet::wire {

inline constexpr uint8_t hop_limit_max = 16;
inline constexpr size_t relay_data_fixed_size = node_id_size + node_id_size + 1;
inline constexpr size_t relay_payload_size_max = payload_size_max - relay_data_fixed_size;
inline constexpr size_t relay_data_hop_limit_offset = header_size + 2 * node_id_size;
static_assert(relay_payload_size_max == 65434);

struct relay_data {
    static constexpr message_type type = message_type::relay_data;
    node_id destination;
    node_id source;
    uint8_t hop_limit = 0; // 1..hop_limit_max; 0 has no encoding
    bytes_view payload;    // borrowed

    // Equal when the ids and hop limit match and the payloads hold the same bytes.
    friend bool operator==(const relay_data& a, const relay_data& b) noexcept {
        return a.destination == b.destination && a.source == b.source &&
               a.hop_limit == b.hop_limit &&
               std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
    }
};

// Datagram size (header included).
[[nodiscard]] size_t encoded_size(const relay_data& m) noexcept;

// Errors: bad_field (hop_limit 0 or above hop_limit_max), field_too_long (payload above
// relay_payload_size_max), buffer_full.
[[nodiscard]] result<size_t> encode(const relay_data& m, mutable_bytes out) noexcept;

// Errors: truncated, bad_field (hop limit), field_too_long. The result borrows from payload.
[[nodiscard]] result<relay_data> decode_relay_data(bytes_view payload) noexcept;

} // namespace ainet::wire
