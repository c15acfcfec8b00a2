// Fuzzes the JCS canonicalizer: no input may crash it, and its output is valid UTF-8, parses,
// and is a fixed point: canonicalize(canonicalize(x)) == canonicalize(x).
#include <ainet/discovery/jcs.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr size_t text_size_max = 1 << 20;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto once = ainet::discovery::canonicalize(text, text_size_max);
    if (!once)
        return 0;
    if (!ainet::discovery::is_valid_utf8(*once))
        std::abort();
    auto twice = ainet::discovery::canonicalize(*once, text_size_max);
    if (!twice || *twice != *once)
        std::abort();
    return 0;
}
