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
// Every replaceable form, so that no new/delete pair mixes our malloc with the runtime's own
// allocator (ASan reports such a mismatch).
namespace ainet::test::detail {
inline void* counted_malloc(std::size_t size, std::size_t alignment) noexcept {
    allocation_counter().fetch_add(1, std::memory_order_relaxed);
    if (size == 0)
        size = 1;
    if (alignment <= alignof(std::max_align_t))
        return std::malloc(size);
    return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}
} // namespace ainet::test::detail

void* operator new(std::size_t size) {
    if (void* p = ainet::test::detail::counted_malloc(size, 0))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return ainet::test::detail::counted_malloc(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return ainet::test::detail::counted_malloc(size, 0);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
    if (void* p = ainet::test::detail::counted_malloc(size, static_cast<std::size_t>(alignment)))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
    return operator new(size, alignment);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif
