// Goal: a node's incarnation survives restarts through <data_dir>/membership.state: the floor
// written at start is above the incarnation in use, a restart starts at it (or at the wall
// clock when that is later), and a missing, damaged or foreign file is ignored (wall clock)
// and replaced. Also the 12-byte format round-trips and rejects everything else.
#include <ainet/config/file.hpp>
#include <ainet/membership/state.hpp>
#include <ainet/node/membership_service.hpp>

#include "../config/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace ainet;

namespace {

uint64_t floor_in(const std::filesystem::path& file) {
    auto text = config::read_config_file(file);
    REQUIRE(text);
    auto state = membership::decode_state(
        bytes_view(reinterpret_cast<const uint8_t*>(text->data()), text->size()));
    REQUIRE(state);
    return state->incarnation_floor;
}

} // namespace

TEST_CASE("the membership state format round-trips and rejects anything else",
          "[membership][state]") {
    for (uint64_t floor : {uint64_t{0}, uint64_t{1}, uint64_t{1764000000000}, UINT64_MAX}) {
        const auto blob = membership::encode_state({floor});
        auto back = membership::decode_state(blob);
        REQUIRE(back);
        CHECK(back->incarnation_floor == floor);
    }
    auto blob = membership::encode_state({42});
    CHECK(membership::decode_state(bytes_view(blob).first(11)).error() == wire::errc::truncated);
    std::vector<uint8_t> longer(blob.begin(), blob.end());
    longer.push_back(0);
    CHECK(membership::decode_state(longer).error() == wire::errc::trailing_bytes);
    auto bad_magic = blob;
    bad_magic[0] = 'X';
    CHECK(membership::decode_state(bad_magic).error() == wire::errc::bad_magic);
    auto bad_version = blob;
    bad_version[3] = 2;
    CHECK(membership::decode_state(bad_version).error() == wire::errc::unsupported_version);
    CHECK(membership::restart_incarnation(nullptr, 5) == 5);
    const membership::persisted_state high{900};
    CHECK(membership::restart_incarnation(&high, 5) == 900);
    CHECK(membership::restart_incarnation(&high, 1000) == 1000);
}

TEST_CASE("a restarted node starts above every incarnation it used", "[membership][state]") {
    test::temp_dir dir;
    const auto file = dir.path() / "membership.state";

    // First start: no file, the wall clock; the floor goes to disk lease above it.
    auto first = node::plan_incarnation(file, 1000, 64);
    CHECK_FALSE(first.restored);
    CHECK(first.written);
    CHECK(first.initial == 1000);
    CHECK(floor_in(file) == 1064);

    // A restart with the clock behind the floor (a fast restart, or the clock set back) starts
    // at the floor: above every incarnation the first life could reach without a new write.
    auto second = node::plan_incarnation(file, 1010, 64);
    CHECK(second.restored);
    CHECK(second.initial == 1064);
    CHECK(floor_in(file) == 1128);

    // A later clock wins.
    auto third = node::plan_incarnation(file, 5000, 64);
    CHECK(third.initial == 5000);
    CHECK(floor_in(file) == 5064);

    // A damaged file is ignored (the wall clock) and replaced.
    (void)dir.write("membership.state", "not a state file");
    auto fourth = node::plan_incarnation(file, 6000, 64);
    CHECK_FALSE(fourth.restored);
    CHECK(fourth.initial == 6000);
    CHECK(floor_in(file) == 6064);

    // An unwritable location: the plan still starts from the clock, and says it wrote nothing.
    auto nowhere = node::plan_incarnation(dir.path() / "missing" / "membership.state", 7000, 64);
    CHECK_FALSE(nowhere.written);
    CHECK(nowhere.initial == 7000);
}

namespace {

membership::claim signed_alive(uint8_t n, uint64_t incarnation) {
    crypto::seed s{};
    s[0] = 0x5d;
    s[1] = n;
    const auto keys = crypto::key_pair::from_seed(s);
    membership::claim c;
    c.subject = keys.id();
    c.incarnation = incarnation;
    c.address = make_ipv4(127, 0, 0, n, 7000);
    membership::sign_claim(c, keys);
    return c;
}

} // namespace

TEST_CASE("the member snapshot format round-trips, sorted, and rejects anything else",
          "[membership][state]") {
    REQUIRE(crypto::init());
    std::vector<membership::claim> claims{signed_alive(3, 7), signed_alive(1, 1),
                                          signed_alive(2, 1764000000000)};
    membership::claim suspect = claims[0];
    suspect.kind = membership::claim_kind::suspect;
    suspect.accuser = claims[1].subject;
    auto with_others = claims;
    with_others.push_back(suspect);   // not alive: left out
    with_others.push_back(claims[1]); // repeated: once
    const auto blob = membership::encode_members(1234, with_others);
    auto back = membership::decode_members(blob);
    REQUIRE(back);
    CHECK(back->written_at_ms == 1234);
    REQUIRE(back->members.size() == 3);
    std::sort(claims.begin(), claims.end(),
              [](const auto& a, const auto& b) { return a.subject < b.subject; });
    CHECK(back->members == claims);
    CHECK(membership::encode_members(back->written_at_ms, back->members) == blob);

    auto empty = membership::decode_members(membership::encode_members(9, {}));
    REQUIRE(empty);
    CHECK(empty->members.empty());

    // Every prefix is truncated, one more byte is trailing.
    for (size_t n = 0; n < blob.size(); ++n)
        CHECK_FALSE(membership::decode_members(bytes_view(blob).first(n)));
    auto longer = blob;
    longer.push_back(0);
    CHECK(membership::decode_members(longer).error() == wire::errc::trailing_bytes);
    auto bad_magic = blob;
    bad_magic[1] = 'S';
    CHECK(membership::decode_members(bad_magic).error() == wire::errc::bad_magic);
    auto bad_version = blob;
    bad_version[3] = 9;
    CHECK(membership::decode_members(bad_version).error() == wire::errc::unsupported_version);
    // A claim that is not alive, and claims out of order, are rejected whole.
    std::vector<uint8_t> hand(blob.begin(), blob.begin() + 12);
    hand.push_back(2);
    std::vector<uint8_t> body(512);
    byte_writer w(body);
    membership::write_claim(w, claims[1]);
    membership::write_claim(w, claims[0]);
    auto unsorted = hand;
    unsorted.insert(unsorted.end(), body.begin(), body.begin() + static_cast<long>(w.position()));
    CHECK(membership::decode_members(unsorted).error() == wire::errc::bad_field);
    std::vector<uint8_t> body2(512);
    byte_writer w2(body2);
    membership::write_claim(w2, suspect);
    auto not_alive = std::vector<uint8_t>(blob.begin(), blob.begin() + 12);
    not_alive.push_back(1);
    not_alive.insert(not_alive.end(), body2.begin(),
                     body2.begin() + static_cast<long>(w2.position()));
    CHECK(membership::decode_members(not_alive).error() == wire::errc::bad_field);
}
