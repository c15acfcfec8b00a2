#pragma once
// fault_injector: loss, duplication, delay, reordering and partitions for a real node, applied
// by a shard to the datagrams it receives (and, for the block list, to those it sends). It
// exists because test machines and CI runners have no `tc netem` (no CAP_NET_ADMIN), yet the
// demo, the soak and the integration tests must show the protocols coping with a bad network
// and with a partition between processes on one loopback interface.
//
// Settings are config::fault_config (node config "faults", POST /admin/faults). Per received
// datagram, in this order: source on the block list -> dropped (rx_blocked); drop draw ->
// dropped (rx_dropped); duplicate draw -> two copies (duplicated); then each copy is held
// delay_ms + uniform[0, jitter_ms], plus uniform[1, reorder_window_ms] on a reorder draw (so
// later datagrams overtake it), and delivered when its time comes, in (release time, arrival)
// order. A copy with no hold is delivered in the same call, borrowed from the batch. Sends to a
// blocked address are removed from the shard's tx queue before the flush (tx_blocked).
//
// Randomness: core/rng.hpp (xoshiro256**) seeded with derive_seed(seed, label): the shard
// passes its index and UDP port as the label, so a seed replays the same decisions for the
// same traffic, and shards and nodes draw independent streams. No global random source, no
// clock: `now` comes in.
//
// Threads: owned and called by one shard (configure() included: the control side posts new
// settings through the shard mesh, shard_group::set_faults). Counters are single-writer
// relaxed atomics read by /metrics. Cost when off: the shard tests one bool per receive batch
// and per loop turn. Memory: nothing until a setting that holds datagrams is applied; then a
// pool of held_count_max datagram-sized slots (allocated once, by configure(), never on the
// data path). Bounded: at most held_count_max datagrams held; one more is dropped and counted
// (held_queue_full), as a full netem queue would.
//
// Why a heap of its own and not the shard's timer wheel: held datagrams must come out in exact
// (release time, arrival) order, including several due in the same millisecond, which a wheel
// slot does not keep; the heap is bounded (held_count_max), costs O(log 1024) per datagram only
// while faults are on, and its earliest release joins the shard's sleep deadline like a timer.

#include <ainet/config/fault_config.hpp>
#include <ainet/core/rng.hpp>
#include <ainet/core/counter.hpp>
#include <ainet/core/datagram.hpp>
#include <ainet/core/time.hpp>
#include <ainet/runtime/io_backend.hpp>
#include <ainet/runtime/tx_queue.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace ainet::runtime {

// X(name, help): exported as ainet_fault_<name>_total{shard="i"}.
#define AINET_FAULT_COUNTERS(X)                                                                    \
    X(rx_blocked, "received datagrams dropped: source on the fault block list")                   \
    X(rx_dropped, "received datagrams dropped at random (drop_probability)")                      \
    X(tx_blocked, "datagrams not sent: destination on the fault block list")                      \
    X(duplicated, "received datagrams delivered twice (duplicate_probability)")                   \
    X(held, "received datagrams held back (delay, jitter, reorder)")                              \
    X(reordered, "held datagrams given an extra reorder hold")                                    \
    X(released, "held datagrams delivered")                                                       \
    X(held_queue_full, "datagrams dropped: the hold queue was full (held_count_max)")             \
    X(settings_applied, "fault settings applied (node config or POST /admin/faults)")

struct fault_counters {
#define AINET_DECLARE_FAULT_COUNTER(name, help) std::atomic<uint64_t> name{0};
    AINET_FAULT_COUNTERS(AINET_DECLARE_FAULT_COUNTER)
#undef AINET_DECLARE_FAULT_COUNTER
    // Gauges: 1 while settings are active; datagrams held right now.
    std::atomic<uint64_t> active{0};
    std::atomic<uint64_t> held_now{0};
};

class fault_injector {
public:
    // Datagrams held at once, per shard.
    static constexpr uint32_t held_count_max = 1024;
    // filter_receive() takes at most this many datagrams per call and appends at most twice
    // as many (duplicates) to its output.
    static constexpr size_t receive_chunk_max = 64;

    fault_injector(fault_counters& counters, uint32_t datagram_size_max);

    // Applies settings (replacing the previous ones). Datagrams already held keep their release
    // times. label separates the random streams of shards and nodes. Allocates the hold pool
    // the first time settings hold datagrams.
    void configure(const config::fault_config& settings, uint64_t label);

    // True while settings are active or datagrams are still held: the shard's one branch.
    [[nodiscard]] bool active() const noexcept { return m_active || !m_heap.empty(); }
    [[nodiscard]] bool blocks_any() const noexcept { return !m_settings.block.empty(); }
    [[nodiscard]] bool blocked(const endpoint& peer) const noexcept;

    // Applies the receive faults to batch (at most receive_chunk_max datagrams): appends what
    // is delivered now to out (borrowed from batch; out needs capacity 2 * batch.size() more)
    // and copies what is held into the pool.
    void filter_receive(instant now, std::span<const rx_datagram> batch,
                        std::vector<rx_datagram>& out) noexcept;

    // Appends every held datagram due at now to out, in release order. Their bytes stay valid
    // until recycle(), which the shard calls once the app has seen them.
    void release_due(instant now, std::vector<rx_datagram>& out) noexcept;
    void recycle() noexcept;
    [[nodiscard]] std::optional<instant> next_release() const noexcept;
    [[nodiscard]] size_t held_count() const noexcept { return m_heap.size(); }

    // Removes the sends to blocked addresses from tx's pending list; returns how many.
    size_t filter_sends(tx_queue& tx) noexcept;

    [[nodiscard]] const config::fault_config& settings() const noexcept { return m_settings; }

private:
    struct held_slot {
        instant release_at{};
        uint64_t sequence = 0;
        endpoint source;
        uint32_t size = 0;
    };

    void hold(instant now, const rx_datagram& d, std::vector<rx_datagram>& out) noexcept;
    [[nodiscard]] bool later(uint32_t a, uint32_t b) const noexcept;

    fault_counters& m_counters;
    uint32_t m_slot_size;
    config::fault_config m_settings;
    bool m_active = false;
    probability m_drop;
    probability m_duplicate;
    probability m_reorder;
    rng m_rng;
    uint64_t m_sequence = 0;
    std::vector<held_slot> m_slots;          // held_count_max, once a setting holds
    std::unique_ptr<uint8_t[]> m_slab;       // held_count_max * slot size
    std::vector<uint32_t> m_free;            // free slot indices
    std::vector<uint32_t> m_heap;            // held slot indices, min-heap by (release, seq)
    std::vector<uint32_t> m_released;        // delivered, to recycle
};

} // namespace ainet::runtime
