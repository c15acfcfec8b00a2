// Timer wheel vs std::multimap (the usual ordered-map timer queue), same workloads, same run.
//
//  *_arm_cancel/N   one arm plus one cancel of that timer, over N timers already armed
//                   (a retransmission timer armed then cancelled by the ack). Time per pair.
//  *_arm_fire/N     arm N timers 1 ms..10 s ahead, then fire them all, waking like an event loop
//                   at each next deadline (the wheel's next_deadline(), the map's first key).
//                   time_per_timer = one arm + one fire, wake-ups included.
//  wheel_idle_advance/N  advance() by 1 us (sub-tick) with N timers pending and none due: the
//                   per-loop-turn cost when nothing expires.
//
// Run: build/bench/timer-wheel-bench --benchmark_min_time=0.2
#include <ainet/timer/timer_wheel.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <map>
#include <vector>

namespace {

using namespace ainet;
using namespace ainet::timer;
using namespace std::chrono_literals;

constexpr size_t delay_table_size = 4096;

// Delays uniform in [1 ms, 10 s], fixed seed: both containers see the same deadlines.
const std::array<duration, delay_table_size>& delays() {
    static const auto table = [] {
        std::array<duration, delay_table_size> t{};
        uint64_t state = 0x853c49e6748fea9bull;
        for (auto& d : t) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            d = 1ms + std::chrono::microseconds(static_cast<int64_t>((state >> 33) % 10'000'000));
        }
        return t;
    }();
    return table;
}

using timer_map = std::multimap<instant, uint64_t>;

void wheel_arm_cancel(benchmark::State& state) {
    const auto background = static_cast<uint32_t>(state.range(0));
    timer_wheel wheel(background + 1, instant{0});
    const auto& d = delays();
    for (uint32_t i = 0; i < background; ++i)
        benchmark::DoNotOptimize(wheel.arm(instant{0} + d[i % delay_table_size], i));
    size_t i = 0;
    for (auto _ : state) {
        const timer_id id = wheel.arm(instant{0} + d[i % delay_table_size], i).value();
        ++i;
        benchmark::DoNotOptimize(wheel.cancel(id));
    }
}

void multimap_arm_cancel(benchmark::State& state) {
    const auto background = static_cast<uint32_t>(state.range(0));
    timer_map timers;
    const auto& d = delays();
    for (uint32_t i = 0; i < background; ++i)
        timers.emplace(instant{0} + d[i % delay_table_size], i);
    size_t i = 0;
    for (auto _ : state) {
        auto it = timers.emplace(instant{0} + d[i % delay_table_size], i);
        ++i;
        timers.erase(it);
        benchmark::ClobberMemory();
    }
}

void wheel_arm_fire(benchmark::State& state) {
    const auto count = static_cast<uint32_t>(state.range(0));
    timer_wheel wheel(count, instant{0});
    const auto& d = delays();
    instant now{0};
    uint64_t fired = 0;
    for (auto _ : state) {
        for (uint32_t i = 0; i < count; ++i)
            (void)wheel.arm(now + d[i % delay_table_size], i);
        while (!wheel.empty()) {
            const instant next = *wheel.next_deadline();
            now = next > now ? next : now;
            fired += wheel.advance(
                now, [](timer_id, uint64_t cookie) { benchmark::DoNotOptimize(cookie); });
        }
    }
    if (fired != uint64_t{count} * state.iterations())
        state.SkipWithError("not every timer fired");
    state.counters["time_per_timer"] = benchmark::Counter(
        static_cast<double>(count),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void multimap_arm_fire(benchmark::State& state) {
    const auto count = static_cast<uint32_t>(state.range(0));
    timer_map timers;
    const auto& d = delays();
    instant now{0};
    uint64_t fired = 0;
    for (auto _ : state) {
        for (uint32_t i = 0; i < count; ++i)
            timers.emplace(now + d[i % delay_table_size], i);
        while (!timers.empty()) {
            now = timers.begin()->first > now ? timers.begin()->first : now;
            while (!timers.empty() && timers.begin()->first <= now) {
                benchmark::DoNotOptimize(timers.begin()->second);
                timers.erase(timers.begin());
                ++fired;
            }
        }
    }
    if (fired != uint64_t{count} * state.iterations())
        state.SkipWithError("not every timer fired");
    state.counters["time_per_timer"] = benchmark::Counter(
        static_cast<double>(count),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void wheel_idle_advance(benchmark::State& state) {
    const auto count = static_cast<uint32_t>(state.range(0));
    timer_wheel wheel(count + 1, instant{0});
    const auto& d = delays();
    // Far enough that the benchmark's own time never reaches them.
    for (uint32_t i = 0; i < count; ++i)
        (void)wheel.arm(instant{0} + 24h + d[i % delay_table_size], i);
    instant now{0};
    for (auto _ : state) {
        now = now + 1us;
        benchmark::DoNotOptimize(wheel.advance(now, [](timer_id, uint64_t) {}));
    }
}

} // namespace

BENCHMARK(wheel_arm_cancel)->Arg(0)->Arg(1 << 10)->Arg(1 << 16)->Arg(1 << 20);
BENCHMARK(multimap_arm_cancel)->Arg(0)->Arg(1 << 10)->Arg(1 << 16)->Arg(1 << 20);
BENCHMARK(wheel_arm_fire)->Arg(1 << 10)->Arg(1 << 16);
BENCHMARK(multimap_arm_fire)->Arg(1 << 10)->Arg(1 << 16);
BENCHMARK(wheel_idle_advance)->Arg(1 << 16);

BENCHMARK_MAIN();
