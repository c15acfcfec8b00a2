#include <ainet/registry/hlc.hpp>

namespace ainet::registry {

uint64_t hlc::now(unix_ms wall) noexcept {
    const int64_t wall_ms = static_cast<int64_t>(wall);
    const uint64_t physical = wall_ms <= 0 ? 0 : std::min<uint64_t>(uint64_t(wall_ms), hlc_ms_max);
    const uint64_t candidate = hlc_make(physical, 0);
    // Either the wall clock is ahead (take it, counter 0) or it is not (one past the last:
    // the counter increments, and its carry advances the millisecond part when it overflows).
    m_last = candidate > m_last ? candidate : m_last + 1;
    return m_last;
}

void hlc::observe(uint64_t remote) noexcept {
    if (remote > m_last)
        m_last = remote;
}

} // namespace ainet::registry
