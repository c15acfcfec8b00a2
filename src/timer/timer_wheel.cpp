#include <ainet/timer/timer_wheel.hpp>

#include <bit>
#include <limits>

namespace ainet::timer {

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::pool_full:
        return "timer pool full";
    }
    return "unknown timer error";
}

namespace {

constexpr uint64_t index_mask = (uint64_t{1} << timer_index_bits) - 1;

// (to - from) in ns as an unsigned count; to >= from. Exact for any pair of int64 instants.
[[nodiscard]] uint64_t ns_between(instant from, instant to) noexcept {
    return static_cast<uint64_t>(to.ns_since_origin) - static_cast<uint64_t>(from.ns_since_origin);
}

} // namespace

timer_wheel::timer_wheel(uint32_t capacity, instant origin, duration tick)
    : m_capacity(capacity), m_origin(origin), m_tick(tick), m_now(origin) {
    AINET_ASSERT_MSG(capacity >= 1 && capacity <= timer_capacity_max,
                     "timer wheel capacity must be 1..timer_capacity_max");
    AINET_ASSERT_MSG(tick.count() > 0, "timer wheel tick must be positive");
    const uint32_t node_count = capacity + list_count;
    m_nodes = std::make_unique<node[]>(node_count);
    for (uint32_t i = 0; i < capacity; ++i) {
        node& n = m_nodes[i];
        n = node{};
        n.next = i + 1 < capacity ? i + 1 : index_none;
        n.prev = index_none;
        n.list = list_free;
        n.set_generation(1); // so that timer_id{0} is never issued
    }
    m_free_head = 0;
    for (uint32_t list = 0; list < list_count; ++list) {
        const uint32_t s = sentinel(list);
        m_nodes[s] = node{};
        m_nodes[s].next = s;
        m_nodes[s].prev = s;
        m_nodes[s].list = static_cast<uint16_t>(list);
    }
}

uint32_t timer_wheel::lookup(timer_id id) const noexcept {
    const auto raw = static_cast<uint64_t>(id);
    const auto index = static_cast<uint32_t>(raw & index_mask);
    if (index >= m_capacity)
        return index_none;
    const node& n = m_nodes[index];
    if (n.list == list_free || n.generation() != raw >> timer_index_bits)
        return index_none;
    return index;
}

bool timer_wheel::is_armed(timer_id id) const noexcept {
    return lookup(id) != index_none;
}

void timer_wheel::link_back(uint32_t index, uint32_t list) noexcept {
    const uint32_t s = sentinel(list);
    node& n = m_nodes[index];
    const uint32_t last = m_nodes[s].prev;
    n.next = s;
    n.prev = last;
    n.list = static_cast<uint16_t>(list);
    m_nodes[last].next = index;
    m_nodes[s].prev = index;
}

void timer_wheel::unlink(uint32_t index) noexcept {
    node& n = m_nodes[index];
    AINET_ASSERT(n.list != list_free);
    m_nodes[n.prev].next = n.next;
    m_nodes[n.next].prev = n.prev;
    // A node's tag may name a slot it was spliced out of (see splice_back); clearing the bit
    // of a slot that is empty is right either way.
    if (n.list < wheel_slot_count && list_empty(n.list))
        m_occupied[n.list / slot_count] &= ~(uint64_t{1} << (n.list % slot_count));
    n.next = index_none;
    n.prev = index_none;
}

void timer_wheel::splice_back(uint32_t from, uint32_t to) noexcept {
    AINET_ASSERT(to >= wheel_slot_count);
    if (list_empty(from))
        return;
    const uint32_t sf = sentinel(from);
    const uint32_t st = sentinel(to);
    const uint32_t first = m_nodes[sf].next;
    const uint32_t last = m_nodes[sf].prev;
    const uint32_t to_last = m_nodes[st].prev;
    m_nodes[to_last].next = first;
    m_nodes[first].prev = to_last;
    m_nodes[last].next = st;
    m_nodes[st].prev = last;
    m_nodes[sf].next = sf;
    m_nodes[sf].prev = sf;
}

void timer_wheel::place(uint32_t index) noexcept {
    const uint64_t tick = m_nodes[index].tick;
    AINET_ASSERT(tick > m_tick_now);
    // The highest 6-bit digit in which the deadline differs from the current tick: below it the
    // deadline is within the current block, so the slot at that level is ahead of the wheel.
    const auto level = static_cast<uint32_t>(std::bit_width(tick ^ m_tick_now) - 1) / slot_bits;
    const auto slot = static_cast<uint32_t>(tick >> (level * slot_bits)) & (slot_count - 1);
    link_back(index, level * slot_count + slot);
    m_occupied[level] |= uint64_t{1} << slot;
}

void timer_wheel::release(uint32_t index) noexcept {
    node& n = m_nodes[index];
    n.list = list_free;
    const uint64_t generation = n.generation() + 1;
    AINET_ASSERT(m_size > 0);
    --m_size;
    if (generation > generation_max) {
        // Reusing the node would let a 2^40-times-stale id match again: keep it out for good.
        ++m_retired_count;
        n.next = index_none;
        return;
    }
    n.set_generation(generation);
    n.next = m_free_head;
    m_free_head = index;
}

