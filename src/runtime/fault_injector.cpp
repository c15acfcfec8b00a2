#include <ainet/runtime/fault_injector.hpp>

#include <ainet/core/assert.hpp>

#include <algorithm>
#include <cstring>

namespace ainet::runtime {

fault_injector::fault_injector(fault_counters& counters, uint32_t datagram_size_max)
    : m_counters(counters), m_slot_size(datagram_size_max) {
    AINET_ASSERT(datagram_size_max > 0);
}

void fault_injector::configure(const config::fault_config& settings, uint64_t label) {
    m_settings = settings;
    m_active = settings.active();
    m_drop = probability::from_double(settings.drop_probability);
    m_duplicate = probability::from_double(settings.duplicate_probability);
    m_reorder = probability::from_double(settings.reorder_probability);
    m_rng = rng(derive_seed(settings.seed, label));
    if (settings.holds() && !m_slab) {
        m_slab = std::make_unique<uint8_t[]>(size_t{held_count_max} * m_slot_size);
        m_slots.resize(held_count_max);
        m_free.reserve(held_count_max);
        for (uint32_t i = held_count_max; i > 0; --i)
            m_free.push_back(i - 1);
        m_heap.reserve(held_count_max);
        m_released.reserve(held_count_max);
    }
    bump(m_counters.settings_applied);
    m_counters.active.store(m_active ? 1 : 0, std::memory_order_relaxed);
}

bool fault_injector::blocked(const endpoint& peer) const noexcept {
    return std::any_of(m_settings.block.begin(), m_settings.block.end(),
                       [&](const config::fault_block& b) { return b.matches(peer); });
}

bool fault_injector::later(uint32_t a, uint32_t b) const noexcept {
    const held_slot& x = m_slots[a];
    const held_slot& y = m_slots[b];
    return x.release_at != y.release_at ? x.release_at > y.release_at : x.sequence > y.sequence;
}

void fault_injector::hold(instant now, const rx_datagram& d, std::vector<rx_datagram>& out) noexcept {
    uint32_t hold_ms = m_settings.delay_ms;
    if (m_settings.jitter_ms > 0)
        hold_ms += static_cast<uint32_t>(m_rng.between(0, m_settings.jitter_ms));
    if (m_rng.chance(m_reorder)) {
        hold_ms += static_cast<uint32_t>(m_rng.between(1, m_settings.reorder_window_ms));
        bump(m_counters.reordered);
    }
    // Held only when there is a hold and it fits a slot (a GRO-sized datagram larger than the
    // configured datagram size is delivered unheld rather than cut).
    if (hold_ms == 0 || !m_slab || d.payload.size() > m_slot_size) {
        out.push_back(d);
        return;
    }
    if (m_free.empty()) {
        bump(m_counters.held_queue_full);
        return;
    }
    const uint32_t index = m_free.back();
    m_free.pop_back();
    held_slot& s = m_slots[index];
    s.release_at = now + std::chrono::milliseconds(hold_ms);
    s.sequence = m_sequence++;
    s.source = d.source;
    s.size = static_cast<uint32_t>(d.payload.size());
    if (s.size > 0)
        std::memcpy(m_slab.get() + size_t{index} * m_slot_size, d.payload.data(), s.size);
    m_heap.push_back(index);
    std::push_heap(m_heap.begin(), m_heap.end(), [this](uint32_t a, uint32_t b) { return later(a, b); });
    bump(m_counters.held);
    m_counters.held_now.store(m_heap.size(), std::memory_order_relaxed);
}

void fault_injector::filter_receive(instant now, std::span<const rx_datagram> batch,
                                    std::vector<rx_datagram>& out) noexcept {
    AINET_ASSERT(batch.size() <= receive_chunk_max);
    const bool blocks = !m_settings.block.empty();
    for (const rx_datagram& d : batch) {
        if (blocks && blocked(d.source)) {
            bump(m_counters.rx_blocked);
            continue;
        }
        if (m_rng.chance(m_drop)) {
            bump(m_counters.rx_dropped);
            continue;
        }
        const bool twice = m_rng.chance(m_duplicate);
        hold(now, d, out);
        if (twice) {
            bump(m_counters.duplicated);
            hold(now, d, out);
        }
    }
}

std::optional<instant> fault_injector::next_release() const noexcept {
    if (m_heap.empty())
        return std::nullopt;
    return m_slots[m_heap.front()].release_at;
}

void fault_injector::release_due(instant now, std::vector<rx_datagram>& out) noexcept {
    const auto cmp = [this](uint32_t a, uint32_t b) { return later(a, b); };
    while (!m_heap.empty() && m_slots[m_heap.front()].release_at <= now) {
        std::pop_heap(m_heap.begin(), m_heap.end(), cmp);
        const uint32_t index = m_heap.back();
        m_heap.pop_back();
        const held_slot& s = m_slots[index];
        out.push_back(rx_datagram{bytes_view(m_slab.get() + size_t{index} * m_slot_size, s.size),
                                  s.source});
        m_released.push_back(index);
        bump(m_counters.released);
    }
    m_counters.held_now.store(m_heap.size(), std::memory_order_relaxed);
}

void fault_injector::recycle() noexcept {
    for (const uint32_t index : m_released)
        m_free.push_back(index);
    m_released.clear();
}

size_t fault_injector::filter_sends(tx_queue& tx) noexcept {
    const size_t removed = tx.remove_pending_if(
        [this](const tx_queue::entry& e) { return blocked(e.destination); });
    if (removed > 0)
        bump(m_counters.tx_blocked, removed);
    return removed;
}

} // namespace ainet::runtime
