#pragma once
// membership state that a node persists across restarts: the incarnation floor, and the member
// snapshot (the signed alive claims it holds).
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
#include <ainet/membership/messages.hpp>
#include <ainet/wire/errc.hpp>

#include <array>
#include <cstdint>
#include <vector>

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

// The member snapshot: the signed alive claims of the members a node held (alive, suspect or
// unreachable), so that a restart rejoins all of them at once, as Serf's snapshot does, instead
// of only the few its seeds name. Why it matters: a node restarted while a partition cuts it off
// from part of the network would otherwise never learn the members on the other side before the
// heal (peers gossip their unreachable members as suspect claims, which a node that does not
// know the subject drops), so it could not see, count or report the partition.
//
// Trust: the file is read back through membership_core::learn(), which verifies every signature
// as for a claim off the wire; a tampered file can name nothing its subjects did not sign.
// Staleness: written_at_ms (wall clock) lets the reader ignore a snapshot older than its horizon
// (membership_service: members_restore_max_age), since members that died long ago would only be
// probed, suspected and counted as a false partition.
//
// Format, little-endian: "AMM" | version u8 = 1 | written_at_ms u64 | count varint
// (<= members_snapshot_count_max) | count alive claims (messages.hpp claim encoding), subjects
// strictly increasing (one claim per member, one encoding per snapshot). Anything else is
// rejected whole.
inline constexpr size_t members_snapshot_count_max = 16384; // membership_config::member_count_max
// Largest encoding: header, varint, and the largest alive claim (IPv6 endpoint) per member.
inline constexpr size_t members_snapshot_size_max = 4 + 8 + 3 + members_snapshot_count_max * 118;

struct persisted_members {
    uint64_t written_at_ms = 0;
    std::vector<claim> members; // alive claims, sorted by subject

    friend bool operator==(const persisted_members&, const persisted_members&) = default;
};

// Sorts members by subject and encodes them; claims that are not alive (or beyond the count
// bound) are left out.
[[nodiscard]] std::vector<uint8_t> encode_members(uint64_t written_at_ms,
                                                  std::vector<claim> members);
[[nodiscard]] wire::result<persisted_members> decode_members(bytes_view blob);

} // namespace ainet::membership
