#pragma once
// A shard's send queue: a fixed slab of datagram-sized slots plus the list of datagrams waiting
// for the next flush. Allocates only in its constructor.
//
// Handlers append during a loop turn (push copies, or prepare/commit to encode in place); the
// io backend takes the pending list at the end of the turn, groups it into GSO trains, and
// releases each slot once the kernel is done with it. Full queue: the datagram is refused and
// counted (tx_queue_full), never blocked on. Owned by one shard; not thread-safe.

#include <ainet/core/bytes.hpp>
#include <ainet/core/datagram.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/runtime/counters.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ainet::runtime {

class tx_queue final : public datagram_sink {
public:
    struct entry {
        endpoint destination;
        uint32_t slot;
        uint32_t size;
    };

    tx_queue(uint32_t slot_count, uint32_t slot_size, shard_counters& counters);

    // Appends a copy of payload for destination. False if full or oversize (counted).
    bool push(const endpoint& destination, bytes_view payload) noexcept;

    // Encode in place: prepare() returns a slot_size buffer (empty if full), commit() queues the
    // first size bytes of it. Exactly one commit or abandon per successful prepare.
    [[nodiscard]] mutable_bytes prepare(const endpoint& destination) noexcept override;
    void commit(size_t size) noexcept override;
    void abandon() noexcept override;

    [[nodiscard]] std::span<entry> pending() noexcept { return m_pending; }
    [[nodiscard]] bool empty() const noexcept { return m_pending.empty(); }
    [[nodiscard]] uint32_t slot_size() const noexcept { return m_slot_size; }
    [[nodiscard]] uint32_t free_slots() const noexcept { return static_cast<uint32_t>(m_free.size()); }

    // For backends: the bytes of a slot, drop the first count pending entries (handed to the
    // kernel or dropped), and return a slot once its send completed.
    [[nodiscard]] uint8_t* slot_data(uint32_t slot) noexcept {
        return m_slab.get() + size_t{slot} * m_slot_size;
    }
    void consume_front(size_t count) noexcept;
    void release(uint32_t slot) noexcept;

    // faults: drops the pending (not yet flushed) entries pred selects, freeing their slots,
    // keeping the others in order; returns how many went (fault_injector's block list).
    template <class Pred>
    size_t remove_pending_if(Pred pred) noexcept {
        size_t kept = 0;
        const size_t before = m_pending.size();
        for (size_t i = 0; i < before; ++i) {
            if (pred(m_pending[i]))
                release(m_pending[i].slot);
            else
                m_pending[kept++] = m_pending[i];
        }
        m_pending.resize(kept);
        return before - kept;
    }

private:
    std::unique_ptr<uint8_t[]> m_slab;
    uint32_t m_slot_size;
    uint32_t m_slot_count;
    std::vector<uint32_t> m_free;      // stack of free slot indices; capacity fixed
    std::vector<entry> m_pending;      // capacity fixed at slot_count
    bool m_prepared = false;
    entry m_prepared_entry{};
    shard_counters& m_counters;
};

} // namespace ainet::runtime
