#pragma once
// A shard's send queue: a fixed slab of datagram-sized slots plus the list of datagrams waiting
// for the next flush. Allocates only in its constructor.
//
// Handlers append during a loop turn (push copies, or prepare/commit to encode in place); the
// io backend takes the pending list at the end of the turn, groups it into GSO trains, and
// releases each slot once the kernel is done with it. Full queue: the datagram is refused and
// counted (tx_queue_full), never blocked on. Owned by one shard; not thread-safe.
//
// Zero-copy forwarding: forward() of a datagram that sits in a receive buffer of the io backend
// (the rx_buffer_lender) queues the receive buffer's own bytes, patched in place, instead of a
// copy: the backend keeps that buffer out of its receive ring until the send completed. At
// most slot_count datagrams are lent at a time, and the lender refuses when too many of its
// buffers are out; then forward() copies into a slot as before (tx_copied_forwards).

#include <ainet/core/bytes.hpp>
#include <ainet/core/datagram.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/runtime/counters.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ainet::runtime {

// Implemented by an io backend whose receive buffers can outlive the on_datagrams call that
// delivered them. Called on the shard's thread only.
class rx_buffer_lender {
public:
    // Lends the receive buffer that holds data (a datagram delivered in the current
    // on_datagrams call) until give_back(id): returns the same bytes, writable, and the buffer's
    // id; or nullptr when data is not in a lendable buffer or too many buffers are out.
    [[nodiscard]] virtual uint8_t* lend(const uint8_t* data, uint32_t& id) noexcept = 0;
    virtual void give_back(uint32_t id) noexcept = 0;

protected:
    ~rx_buffer_lender() = default;
};

class tx_queue final : public datagram_sink {
public:
    // An entry's slot is its handle for release(): a slab slot, or lent_bit | the lender's
    // buffer id for a zero-copy forward. data points at the bytes to send either way.
    static constexpr uint32_t lent_bit = 1u << 31;
    struct entry {
        endpoint destination;
        uint32_t slot;
        uint32_t size;
        const uint8_t* data = nullptr;
    };

    tx_queue(uint32_t slot_count, uint32_t slot_size, shard_counters& counters);

    // Appends a copy of payload for destination. False if full or oversize (counted).
    bool push(const endpoint& destination, bytes_view payload) noexcept;

    // Encode in place: prepare() returns a slot_size buffer (empty if full), commit() queues the
    // first size bytes of it. Exactly one commit or abandon per successful prepare.
    [[nodiscard]] mutable_bytes prepare(const endpoint& destination) noexcept override;
    void commit(size_t size) noexcept override;
    void abandon() noexcept override;
    // Zero copy through the lender where it can, else a copy (see the header comment).
    bool forward(const endpoint& destination, const datagram_ref& received, size_t patch_offset,
                 uint8_t patch_value) noexcept override;

    // The backend whose receive buffers forward() may send from (nullptr: always copy), and
    // whether it may now (off while faults may duplicate a datagram: two forwards of one
    // buffer would patch the same bytes). Entries already lent still go back to the lender.
    void set_lender(rx_buffer_lender* lender) noexcept { m_lender = lender; }
    void set_lending(bool on) noexcept { m_lending = on; }
    [[nodiscard]] uint32_t lent_count() const noexcept { return m_lent; }

    [[nodiscard]] std::span<entry> pending() noexcept { return m_pending; }
    [[nodiscard]] bool empty() const noexcept { return m_pending.empty(); }
    [[nodiscard]] uint32_t slot_size() const noexcept { return m_slot_size; }
    [[nodiscard]] uint32_t free_slots() const noexcept { return static_cast<uint32_t>(m_free.size()); }

    // For backends: the bytes of a slot, drop the first count pending entries (handed to the
    // kernel or dropped), and return an entry's slot (its handle) once its send completed.
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
    std::vector<entry> m_pending;      // capacity fixed at 2 * slot_count (slots + lent)
    rx_buffer_lender* m_lender = nullptr;
    bool m_lending = true;
    uint32_t m_lent = 0;               // lent entries not yet released, <= slot_count
    bool m_prepared = false;
    entry m_prepared_entry{};
    shard_counters& m_counters;
};

} // namespace ainet::runtime
