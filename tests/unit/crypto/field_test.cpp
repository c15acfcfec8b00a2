// Goal: the fast field and decoding paths compute exactly what the plain ones do:
// - fe_mul and fe_sq are exact for inputs at their documented limb bound (2^54), where the
//   64-bit carries in fe_reduce_wide are tightest, and fe_sub_lazy equals fe_sub;
// - fe_pow22523_lanes equals fe_pow22523 lane by lane;
// - ge_decode_many gives ge_decode's verdict and point for every encoding, valid or not, on
//   the portable path and on the AVX-512 IFMA path;
// - the IFMA exponentiation equals the portable one on random and extreme inputs, and batch
//   verification gives the same verdicts on random honest and corrupted signatures with the
//   IFMA path on and off (tests/unit/crypto/vectors_test.cpp runs every vector both ways).
// - scalar_wide (unreduced sums of products, reduced once) equals libsodium's scalar_mul and
//   scalar_add reduced at every step.
// The IFMA cases pass trivially (with a warning) on a CPU without AVX-512 IFMA.
#include "../support/rng.hpp"

#include <ainet/crypto/ed25519.hpp>

#include "edwards.hpp"
#include "field25519.hpp"
#include "field25519_simd.hpp"
#include "scalar25519.hpp"
#include "verify_impl.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <span>
#include <vector>

namespace cd = ainet::crypto::detail;

namespace {

// An element with random limbs below 2^bits (redundant: the value may exceed p).
cd::fe random_wide(std::mt19937_64& rng, int bits) {
    cd::fe f{};
    for (auto& limb : f.v)
        limb = rng() >> (64 - bits);
    return f;
}

// The largest limbs fe_mul and fe_sq accept.
cd::fe max_wide() {
    const uint64_t limb = (uint64_t{1} << 54) - 1;
    return cd::fe{{limb, limb, limb, limb, limb}};
}

bool same(const cd::fe& f, const cd::fe& g) {
    return cd::fe_to_bytes(f) == cd::fe_to_bytes(g);
}

} // namespace

TEST_CASE("fe_mul and fe_sq are exact at their limb bound", "[crypto][field]") {
    auto rng = ainet::test::seeded_rng(71);
    const cd::fe top = max_wide();
    // fe_carry accepts any limbs and gives the same value with small limbs, where fe_mul is
    // checked against libsodium's verdicts by every other crypto test.
    CHECK(same(cd::fe_mul(top, top), cd::fe_mul(cd::fe_carry(top), cd::fe_carry(top))));
    CHECK(same(cd::fe_sq(top), cd::fe_mul(cd::fe_carry(top), cd::fe_carry(top))));
    for (int round = 0; round < 20000; ++round) {
        const cd::fe f = random_wide(rng, 54);
        const cd::fe g = random_wide(rng, 54);
        const cd::fe fc = cd::fe_carry(f);
        const cd::fe gc = cd::fe_carry(g);
        REQUIRE(same(cd::fe_mul(f, g), cd::fe_mul(fc, gc)));
        REQUIRE(same(cd::fe_sq(f), cd::fe_mul(fc, fc)));
        const cd::fe product = cd::fe_mul(f, g);
        for (auto limb : product.v)
            REQUIRE(limb < (uint64_t{1} << 51) + (uint64_t{1} << 15));
    }
}

TEST_CASE("fe_sub_lazy is fe_sub without the carry, within its bounds", "[crypto][field]") {
    auto rng = ainet::test::seeded_rng(72);
    // Largest carried limbs, and sums of two of them: fe_sub_lazy's documented inputs.
    const uint64_t carried_max = (uint64_t{1} << 51) + (uint64_t{1} << 15) - 1;
    for (int round = 0; round < 20000; ++round) {
        cd::fe f{};
        cd::fe g{};
        for (size_t i = 0; i < 5; ++i) {
            f.v[i] = round == 0 ? 2 * carried_max : rng() % (2 * carried_max + 1);
            g.v[i] = round == 0 ? carried_max : rng() % (carried_max + 1);
        }
        const cd::fe lazy = cd::fe_sub_lazy(f, g);
        REQUIRE(same(lazy, cd::fe_sub(f, g)));
        for (auto limb : lazy.v)
            REQUIRE(limb < (uint64_t{1} << 54));
    }
}

