// Goal: the timer wheel keeps its documented contract case by case: deadlines round up and never
// fire early, ties fire in arm order, due timers fire at the next advance, stale ids are
// rejected after their node is reused, a full pool fails cleanly, callbacks may re-arm without
// firing in the same advance, next_deadline is a tight lower bound, and a jump of days costs
// O(timers), not O(ticks). The random differential test is in timer_wheel_model_test.cpp.
#include <ainet/timer/timer_wheel.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

using namespace ainet;
using namespace ainet::timer;

namespace {

constexpr instant t0{0};

instant at_ms(int64_t ms) {
    return t0 + std::chrono::milliseconds(ms);
}

// Advances and returns the cookies fired, in firing order.
std::vector<uint64_t> fire(timer_wheel& wheel, instant now) {
    std::vector<uint64_t> cookies;
    const size_t count =
        wheel.advance(now, [&](timer_id, uint64_t cookie) { cookies.push_back(cookie); });
    CHECK(count == cookies.size());
    return cookies;
}

timer_id arm_ok(timer_wheel& wheel, instant deadline, uint64_t cookie) {
    auto id = wheel.arm(deadline, cookie);
    REQUIRE(id.has_value());
    return *id;
}

using cookies = std::vector<uint64_t>;

} // namespace

TEST_CASE("timers fire in deadline order, each once", "[timer]") {
    timer_wheel wheel(16, t0);
    arm_ok(wheel, at_ms(30), 3);
    arm_ok(wheel, at_ms(10), 1);
    arm_ok(wheel, at_ms(5000), 5);
    arm_ok(wheel, at_ms(20), 2);
    arm_ok(wheel, at_ms(70), 4); // crosses the first 64-tick block: starts on level 1
    CHECK(wheel.size() == 5);

    CHECK(fire(wheel, at_ms(9)).empty());
    CHECK(fire(wheel, at_ms(25)) == cookies{1, 2});
    CHECK(fire(wheel, at_ms(100)) == cookies{3, 4});
    CHECK(fire(wheel, at_ms(100)).empty());
    CHECK(wheel.size() == 1);
    CHECK(fire(wheel, at_ms(4999)).empty());
    CHECK(fire(wheel, at_ms(5000)) == cookies{5});
    CHECK(wheel.empty());
}

TEST_CASE("deadlines round up to the tick: never early, at most one tick late", "[timer]") {
    timer_wheel wheel(16, t0, std::chrono::milliseconds(1));
    arm_ok(wheel, t0 + std::chrono::microseconds(1500), 1); // rounds up to 2 ms
    arm_ok(wheel, t0 + std::chrono::microseconds(2000), 2); // on a boundary: stays 2 ms
    CHECK(fire(wheel, t0 + std::chrono::microseconds(1500)).empty());
    CHECK(fire(wheel, t0 + std::chrono::microseconds(1999)).empty());
    CHECK(fire(wheel, t0 + std::chrono::microseconds(2000)) == cookies{1, 2});

    // An odd tick and an origin that is not zero.
    const instant origin{-12345};
    timer_wheel odd(4, origin, std::chrono::nanoseconds(7));
    arm_ok(odd, origin + std::chrono::nanoseconds(15), 9); // ticks 2.14 -> 3 = origin + 21 ns
    CHECK(odd.next_deadline() == origin + std::chrono::nanoseconds(21));
    CHECK(fire(odd, origin + std::chrono::nanoseconds(20)).empty());
    CHECK(fire(odd, origin + std::chrono::nanoseconds(21)) == cookies{9});
}

