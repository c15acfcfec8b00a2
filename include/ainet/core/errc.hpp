#pragma once
// Error codes of the core module: what can go wrong reading or writing bytes and text encodings.

#include <cstdint>
#include <string_view>

namespace ainet {

enum class errc : uint8_t {
    truncated = 1,        // the input ended before the field did
    buffer_full,          // the output buffer has no room for the field
    varint_overlong,      // a varint longer than 10 bytes, or with more than 64 bits of value
    varint_noncanonical,  // a varint with needless trailing zero groups (two encodings of one value)
    length_exceeds_limit, // a length prefix above the caller's maximum
    trailing_bytes,       // bytes left over after a complete object
    bad_hex,              // odd length or a character outside [0-9a-fA-F]
    bad_base64,           // bad alphabet, padding or non-zero trailing bits
    wrong_size,           // a fixed-size field decoded to another size
    bad_endpoint,         // not an "ip:port" or "[ipv6]:port" with a port in 1..65535
};

[[nodiscard]] std::string_view to_string(errc e) noexcept;

} // namespace ainet
