// Goal: entries have one canonical encoding within documented limits, the largest fits one
// datagram, decoding never accepts a second encoding, and signatures bind every field.
#include "../support/rng.hpp"
#include "registry_test_support.hpp"

#include <catch2/catch.hpp>

using namespace ainet;
using namespace ainet::registry;
using namespace ainet::test;

TEST_CASE("entries round-trip and the largest fits the documented size", "[registry][entry]") {
    const auto keys = writer_keys(1);
    auto e = make_entry(keys, std::string(name_size_max, 'n'), std::string(value_size_max, 'v'),
                        test_hlc(test_wall_ms));
    const auto wire = encode(e);
    CHECK(wire.size() == entry_wire_size_max);
    auto back = decode(wire);
    REQUIRE(back);
    CHECK(*back == e);
    CHECK(verify(*back));
    auto small = make_entry(keys, "a", "", 1);
    CHECK(decode(encode(small)).value() == small);
}

TEST_CASE("limits are enforced on encode checks and on decode", "[registry][entry]") {
    const auto keys = writer_keys(2);
    entry e = make_entry(keys, "name", "value", 5);
    e.name.clear();
    CHECK(check_limits(e).error() == registry::errc::name_size);
    e.name = std::string(name_size_max + 1, 'x');
    CHECK(check_limits(e).error() == registry::errc::name_size);
    e.name = "n";
    e.value = std::string(value_size_max + 1, 'x');
    CHECK(check_limits(e).error() == registry::errc::value_size);
    e.value = "x";
    e.flags = 0x80;
    CHECK(check_limits(e).error() == registry::errc::bad_flags);
    e.flags = flag_tombstone;
    CHECK(check_limits(e).error() == registry::errc::tombstone_value);

    auto wire = encode(make_entry(keys, "name", "value", 5));
    auto extra = wire;
    extra.push_back(0);
    CHECK(decode(extra).error() == registry::errc::trailing_bytes);
    for (size_t cut = 0; cut < wire.size(); ++cut)
        CHECK_FALSE(decode(bytes_view(wire).first(cut)));
    std::vector<uint8_t> huge(entry_wire_size_max + 1, 0);
    CHECK(decode(huge).error() == registry::errc::oversized);
    // A non-minimal name length (0x84 0x00 for 4) is a second encoding: rejected.
    std::vector<uint8_t> overlong(wire.begin(), wire.begin() + 41);
    overlong.push_back(0x84);
    overlong.push_back(0x00);
    overlong.insert(overlong.end(), wire.begin() + 42, wire.end());
    CHECK(decode(overlong).error() == registry::errc::bad_varint);
}

TEST_CASE("the signature covers every byte of the payload", "[registry][entry]") {
    const auto keys = writer_keys(3);
    const auto e = make_entry(keys, "service", "10.0.0.1:80", test_hlc(test_wall_ms, 3));
    const auto wire = encode(e);
    for (size_t i = 0; i < wire.size(); ++i) {
        auto bad = wire;
        bad[i] ^= 0x01;
        auto decoded = decode(bad);
        if (decoded)
            CHECK_FALSE(verify(*decoded));
    }
    // Another domain's signature over the same payload does not verify.
    entry other = e;
    other.signature = keys.sign(crypto::sig_domain::node_record, encode_payload(e));
    CHECK_FALSE(verify(other));
}

TEST_CASE("hlc is strictly monotonic when the wall clock stalls, repeats or steps back",
          "[registry][hlc]") {
    auto rng = seeded_rng(61);
    hlc clock;
    uint64_t last = 0;
    int64_t wall = test_wall_ms;
    for (int i = 0; i < 200000; ++i) {
        switch (rng() % 4) {
        case 0: break;                                         // stall
        case 1: wall += static_cast<int64_t>(rng() % 5); break; // advance
        case 2: wall -= static_cast<int64_t>(rng() % 2000); break; // step back
        case 3: clock.observe(clock.last() + rng() % 100); break;  // a remote slightly ahead
        }
        const uint64_t t = clock.now(unix_ms{wall});
        REQUIRE(t > last);
        last = t;
    }
    // The logical counter carries into the milliseconds instead of wrapping.
    hlc stalled;
    uint64_t prev = 0;
    for (uint64_t i = 0; i < 3 * (hlc_logical_max + 1); ++i) {
        const uint64_t t = stalled.now(unix_ms{test_wall_ms});
        REQUIRE(t > prev);
        prev = t;
    }
    CHECK(hlc_ms(prev) == uint64_t(test_wall_ms) + 2);
    // Restart: the restored clock never re-issues.
    hlc restored;
    restored.restore(stalled.persist());
    CHECK(restored.now(unix_ms{test_wall_ms - 10000}) > prev);
}
