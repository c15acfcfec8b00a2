// Fuzzes the hex and base64 decoders: no input may crash them, and whatever they accept must
// re-encode to the same bytes (one text per byte string).
#include <ainet/core/encoding.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto decoded = ainet::from_hex(text)) {
        if (ainet::from_hex(ainet::to_hex(*decoded)).value() != *decoded)
            std::abort();
    }
    if (auto decoded = ainet::from_base64(text)) {
        if (ainet::to_base64(*decoded) != text)
            std::abort();
    }
    return 0;
}
