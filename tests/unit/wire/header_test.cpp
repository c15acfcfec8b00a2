// Goal: the datagram header has exactly one encoding per (type, flags, payload size), every
// defined header round-trips, and each malformed header is rejected with its own error code.
#include <ainet/wire/header.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <string>
#include <vector>

// Inside ainet::wire so that errc means wire::errc and core names stay visible.
namespace ainet::wire {

namespace {

constexpr std::array<message_type, 21> all_types{
    message_type::hello_request, message_type::hello_challenge, message_type::hello,
    message_type::hello_ack,     message_type::relay_data,      message_type::ping,
    message_type::pong,
    // membership (0x30..0x35)
    message_type::membership_ping, message_type::membership_ack,
    message_type::membership_ping_req, message_type::membership_nack,
    message_type::membership_gossip, message_type::membership_push_pull,
    // registry sync (0x40..0x46)
    message_type::sync_begin, message_type::sync_reply, message_type::sync_descend,
    message_type::sync_buckets, message_type::sync_wants, message_type::sync_entries,
    message_type::sync_end,
    // reliability (0x50)
    message_type::reliable};

// A well-formed datagram: a header for type with payload_size zero bytes after it.
std::vector<uint8_t> datagram_of(message_type type, size_t payload_size) {
    std::vector<uint8_t> out(header_size + payload_size);
    REQUIRE(encode_header(header{type, 0, static_cast<uint16_t>(payload_size)}, out));
    return out;
}

} // namespace

TEST_CASE("headers round-trip for every type and random payload sizes", "[wire][header]") {
    auto rng = test::seeded_rng(100);
    for (int i = 0; i < 3000; ++i) {
        const auto type = all_types[rng() % all_types.size()];
        const size_t payload_size = i < 10 ? static_cast<size_t>(i) : rng() % 2000;
        auto datagram = datagram_of(type, payload_size);
        CHECK(datagram[0] == 0xA1);
        CHECK(datagram[1] == 0x4E);
        CHECK(datagram[2] == protocol_version);
        CHECK(datagram[3] == static_cast<uint8_t>(type));
        auto decoded = decode_datagram(datagram);
        REQUIRE(decoded);
        CHECK(decoded->head == header{type, 0, static_cast<uint16_t>(payload_size)});
        CHECK(decoded->payload.size() == payload_size);
        CHECK(decoded->payload.data() == datagram.data() + header_size);
        CHECK(decode_header(datagram).value() == decoded->head);
    }
    // The largest datagram the protocol allows.
    auto largest = datagram_of(message_type::relay_data, payload_size_max);
    CHECK(decode_datagram(largest).value().payload.size() == payload_size_max);
}

TEST_CASE("header known-answer bytes", "[wire][header]") {
    std::array<uint8_t, header_size> out{};
    REQUIRE(encode_header(header{message_type::relay_data, 0, 0x0102}, out));
    CHECK(out == std::array<uint8_t, header_size>{0xA1, 0x4E, 0x01, 0x10, 0x00, 0x00, 0x02, 0x01});
}

TEST_CASE("each malformed header is rejected with its own error", "[wire][header]") {
    const auto good = datagram_of(message_type::ping, 16);
    REQUIRE(decode_header(good));

    SECTION("shorter than a header: truncated") {
        for (size_t size = 0; size < header_size; ++size)
            CHECK(decode_header(bytes_view(good).first(size)).error() == errc::truncated);
    }
    SECTION("above datagram_size_max: datagram_too_large") {
        std::vector<uint8_t> big(datagram_size_max + 1);
        std::copy(good.begin(), good.begin() + header_size, big.begin());
        CHECK(decode_header(big).error() == errc::datagram_too_large);
    }
    SECTION("magic") {
        for (size_t index : {0u, 1u}) {
            auto bad = good;
            bad[index] ^= 0x01;
            CHECK(decode_header(bad).error() == errc::bad_magic);
        }
    }
    SECTION("version") {
        for (int version : {0, 2, 0xff}) {
            auto bad = good;
            bad[2] = static_cast<uint8_t>(version);
            CHECK(decode_header(bad).error() == errc::unsupported_version);
        }
    }
    SECTION("every undefined type code") {
        int undefined = 0;
        for (int code = 0; code < 256; ++code) {
            auto bad = good;
            bad[3] = static_cast<uint8_t>(code);
            const auto type = static_cast<message_type>(code);
            if (is_defined(type)) {
                CHECK(decode_header(bad).value().type == type);
            } else {
                ++undefined;
                CHECK(decode_header(bad).error() == errc::unknown_type);
            }
        }
        CHECK(undefined == 256 - static_cast<int>(all_types.size()));
    }
    SECTION("every undefined flag bit") {
        for (int bit = 0; bit < 8; ++bit) {
            auto bad = good;
            bad[4] = static_cast<uint8_t>(1u << bit);
            if ((flags_defined_mask & bad[4]) == 0)
                CHECK(decode_header(bad).error() == errc::bad_flags);
        }
    }
    SECTION("reserved byte") {
        for (int value = 1; value < 256; ++value) {
            auto bad = good;
            bad[5] = static_cast<uint8_t>(value);
            CHECK(decode_header(bad).error() == errc::bad_reserved);
        }
    }
    SECTION("payload_size must equal the bytes after the header") {
        for (unsigned claimed : {0u, 15u, 17u, 0xffffu}) {
            auto bad = good;
            bad[6] = static_cast<uint8_t>(claimed);
            bad[7] = static_cast<uint8_t>(claimed >> 8);
            CHECK(decode_header(bad).error() == errc::size_mismatch);
        }
        auto longer = good;
        longer.push_back(0); // a trailing byte the header does not count
        CHECK(decode_header(longer).error() == errc::size_mismatch);
        CHECK(decode_header(bytes_view(good).first(good.size() - 1)).error() ==
              errc::size_mismatch);
    }
}

TEST_CASE("encode_header refuses what decode_header would reject", "[wire][header]") {
    std::array<uint8_t, header_size> out{};
    CHECK(encode_header(header{static_cast<message_type>(0), 0, 0}, out).error() ==
          errc::unknown_type);
    CHECK(encode_header(header{message_type::ping, 0x80, 0}, out).error() == errc::bad_flags);
    CHECK(encode_header(header{message_type::ping, 0, payload_size_max + 1}, out).error() ==
          errc::field_too_long);
    CHECK(encode_header(header{message_type::ping, 0, 0}, mutable_bytes(out).first(header_size - 1))
              .error() == errc::buffer_full);
}

TEST_CASE("error codes and type codes have distinct names", "[wire][header]") {
    std::set<std::string> names;
    for (int code = 1; code <= static_cast<int>(errc::bad_field); ++code)
        names.emplace(to_string(static_cast<errc>(code)));
    CHECK(names.size() == static_cast<size_t>(errc::bad_field));
    CHECK(names.count("unknown wire error") == 0);

    std::set<std::string> type_names;
    for (auto type : all_types)
        type_names.emplace(to_string(type));
    CHECK(type_names.size() == all_types.size());
    CHECK(type_names.count("unknown") == 0);

    CHECK(from_core(ainet::errc::truncated) == errc::truncated);
    CHECK(from_core(ainet::errc::buffer_full) == errc::buffer_full);
    CHECK(from_core(ainet::errc::trailing_bytes) == errc::trailing_bytes);
    CHECK(from_core(ainet::errc::varint_noncanonical) == errc::non_canonical);
    CHECK(from_core(ainet::errc::varint_overlong) == errc::non_canonical);
    CHECK(from_core(ainet::errc::length_exceeds_limit) == errc::field_too_long);
}

} // namespace ainet::wire
