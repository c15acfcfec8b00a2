// Fuzzes the key file parser: no input may crash it, and whatever it accepts must format back
// to exactly the same text (one text per key) and re-parse to the same key.
#include <ainet/crypto/ed25519.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = ainet::crypto::parse_key_file(text);
    if (!parsed)
        return 0;
    const std::string formatted = ainet::crypto::format_key_file(*parsed);
    if (formatted != text)
        std::abort();
    const auto again = ainet::crypto::parse_key_file(formatted);
    if (!again || again->secret_seed() != parsed->secret_seed() ||
        again->public_key_bytes() != parsed->public_key_bytes())
        std::abort();
    return 0;
}
