#pragma once
// Error codes of the wire module: why a datagram or a message was rejected, or why one could not
// be encoded. Every decoder returns one of these for malformed input (never asserts, never
// throws); the runtime counts each rejected datagram under the code's name. Pure values, any
// thread, no allocation. docs/PROTOCOL.md states which check raises which code.

#include <ainet/core/errc.hpp>
#include <ainet/core/result.hpp>

#include <cstdint>
#include <string_view>

namespace ainet::wire {

enum class errc : uint8_t {
    truncated = 1,       // the datagram or payload ended before a field did
    trailing_bytes,      // bytes left after the last field of a message
    buffer_full,         // encode: the caller's output buffer is too small
    bad_magic,           // the first two bytes are not A1 4E (not an ainet datagram)
    unsupported_version, // a header version other than protocol_version
    unknown_type,        // a message type code this version does not define
    bad_flags,           // a flag bit set that this version does not define
    bad_reserved,        // the reserved header byte is not zero
    size_mismatch,       // header payload_size differs from the bytes that follow the header
    datagram_too_large,  // a datagram above datagram_size_max
    field_too_long,      // a variable-size field above its documented maximum
    non_canonical,       // a varint that is overlong or not minimally encoded
    bad_padding,         // padding that is not all zero bytes
    bad_endpoint,        // endpoint family not 4/6, port 0, or an IPv4-mapped IPv6 address
    bad_field,           // a value outside its documented range (hop limit, expiry, lease)
};

[[nodiscard]] std::string_view to_string(errc e) noexcept;

// The wire error a core byte_reader/byte_writer error stands for.
[[nodiscard]] errc from_core(ainet::errc e) noexcept;

template <class T>
using result = ainet::result<T, errc>;

} // namespace ainet::wire
