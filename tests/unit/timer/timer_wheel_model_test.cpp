// Goal: the timer wheel fires exactly what a std::multimap model of its contract fires, in the
// same order, for seeded random sequences of arms (0 to weeks ahead, in the past, at the largest
// instant), cancels of live, stale and made-up ids, and advances by random steps from nothing
// to huge jumps, with callbacks that arm and cancel while an advance runs. It also checks
// size(), is_armed(), pool exhaustion and the next_deadline() bound after every operation.
//
// The model states the contract directly: a timer's key is its deadline rounded up to a tick
// (computed here with 128-bit arithmetic, independently of the wheel), or 0 if it was due when
// armed; advance(now) fires every key <= floor(now / tick) that existed when it began, in key
// order and arm order within a key (multimap keeps insertion order among equal keys).
#include <ainet/timer/timer_wheel.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

using namespace ainet;
using namespace ainet::timer;

namespace {

__extension__ typedef __int128 int128;

// Cheap on success (millions of checks), a full Catch2 report with context on failure.
#define MODEL_REQUIRE(cond)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            INFO(context);                                                                         \
            REQUIRE(cond);                                                                         \
        }                                                                                          \
    } while (false)

class wheel_model {
public:
    wheel_model(uint32_t capacity, instant origin, duration tick)
        : m_capacity(capacity), m_origin(origin), m_tick(tick), m_now(origin) {}

    [[nodiscard]] bool full() const { return m_live.size() == m_capacity; }
    [[nodiscard]] size_t size() const { return m_live.size(); }
    [[nodiscard]] bool is_armed(uint64_t id) const { return m_live.count(id) != 0; }
    [[nodiscard]] instant now() const { return m_now; }

    void arm(uint64_t id, instant deadline, uint64_t cookie) {
        const uint64_t key = deadline <= m_now ? 0 : ceil_tick(deadline);
        m_live.emplace(id, timer{cookie, deadline});
        m_in_map.emplace(id, m_pending.emplace(key, id));
    }

    bool cancel(uint64_t id) {
        if (m_live.erase(id) == 0)
            return false;
        // Otherwise it is in m_expected; next_expected() skips it.
        if (auto it = m_in_map.find(id); it != m_in_map.end()) {
            m_pending.erase(it->second);
            m_in_map.erase(it);
        }
        return true;
    }

    void begin_advance(instant now) {
        m_now = now;
        const uint64_t target = floor_tick(now);
        while (!m_pending.empty() && m_pending.begin()->first <= target) {
            m_expected.push_back(m_pending.begin()->second);
            m_in_map.erase(m_pending.begin()->second);
            m_pending.erase(m_pending.begin());
        }
    }

    // The id that must fire next in this advance (and forgets it), or nullopt.
    std::optional<uint64_t> take_expected() {
        while (!m_expected.empty()) {
            const uint64_t id = m_expected.front();
            m_expected.pop_front();
            if (m_live.count(id) != 0)
                return id;
        }
        return std::nullopt;
    }

    [[nodiscard]] const auto& timer_of(uint64_t id) const { return m_live.at(id); }
    void fired(uint64_t id) { m_live.erase(id); }

    [[nodiscard]] bool has_due() const {
        return !m_pending.empty() && m_pending.begin()->first == 0;
    }
    // The earliest rounded deadline, as an instant (saturated), or now for due timers.
    [[nodiscard]] std::optional<instant> earliest() const {
        if (m_pending.empty())
            return std::nullopt;
        const uint64_t key = m_pending.begin()->first;
        if (key == 0)
            return m_now;
        const int128 ns = int128{m_origin.ns_since_origin} + int128{key} * m_tick.count();
        if (ns > std::numeric_limits<int64_t>::max())
            return instant{std::numeric_limits<int64_t>::max()};
        return instant{static_cast<int64_t>(ns)};
    }
    [[nodiscard]] uint64_t earliest_key() const { return m_pending.begin()->first; }
    [[nodiscard]] uint64_t floor_tick(instant t) const {
        return static_cast<uint64_t>((int128{t.ns_since_origin} - m_origin.ns_since_origin) /
                                     m_tick.count());
    }

    struct timer {
        uint64_t cookie;
        instant deadline;
    };

private:
    [[nodiscard]] uint64_t ceil_tick(instant t) const {
        const int128 offset = int128{t.ns_since_origin} - m_origin.ns_since_origin;
        const int128 tick = m_tick.count();
        return static_cast<uint64_t>((offset + tick - 1) / tick);
    }

