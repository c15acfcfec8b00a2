// Fuzzes decode_ping and decode_pong (one layout, two types): no input may crash them, and every
// payload they accept must re-encode to the same bytes, or the target aborts.
#include "wire_roundtrip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using ainet::bytes_view;
    ainet::wire::fuzz::check_payload_roundtrip(
        data, size, [](bytes_view payload) { return ainet::wire::decode_ping(payload); });
    ainet::wire::fuzz::check_payload_roundtrip(
        data, size, [](bytes_view payload) { return ainet::wire::decode_pong(payload); });
    return 0;
}
