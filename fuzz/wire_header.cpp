// Fuzzes whole datagrams: decode_header must never crash, an accepted header must re-encode to
// the same 8 bytes, and a datagram decode_message accepts must re-encode to the same bytes.
#include "wire_roundtrip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ainet::wire::fuzz::check_datagram_roundtrip(data, size);
    return 0;
}
