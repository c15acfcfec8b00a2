#pragma once
// Shared helpers for registry and sync tests: deterministic writer keys and entries.

#include <ainet/crypto/ed25519.hpp>
#include <ainet/registry/entry.hpp>
#include <ainet/registry/hlc.hpp>
#include <ainet/registry/replica.hpp>

#include <string>

namespace ainet::test {

inline crypto::key_pair writer_keys(uint32_t index) {
    crypto::seed s{};
    s[0] = 0x77;
    s[1] = static_cast<uint8_t>(index);
    s[2] = static_cast<uint8_t>(index >> 8);
    s[3] = static_cast<uint8_t>(index >> 16);
    return crypto::key_pair::from_seed(s);
}

// Wall clock used by tests: far from 0 so that horizons and skews are meaningful.
inline constexpr int64_t test_wall_ms = 1'700'000'000'000;

inline uint64_t test_hlc(int64_t ms, uint64_t logical = 0) {
    return registry::hlc_make(static_cast<uint64_t>(ms), logical);
}

} // namespace ainet::test
