#include <ainet/core/rng.hpp>

#include <bit>

namespace ainet {

uint64_t log2_q32(uint64_t x) noexcept {
    AINET_ASSERT(x >= 1);
    const int integer = 63 - std::countl_zero(x);
    uint64_t result = uint64_t(static_cast<uint32_t>(integer)) << 32;
    // The mantissa x / 2^integer in [1, 2) as Q2.62 (1.0 = 2^62).
    uint64_t y = integer <= 62 ? x << (62 - integer) : x >> (integer - 62);
    constexpr uint64_t two = uint64_t{1} << 63;
    for (int bit = 31; bit >= 0; --bit) {
        y = static_cast<uint64_t>((uint128_t{y} * y) >> 62); // y^2, in [1, 4)
        if (y >= two) {
            y >>= 1;
            result |= uint64_t{1} << bit;
        }
    }
    return result;
}

duration rng::exponential(duration mean, duration cap) noexcept {
    AINET_ASSERT(mean.count() >= 0 && cap.count() >= 0);
    if (mean.count() == 0 || cap.count() == 0)
        return duration{0};
    const uint64_t x = (next() >> 11) + 1; // [1, 2^53]
    const uint64_t neg_log2_q32 = (uint64_t{53} << 32) - log2_q32(x);
    constexpr uint64_t ln2_q32 = 2977044472; // round(ln 2 * 2^32)
    const uint128_t neg_ln_q32 = (uint128_t{neg_log2_q32} * ln2_q32) >> 32;
    const uint128_t ns = (neg_ln_q32 * static_cast<uint64_t>(mean.count())) >> 32;
    const auto cap_ns = static_cast<uint64_t>(cap.count());
    return duration{static_cast<int64_t>(ns > cap_ns ? cap_ns : static_cast<uint64_t>(ns))};
}

} // namespace ainet
