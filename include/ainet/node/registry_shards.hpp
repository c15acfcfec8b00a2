#pragma once
// registry_shards: how the registry's key space is partitioned across a node's shards, and the
// per-shard slices of the registry's LMDB store (issue #6, "State is owned by shards").
//
// Partition. A key's branch is the top-level Merkle branch of its key hash (the top 4 bits,
// merkle fanout 16). Branch b belongs to slice b mod S, S = the node's shard count capped at
// registry_branch_count (a 32-shard node still has 16 slices; shards 16..31 own none). The
// partition follows the Merkle tree's own first level, so a slice's entries are exactly whole
// top-level subtrees: the node root is the XXH3 combination of the 16 top-level child digests,
// whichever slice holds them (combine_branch_digests(), equal to merkle::tree::root() of one
// tree over every entry; tested). Nothing on the wire depends on S: a 1-shard node and a
// 4-shard node with the same entries have the same root and sync with each other unchanged.
//
// Store layout. Slice 0 is the LMDB environment in the store directory itself (the layout of a
// node before this change, and of every 1-shard node), and holds the replica metadata (HLC,
// local counter, version vector, last converged time). Slice i > 0 is its own environment in
// <store>/registry-slice-<i>, so each slice has its own writer lock and fdatasync: commits of
// different slices never wait for each other (LMDB admits one writer per environment).
//
// Re-partition on open. open() finds every slice directory present, whatever S wrote them,
// loads them all and moves each entry that is not in its owner slice under the new S: the
// winning copy (LWW) is put into its owner first (committed), then erased where it was, then
// the directories of slices >= S are removed. Every step leaves the union of the slices
// holding every entry, so a crash mid-way loses nothing and the next open finishes the move.
//
// Threads. registry_slices is built on the main thread before the shards start; then slice i
// belongs to shard i (slices beyond the node's shard count to shard 0), which alone writes it;
// counter_sum() and the slices' counters may be read from any thread (atomics). See
// registry_service.hpp for what is still driven from shard 0. Limits: registry_slice_count_max
// slices; the commit pipeline holds one batch in flight and one waiting.

#include <ainet/merkle/tree.hpp>
#include <ainet/registry/replica.hpp>
#include <ainet/store/environment.hpp>
#include <ainet/store/write_batch.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ainet::node {

class registry_store;

inline constexpr size_t registry_branch_count = merkle::fanout;
inline constexpr size_t registry_slice_count_max = registry_branch_count;
inline constexpr std::string_view registry_slice_prefix = "registry-slice-";

// The top-level Merkle branch of a key hash (0..15).
[[nodiscard]] constexpr size_t registry_branch(uint64_t key_hash) noexcept {
    return static_cast<size_t>(merkle::prefix_of(key_hash, 1));
}
// The slice count a node with shard_count shards uses (1..registry_slice_count_max).
[[nodiscard]] constexpr size_t registry_slice_count(size_t shard_count) noexcept {
    return shard_count == 0 ? 1
                            : (shard_count < registry_slice_count_max ? shard_count
                                                                      : registry_slice_count_max);
}
// The slice (= the shard) that owns a key hash among slice_count slices.
[[nodiscard]] constexpr size_t registry_slice_of(uint64_t key_hash, size_t slice_count) noexcept {
    return registry_branch(key_hash) % slice_count;
}

// The root of a tree whose top-level children have these digests (empty_digest for an empty
// branch): merkle::tree's inner-node rule (XXH3-128 over the 16 child digests, all-zero when
// every child is empty). Equal to tree::root() of one tree holding every branch.
[[nodiscard]] merkle::digest combine_branch_digests(
    std::span<const merkle::digest, registry_branch_count> branches) noexcept;
// The 16 top-level digests of a (clean) tree.
[[nodiscard]] std::array<merkle::digest, registry_branch_count> branch_digests(
    const merkle::tree& t) noexcept;

// A durable batch split by slice: the puts and removes of slice i in part[i]; the replica meta
// rides in part[0] only.
struct registry_split_batch {
    uint64_t sequence = 0;
    std::vector<registry::durable_batch> part;
};
[[nodiscard]] registry_split_batch split_by_slice(const registry::durable_batch& batch,
                                                  size_t slice_count);

