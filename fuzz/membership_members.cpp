// Fuzzes the member snapshot decoder (membership/state.hpp): no input may crash it, and whatever
// it accepts re-encodes to exactly the input (one encoding per snapshot), so a snapshot read
// back and written again never drifts.
#include <ainet/membership/state.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ainet;
    auto decoded = membership::decode_members(bytes_view(data, size));
    if (!decoded)
        return 0;
    const auto again = membership::encode_members(decoded->written_at_ms, decoded->members);
    if (size != again.size() || std::memcmp(again.data(), data, size) != 0)
        std::abort();
    return 0;
}
