#pragma once
// Deterministic randomness for the simulator and the runtime's fault layer: splitmix64 (seed
// expansion) and xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number
// generators", 2018), both our own code. Not for secrets (keys and batch-verification
// coefficients come from libsodium's CSPRNG).
//
// Everything derived from a draw uses integer arithmetic only (no std::*_distribution, whose
// output is implementation-defined, and no libm, whose last bits differ between libraries), so
// one seed gives the same run on every compiler and CPU. Probabilities are fixed-point
// thresholds fixed once from a double (scaling by a power of two is exact). Plain values, no
// allocation; one owner at a time (the world owns the network stream, each node its own).

#include <ainet/core/assert.hpp>
#include <ainet/core/time.hpp>

#include <array>
#include <cstdint>

namespace ainet {

__extension__ typedef unsigned __int128 uint128_t;

// Advances state and returns the next splitmix64 output (Steele, Lea & Flood, OOPSLA 2014).
[[nodiscard]] constexpr uint64_t splitmix64(uint64_t& state) noexcept {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// A seed for a derived stream: mixes a parent seed with stream labels, so per-node streams are
// independent of each other and of the network stream.
[[nodiscard]] constexpr uint64_t derive_seed(uint64_t seed, uint64_t label_a,
                                             uint64_t label_b = 0) noexcept {
    uint64_t state = seed;
    uint64_t out = splitmix64(state);
    state ^= label_a * 0xd1342543de82ef95ull;
    out ^= splitmix64(state);
    state ^= label_b * 0xa0761d6478bd642full;
    return out ^ splitmix64(state);
}

// A probability in [0, 1] as a 53-bit fixed-point threshold (resolution 2^-53).
class probability {
public:
    constexpr probability() noexcept = default;
    // p must be in [0, 1]; anything else is a configuration bug and asserts.
    [[nodiscard]] static probability from_double(double p) noexcept {
        AINET_ASSERT_MSG(p >= 0.0 && p <= 1.0, "probability outside [0, 1]");
        // p * 2^53 is exact (a power-of-two scale) and at most 2^53, so the conversion is exact
        // up to truncation, identically everywhere.
        return probability{static_cast<uint64_t>(p * 9007199254740992.0)};
    }
    [[nodiscard]] static constexpr probability never() noexcept { return probability{0}; }
    [[nodiscard]] static constexpr probability always() noexcept { return probability{one}; }
    [[nodiscard]] constexpr bool is_never() const noexcept { return m_threshold == 0; }
    [[nodiscard]] constexpr uint64_t threshold() const noexcept { return m_threshold; }

    static constexpr uint64_t one = uint64_t{1} << 53;

private:
    constexpr explicit probability(uint64_t threshold) noexcept : m_threshold(threshold) {}
    uint64_t m_threshold = 0;
};

class rng {
public:
    // The four state words come from splitmix64(seed), so any seed (0 included) is fine.
    constexpr explicit rng(uint64_t seed = 0) noexcept {
        uint64_t state = seed;
        for (auto& word : m_state)
            word = splitmix64(state);
    }

    // A generator with exactly this state (for known-answer tests); not all zero.
    [[nodiscard]] static constexpr rng from_state(const std::array<uint64_t, 4>& state) noexcept {
        rng r;
        r.m_state = state;
        return r;
    }

    // The next 64 random bits (xoshiro256**).
    constexpr uint64_t next() noexcept {
        const uint64_t result = rotl(m_state[1] * 5, 7) * 9;
        const uint64_t t = m_state[1] << 17;
        m_state[2] ^= m_state[0];
        m_state[3] ^= m_state[1];
        m_state[1] ^= m_state[2];
        m_state[0] ^= m_state[3];
        m_state[2] ^= t;
        m_state[3] = rotl(m_state[3], 45);
        return result;
    }

    // Uniform in [0, bound), bound > 0, without modulo bias (Lemire, "Fast random integer
    // generation in an interval", 2019). Rejection happens with probability < bound / 2^64.
    uint64_t below(uint64_t bound) noexcept {
        AINET_ASSERT(bound > 0);
        uint128_t m = uint128_t{next()} * bound;
        auto low = static_cast<uint64_t>(m);
        if (low < bound) {
            const uint64_t floor = (0 - bound) % bound;
            while (low < floor) {
                m = uint128_t{next()} * bound;
                low = static_cast<uint64_t>(m);
            }
        }
        return static_cast<uint64_t>(m >> 64);
    }

    // Uniform in [low, high] (inclusive), low <= high.
    uint64_t between(uint64_t low, uint64_t high) noexcept {
        AINET_ASSERT(low <= high);
        if (high - low == UINT64_MAX)
            return next();
        return low + below(high - low + 1);
    }

    // True with probability p. Draws nothing when p is never (so a fault that is switched off
    // does not shift the stream of the faults that are on).
    bool chance(probability p) noexcept {
        if (p.is_never())
            return false;
        return (next() >> 11) < p.threshold();
    }

    // Uniform duration in [low, high], low <= high.
    duration uniform(duration low, duration high) noexcept {
        AINET_ASSERT(low <= high);
        const auto span = static_cast<uint64_t>(high.count() - low.count());
        return low + duration{static_cast<int64_t>(between(0, span))};
    }

    // Exponentially distributed with the given mean (>= 0), capped at cap, computed in fixed
    // point: -ln(U) = (53 - log2(x)) * ln 2 for x = U * 2^53 uniform in [1, 2^53].
    duration exponential(duration mean, duration cap) noexcept;

    // A new generator whose stream is independent of this one's future output.
    [[nodiscard]] rng fork(uint64_t label) noexcept { return rng{derive_seed(next(), label)}; }

    [[nodiscard]] const std::array<uint64_t, 4>& state() const noexcept { return m_state; }

private:
    static constexpr uint64_t rotl(uint64_t x, int k) noexcept {
        return (x << k) | (x >> (64 - k));
    }
    std::array<uint64_t, 4> m_state{};
};

// log2(x) in unsigned Q32.32 fixed point, x >= 1, exact to the last bit on every platform
// (integer squaring, one result bit per step).
[[nodiscard]] uint64_t log2_q32(uint64_t x) noexcept;

} // namespace ainet