TEST_CASE("fe_pow22523_lanes is fe_pow22523 in every lane", "[crypto][field]") {
    auto rng = ainet::test::seeded_rng(73);
    for (int round = 0; round < 200; ++round) {
        cd::fe z[4];
        for (auto& lane : z)
            lane = cd::fe_carry(random_wide(rng, 53));
        if (round == 0)
            z[1] = cd::fe_zero();
        cd::fe expected[4];
        for (size_t k = 0; k < 4; ++k)
            expected[k] = cd::fe_pow22523(z[k]);
        cd::fe_pow22523_lanes(z);
        for (size_t k = 0; k < 4; ++k)
            REQUIRE(same(z[k], expected[k]));
    }
}

TEST_CASE("ge_decode_many gives ge_decode's verdicts and points", "[crypto][field]") {
    for (const bool simd : {false, true}) {
        if (simd && !cd::field_simd_available())
            continue;
        const cd::field_simd_scope path(simd);
        INFO("IFMA path " << (simd ? "on" : "off"));
        auto rng = ainet::test::seeded_rng(74);
        // Random strings (about half are on the curve), encodings of real points, and the edge
        // encodings: y = p - 1 and y = p (non-canonical), 0, and "negative zero".
        std::vector<std::array<uint8_t, 32>> encodings;
        for (int i = 0; i < 300; ++i) {
            std::array<uint8_t, 32> e{};
            for (auto& b : e)
                b = static_cast<uint8_t>(rng());
            encodings.push_back(e);
            cd::ge_p3 p;
            if (cd::ge_decode(p, e.data()))
                encodings.push_back(cd::ge_encode(cd::ge_to_p3(cd::ge_dbl(cd::ge_to_p2(p)))));
        }
        std::array<uint8_t, 32> edge{};
        edge.fill(0xff);
        edge[0] = 0xec;
        edge[31] = 0x7f;
        encodings.push_back(edge); // y = p - 1
        edge[0] = 0xed;
        encodings.push_back(edge); // y = p
        edge.fill(0);
        encodings.push_back(edge); // y = 0
        edge[0] = 1;
        encodings.push_back(edge); // y = 1, x = 0
        edge[31] = 0x80;
        encodings.push_back(edge); // y = 1 with the sign bit: negative zero
        // Every count from 0 to 9 (short groups), then everything at once.
        for (size_t count = 0; count <= encodings.size();
             count = count < 9 ? count + 1 : encodings.size()) {
            std::vector<const uint8_t*> pointers;
            for (size_t i = 0; i < count; ++i)
                pointers.push_back(encodings[encodings.size() - 1 - i].data());
            std::vector<cd::ge_p3> points(count);
            std::vector<cd::ge_decoding> scratch(count);
            std::unique_ptr<bool[]> ok(new bool[count + 1]);
            cd::ge_decode_many(points.data(), ok.get(), pointers.data(), count, scratch.data());
            for (size_t i = 0; i < count; ++i) {
                INFO("count " << count << " index " << i);
                cd::ge_p3 expected;
                const bool expected_ok = cd::ge_decode(expected, pointers[i]);
                REQUIRE(ok[i] == expected_ok);
                if (expected_ok)
                    REQUIRE(cd::ge_encode(points[i]) == cd::ge_encode(expected));
            }
            if (count == encodings.size())
                break;
        }
    }
}

TEST_CASE("the IFMA exponentiation equals the portable one", "[crypto][field]") {
    if (!cd::field_simd_available()) {
        WARN("no AVX-512 IFMA on this CPU: the IFMA path is not tested here");
        return;
    }
    auto rng = ainet::test::seeded_rng(75);
    for (int round = 0; round < 3000; ++round) {
        cd::fe z[cd::simd_pow_lanes];
        for (size_t k = 0; k < cd::simd_pow_lanes; ++k) {
            // Limbs up to the 2^54 input bound, carried ones, and the extremes 0, 1, p - 1, p.
            z[k] = random_wide(rng, round % 2 == 0 ? 54 : 51);
            if (round == 0)
                z[k] = k % 4 == 0   ? cd::fe_zero()
                       : k % 4 == 1 ? cd::fe_one()
                       : k % 4 == 2 ? cd::fe_neg(cd::fe_one())
                                    : max_wide();
        }
        cd::fe expected[cd::simd_pow_lanes];
        for (size_t k = 0; k < cd::simd_pow_lanes; ++k)
            expected[k] = cd::fe_pow22523(z[k]);
        cd::fe_pow22523_simd(z);
        for (size_t k = 0; k < cd::simd_pow_lanes; ++k) {
            INFO("round " << round << " lane " << k);
            REQUIRE(same(z[k], expected[k]));
            for (auto limb : z[k].v)
                REQUIRE(limb < (uint64_t{1} << 54)); // a valid fe_mul input
        }
    }
}

