// Goal: hex and base64 round-trip all bytes, match RFC 4648's vectors, and accept exactly one
// text per byte string.
#include <ainet/core/encoding.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace ainet;

namespace {
std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }
} // namespace

TEST_CASE("hex round-trips and is strict", "[core][encoding]") {
    auto rng = test::seeded_rng();
    for (int i = 0; i < 1000; ++i) {
        auto data = test::random_bytes(rng, rng() % 70);
        REQUIRE(from_hex(to_hex(data)).value() == data);
    }
    CHECK(to_hex(bytes_of("\x01\xab")) == "01ab");
    CHECK(from_hex("01AB").value() == bytes_of("\x01\xab"));
    CHECK(from_hex("abc").error() == errc::bad_hex);
    CHECK(from_hex("zz").error() == errc::bad_hex);
    CHECK(from_hex(" 0").error() == errc::bad_hex);
    std::array<uint8_t, 2> out{};
    CHECK(from_hex_into("0102", out).has_value());
    CHECK(from_hex_into("010203", out).error() == errc::wrong_size);
}

TEST_CASE("base64 matches RFC 4648 section 10", "[core][encoding]") {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (auto [plain, encoded] : vectors) {
        CHECK(to_base64(bytes_of(plain)) == encoded);
        CHECK(from_base64(encoded).value() == bytes_of(plain));
    }
}

TEST_CASE("base64 rejects every non-canonical text", "[core][encoding]") {
    CHECK(from_base64("Zg=").error() == errc::bad_base64);      // bad length
    CHECK(from_base64("Zh==").error() == errc::bad_base64);     // non-zero unused bits
    CHECK(from_base64("Zm9=").error() == errc::bad_base64);     // non-zero unused bits
    CHECK(from_base64("Z===").error() == errc::bad_base64);     // too much padding
    CHECK(from_base64("Zg==Zg==").error() == errc::bad_base64); // padding mid-text
    CHECK(from_base64("Zm9v\n").error() == errc::bad_base64);   // whitespace
    CHECK(from_base64("Zm-v").error() == errc::bad_base64);     // url alphabet
    CHECK(from_base64("=Zm9").error() == errc::bad_base64);
    auto rng = test::seeded_rng();
    for (int i = 0; i < 1000; ++i) {
        auto data = test::random_bytes(rng, rng() % 70);
        REQUIRE(from_base64(to_base64(data)).value() == data);
    }
}
