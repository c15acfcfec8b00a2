#pragma once
// route_table: a relay shard's node_id -> endpoint map, preallocated for route_count_max
// routes so that adding a route for a new peer never allocates.
//
// Open addressing with linear probing over a power-of-two slot array at most half full
// (capacity_max routes in at least 2 * capacity_max slots), and backward-shift deletion: an
// erase moves the following entries of the probe run back, so there are no tombstones and a
// lookup's probe length depends only on the live entries. Keys are Ed25519 public keys
// (uniformly random), so std::hash<node_id> (8 of their bytes) spreads them well; a crafted
// key only lengthens its own probe run, and the table never holds more than capacity_max.
// Memory: 56 bytes per slot, allocated once in the constructor, zeroed by the kernel on first
// touch (calloc), so a large, mostly empty table costs little resident memory. Not
// thread-safe: each shard owns its own copy.

#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ainet::relay {

class route_table {
public:
    enum class put_result : uint8_t { inserted, updated, full };

    // capacity_max: routes the table holds at most (0: none). Throws std::bad_alloc at
    // construction only.
    explicit route_table(uint32_t capacity_max);

    // The endpoint of node, or nullptr. Valid until the next put or erase.
    [[nodiscard]] const endpoint* find(const node_id& node) const noexcept;
    // Adds or replaces node's route; full (nothing changed) when node is new and the table
    // holds capacity_max routes.
    put_result put(const node_id& node, const endpoint& at) noexcept;
    // Removes node's route; false if there was none.
    bool erase(const node_id& node) noexcept;

    [[nodiscard]] size_t size() const noexcept { return m_size; }
    [[nodiscard]] uint32_t capacity_max() const noexcept { return m_capacity_max; }

private:
    // An aggregate (an implicit-lifetime type): all-zero memory is an unused slot.
    struct slot {
        node_id node;
        endpoint at;
        bool used;
    };

    [[nodiscard]] size_t home(const node_id& node) const noexcept;
    // The slot holding node, or the empty slot that ends its probe run.
    [[nodiscard]] size_t probe(const node_id& node) const noexcept;

    uint32_t m_capacity_max;
    size_t m_mask;
    size_t m_size = 0;
    struct free_slots {
        void operator()(slot* slots) const noexcept;
    };
    std::unique_ptr<slot[], free_slots> m_slots;
};

} // namespace ainet::relay
