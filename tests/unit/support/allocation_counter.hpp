#pragma once
// Counts heap allocations, to prove a data path allocates nothing in steady state.
//
// Include in exactly ONE translation unit of a test binary, and only there define
// AINET_COUNT_ALLOCATIONS_DEFINE before including: that TU replaces the global operator new.
// Every allocation by any thread bumps allocation_count(); a test reads it before and after the
// window it cares about.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace ainet::test {

inline std::atomic<uint64_t>& allocation_counter() noexcept {
    static std::atomic<uint64_t> counter{0};
    return counter;
}

inline uint64_t allocation_count() noexcept { return allocation_counter().load(); }

} // namespace ainet::test

#ifdef AINET_COUNT_ALLOCATIONS_DEFINE
void* operator new(std::size_t size) {
    ainet::test::allocation_counter().fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    ainet::test::allocation_counter().fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1))
        return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif
