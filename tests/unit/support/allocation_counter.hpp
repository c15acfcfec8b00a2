#pragma once
// Counts heap allocations, to prove a data path allocates nothing in steady state.
//
// Include in exactly ONE translation unit of a test binary, and only there define
// AINET_COUNT_ALLOCATIONS_DEFINE before including: that TU replaces the global operator new.
// Every allocation by any thread bumps allocation_count(); a test reads it before and after the
// window it cares about.
//
// To say WHERE a window allocated, a test may also record call stacks: start_allocation_trace()
// before the window, stop_allocation_trace() after, print_allocation_trace() on failure. The
// first allocation_trace_capacity allocations in between keep their stack (backtrace() into a
// fixed buffer: recording must not itself allocate); symbols are resolved only when printing.

#include <algorithm>
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

inline constexpr size_t allocation_trace_capacity = 8;
inline constexpr int allocation_trace_depth = 32;

struct allocation_trace_record {
    void* frames[allocation_trace_depth];
    int depth;
    size_t size;
    long thread;
};

struct allocation_trace_state {
    std::atomic<bool> recording{false};
    std::atomic<size_t> next{0};
    allocation_trace_record records[allocation_trace_capacity];
};

inline allocation_trace_state& allocation_trace() noexcept {
    static allocation_trace_state state;
    return state;
}

void start_allocation_trace() noexcept;
void stop_allocation_trace() noexcept;
// Writes the recorded stacks to stderr; returns how many allocations were recorded (more may
// have happened than fit).
size_t print_allocation_trace() noexcept;

} // namespace ainet::test

#ifdef AINET_COUNT_ALLOCATIONS_DEFINE
#include <execinfo.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

namespace ainet::test {
void start_allocation_trace() noexcept {
    auto& t = allocation_trace();
    // The first backtrace() loads the unwinder (dlopen, malloc): do it outside the window.
    void* warm[4];
    (void)::backtrace(warm, 4);
    t.next.store(0);
    t.recording.store(true);
}
void stop_allocation_trace() noexcept { allocation_trace().recording.store(false); }
size_t print_allocation_trace() noexcept {
    auto& t = allocation_trace();
    const size_t recorded = std::min(t.next.load(), allocation_trace_capacity);
    for (size_t i = 0; i < recorded; ++i) {
        const allocation_trace_record& r = t.records[i];
        std::fprintf(stderr, "allocation %zu: %zu bytes on thread %ld\n", i, r.size, r.thread);
        std::fflush(stderr);
        ::backtrace_symbols_fd(r.frames, r.depth, STDERR_FILENO);
    }
    if (recorded > 0)
        std::fprintf(stderr, "(names of internal functions: addr2line -f -C -i -e <binary> "
                             "<the +0x offsets above>)\n");
    return recorded;
}
} // namespace ainet::test

// Every replaceable form, so that no new/delete pair mixes our malloc with the runtime's own
// allocator (ASan reports such a mismatch).
namespace ainet::test::detail {
[[gnu::noinline, gnu::cold]] inline void record_allocation(std::size_t size) noexcept {
    auto& t = allocation_trace();
    if (!t.recording.load(std::memory_order_relaxed))
        return;
    // The unwinder may allocate (through malloc, not operator new); a guard keeps a nested
    // operator new in its path from recursing all the same.
    static thread_local bool inside = false;
    if (inside)
        return;
    const size_t slot = t.next.fetch_add(1, std::memory_order_relaxed);
    if (slot >= allocation_trace_capacity)
        return;
    inside = true;
    allocation_trace_record& r = t.records[slot];
    r.depth = ::backtrace(r.frames, allocation_trace_depth);
    r.size = size;
    r.thread = ::syscall(SYS_gettid);
    inside = false;
}

inline void* counted_malloc(std::size_t size, std::size_t alignment) noexcept {
    allocation_counter().fetch_add(1, std::memory_order_relaxed);
    record_allocation(size);
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
// Out of line: GCC would otherwise inline a delete's free() against an operator new it did not
// inline and report a (false) new/free mismatch.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif
