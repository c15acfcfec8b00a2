// Goal: signing is domain-separated exactly as docs/protocol/signing.md says (u8 size ||
// context || payload, the documented context strings and test vector), a signature never
// verifies under another domain or raw, any corruption is rejected, and verify_batch gives
// verify_raw's verdict for every request.
#include <ainet/crypto/ed25519.hpp>
#include <ainet/crypto/mac.hpp>

#include <ainet/core/encoding.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <string>

using namespace ainet;
using namespace ainet::crypto;

namespace {

constexpr sig_domain all_domains[] = {
    sig_domain::relay_hello,    sig_domain::node_record,      sig_domain::bootstrap_list,
    sig_domain::registry_entry, sig_domain::membership_alive, sig_domain::cli_message,
};

bytes_view as_bytes(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

template <size_t Size>
std::array<uint8_t, Size> hex_array(std::string_view text) {
    std::array<uint8_t, Size> out{};
    REQUIRE(from_hex_into(text, out).has_value());
    return out;
}

seed seed_from(std::mt19937_64& rng) {
    seed s{};
    for (auto& b : s)
        b = static_cast<uint8_t>(rng());
    return s;
}

} // namespace

TEST_CASE("init is idempotent", "[crypto]") {
    CHECK(init().has_value());
    CHECK(init().has_value());
}

TEST_CASE("context strings are the documented, stable table", "[crypto]") {
    CHECK(context_string(sig_domain::relay_hello) == "ainet/v1/relay-hello");
    CHECK(context_string(sig_domain::node_record) == "ainet/v1/node-record");
    CHECK(context_string(sig_domain::bootstrap_list) == "ainet/v1/bootstrap-list");
    CHECK(context_string(sig_domain::registry_entry) == "ainet/v1/registry-entry");
    CHECK(context_string(sig_domain::membership_alive) == "ainet/v1/membership-alive");
    CHECK(context_string(sig_domain::cli_message) == "ainet/v1/cli-message");
    std::set<std::string_view> seen;
    for (auto d : all_domains) {
        CHECK(context_string(d).size() < 64);
        CHECK(seen.insert(context_string(d)).second);
    }
}

TEST_CASE("signed_message is u8 size || context || payload", "[crypto]") {
    const auto message = signed_message(sig_domain::node_record, as_bytes("xyz"));
    const std::string_view context = "ainet/v1/node-record";
    REQUIRE(message.size() == 1 + context.size() + 3);
    CHECK(message[0] == context.size());
    CHECK(std::string(message.begin() + 1, message.end()) == std::string(context) + "xyz");
    CHECK(signed_message(sig_domain::cli_message, {}).size() == 1 + 20);
}

TEST_CASE("the test vector in docs/protocol/signing.md", "[crypto]") {
    // Same hex as the document; if either changes, both must.
    const auto secret_seed =
        hex_array<32>("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    const auto expected_public =
        hex_array<32>("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    const std::string_view payload = "hello, ainet";
    const auto expected_message = from_hex("1461696e65742f76312f636c692d6d657373616765"
                                           "68656c6c6f2c2061696e6574")
                                      .value();
    const auto expected_sig =
        hex_array<64>("fee5690b4f7970c0e8e46a57b8cc6becd43ad9f2d3bff0910bdb4035b045f534"
                      "8dc8445b07e80f16b6c2fb03a1eabfdb2239baa7d901406df5f96948596f210a");

    const auto keys = key_pair::from_seed(secret_seed);
    CHECK(keys.public_key_bytes() == expected_public);
    CHECK(keys.id() == node_id{expected_public});
    CHECK(signed_message(sig_domain::cli_message, as_bytes(payload)) == expected_message);
    CHECK(keys.sign(sig_domain::cli_message, as_bytes(payload)) == expected_sig);
    CHECK(keys.sign_raw(expected_message) == expected_sig);
    CHECK(verify(expected_public, sig_domain::cli_message, as_bytes(payload), expected_sig));
    CHECK(verify_raw(expected_public, expected_message, expected_sig));
}

TEST_CASE("a signature verifies only under its own domain", "[crypto]") {
    auto rng = test::seeded_rng();
    const auto keys = key_pair::from_seed(seed_from(rng));
    const auto payload = test::random_bytes(rng, 100);
    for (auto signed_domain : all_domains) {
        const auto sig = keys.sign(signed_domain, payload);
        for (auto checked_domain : all_domains)
            CHECK(verify(keys.public_key_bytes(), checked_domain, payload, sig) ==
                  (signed_domain == checked_domain));
        // Never as the bare payload, and never as a raw signature of the payload.
        CHECK_FALSE(verify_raw(keys.public_key_bytes(), payload, sig));
        CHECK(verify_raw(keys.public_key_bytes(), signed_message(signed_domain, payload), sig));
    }
    // Nor does a raw signature of the payload verify under any domain.
    const auto raw_sig = keys.sign_raw(payload);
    for (auto d : all_domains)
        CHECK_FALSE(verify(keys.public_key_bytes(), d, payload, raw_sig));
}

TEST_CASE("sign and verify agree across the stack/heap boundary", "[crypto]") {
    // Signed messages up to 2048 bytes are built on the stack, larger ones on the heap; both
    // paths must produce the same bytes as signed_message().
    auto rng = test::seeded_rng(1);
    const auto keys = key_pair::from_seed(seed_from(rng));
    const size_t prefix_size = 1 + context_string(sig_domain::registry_entry).size();
    for (size_t total : {size_t{2046}, size_t{2047}, size_t{2048}, size_t{2049}, size_t{70000}}) {
        const auto payload = test::random_bytes(rng, total - prefix_size);
        const auto sig = keys.sign(sig_domain::registry_entry, payload);
        CHECK(sig == keys.sign_raw(signed_message(sig_domain::registry_entry, payload)));
        CHECK(verify(keys.public_key_bytes(), sig_domain::registry_entry, payload, sig));
    }
    const auto sig = keys.sign(sig_domain::relay_hello, {});
    CHECK(verify(keys.public_key_bytes(), sig_domain::relay_hello, {}, sig));
}

TEST_CASE("any single-bit corruption is rejected", "[crypto]") {
    auto rng = test::seeded_rng(2);
    const auto keys = key_pair::from_seed(seed_from(rng));
    const auto payload = test::random_bytes(rng, 64);
    const auto sig = keys.sign(sig_domain::membership_alive, payload);
    REQUIRE(verify(keys.public_key_bytes(), sig_domain::membership_alive, payload, sig));
    for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
        auto bad = sig;
        bad[bit / 8] = static_cast<uint8_t>(bad[bit / 8] ^ (1u << (bit % 8)));
        CHECK_FALSE(verify(keys.public_key_bytes(), sig_domain::membership_alive, payload, bad));
    }
    for (size_t bit = 0; bit < payload.size() * 8; bit += 7) {
        auto bad = payload;
        bad[bit / 8] = static_cast<uint8_t>(bad[bit / 8] ^ (1u << (bit % 8)));
        CHECK_FALSE(verify(keys.public_key_bytes(), sig_domain::membership_alive, bad, sig));
    }
    for (size_t bit = 0; bit < public_key_size * 8; bit += 5) {
        auto bad = keys.public_key_bytes();
        bad[bit / 8] = static_cast<uint8_t>(bad[bit / 8] ^ (1u << (bit % 8)));
        CHECK_FALSE(verify(bad, sig_domain::membership_alive, payload, sig));
    }
}

TEST_CASE("generate gives fresh keys that sign", "[crypto]") {
    REQUIRE(init().has_value());
    const auto a = key_pair::generate();
    const auto b = key_pair::generate();
    CHECK(a.public_key_bytes() != b.public_key_bytes());
    CHECK(key_pair::from_seed(a.secret_seed()).public_key_bytes() == a.public_key_bytes());
    const auto sig = a.sign(sig_domain::cli_message, as_bytes("m"));
    CHECK(verify(a.public_key_bytes(), sig_domain::cli_message, as_bytes("m"), sig));
    CHECK_FALSE(verify(b.public_key_bytes(), sig_domain::cli_message, as_bytes("m"), sig));
}

TEST_CASE("verify_batch gives verify_raw's verdict for every request", "[crypto]") {
    // Differential test: single verification is the oracle for the batch.
    auto rng = test::seeded_rng(3);
    std::vector<key_pair> keys;
    for (int i = 0; i < 4; ++i)
        keys.push_back(key_pair::from_seed(seed_from(rng)));

    for (int round = 0; round < 8; ++round) {
        const size_t count = rng() % 40;
        std::vector<std::vector<uint8_t>> messages;
        std::vector<verify_request> requests;
        messages.reserve(count);
        size_t corrupted = 0;
        for (size_t i = 0; i < count; ++i) {
            const size_t signer_index = rng() % keys.size();
            const auto& signer = keys[signer_index];
            messages.push_back(test::random_bytes(rng, rng() % 300));
            verify_request request{signer.public_key_bytes(), messages.back(),
                                   signer.sign_raw(messages.back())};
            switch (rng() % 5) {
            case 0: // flip a signature bit (R or S half)
                request.sig[rng() % signature_size] ^= static_cast<uint8_t>(1u << (rng() % 8));
                ++corrupted;
                break;
            case 1: // the key of another signer
                request.key = keys[(signer_index + 1 + rng() % (keys.size() - 1)) % keys.size()]
                                  .public_key_bytes();
                ++corrupted;
                break;
            case 2: // a message one byte shorter (if it has one)
                if (!messages.back().empty()) {
                    request.message = bytes_view(messages.back()).first(messages.back().size() - 1);
                    ++corrupted;
                }
                break;
            default:
                break; // left intact
            }
            requests.push_back(request);
        }
        // std::vector<bool> has no span; count may be 0, so keep one spare element.
        std::unique_ptr<bool[]> verdicts(new bool[count + 1]);
        verify_batch(requests, std::span<bool>(verdicts.get(), count));
        size_t rejected = 0;
        for (size_t i = 0; i < count; ++i) {
            INFO("round " << round << " request " << i);
            CHECK(verdicts[i] == verify_raw(requests[i].key, requests[i].message, requests[i].sig));
            rejected += verdicts[i] ? 0 : 1;
        }
        CHECK(rejected == corrupted);
    }
    // An empty batch is fine.
    verify_batch({}, {});
}

TEST_CASE("errc strings are distinct", "[crypto]") {
    std::set<std::string_view> seen;
    for (auto e :
         {crypto::errc::init_failed, crypto::errc::key_file_io, crypto::errc::key_file_permissions,
          crypto::errc::key_file_malformed, crypto::errc::key_file_key_mismatch,
          crypto::errc::bad_public_key, crypto::errc::bad_signature})
        CHECK(seen.insert(to_string(e)).second);
}

TEST_CASE("keyed mac is deterministic per key and differs across keys and inputs", "[crypto][mac]") {
    const crypto::mac_key k1 = crypto::random_mac_key();
    const crypto::mac_key k2 = crypto::random_mac_key();
    REQUIRE(k1 != k2);
    const std::array<uint8_t, 3> a{1, 2, 3};
    const std::array<uint8_t, 3> b{1, 2, 4};
    CHECK(crypto::tags_equal(crypto::mac(k1, a), crypto::mac(k1, a)));
    CHECK_FALSE(crypto::tags_equal(crypto::mac(k1, a), crypto::mac(k2, a)));
    CHECK_FALSE(crypto::tags_equal(crypto::mac(k1, a), crypto::mac(k1, b)));
}
