// Goal: the simulator's randomness is the published algorithms bit for bit (known answers
// computed independently), and its derived draws have the distributions they claim.

#include "sim_support.hpp"

#include <ainet/sim/rng.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace ainet;
using namespace ainet::sim;

TEST_CASE("splitmix64 and xoshiro256** match their reference outputs", "[sim][rng]") {
    uint64_t state = 0;
    CHECK(splitmix64(state) == 0xe220a8397b1dcdafull);

    rng r = rng::from_state({1, 2, 3, 4});
    CHECK(r.next() == 11520);
    CHECK(r.next() == 0);
    CHECK(r.next() == 1509978240);
    CHECK(r.next() == 1215971899390074240ull);

    // Seeding expands the seed with splitmix64 (seed 0 included).
    rng seeded(0);
    CHECK(seeded.next() == 0x99ec5f36cb75f2b4ull);
    CHECK(seeded.next() == 0xbf6e1f784956452aull);
    CHECK(seeded.next() == 0x1a5f849d4933e6e0ull);
    CHECK(seeded.next() == 0x6aa594f1262d2d2cull);
}

TEST_CASE("below() stays in range and is uniform", "[sim][rng]") {
    const uint64_t seed = test::run_seed();
    CAPTURE(seed);
    rng r(seed);
    std::array<uint64_t, 7> buckets{};
    constexpr int draws = 70'000;
    for (int i = 0; i < draws; ++i) {
        const uint64_t v = r.below(7);
        REQUIRE(v < 7);
        ++buckets[v];
    }
    for (uint64_t b : buckets) // expected 10000, sd ~93
        CHECK(std::llabs(static_cast<long long>(b) - 10'000) < 600);
    for (int i = 0; i < 1000; ++i) {
        const uint64_t v = r.between(5, 9);
        REQUIRE((v >= 5 && v <= 9));
    }
    CHECK(r.between(3, 3) == 3);
}

TEST_CASE("chance() hits its probability; never and always are exact", "[sim][rng]") {
    const uint64_t seed = test::run_seed();
    CAPTURE(seed);
    rng r(seed);
    int hits = 0;
    constexpr int draws = 100'000;
    for (int i = 0; i < draws; ++i)
        hits += r.chance(probability::from_double(0.25)) ? 1 : 0;
    CHECK(std::abs(hits - 25'000) < 900); // sd ~137
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(r.chance(probability::always()));
        REQUIRE_FALSE(r.chance(probability::never()));
    }
    CHECK(probability::from_double(1.0).threshold() == probability::one);
    // A fault that is off draws nothing, so it does not perturb the others.
    rng a(seed);
    rng b(seed);
    (void)a.chance(probability::never());
    CHECK(a.next() == b.next());
}

TEST_CASE("log2_q32 is exact on powers of two and accurate elsewhere", "[sim][rng]") {
    for (uint32_t k = 0; k < 64; ++k)
        CHECK(log2_q32(uint64_t{1} << k) == uint64_t{k} << 32);
    const uint64_t seed = test::run_seed();
    CAPTURE(seed);
    rng r(seed);
    for (int i = 0; i < 2000; ++i) {
        const uint64_t x = (r.next() >> r.below(64)) | 1;
        const double expected = std::log2(static_cast<double>(x));
        const double got = static_cast<double>(log2_q32(x)) / 4294967296.0;
        REQUIRE(std::fabs(got - expected) < 1e-8);
    }
}

TEST_CASE("exponential() has the requested mean and respects its cap", "[sim][rng]") {
    const uint64_t seed = test::run_seed();
    CAPTURE(seed);
    rng r(seed);
    constexpr int draws = 200'000;
    const duration mean = std::chrono::milliseconds(10);
    double sum = 0;
    int above_mean = 0;
    for (int i = 0; i < draws; ++i) {
        const duration d = r.exponential(mean, mean * 100);
        REQUIRE(d.count() >= 0);
        sum += static_cast<double>(d.count());
        above_mean += d > mean ? 1 : 0;
    }
    CHECK(std::fabs(sum / draws / 1e7 - 1.0) < 0.02);                     // sd of the mean ~0.2%
    CHECK(std::fabs(above_mean / double(draws) - std::exp(-1.0)) < 0.01); // P(X > mean) = 1/e
    for (int i = 0; i < 1000; ++i)
        REQUIRE(r.exponential(mean, mean) <= mean);
    CHECK(r.exponential(duration{0}, mean).count() == 0);
}
