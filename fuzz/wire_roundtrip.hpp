#pragma once
// Shared check of the wire fuzz targets: whatever a decoder accepts must encode back to exactly
// the bytes it was decoded from (one encoding per message), else abort so libFuzzer reports it.

#include <ainet/wire/messages.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace ainet::wire::fuzz {

// The input is a payload (what decode_<name> takes). If decode accepts it, encode the message
// and require header + payload == a fresh header + the input, and that the whole datagram
// decodes through decode_message to the same message.
template <class Decode>
void check_payload_roundtrip(const uint8_t* data, size_t size, Decode decode) {
    const bytes_view payload(data, size);
    auto decoded = decode(payload);
    if (!decoded)
        return;
    static std::array<uint8_t, datagram_size_max> out;
    auto written = encode(*decoded, out);
    if (!written || *written != header_size + size ||
        !std::equal(payload.begin(), payload.end(), out.begin() + header_size))
        std::abort();
    const bytes_view datagram = bytes_view(out).first(*written);
    auto again = decode_message(datagram);
    if (!again || !(*again == message(*decoded)))
        std::abort();
}

// The input is a whole datagram. The header must re-encode identically, and an accepted message
// must re-encode to the whole input.
inline void check_datagram_roundtrip(const uint8_t* data, size_t size) {
    const bytes_view datagram(data, size);
    auto head = decode_header(datagram);
    if (!head)
        return;
    std::array<uint8_t, header_size> header_bytes{};
    if (!encode_header(*head, header_bytes) ||
        !std::equal(header_bytes.begin(), header_bytes.end(), datagram.begin()))
        std::abort();
    auto decoded = decode_message(datagram);
    if (!decoded)
        return;
    static std::array<uint8_t, datagram_size_max> out;
    auto written = encode(*decoded, out);
    if (!written || *written != size || !std::equal(datagram.begin(), datagram.end(), out.begin()))
        std::abort();
}

} // namespace ainet::wire::fuzz
