#pragma once
// Seeded randomness for property tests. The seed is Catch2's run seed, which Catch2 prints at
// the top of every run ("Randomness seeded to: N"); rerun with `--rng-seed N` to replay.

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace ainet::test {

inline std::mt19937_64 seeded_rng(uint64_t stream = 0) {
    return std::mt19937_64(uint64_t{Catch::rngSeed()} * 0x9e3779b97f4a7c15ull + stream);
}

inline std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t size) {
    std::vector<uint8_t> out(size);
    for (auto& b : out)
        b = static_cast<uint8_t>(rng());
    return out;
}

} // namespace ainet::test
