// Fuzzes the membership state file decoder (membership/state.hpp): no input may crash it, and
// whatever it accepts re-encodes to exactly the input (one encoding per state).
#include <ainet/membership/state.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ainet;
    auto decoded = membership::decode_state(bytes_view(data, size));
    if (!decoded)
        return 0;
    const auto again = membership::encode_state(*decoded);
    if (size != again.size() || std::memcmp(again.data(), data, size) != 0)
        std::abort();
    return 0;
}