// The registry's store as slice_count LMDB environments (see the header comment).
class registry_slices {
public:
    struct load_report {
        size_t restored = 0;       // distinct entries loaded
        size_t skipped = 0;        // stored values that did not decode
        size_t moved = 0;          // entries moved to their owner slice (re-partition)
        size_t slices_found = 0;   // slice environments present at open (slice 0 counts)
        size_t slices_removed = 0; // directories of slices >= slice_count removed
    };

    // Opens (creates) slice_count slices under directory, loads every slice present into
    // meta/puts (one winner per key) and re-partitions. Throws std::runtime_error (start-up
    // only) when a slice cannot be opened, read or re-partitioned.
    registry_slices(const std::filesystem::path& directory, size_t slice_count,
                    const store::options& opts, registry::replica_meta& meta,
                    std::vector<registry::durable_put>& puts, load_report& report);
    ~registry_slices();
    registry_slices(const registry_slices&) = delete;
    registry_slices& operator=(const registry_slices&) = delete;

    [[nodiscard]] size_t slice_count() const noexcept { return m_slices.size(); }
    [[nodiscard]] registry_store& slice(size_t index) noexcept { return *m_slices[index]; }
    // Writes one part into its slice (index 0 also writes the meta): one commit, or several
    // when the part exceeds the write_batch limits. Idempotent: a retried part lands the same.
    [[nodiscard]] store::result<uint64_t> write_part(size_t index,
                                                     const registry::durable_batch& part);
    // Writes every part, slices 1.. first and slice 0 (the meta) last, stopping at the first
    // failure (retry the whole batch: parts are idempotent).
    [[nodiscard]] store::result<void> write(const registry_split_batch& batch);
    // The sum of the slices' store counters, for /metrics.
    [[nodiscard]] uint64_t counter_sum(
        std::atomic<uint64_t> store::batch_counters::*field) const noexcept;

    // The directory of slice index under the store directory.
    [[nodiscard]] static std::filesystem::path slice_directory(const std::filesystem::path& directory,
                                                               size_t index);

private:
    std::vector<std::unique_ptr<registry_store>> m_slices;
};

// Shard 0's batches in flight: each split by slice, its parts posted to the slices' owners
// (which write them in batch order), slice 0's part (with the meta) and the parts of slices
// without a shard of their own written by shard 0, a batch complete once every part is durable,
// batches completed strictly in order. Owned by one thread at a time: shard 0 while the node
// runs, the registry_node's destructor after it stopped. The owners read the parts through
// pointers; a deque keeps them in place until pop().
struct registry_commit_pipeline {
    enum class part_state : uint8_t {
        none,    // nothing to write in this slice
        to_post, // not yet handed to its owner
        posted,  // its owner has it
        local,   // shard 0 writes it: slice 0 (always, for the meta), or a slice with no shard
                 // of its own (a store opened with more slices than the node has shards)
        done,    // durable
    };
    struct batch {
        registry_split_batch batch;
        std::vector<part_state> state;  // per slice
        size_t entries = 0;             // puts + removes
        size_t merged = 0;              // later replica batches folded into this one
        [[nodiscard]] bool parts_done() const noexcept;
        // Nothing of it is posted or written yet: later batches may still be folded in.
        [[nodiscard]] bool fresh() const noexcept;
    };
    std::deque<batch> batches;
    size_t entries = 0;  // sum over batches (the commit backlog)

    // Queues the replica's batch b. Group commit across slices: while a batch is in flight,
    // the batches taken meanwhile are folded into ONE waiting batch (per slice, the later
    // state of a key replaces the earlier; the sequence and meta are the latest), so each
    // slice commits once per round however many loop turns the round took, as one environment
    // does when its commit blocks the shard.
    void push(const registry::durable_batch& b, size_t slice_count);
    void pop();
    [[nodiscard]] bool empty() const noexcept { return batches.empty(); }
    // Writes every queued batch, in order, every part (idempotent), and empties the pipeline.
    // For the calling thread only once no shard writes any slice. Returns the failed commits.
    size_t flush(registry_slices& store);
};

} // namespace ainet::node