TEST_CASE("timers with the same rounded deadline fire in arm order across levels", "[timer]") {
    timer_wheel wheel(16, t0);
    const instant deadline = at_ms(1'000'000); // far: starts on level 3
    arm_ok(wheel, deadline, 1);
    CHECK(fire(wheel, at_ms(700'000)).empty());
    arm_ok(wheel, deadline - std::chrono::microseconds(300), 2); // same tick after rounding
    CHECK(fire(wheel, at_ms(999'990)).empty());
    arm_ok(wheel, deadline, 3); // now on a lower level
    arm_ok(wheel, deadline - std::chrono::milliseconds(1), 0);
    CHECK(fire(wheel, deadline) == cookies{0, 1, 2, 3});
}

TEST_CASE("timers armed in the past or for now fire at the next advance", "[timer]") {
    timer_wheel wheel(16, t0);
    CHECK(fire(wheel, at_ms(100)).empty());
    arm_ok(wheel, at_ms(101), 3);   // in the wheel: after the due ones
    arm_ok(wheel, at_ms(100), 1);   // exactly now
    arm_ok(wheel, at_ms(-5000), 2); // long past, even before the origin
    CHECK(wheel.next_deadline() == at_ms(100));
    CHECK(fire(wheel, at_ms(100)) == cookies{1, 2}); // same now: they fire anyway, arm order
    CHECK(fire(wheel, at_ms(101)) == cookies{3});
}

TEST_CASE("a stale id never cancels a reused node", "[timer]") {
    timer_wheel wheel(1, t0);
    const timer_id a = arm_ok(wheel, at_ms(10), 1);
    CHECK(static_cast<uint64_t>(a) != 0);
    CHECK(wheel.is_armed(a));
    CHECK(wheel.cancel(a));
    CHECK_FALSE(wheel.cancel(a));
    CHECK_FALSE(wheel.is_armed(a));

    const timer_id b = arm_ok(wheel, at_ms(10), 2); // the same (only) node
    CHECK(b != a);
    CHECK_FALSE(wheel.cancel(a));
    CHECK(wheel.is_armed(b));
    CHECK(fire(wheel, at_ms(10)) == cookies{2});
    CHECK_FALSE(wheel.cancel(b)); // fired: stale too

    const timer_id c = arm_ok(wheel, at_ms(20), 3);
    CHECK_FALSE(wheel.cancel(a));
    CHECK_FALSE(wheel.cancel(b));
    CHECK_FALSE(wheel.cancel(timer_id{0}));
    CHECK_FALSE(wheel.cancel(timer_id{UINT64_MAX})); // index beyond the pool
    CHECK_FALSE(wheel.cancel(
        timer_id{static_cast<uint64_t>(c) + (uint64_t{1} << 24)})); // a future generation
    CHECK(wheel.size() == 1);
    CHECK(wheel.cancel(c));
    CHECK(wheel.empty());
}

TEST_CASE("a full pool fails with pool_full and arms nothing", "[timer]") {
    timer_wheel wheel(4, t0);
    std::vector<timer_id> ids;
    for (uint64_t i = 0; i < 4; ++i)
        ids.push_back(arm_ok(wheel, at_ms(static_cast<int64_t>(10 + i)), i));
    auto full = wheel.arm(at_ms(5), 99);
    REQUIRE_FALSE(full.has_value());
    CHECK(full.error() == errc::pool_full);
    CHECK(to_string(full.error()) == "timer pool full");
    CHECK(wheel.size() == 4);
    CHECK_FALSE(wheel.arm(at_ms(-1), 99).has_value()); // due timers need a node too

    CHECK(wheel.cancel(ids[2]));
    arm_ok(wheel, at_ms(5), 42);
    CHECK(fire(wheel, at_ms(100)) == cookies{42, 0, 1, 3});
    CHECK(wheel.empty());
}

TEST_CASE("a callback may re-arm; the new timer never fires in the same advance", "[timer]") {
    timer_wheel wheel(8, t0);
    const auto period = std::chrono::milliseconds(10);
    int fired = 0;
    instant last_now = t0;
    auto periodic = [&](timer_id, uint64_t cookie) {
        ++fired;
        REQUIRE(wheel.arm(last_now + period, cookie).has_value());
    };
    arm_ok(wheel, t0 + period, 7);
    for (int ms = 1; ms <= 100; ++ms) {
        last_now = at_ms(ms);
        wheel.advance(last_now, periodic);
    }
    CHECK(fired == 10);

    // A ten-minute pause: one firing, not 60000, and the timer is re-armed from the new now.
    fired = 0;
    last_now = at_ms(100 + 600'000);
    CHECK(wheel.advance(last_now, periodic) == 1);
    CHECK(fired == 1);
    CHECK(wheel.size() == 1);
    CHECK(wheel.next_deadline() == last_now + period);

    // Re-arming for a deadline that is already due (catch-up style) waits for the next advance.
    timer_wheel catchup(8, t0);
    int catchup_fired = 0;
    arm_ok(catchup, at_ms(10), 1);
    auto rearm_past = [&](timer_id, uint64_t cookie) {
        ++catchup_fired;
        REQUIRE(catchup.arm(at_ms(10), cookie).has_value()); // long past by now
    };
    CHECK(catchup.advance(at_ms(1'000'000), rearm_past) == 1);
    CHECK(catchup.advance(at_ms(1'000'000), rearm_past) == 1);
    CHECK(catchup.advance(at_ms(1'000'001), rearm_past) == 1);
    CHECK(catchup_fired == 3);
    CHECK(catchup.size() == 1);
}

TEST_CASE("a callback may cancel a timer due in the same tick, and its own id is stale",
          "[timer]") {
    timer_wheel wheel(8, t0);
    const timer_id first = arm_ok(wheel, at_ms(5), 1);
    const timer_id second = arm_ok(wheel, at_ms(5), 2);
    const timer_id later = arm_ok(wheel, at_ms(6), 3);
    std::vector<uint64_t> seen;
    wheel.advance(at_ms(10), [&](timer_id id, uint64_t cookie) {
        seen.push_back(cookie);
        if (cookie == 1) {
            CHECK(id == first);
            CHECK_FALSE(wheel.cancel(first));
            CHECK(wheel.cancel(second));
            CHECK(wheel.cancel(later));
        }
    });
    CHECK(seen == cookies{1});
    CHECK(wheel.empty());
}

TEST_CASE("next_deadline is exact nearby, a lower bound far away, and never early", "[timer]") {
    timer_wheel wheel(8, t0);
    CHECK_FALSE(wheel.next_deadline().has_value());
    arm_ok(wheel, at_ms(5), 1);
    CHECK(wheel.next_deadline() == at_ms(5));
    arm_ok(wheel, at_ms(3), 2);
    CHECK(wheel.next_deadline() == at_ms(3));
    CHECK(fire(wheel, at_ms(5)) == cookies{2, 1});
    CHECK_FALSE(wheel.next_deadline().has_value());

    // Far away: following next_deadline reaches the timer in a few wake-ups, each a lower bound,
    // and it fires exactly on its (rounded) deadline.
    const instant deadline = at_ms(3 * 3600 * 1000) + std::chrono::microseconds(1); // rounds up
    const instant rounded = at_ms(3 * 3600 * 1000 + 1);
    arm_ok(wheel, deadline, 9);
    int wakeups = 0;
    std::vector<uint64_t> seen;
    while (!wheel.empty()) {
        REQUIRE(wakeups < static_cast<int>(timer_wheel::level_count));
        const instant next = wheel.next_deadline().value();
        CHECK(next > wheel.now());
        CHECK(next <= rounded);
        wheel.advance(next, [&](timer_id, uint64_t cookie) { seen.push_back(cookie); });
        if (!seen.empty())
            CHECK(next == rounded);
        ++wakeups;
    }
    CHECK(seen == cookies{9});
    CHECK(wakeups >= 2);

    // Due timers make it "now".
    arm_ok(wheel, wheel.now(), 4);
    CHECK(wheel.next_deadline() == wheel.now());
}

TEST_CASE("a jump of days at nanosecond ticks fires everything in order without walking ticks",
          "[timer]") {
    // 1 ns ticks and a ten-day jump: 8.6e14 ticks. A per-tick loop would never finish.
    timer_wheel wheel(1024, t0, std::chrono::nanoseconds(1));
    std::vector<std::pair<int64_t, uint64_t>> expected; // deadline ns, cookie
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < 1000; ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const auto ns = static_cast<int64_t>((state >> 11) % (9ull * 24 * 3600 * 1'000'000'000));
        arm_ok(wheel, instant{ns + 1}, i);
        expected.emplace_back(ns + 1, i);
    }
    std::stable_sort(expected.begin(), expected.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<uint64_t> want;
    for (const auto& e : expected)
        want.push_back(e.second);
    CHECK(fire(wheel, t0 + std::chrono::hours(240)) == want);
    CHECK(wheel.empty());
}

TEST_CASE("the largest deadline neither overflows nor fires", "[timer]") {
    timer_wheel wheel(4, instant{-1'000'000}, std::chrono::milliseconds(3));
    const instant far{std::numeric_limits<int64_t>::max()};
    const timer_id id = arm_ok(wheel, far, 1);
    CHECK(wheel.next_deadline().value() <= far);
    CHECK(fire(wheel, far - std::chrono::hours(1)).empty());
    CHECK(wheel.next_deadline().value() <= far);
    CHECK(wheel.is_armed(id));
    CHECK(wheel.cancel(id));
}

TEST_CASE("the shard wheel is sized from limits", "[timer]") {
    limits l;
    l.timer_count_max = 1000;
    timer_wheel wheel(l, t0);
    CHECK(wheel.capacity() == 1000);
    CHECK(wheel.tick() == timer_wheel::tick_default);
    CHECK(wheel.origin() == t0);
    CHECK(wheel.retired_count() == 0);
    CHECK(limits{}.timer_count_max <= timer_capacity_max);
}
