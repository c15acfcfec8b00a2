#pragma once
// The wall clock as the node reads it (CLOCK_REALTIME, milliseconds since the epoch), for
// tests that stamp entries the node must not find too far in the future.

#include <chrono>
#include <cstdint>

namespace ainet::test {

inline uint64_t wall_ms_now() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

} // namespace ainet::test
