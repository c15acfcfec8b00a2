#include <ainet/core/assert.hpp>
#include <ainet/runtime/tx_queue.hpp>

#include <algorithm>
#include <cstring>

namespace ainet::runtime {

tx_queue::tx_queue(uint32_t slot_count, uint32_t slot_size, shard_counters& counters)
    // Zeroed (touched) now, so the resident size is settled at start, not crept into.
    : m_slab(new uint8_t[size_t{slot_count} * slot_size]()), m_slot_size(slot_size),
      m_slot_count(slot_count), m_counters(counters) {
    AINET_ASSERT(slot_count > 0 && slot_size > 0);
    m_free.reserve(slot_count);
    // Lent entries take no slot: up to slot_count of each kind may be pending.
    m_pending.reserve(size_t{slot_count} * 2);
    for (uint32_t i = slot_count; i > 0; --i)
        m_free.push_back(i - 1);
}

bool tx_queue::push(const endpoint& destination, bytes_view payload) noexcept {
    if (payload.size() > m_slot_size) {
        bump(m_counters.tx_oversize);
        return false;
    }
    mutable_bytes slot = prepare(destination);
    if (slot.empty())
        return false;
    if (!payload.empty())
        std::memcpy(slot.data(), payload.data(), payload.size());
    commit(payload.size());
    return true;
}

mutable_bytes tx_queue::prepare(const endpoint& destination) noexcept {
    AINET_ASSERT(!m_prepared);
    if (m_free.empty()) {
        bump(m_counters.tx_queue_full);
        return {};
    }
    m_prepared_entry = entry{destination, m_free.back(), 0, nullptr};
    m_prepared_entry.data = slot_data(m_prepared_entry.slot);
    m_free.pop_back();
    m_prepared = true;
    return {slot_data(m_prepared_entry.slot), m_slot_size};
}

void tx_queue::commit(size_t size) noexcept {
    AINET_ASSERT(m_prepared && size <= m_slot_size);
    m_prepared = false;
    m_prepared_entry.size = static_cast<uint32_t>(size);
    // Cannot exceed capacity: every pending entry holds one of slot_count slots.
    m_pending.push_back(m_prepared_entry);
}

void tx_queue::abandon() noexcept {
    AINET_ASSERT(m_prepared);
    m_prepared = false;
    m_free.push_back(m_prepared_entry.slot);
}

bool tx_queue::forward(const endpoint& destination, const datagram_ref& received,
                       size_t patch_offset, uint8_t patch_value) noexcept {
    const size_t size = received.payload.size();
    AINET_ASSERT(patch_offset < size);
    if (m_lender != nullptr && m_lending && m_lent < m_slot_count && size <= m_slot_size) {
        uint32_t id = 0;
        if (uint8_t* bytes = m_lender->lend(received.payload.data(), id)) {
            AINET_ASSERT(bytes == received.payload.data() && id < lent_bit);
            bytes[patch_offset] = patch_value;
            ++m_lent;
            // Within capacity: at most slot_count slot entries plus slot_count lent ones.
            AINET_ASSERT(m_pending.size() < m_pending.capacity());
            m_pending.push_back(entry{destination, lent_bit | id, static_cast<uint32_t>(size), bytes});
            bump(m_counters.tx_lent_forwards);
            return true;
        }
    }
    if (!datagram_sink::forward(destination, received, patch_offset, patch_value))
        return false;
    bump(m_counters.tx_copied_forwards);
    return true;
}

void tx_queue::consume_front(size_t count) noexcept {
    AINET_ASSERT(count <= m_pending.size());
    m_pending.erase(m_pending.begin(), m_pending.begin() + static_cast<std::ptrdiff_t>(count));
}

void tx_queue::release(uint32_t slot) noexcept {
    if (slot & lent_bit) {
        AINET_ASSERT(m_lender != nullptr && m_lent > 0);
        --m_lent;
        m_lender->give_back(slot & ~lent_bit);
        return;
    }
    AINET_ASSERT(slot < m_slot_count && m_free.size() < m_slot_count);
    m_free.push_back(slot);
}

} // namespace ainet::runtime