    uint32_t m_capacity;
    instant m_origin;
    duration m_tick;
    instant m_now;
    std::multimap<uint64_t, uint64_t> m_pending; // key (rounded tick, 0 = due) -> id, arm order
    std::unordered_map<uint64_t, std::multimap<uint64_t, uint64_t>::iterator> m_in_map;
    std::unordered_map<uint64_t, timer> m_live;
    std::deque<uint64_t> m_expected; // ids the current advance must fire, in order
};

int64_t below(std::mt19937_64& rng, int64_t bound) {
    return bound <= 0 ? 0 : static_cast<int64_t>(rng() % static_cast<uint64_t>(bound));
}

// A deadline relative to now, from the past to weeks ahead, sometimes the largest instant.
instant random_deadline(std::mt19937_64& rng, instant now, duration tick) {
    using namespace std::chrono;
    switch (rng() % 9) {
    case 0:
        return now;
    case 1:
        return now - nanoseconds(below(rng, 1'000'000'000)); // up to 1 s in the past
    case 2:
        return now + nanoseconds(below(rng, 3 * tick.count() + 1));
    case 3:
        return now + nanoseconds(below(rng, duration_cast<nanoseconds>(100ms).count()));
    case 4:
        return now + nanoseconds(below(rng, duration_cast<nanoseconds>(1min).count()));
    case 5:
        return now + nanoseconds(below(rng, duration_cast<nanoseconds>(3h).count()));
    case 6:
        return now + nanoseconds(below(rng, duration_cast<nanoseconds>(hours(24 * 30)).count()));
    case 7:
        return now + tick * static_cast<int64_t>(rng() % 200); // exactly on tick multiples
    default:
        return rng() % 16 == 0 ? instant{std::numeric_limits<int64_t>::max()}
                               : now + nanoseconds(below(rng, 5'000'000));
    }
}

// The step of one advance: nothing, sub-tick, ticks, seconds, hours, or a pause of days.
duration random_step(std::mt19937_64& rng, duration tick) {
    using namespace std::chrono;
    switch (rng() % 10) {
    case 0:
        return 0ns;
    case 1:
        return nanoseconds(below(rng, tick.count()));
    case 2:
        return tick;
    case 3:
        return nanoseconds(below(rng, 5'000'000));
    case 4:
        return nanoseconds(below(rng, duration_cast<nanoseconds>(100ms).count()));
    case 5:
        return nanoseconds(below(rng, duration_cast<nanoseconds>(2s).count()));
    case 6:
        return nanoseconds(below(rng, duration_cast<nanoseconds>(2min).count()));
    case 7:
        return nanoseconds(below(rng, duration_cast<nanoseconds>(3h).count()));
    case 8:
        return rng() % 4 == 0
                   ? nanoseconds(below(rng, duration_cast<nanoseconds>(hours(24 * 20)).count()))
                   : nanoseconds(below(rng, 1'000'000));
    default:
        return tick * static_cast<int64_t>(rng() % 70);
    }
}

struct run_stats {
    uint64_t armed = 0;
    uint64_t fired = 0;
    uint64_t cancelled = 0;
    uint64_t full = 0;
};

void run_sequence(uint64_t stream, int op_count, run_stats& stats) {
    using namespace std::chrono;
    auto rng = test::seeded_rng(stream);
    const ainet::duration ticks[] = {1ms, 1us, 1ns, 7ms, 1s, 13ns, 64ms};
    const uint32_t capacities[] = {1, 8, 64, 512, 4096};
    const ainet::duration tick = ticks[rng() % std::size(ticks)];
    const uint32_t capacity = capacities[rng() % std::size(capacities)];
    const instant origin{rng() % 3 == 0 ? -below(rng, 1'000'000'000'000)
                                        : below(rng, 1'000'000'000'000'000)};

    std::ostringstream out;
    out << "stream " << stream << " (rerun with the printed --rng-seed), tick " << tick.count()
        << " ns, capacity " << capacity << ", origin " << origin.ns_since_origin;
    std::string context = out.str();

    timer_wheel wheel(capacity, origin, tick);
    wheel_model model(capacity, origin, tick);
    std::vector<timer_id> issued;
    uint64_t next_cookie = 1;

    auto pick_id = [&]() -> timer_id {
        if (issued.empty() || rng() % 16 == 0)
            return timer_id{rng() >> (rng() % 64)}; // made up; almost surely never issued
        // Bias towards recent ids, which are more often live.
        const size_t span =
            std::min<size_t>(issued.size(), rng() % 2 ? 2 * capacity : issued.size());
        return issued[issued.size() - 1 - static_cast<size_t>(rng() % span)];
    };
    auto do_arm = [&](instant deadline) {
        const uint64_t cookie = next_cookie++;
        auto id = wheel.arm(deadline, cookie);
        if (model.full()) {
            MODEL_REQUIRE(!id.has_value());
            MODEL_REQUIRE(id.error() == errc::pool_full);
            ++stats.full;
            return;
        }
        MODEL_REQUIRE(id.has_value());
        MODEL_REQUIRE(static_cast<uint64_t>(*id) != 0);
        MODEL_REQUIRE(!model.is_armed(static_cast<uint64_t>(*id)));
        model.arm(static_cast<uint64_t>(*id), deadline, cookie);
        issued.push_back(*id);
        ++stats.armed;
    };
    auto do_cancel = [&]() {
        const timer_id id = pick_id();
        const bool expected = model.cancel(static_cast<uint64_t>(id));
        MODEL_REQUIRE(wheel.cancel(id) == expected);
        stats.cancelled += expected ? 1 : 0;
    };

    for (int op = 0; op < op_count; ++op) {
        context.resize(out.str().size());
        context += ", op " + std::to_string(op);
        const uint64_t choice = rng() % 100;
        if (choice < 45) {
            do_arm(random_deadline(rng, model.now(), tick));
        } else if (choice < 62) {
            do_cancel();
        } else {
            instant now = model.now() + random_step(rng, tick);
            if (choice >= 92) {
                // Like an event loop: wake exactly at next_deadline().
                if (auto next = wheel.next_deadline(); next && *next - model.now() < 24h * 40)
                    now = *next;
            }
            model.begin_advance(now);
            const size_t fired = wheel.advance(now, [&](timer_id id, uint64_t cookie) {
                const auto want = model.take_expected();
                MODEL_REQUIRE(want.has_value());
                MODEL_REQUIRE(*want == static_cast<uint64_t>(id));
                const auto& t = model.timer_of(*want);
                MODEL_REQUIRE(t.cookie == cookie);
                MODEL_REQUIRE(t.deadline <= now); // never early
                model.fired(*want);
                MODEL_REQUIRE(!wheel.is_armed(id));
                MODEL_REQUIRE(wheel.size() == model.size());
                ++stats.fired;
                const uint64_t action = rng() % 10;
                if (action < 3)
                    do_arm(random_deadline(rng, now, tick));
                else if (action < 5)
                    do_cancel();
            });
            MODEL_REQUIRE(!model.take_expected().has_value());
            MODEL_REQUIRE(wheel.now() == now);
            (void)fired;
        }

        MODEL_REQUIRE(wheel.size() == model.size());
        if (!issued.empty()) {
            const timer_id probe = pick_id();
            MODEL_REQUIRE(wheel.is_armed(probe) == model.is_armed(static_cast<uint64_t>(probe)));
        }
        const auto next = wheel.next_deadline();
        const auto earliest = model.earliest();
        MODEL_REQUIRE(next.has_value() == earliest.has_value());
        if (earliest) {
            MODEL_REQUIRE(*next <= *earliest); // a lower bound: waking there is never too late
            if (model.has_due()) {
                MODEL_REQUIRE(*next == model.now());
            } else {
                MODEL_REQUIRE(*next > model.now());
                // Exact when the earliest timer is in the wheel's current 64-tick block.
                if (model.earliest_key() >> 6 == model.floor_tick(model.now()) >> 6)
                    MODEL_REQUIRE(*next == *earliest);
            }
        }
    }
}

} // namespace

TEST_CASE("timer wheel matches a multimap model on seeded random operations", "[timer][model]") {
    run_stats stats;
    constexpr uint64_t sequence_count = 200;
    constexpr int op_count = 4000;
    for (uint64_t stream = 0; stream < sequence_count; ++stream)
        run_sequence(stream, op_count, stats);
    // The sequences must actually exercise every path, not pass vacuously.
    CHECK(stats.armed > 200'000);
    CHECK(stats.fired > 100'000);
    CHECK(stats.cancelled > 10'000);
    CHECK(stats.full > 1'000);
}
