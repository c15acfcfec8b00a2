#pragma once
// Single-writer counters: a module's counters are std::atomic<uint64_t> written by the one
// thread that owns the module (a shard) and read by the control thread for /metrics.

#include <atomic>
#include <cstdint>

namespace ainet {

// The owner's increment: one writer, so a relaxed load + store suffices (no locked
// read-modify-write instruction on the data path). Never use from two threads.
inline void bump(std::atomic<uint64_t>& counter, uint64_t amount = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

} // namespace ainet