result<timer_id> timer_wheel::arm(instant deadline, uint64_t cookie) noexcept {
    if (m_free_head == index_none) [[unlikely]]
        return fail(errc::pool_full);
    const uint32_t index = m_free_head;
    node& n = m_nodes[index];
    AINET_ASSERT(n.list == list_free);
    m_free_head = n.next;
    n.cookie = cookie;
    if (deadline <= m_now) {
        // Already due: fires at the next advance (timers armed inside one never fire in it).
        n.tick = m_tick_now;
        link_back(index, list_due);
    } else {
        // Round up: a deadline between two tick boundaries waits for the later one.
        const uint64_t offset_ns = ns_between(m_origin, deadline);
        const auto tick_ns = static_cast<uint64_t>(m_tick.count());
        n.tick = offset_ns / tick_ns + (offset_ns % tick_ns != 0 ? 1 : 0);
        place(index);
    }
    ++m_size;
    AINET_ASSERT(m_size <= m_capacity);
    return make_id(index, n.generation());
}

bool timer_wheel::cancel(timer_id id) noexcept {
    const uint32_t index = lookup(id);
    if (index == index_none)
        return false;
    unlink(index);
    release(index);
    return true;
}

void timer_wheel::begin_advance(instant now) noexcept {
    AINET_ASSERT_MSG(!m_advancing, "advance() called from inside an expiry callback");
    AINET_ASSERT_MSG(now >= m_now, "advance() went back in time");
    AINET_ASSERT(list_empty(list_firing));
    m_advancing = true;
    m_now = now;
    m_tick_target = ns_between(m_origin, now) / static_cast<uint64_t>(m_tick.count());
    AINET_ASSERT(m_tick_target >= m_tick_now);
    // Timers due before this advance fire first; ones armed from its callbacks wait for the next.
    splice_back(list_due, list_firing);
}

void timer_wheel::end_advance() noexcept {
    AINET_ASSERT(m_tick_now == m_tick_target);
    AINET_ASSERT(list_empty(list_firing));
    m_advancing = false;
}

uint32_t timer_wheel::pop_firing() noexcept {
    if (list_empty(list_firing))
        return index_none;
    const uint32_t index = m_nodes[sentinel(list_firing)].next;
    unlink(index);
    return index;
}

bool timer_wheel::find_next_slot(uint32_t& level, uint64_t& slot_tick) const noexcept {
    // Every timer at level L sits in a slot ahead of the current tick's digit L (slots behind
    // it were cascaded or fired when the wheel passed them), so the first occupied slot ahead
    // at the lowest level that has one is the next thing to happen.
    for (uint32_t l = 0; l < level_count; ++l) {
        const uint32_t shift = l * slot_bits;
        const auto digit = static_cast<uint32_t>(m_tick_now >> shift) & (slot_count - 1);
        // Bits above `digit`; for digit 63 the shift gives 0 and the mask 0.
        const uint64_t ahead = m_occupied[l] & ~((uint64_t{2} << digit) - 1);
        if (ahead == 0)
            continue;
        const uint32_t block_shift = shift + slot_bits;
        const uint64_t block_base =
            block_shift >= 64 ? 0 : (m_tick_now >> block_shift) << block_shift;
        level = l;
        slot_tick = block_base | (static_cast<uint64_t>(std::countr_zero(ahead)) << shift);
        return true;
    }
    return false;
}

bool timer_wheel::collect_next_tick() noexcept {
    // Bounded: each pass empties one occupied slot, and the timers it holds only move to
    // lower levels (or fire), so the passes are at most (timers at the start) * level_count.
    for (;;) {
        uint32_t level = 0;
        uint64_t slot_tick = 0;
        if (m_tick_now == m_tick_target || !find_next_slot(level, slot_tick) ||
            slot_tick > m_tick_target) {
            // Nothing between here and the target: jump there directly, however far.
            m_tick_now = m_tick_target;
            return false;
        }
        AINET_ASSERT(slot_tick > m_tick_now);
        m_tick_now = slot_tick;
        const auto slot =
            static_cast<uint32_t>(slot_tick >> (level * slot_bits)) & (slot_count - 1);
        const uint32_t list = level * slot_count + slot;
        m_occupied[level] &= ~(uint64_t{1} << slot);
        if (level == 0) {
            // Every level-0 timer in the slot is due at exactly this tick.
            splice_back(list, list_firing);
            return true;
        }
        // Cascade: the wheel just entered this slot's block; spread its timers over the lower
        // levels relative to the new tick, in list order (which keeps arm order per tick).
        const uint32_t s = sentinel(list);
        uint32_t index = m_nodes[s].next;
        m_nodes[s].next = s;
        m_nodes[s].prev = s;
        while (index != s) {
            const uint32_t next = m_nodes[index].next;
            if (m_nodes[index].tick == slot_tick)
                link_back(index, list_firing);
            else
                place(index);
            index = next;
        }
        if (!list_empty(list_firing))
            return true;
    }
}

instant timer_wheel::instant_of_tick(uint64_t tick) const noexcept {
    const auto tick_ns = static_cast<uint64_t>(m_tick.count());
    const uint64_t headroom_ns = ns_between(m_origin, instant{std::numeric_limits<int64_t>::max()});
    if (tick > headroom_ns / tick_ns)
        return instant{std::numeric_limits<int64_t>::max()};
    return instant{
        static_cast<int64_t>(static_cast<uint64_t>(m_origin.ns_since_origin) + tick * tick_ns)};
}

std::optional<instant> timer_wheel::next_deadline() const noexcept {
    if (!list_empty(list_due) || !list_empty(list_firing))
        return m_now;
    uint32_t level = 0;
    uint64_t slot_tick = 0;
    if (!find_next_slot(level, slot_tick))
        return std::nullopt;
    return instant_of_tick(slot_tick);
}

} // namespace ainet::timer
