// Fuzzes decode_hello: no input may crash it, and every payload it accepts must re-encode to the
// same bytes (decode -> encode -> identical), or the target aborts.
#include "wire_roundtrip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ainet::wire::fuzz::check_payload_roundtrip(
        data, size, [](ainet::bytes_view payload) { return ainet::wire::decode_hello(payload); });
    return 0;
}
