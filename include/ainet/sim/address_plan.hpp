#pragma once
// address_plan: which IPv4 endpoint each simulated node has, and back.
//
// Node i lives in netgroup g = i % netgroup_count (the /16 first_octet.g.0.0) as host
// h = i / netgroup_count + 1, at first_octet.g.(h >> 8).(h & 255):port. Spreading consecutive
// nodes over distinct /16s gives netgroup-aware code (eviction, bucketing, peer diversity)
// realistic address diversity. The mapping is a pure function, so a factory, a node picking
// peers and the world agree without sharing a table, and delivery needs no hash lookup.
// A plain value; any thread.

#include <ainet/core/endpoint.hpp>

#include <cstdint>
#include <optional>

namespace ainet::sim {

// A node's index in its world: dense, from 0, stable across crash and restart.
enum class node_index : uint32_t {};
[[nodiscard]] constexpr uint32_t to_index(node_index i) noexcept {
    return static_cast<uint32_t>(i);
}

struct address_plan {
    static constexpr uint32_t hosts_per_netgroup_max = 65534; // .0.1 .. .255.254
    static constexpr uint32_t netgroup_count_max = 256;

    uint8_t first_octet = 10;     // 10 (private) or 127 (loopback)
    uint32_t netgroup_count = 16; // 1..256 distinct /16 netgroups
    uint16_t port = 7000;         // every node listens on the same port

    // How many nodes the plan can address.
    [[nodiscard]] constexpr uint32_t capacity() const noexcept {
        return netgroup_count * hosts_per_netgroup_max;
    }
    [[nodiscard]] endpoint endpoint_of(node_index index) const noexcept;
    // The node at e, or nullopt for an address outside the plan (wrong octet, port, host).
    [[nodiscard]] std::optional<node_index> index_of(const endpoint& e) const noexcept;
    // The /16 netgroup number of a node (0..netgroup_count-1).
    [[nodiscard]] uint32_t netgroup_of(node_index index) const noexcept {
        return to_index(index) % netgroup_count;
    }
};

} // namespace ainet::sim
