#pragma once
// Strong identifier types, so a shard index can never be passed where a port or count goes.
//
// node_id is a node's Ed25519 public key (32 bytes): identity is the key, nothing else, so a
// node id can be verified, never merely asserted. Integer IDs are enum classes.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>

namespace ainet {

enum class shard_id : uint16_t {};
enum class channel_id : uint32_t {};

[[nodiscard]] constexpr uint16_t to_index(shard_id id) noexcept { return static_cast<uint16_t>(id); }

inline constexpr size_t node_id_size = 32;

struct node_id {
    std::array<uint8_t, node_id_size> bytes{};

    friend constexpr auto operator<=>(const node_id&, const node_id&) = default;
    friend constexpr bool operator==(const node_id&, const node_id&) = default;
};

} // namespace ainet

template <>
struct std::hash<ainet::node_id> {
    size_t operator()(const ainet::node_id& id) const noexcept {
        // Keys are uniformly random public keys, so any 8 of their bytes already hash well.
        size_t h;
        std::memcpy(&h, id.bytes.data(), sizeof(h));
        return h;
    }
};
