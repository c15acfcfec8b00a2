#include <ainet/relay/route_table.hpp>

#include <ainet/core/assert.hpp>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <functional>
#include <new>
#include <type_traits>

namespace ainet::relay {

namespace {

// At most half the slots are used, so every probe run ends at an empty slot soon (capacity 0:
// one slot, always empty).
size_t slot_count_for(uint32_t capacity_max) noexcept {
    return std::bit_ceil(std::max<size_t>(size_t{capacity_max} * 2, 1));
}

} // namespace

route_table::route_table(uint32_t capacity_max)
    : m_capacity_max(capacity_max), m_mask(slot_count_for(capacity_max) - 1),
      m_slots(static_cast<slot*>(std::calloc(slot_count_for(capacity_max), sizeof(slot)))) {
    static_assert(std::is_trivially_copyable_v<slot> && std::is_trivially_destructible_v<slot>);
    if (!m_slots)
        throw std::bad_alloc(); // start-up only: the table is built before shards run
}

void route_table::free_slots::operator()(slot* slots) const noexcept { std::free(slots); }

size_t route_table::home(const node_id& node) const noexcept {
    return std::hash<node_id>{}(node) & m_mask;
}

size_t route_table::probe(const node_id& node) const noexcept {
    size_t index = home(node);
    // Terminates: the table is never more than half full.
    while (m_slots[index].used && m_slots[index].node != node)
        index = (index + 1) & m_mask;
    return index;
}

const endpoint* route_table::find(const node_id& node) const noexcept {
    const slot& s = m_slots[probe(node)];
    return s.used ? &s.at : nullptr;
}

route_table::put_result route_table::put(const node_id& node, const endpoint& at) noexcept {
    slot& s = m_slots[probe(node)];
    if (s.used) {
        s.at = at;
        return put_result::updated;
    }
    if (m_size >= m_capacity_max)
        return put_result::full;
    s.node = node;
    s.at = at;
    s.used = true;
    ++m_size;
    return put_result::inserted;
}

bool route_table::erase(const node_id& node) noexcept {
    size_t hole = probe(node);
    if (!m_slots[hole].used)
        return false;
    // Backward shift: walk the rest of the run and move back every entry whose home does not
    // lie (cyclically) in (hole, index], i.e. one that the hole would otherwise cut off from
    // its home.
    for (size_t index = (hole + 1) & m_mask; m_slots[index].used; index = (index + 1) & m_mask) {
        const size_t want = home(m_slots[index].node);
        const bool reachable_without_hole = ((index - want) & m_mask) < ((index - hole) & m_mask);
        if (reachable_without_hole)
            continue;
        m_slots[hole] = m_slots[index];
        hole = index;
    }
    m_slots[hole].used = false;
    --m_size;
    return true;
}

} // namespace ainet::relay
