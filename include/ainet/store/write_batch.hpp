#pragma once
// store::write_batch: group commit. The puts and erases a loop turn makes are collected here
// and committed in ONE LMDB write transaction (one fdatasync), instead of one per entry.
//
//   turn:   batch.put(...), batch.erase(...)     copied into the batch; nothing touches LMDB
//   end:    auto seq = batch.commit();           one write txn, data + commit sequence, fsync
//           if (seq) acknowledge every write of the turn (it is durable)
//           else     fail every write of the turn (nothing of it is stored)
//
// Atomic: a commit stores all of its operations or none (a failure at any put, or at the
// commit itself, aborts the transaction). Operations apply in the order they were added, so a
// put then an erase of the same key erases it. Erasing a missing key is not an error.
//
// Bounded: at most batch_limits::entry_count_max operations and byte_count_max key+value bytes;
// put()/erase() beyond that fail with batch_full (counted) and the caller commits first or
// pushes back. The buffers are reserved at construction, so a steady-state turn allocates
// nothing.
//
// Threads: owned by the environment's thread; commit() blocks that thread for the fsync (a few
// ms on SSDs), which is why there is one commit per turn, not per write. Counters are
// single-writer atomics readable from the control thread. Timing is the caller's (no clocks).

#include <ainet/core/counter.hpp>
#include <ainet/store/environment.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

namespace ainet::store {

struct batch_limits {
    size_t entry_count_max = 4096;
    size_t byte_count_max = size_t{4} << 20;
};

// X(name, help): counters a write_batch keeps; /metrics exports ainet_store_<name>_total.
#define AINET_STORE_COUNTERS(X)                                                                    \
    X(commits, "write transactions committed (each one fdatasync when durable)")                   \
    X(commit_failures, "commits that failed; nothing of those batches was stored")                 \
    X(entries_committed, "puts and erases in committed batches")                                   \
    X(bytes_committed, "key and value bytes in committed batches")                                 \
    X(puts, "puts added to a batch")                                                               \
    X(erases, "erases added to a batch")                                                           \
    X(rejected_batch_full, "puts or erases refused because the batch was at its limit")            \
    X(rejected_bad_argument, "puts or erases refused: empty or oversized key, unknown table")

struct batch_counters {
#define AINET_STORE_COUNTER_FIELD(name, help) std::atomic<uint64_t> name{0};
    AINET_STORE_COUNTERS(AINET_STORE_COUNTER_FIELD)
#undef AINET_STORE_COUNTER_FIELD
    // Most operations in one successful commit (a gauge, not a counter).
    std::atomic<uint64_t> largest_commit_entries{0};
};

class write_batch {
public:
    // The batch keeps a reference to env, which must outlive it.
    explicit write_batch(environment& env, batch_limits limits = {});
    write_batch(const write_batch&) = delete;
    write_batch& operator=(const write_batch&) = delete;

    // Copies key and value into the batch.
    [[nodiscard]] result<void> put(table t, bytes_view key, bytes_view value) noexcept;
    [[nodiscard]] result<void> erase(table t, bytes_view key) noexcept;

    // Commits everything added since the last commit in one durable write transaction and
    // returns its commit sequence number (environment::commit_sequence()). An empty batch
    // commits nothing and returns the current sequence. On failure nothing of the batch is
    // stored. Either way the batch is empty afterwards.
    [[nodiscard]] result<uint64_t> commit() noexcept;

    // Drops everything added since the last commit.
    void clear() noexcept;

    [[nodiscard]] size_t entry_count() const noexcept { return m_ops.size(); }
    [[nodiscard]] size_t byte_count() const noexcept { return m_arena.size(); }
    [[nodiscard]] bool empty() const noexcept { return m_ops.empty(); }
    [[nodiscard]] const batch_limits& limits() const noexcept { return m_limits; }
    [[nodiscard]] const batch_counters& counters() const noexcept { return m_counters; }

private:
    struct op {
        uint32_t dbi;
        bool is_put;
        uint32_t key_offset;
        uint32_t key_size;
        uint32_t value_offset;
        uint32_t value_size;
    };

    [[nodiscard]] result<void> add(table t, bytes_view key, bytes_view value, bool is_put) noexcept;

    environment* m_env;
    batch_limits m_limits;
    std::vector<op> m_ops;
    std::vector<uint8_t> m_arena;
    batch_counters m_counters;
};

} // namespace ainet::store
