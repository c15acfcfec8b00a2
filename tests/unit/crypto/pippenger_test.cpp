// Goal: the large-batch check (Pippenger's bucket method, batch_pippenger.hpp) says "all valid"
// for every batch of honest signatures, at every size and window width it picks, and "not all
// valid" as soon as one signature is corrupted anywhere (R, S, A or the message); and
// verify_batch above pippenger_batch_min still gives every signature its own verdict when the
// batch holds bad ones (the Straus fallback with bisection).
#include <ainet/crypto/ed25519.hpp>

#include "../support/rng.hpp"

#include "batch_impl.hpp"
#include "batch_pippenger.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace ainet;
using namespace ainet::crypto;

namespace {

struct signed_batch {
    std::vector<std::vector<uint8_t>> messages;
    std::vector<verify_request> requests;
};

signed_batch honest_batch(std::mt19937_64& rng, size_t count) {
    signed_batch out;
    out.messages.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        seed s{};
        for (auto& b : s)
            b = static_cast<uint8_t>(rng());
        const auto keys = key_pair::from_seed(s);
        out.messages.push_back(test::random_bytes(rng, rng() % 80));
        out.requests.push_back(
            {keys.public_key_bytes(), out.messages.back(), keys.sign_raw(out.messages.back())});
    }
    return out;
}

} // namespace

TEST_CASE("Pippenger accepts honest batches of every size", "[crypto][pippenger]") {
    REQUIRE(crypto::init());
    auto rng = test::seeded_rng(71);
    for (size_t count : {size_t{1}, size_t{2}, size_t{3}, size_t{17}, size_t{64}, size_t{600}}) {
        auto batch = honest_batch(rng, count);
        INFO("batch of " << count << ", window " << crypto::detail::pippenger_window(2 * count + 1));
        CHECK(crypto::detail::pippenger_all_valid(batch.requests));
    }
    CHECK(crypto::detail::pippenger_all_valid({}));
}

TEST_CASE("Pippenger rejects a batch with one corrupted signature, wherever it is",
          "[crypto][pippenger]") {
    REQUIRE(crypto::init());
    auto rng = test::seeded_rng(72);
    auto batch = honest_batch(rng, 40);
    for (int trial = 0; trial < 60; ++trial) {
        auto requests = batch.requests;
        std::vector<uint8_t> message;
        const size_t victim = rng() % requests.size();
        verify_request& r = requests[victim];
        const int part = trial % 4;
        if (part == 0)
            r.sig[rng() % 32] ^= static_cast<uint8_t>(1u << (rng() % 8)); // R
        else if (part == 1)
            r.sig[32 + rng() % 32] ^= static_cast<uint8_t>(1u << (rng() % 8)); // S
        else if (part == 2)
            r.key[rng() % 32] ^= static_cast<uint8_t>(1u << (rng() % 8)); // A
        else {
            message.assign(r.message.begin(), r.message.end());
            message.push_back(static_cast<uint8_t>(rng()));
            r.message = message;
        }
        INFO("trial " << trial << ", corrupted part " << part << " of signature " << victim);
        CHECK_FALSE(crypto::detail::pippenger_all_valid(requests));
    }
}

TEST_CASE("verify_batch above the Pippenger threshold still finds each bad signature",
          "[crypto][pippenger]") {
    REQUIRE(crypto::init());
    auto rng = test::seeded_rng(73);
    const size_t count = crypto::detail::pippenger_batch_min + 37;
    auto batch = honest_batch(rng, count);
    std::unique_ptr<bool[]> verdicts(new bool[count]);
    verify_batch(batch.requests, std::span<bool>(verdicts.get(), count));
    for (size_t i = 0; i < count; ++i)
        CHECK(verdicts[i]);

    const size_t bad_a = 5;
    const size_t bad_b = count - 3;
    batch.requests[bad_a].sig[40] ^= 0x10;
    batch.requests[bad_b].key[3] ^= 0x01;
    verify_batch(batch.requests, std::span<bool>(verdicts.get(), count));
    for (size_t i = 0; i < count; ++i) {
        INFO("signature " << i);
        CHECK(verdicts[i] ==
              (i != bad_a && i != bad_b && verify_raw(batch.requests[i].key, batch.requests[i].message,
                                                      batch.requests[i].sig)));
    }
}

TEST_CASE("Pippenger's window grows with the number of points", "[crypto][pippenger]") {
    int previous = 0;
    for (size_t points : {size_t{8}, size_t{129}, size_t{1025}, size_t{8193}, size_t{65537}}) {
        const int width = crypto::detail::pippenger_window(points);
        CHECK(width >= 4);
        CHECK(width <= 16);
        CHECK(width >= previous);
        previous = width;
    }
}
