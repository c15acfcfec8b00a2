// Goal: after construction the timer wheel never allocates: arm (including on a full pool),
// cancel (live and stale ids), advance (small steps, huge jumps, callbacks that re-arm) and
// next_deadline run with the global operator new counting and must leave the count unchanged.
//
// A separate executable because it replaces the global allocation functions for the whole
// program. Plain main, no Catch2 (which allocates freely); exits non-zero with a message on the
// first failure. The operation sequence is seeded and fixed, so any failure replays.
#include <ainet/timer/timer_wheel.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace {

// Counts every allocation made while `counting` is on. Single-threaded test: plain globals.
bool counting = false;
uint64_t allocation_count = 0;

void* counted_malloc(std::size_t size) {
    if (counting)
        ++allocation_count;
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

void* counted_aligned(std::size_t size, std::align_val_t alignment) {
    if (counting)
        ++allocation_count;
    const auto align = static_cast<std::size_t>(alignment);
    void* p = std::aligned_alloc(align, (size + align - 1) / align * align);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

int failures = 0;
int* volatile probe = nullptr;

void expect(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "timer-no-alloc: FAILED: %s\n", what);
        ++failures;
    }
}

} // namespace

void* operator new(std::size_t size) {
    return counted_malloc(size);
}
void* operator new[](std::size_t size) {
    return counted_malloc(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    if (counting)
        ++allocation_count;
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    if (counting)
        ++allocation_count;
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
    return counted_aligned(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
    return counted_aligned(size, alignment);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}

int main() {
    using namespace ainet;
    using namespace ainet::timer;
    using namespace std::chrono_literals;

    // The counter itself must work, or a pass would mean nothing.
    counting = true;
    probe = new int(1); // through a volatile pointer, so the allocation cannot be elided
    counting = false;
    delete probe;
    expect(allocation_count == 1, "the replaced operator new counts");
    allocation_count = 0;

    constexpr uint32_t capacity = 256;
    timer_wheel wheel(capacity, instant{0}, 1ms);
    timer_id ids[512] = {};
    size_t id_count = 0;
    uint64_t fired = 0;
    uint64_t full = 0;
    uint64_t state = 0x243f6a8885a308d3ull;
    auto next_random = [&state]() {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return state >> 17;
    };

    counting = true;
    instant now{0};
    for (int op = 0; op < 200'000; ++op) {
        const uint64_t choice = next_random() % 100;
        if (choice < 50) {
            const auto delay =
                std::chrono::milliseconds(static_cast<int64_t>(next_random() % 100'000)) - 10ms;
            auto id = wheel.arm(now + delay, next_random());
            if (id)
                ids[id_count++ % 512] = *id;
            else
                ++full;
        } else if (choice < 75) {
            (void)wheel.cancel(ids[next_random() % 512]);
        } else {
            now = now + (choice == 99 ? std::chrono::hours(50)
                                      : std::chrono::milliseconds(next_random() % 500));
            fired += wheel.advance(now, [&](timer_id, uint64_t cookie) {
                if (cookie % 3 == 0) {
                    auto id = wheel.arm(
                        now + std::chrono::milliseconds(static_cast<int64_t>(cookie % 1000)),
                        cookie + 1);
                    if (id)
                        ids[id_count++ % 512] = *id;
                }
            });
        }
        (void)wheel.next_deadline();
    }
    counting = false;

    expect(allocation_count == 0, "no allocation after construction");
    expect(fired > 10'000, "timers fired");
    expect(full > 0, "the pool filled up at least once");
    std::printf(
        "timer-no-alloc: %llu allocations during %d operations (%llu fired, %llu pool_full)\n",
        static_cast<unsigned long long>(allocation_count), 200'000,
        static_cast<unsigned long long>(fired), static_cast<unsigned long long>(full));
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
