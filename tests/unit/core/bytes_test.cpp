// Goal: the byte reader never reads past its input and rejects every non-canonical varint,
// and writer/reader round-trip every value.
#include <ainet/core/bytes.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using namespace ainet;

TEST_CASE("fixed-width integers are little-endian and round-trip", "[core][bytes]") {
    std::array<uint8_t, 15> buffer{};
    byte_writer w(buffer);
    w.u8(0xab);
    w.u16(0x1234);
    w.u32(0xdeadbeef);
    w.u64(0x0102030405060708ull);
    REQUIRE(w.finish().value() == 15);
    CHECK(buffer[1] == 0x34);
    CHECK(buffer[2] == 0x12);
    CHECK(buffer[7] == 0x08);

    byte_reader r(buffer);
    CHECK(r.u8().value() == 0xab);
    CHECK(r.u16().value() == 0x1234);
    CHECK(r.u32().value() == 0xdeadbeef);
    CHECK(r.u64().value() == 0x0102030405060708ull);
    CHECK(r.at_end());
    CHECK(r.expect_end().has_value());
}

TEST_CASE("reads past the end fail with truncated and consume nothing", "[core][bytes]") {
    const std::array<uint8_t, 3> input{1, 2, 3};
    byte_reader r(input);
    CHECK(r.u32().error() == errc::truncated);
    CHECK(r.position() == 0);
    CHECK(r.u16().value() == 0x0201);
    CHECK(r.u16().error() == errc::truncated);
    CHECK(r.bytes(2).error() == errc::truncated);
    CHECK(r.u8().value() == 3);
    CHECK(r.u8().error() == errc::truncated);
    CHECK(r.expect_end().has_value());
}

TEST_CASE("varint encodings are minimal and every value round-trips", "[core][bytes]") {
    auto rng = test::seeded_rng();
    std::vector<uint64_t> values{0, 1, 127, 128, 255, 16383, 16384, UINT32_MAX, UINT64_MAX,
                                 UINT64_MAX - 1, 1ull << 63};
    for (int i = 0; i < 10000; ++i)
        values.push_back(rng() >> (rng() % 64));
    for (uint64_t v : values) {
        std::array<uint8_t, varint_size_max> buffer{};
        byte_writer w(buffer);
        w.varint(v);
        REQUIRE(w.finish().value() == varint_size(v));
        byte_reader r(w.written());
        REQUIRE(r.varint().value() == v);
        REQUIRE(r.at_end());
    }
}

TEST_CASE("varint decoder rejects overlong and non-canonical forms", "[core][bytes]") {
    // 0 written with two bytes.
    const std::array<uint8_t, 2> padded_zero{0x80, 0x00};
    CHECK(byte_reader(padded_zero).varint().error() == errc::varint_noncanonical);
    // 1 written with three bytes.
    const std::array<uint8_t, 3> padded_one{0x81, 0x80, 0x00};
    CHECK(byte_reader(padded_one).varint().error() == errc::varint_noncanonical);
    // Eleven bytes.
    std::array<uint8_t, 11> too_long{};
    too_long.fill(0x80);
    too_long[10] = 0x01;
    CHECK(byte_reader(too_long).varint().error() == errc::varint_overlong);
    // Ten bytes whose last group carries more than bit 63.
    std::array<uint8_t, 10> over_64{};
    over_64.fill(0xff);
    over_64[9] = 0x02;
    CHECK(byte_reader(over_64).varint().error() == errc::varint_overlong);
    // Continuation bit set on the last available byte.
    const std::array<uint8_t, 1> cut{0x80};
    CHECK(byte_reader(cut).varint().error() == errc::truncated);
}

TEST_CASE("length-prefixed fields check the limit before taking bytes", "[core][bytes]") {
    std::array<uint8_t, 64> buffer{};
    byte_writer w(buffer);
    w.length_prefixed(std::string_view("hello"));
    const auto written = w.written();
    CHECK(byte_reader(written).length_prefixed(5).value().size() == 5);
    CHECK(byte_reader(written).length_prefixed(4).error() == errc::length_exceeds_limit);
    // A length claiming more than the input holds.
    const std::array<uint8_t, 3> lying{10, 'a', 'b'};
    CHECK(byte_reader(lying).length_prefixed(100).error() == errc::truncated);
}

TEST_CASE("writer overflow is sticky and reported by finish", "[core][bytes]") {
    std::array<uint8_t, 5> buffer{};
    byte_writer w(buffer);
    w.u32(1);
    CHECK(w.ok());
    w.u16(2); // does not fit
    CHECK_FALSE(w.ok());
    w.u8(3); // would fit, but the writer has failed already
    CHECK(w.position() == 4);
    CHECK(w.finish().error() == errc::buffer_full);
}

TEST_CASE("random inputs never make the reader over-read", "[core][bytes][property]") {
    auto rng = test::seeded_rng(1);
    for (int i = 0; i < 20000; ++i) {
        auto input = test::random_bytes(rng, rng() % 24);
        byte_reader r(input);
        while (!r.at_end()) {
            const size_t before = r.position();
            bool progressed = false;
            switch (rng() % 6) {
            case 0: progressed = r.u8().has_value(); break;
            case 1: progressed = r.u32().has_value(); break;
            case 2: progressed = r.varint().has_value(); break;
            case 3: progressed = r.length_prefixed(8).has_value(); break;
            case 4: progressed = r.bytes(rng() % 6).has_value(); break;
            default: progressed = r.u64().has_value(); break;
            }
            REQUIRE(r.position() <= input.size());
            if (!progressed && r.position() == before)
                break;
        }
    }
}
