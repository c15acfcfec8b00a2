#pragma once
// Shared check of the membership message fuzz targets: no input may crash a decoder, and every
// payload a decoder accepts must encode back to exactly the header + that payload (one encoding
// per message), no larger than membership::datagram_size_max; else abort for libFuzzer.

#include <ainet/membership/messages.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace ainet::membership::fuzz {

inline void check_payload_roundtrip(wire::message_type type, const uint8_t* data, size_t size) {
    const bytes_view payload(data, size);
    auto decoded = decode_payload(type, payload);
    if (!decoded)
        return;
    static std::array<uint8_t, datagram_size_max> out;
    auto written = encode(*decoded, out);
    if (!written || *written != wire::header_size + size || *written > datagram_size_max ||
        !std::equal(payload.begin(), payload.end(), out.begin() + wire::header_size))
        std::abort();
    auto again = decode(bytes_view(out).first(*written));
    if (!again || !(*again == *decoded))
        std::abort();
}

} // namespace ainet::membership::fuzz
