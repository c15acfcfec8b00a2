// Fuzzes the membership push_pull decoder: no input may crash it, and every payload it accepts must
// re-encode to the same bytes (membership_roundtrip.hpp).
#include "membership_roundtrip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ainet::membership::fuzz::check_payload_roundtrip(
        ainet::wire::message_type::membership_push_pull, data, size);
    return 0;
}
