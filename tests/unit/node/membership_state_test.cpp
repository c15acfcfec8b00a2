// Goal: a node's incarnation survives restarts through <data_dir>/membership.state: the floor
// written at start is above the incarnation in use, a restart starts at it (or at the wall
// clock when that is later), and a missing, damaged or foreign file is ignored (wall clock)
// and replaced. Also the 12-byte format round-trips and rejects everything else.
#include <ainet/config/file.hpp>
#include <ainet/membership/state.hpp>
#include <ainet/node/membership_service.hpp>

#include "../config/temp_dir.hpp"

#include <catch2/catch.hpp>

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