TEST_CASE("batch verdicts are the same with the IFMA path on and off", "[crypto][field]") {
    if (!cd::field_simd_available()) {
        WARN("no AVX-512 IFMA on this CPU: the IFMA path is not tested here");
        return;
    }
    using namespace ainet::crypto;
    auto rng = ainet::test::seeded_rng(76);
    std::vector<std::vector<uint8_t>> messages;
    std::vector<verify_request> requests;
    constexpr size_t count = 400;
    messages.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        seed s{};
        for (auto& b : s)
            b = static_cast<uint8_t>(rng());
        const auto keys = key_pair::from_seed(s);
        messages.push_back(ainet::test::random_bytes(rng, rng() % 80));
        verify_request request{keys.public_key_bytes(), messages.back(),
                               keys.sign_raw(messages.back())};
        // A third corrupted: one bit of R, S, A or M flipped.
        if (rng() % 3 == 0) {
            const size_t bit = rng() % 8;
            switch (rng() % 4) {
            case 0:
                request.sig[rng() % 32] ^= static_cast<uint8_t>(1 << bit);
                break;
            case 1:
                request.sig[32 + rng() % 32] ^= static_cast<uint8_t>(1 << bit);
                break;
            case 2:
                request.key[rng() % 32] ^= static_cast<uint8_t>(1 << bit);
                break;
            default:
                if (!messages.back().empty())
                    messages.back()[rng() % messages.back().size()] ^=
                        static_cast<uint8_t>(1 << bit);
            }
        }
        requests.push_back(request);
    }
    // Batches of every size up to 40, then the rest at once.
    size_t first = 0;
    for (size_t size = 1; first < count; ++size) {
        const size_t batch = size <= 40 ? std::min(size, count - first) : count - first;
        const std::span<const verify_request> part(requests.data() + first, batch);
        std::unique_ptr<bool[]> on(new bool[batch]);
        std::unique_ptr<bool[]> off(new bool[batch]);
        {
            const cd::field_simd_scope path(true);
            verify_batch(part, std::span<bool>(on.get(), batch));
        }
        {
            const cd::field_simd_scope path(false);
            verify_batch(part, std::span<bool>(off.get(), batch));
        }
        for (size_t i = 0; i < batch; ++i) {
            INFO("request " << first + i);
            const auto& r = part[i];
            REQUIRE(on[i] == off[i]);
            REQUIRE(on[i] == cd::verify_predicate(r.key, r.message, r.sig));
        }
        first += batch;
    }
}

TEST_CASE("scalar_wide sums equal per-term reduced sums", "[crypto][field]") {
    auto rng = ainet::test::seeded_rng(77);
    for (int round = 0; round < 200; ++round) {
        cd::scalar_wide wide{};
        cd::scalar expected{};
        const size_t terms = round == 0 ? 128 : rng() % 130;
        for (size_t i = 0; i < terms; ++i) {
            cd::scalar x{};
            cd::scalar y{};
            for (size_t b = 0; b < 16; ++b)
                x[b] = round == 0 ? 0xff : static_cast<uint8_t>(rng());
            for (size_t b = 0; b < 32; ++b)
                y[b] = round == 0 ? 0xff : static_cast<uint8_t>(rng());
            y[31] &= 0x0f; // below L, as libsodium's scalar_mul wants (round 0: 2^252 - 1)
            cd::scalar_wide_add_product(wide, x, y);
            expected = cd::scalar_add(expected, cd::scalar_mul(x, y));
        }
        REQUIRE(cd::scalar_wide_reduce(wide) == expected);
    }
}
