#pragma once
// Time as protocol code sees it: an instant on a monotonic timeline and durations in ns.
//
// Protocol cores never read a clock; they are handed `instant now` by whoever drives them (an
// io_uring shard reading CLOCK_MONOTONIC, or the simulator's virtual clock). Wall-clock time
// (for record expiry, HLC timestamps) is a separate, explicitly named input: unix_ms.

#include <chrono>
#include <compare>
#include <cstdint>

namespace ainet {

using duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

// Nanoseconds since an arbitrary, per-process origin. Only differences mean anything.
struct instant {
    int64_t ns_since_origin = 0;

    friend constexpr auto operator<=>(const instant&, const instant&) = default;
    friend constexpr instant operator+(instant t, duration d) noexcept {
        return instant{t.ns_since_origin + d.count()};
    }
    friend constexpr instant operator-(instant t, duration d) noexcept {
        return instant{t.ns_since_origin - d.count()};
    }
    friend constexpr duration operator-(instant a, instant b) noexcept {
        return duration{a.ns_since_origin - b.ns_since_origin};
    }
};

// Milliseconds since the Unix epoch, as carried in signed records (issued-at, expiry).
enum class unix_ms : int64_t {};

} // namespace ainet
