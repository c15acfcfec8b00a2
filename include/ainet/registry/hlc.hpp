#pragma once
// registry::hlc: a hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).
//
// A timestamp is one u64: the top 48 bits are unix milliseconds (enough until year 10889), the
// low 16 bits a logical counter. Ordering timestamps as integers orders them as (ms, counter).
// The clock never reads time: now(wall) and observe(remote, wall) are handed the wall clock.
//
// Guarantees. Every timestamp now() returns is strictly greater than every timestamp this
// clock returned or observed before, whatever the wall clock does (stall, repeat, step back):
// when the wall clock is not ahead, the counter increments; when the counter would pass
// 0xffff, the millisecond part advances by one (the clock then runs slightly ahead of wall
// time until the wall clock catches up). observe() never moves the clock past wall +
// max_skew: the registry drops such entries first (errc::too_far_in_future), so a peer with a
// clock far ahead cannot drag everyone's clocks forward.
//
// Restart. persist() is the last timestamp; restore() makes the next now() exceed it. The
// registry reports the clock with every durable batch, so after a crash the clock never
// re-issues a timestamp a durable entry carries.
//
// A plain value owned by one shard; no allocation.

#include <ainet/core/time.hpp>

#include <cstdint>

namespace ainet::registry {

inline constexpr unsigned hlc_logical_bits = 16;
inline constexpr uint64_t hlc_logical_max = (uint64_t{1} << hlc_logical_bits) - 1;
inline constexpr uint64_t hlc_ms_max = (uint64_t{1} << 48) - 1;

[[nodiscard]] constexpr uint64_t hlc_make(uint64_t ms, uint64_t logical) noexcept {
    return (ms << hlc_logical_bits) | logical;
}
[[nodiscard]] constexpr uint64_t hlc_ms(uint64_t t) noexcept { return t >> hlc_logical_bits; }
[[nodiscard]] constexpr uint64_t hlc_logical(uint64_t t) noexcept { return t & hlc_logical_max; }

class hlc {
public:
    // A timestamp for a local event at wall time `wall`, strictly above every earlier one.
    [[nodiscard]] uint64_t now(unix_ms wall) noexcept;
    // Merges a remote timestamp (already checked against the skew bound by the caller).
    void observe(uint64_t remote) noexcept;
    [[nodiscard]] uint64_t last() const noexcept { return m_last; }

    [[nodiscard]] uint64_t persist() const noexcept { return m_last; }
    void restore(uint64_t persisted) noexcept {
        if (persisted > m_last)
            m_last = persisted;
    }

private:
    uint64_t m_last = 0;
};

} // namespace ainet::registry
