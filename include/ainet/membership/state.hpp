#pragma once
// membership state that a node persists across restarts: the incarnation floor.
//
// Why. Other members hold a node's alive claim at its current incarnation, and a death at that
// incarnation beats it; a node that restarts at an incarnation it already used is ignored (or,
// once reaped, kept out by the tombstone) until it meets its own death and refutes it. So a
// restarted node starts one above every incarnation it used. The node service keeps a *floor*
// on disk, always above the incarnation in use: it writes floor = incarnation + lease when it
// starts and again whenever its incarnation reaches the floor, so a write is needed only once per
// `lease` refutations, not per refutation (membership_service.hpp).
//
// Format (12 bytes, little-endian): "AMS" | version u8 = 1 | incarnation_floor u64. Anything
// else (another size, magic or version) is rejected; the caller then starts from its wall clock.
// Pure functions, any thread, no allocation beyond the returned vector.

#include <ainet/core/bytes.hpp>
#include <ainet/wire/errc.hpp>

#include <array>
#include <cstdint>

namespace ainet::membership {

struct persisted_state {
    uint64_t incarnation_floor = 0; // every incarnation used so far is below it
};

inline constexpr size_t persisted_state_size = 12;

[[nodiscard]] std::array<uint8_t, persisted_state_size>
encode_state(const persisted_state& s) noexcept;
[[nodiscard]] wire::result<persisted_state> decode_state(bytes_view blob) noexcept;

// The first incarnation of a node that restarts with `persisted` (nullopt: no state file, or a
// rejected one) at wall-clock time wall_ms: max(floor, wall_ms). The wall clock also covers a
// lost state file (milliseconds since the epoch outgrow any incarnation a node reaches by
// refuting, short of forged accusations, which the floor covers).
[[nodiscard]] uint64_t restart_incarnation(const persisted_state* persisted,
                                           uint64_t wall_ms) noexcept;

} // namespace ainet::membership
