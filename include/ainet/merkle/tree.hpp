#pragma once
// merkle::tree: a Merkle tree over the registry's key space, for anti-entropy between replicas.
//
// Shape. A fixed-depth radix tree over a 64-bit key hash, fanout 16: the node at depth d with
// prefix p covers the keys whose top 4*d bits equal p. Leaf buckets sit at depth
// `leaf_depth`; a bucket holds the (key_hash, leaf digest) pairs under its prefix, sorted by
// key_hash. The shape depends only on the key set and leaf_depth, so two replicas with the same
// key set have the same nodes at the same positions, and can compare node digests position by
// position (reconcile.hpp). Only non-empty subtrees are materialized; an empty subtree's digest
// is the constant all-zero digest.
//
// Hashing. bucket digest = XXH3-128 over the bucket's pairs, each as 8 bytes of key_hash
// (little-endian) then the 16-byte leaf digest. inner digest = XXH3-128 over its 16 child
// digests in order (256 bytes; XXH3's SIMD path starts above 240 bytes; hash.hpp picks the
// instruction set at run time). Digests are XXH3's canonical big-endian 16 bytes.
//
// Storage. Flat, indexed by prefix: for every depth d in 1..leaf_depth one dense array of the
// 16^d node digests (a node's 16 child digests are therefore 256 contiguous bytes, hashed in
// place), and one dense array of the 16^leaf_depth bucket slots (offset, count, capacity: 12
// bytes) into a single leaf arena. No inner node objects, no pointers to chase, no allocation
// per bucket: a position is an array index. A bucket that outgrows its block moves to the
// arena's end (+25%); when the arena would have to grow while its abandoned blocks exceed a
// quarter of the live ones, it is rewritten in prefix order with 1/8 slack per bucket (else it
// grows by 1/8). Fixed cost of the dense arrays: 28 bytes per bucket (16 digest + 12 slot) plus
// the inner digests, 1.8 MiB at leaf_depth 4, 117 KiB at 3; hence leaf_depth_max 5 (29 MiB).
//
// Updates. upsert() appends to a pending log and returns (no tree access). rehash() applies the
// log in bucket order: a stable radix sort of the log by bucket prefix, then one pass that
// prefetches a few buckets ahead, replaces or inserts each leaf (later upserts of a key win),
// and marks each changed bucket dirty once; then it hashes every dirty bucket once and every
// ancestor of one once, level by level, in prefix order (sequential). Calling rehash() after
// every upsert is the per-update mode (the benchmark baseline).
//
// Consistency. The tree has one logical state: every upsert and erase in call order. dirty()
// is true while any of them is not yet reflected in the digests (pending log or dirty
// buckets). Every read (root, node_digest, descendant_digests, bucket, leaves, entry_count)
// requires a clean tree, asserted: call rehash() first (registry::replica::tree() does), so no
// read can observe a half-applied state. erase() first applies the pending log (without
// hashing) so that it can answer whether the key is present, and an upsert that might exceed
// entry_count_max does the same to decide exactly.
//
// THREAT MODEL. Anyone may write signed entries under their own key, so an attacker chooses
// entry contents freely and can grind them (try many, publish the ones it likes). The goal to
// deny it: two different replica states with equal digests at some position, which would make
// anti-entropy skip a real difference (replicas stay divergent; e.g. one replica never learns
// a revocation, or the attacker shows different versions to different replicas).
//  * Leaf digests MUST be cryptographic digests of the whole entry (key, content, version,
//    signature): e.g. the first 16 or 32 bytes of the SHA-512 that signature verification
//    computes anyway. This tree takes them as given (16 bytes here) and never hashes entries
//    itself. With a non-cryptographic leaf hash (XXH3 of the entry, say) an attacker could
//    build two entries with one digest directly, and no inner hash could repair that.
//    16 bytes of SHA-512 give 2^64 collision resistance against an attacker who makes both
//    entries (birthday bound); the registry may fold 32 bytes into the 16 (e.g. take 16 bytes
//    of SHA-512 over a 32-byte digest) but cannot exceed what 16 stored bytes allow.
//  * XXH3 only combines digests. It is not cryptographic: no collision or preimage resistance
//    is claimed for it, its secret and seed are public, and inputs chosen freely (not
//    digests) can be made to collide with far less than 2^64 work. What stands between an
//    attacker and an inner collision is that every input byte of a bucket or inner node is
//    either a cryptographic digest the attacker can only influence by grinding (each tried
//    value costs a SHA-512 and is a uniformly random 16 bytes) or a key hash (also the output
//    of a cryptographic hash, see below). Making two child-digest vectors collide then means
//    finding grinding outputs that satisfy XXH3's 128-bit collision condition; we know of no
//    way to do that faster than a generic 2^64 search, but there is no proof, and XXH3 has
//    had no cryptanalysis aimed at this. Accept that residual risk knowingly, or replace the
//    inner hash by a cryptographic one (e.g. BLAKE3/SHA-256 truncated to 16 bytes, several
//    times slower per node) if the deployment's threat model needs a proof.
//  * A collision costs convergence, not integrity: every entry is still signed and verified
//    on receipt, so nobody can forge another writer's entry; a collision can only hide a
//    difference until any other change under the same node alters its digest.
//  * Key hashes position leaves and are not identities. The registry derives them from a
//    cryptographic hash of the key; two keys with one 64-bit key hash are cheap for an
//    attacker to produce (2^32 birthday work), so the registry must fold all entries sharing
//    a key hash into one leaf digest (e.g. a digest over their sorted digests).
//  * Grinding key hashes concentrates entries in one bucket (2^(4*leaf_depth) tries per
//    entry): rehashing that bucket and reconciling it cost O(bucket size). entry_count_max
//    bounds the tree; per-writer quotas belong to the registry.
//
// Threading and memory: a plain value owned by one shard. The dense arrays are allocated at
// construction; the arena grows on demand (see Storage) and shrinks only by compaction; the
// pending log holds at most pending_count_max upserts (a full log is applied, unhashed, before
// the next upsert is queued). An arena of 2 MiB or more is mapped directly (mmap, unmapped when
// it moves) and advised as transparent huge pages: +10% batched, +25% per-update at 1M entries
// on the bench VM. Not for the per-datagram path (upsert may allocate; a compaction or arena
// growth copies every leaf once).

#include <ainet/merkle/errc.hpp>
#include <ainet/merkle/hash.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ainet::merkle {

inline constexpr size_t fanout = 16;
inline constexpr unsigned bits_per_level = 4;
// The dense per-level arrays cost ~29 bytes per bucket: 5 is 29 MiB, 6 would be 470 MiB.
inline constexpr uint8_t leaf_depth_max = 5;
// Upserts queued before rehash() (or a full log) applies them: 1.5 MiB of 24-byte leaves.
inline constexpr size_t pending_count_max = size_t{1} << 16;
inline constexpr digest empty_digest{};

// A node's place in the tree: depth 0 is the root; prefix holds the top 4*depth bits of the
// key hashes under it (so prefix < 16^depth).
struct position {
    uint8_t depth = 0;
    uint64_t prefix = 0;

    friend constexpr auto operator<=>(const position&, const position&) = default;
    friend constexpr bool operator==(const position&, const position&) = default;
};

[[nodiscard]] constexpr uint64_t prefix_of(uint64_t key_hash, uint8_t depth) noexcept {
    return depth == 0 ? 0 : key_hash >> (64 - bits_per_level * depth);
}

// One leaf: a key hash and the caller's cryptographic digest of the entry. Its byte image in
// a bucket hash is key_hash little-endian then digest (24 bytes, no padding).
struct leaf {
    uint64_t key_hash = 0;
    digest leaf_digest;

    friend constexpr bool operator==(const leaf&, const leaf&) = default;
};
static_assert(sizeof(leaf) == 24, "leaves are hashed as their in-memory bytes");

struct tree_config {
    // Depth of the leaf buckets, 1..leaf_depth_max; part of the protocol (replicas must
    // agree). 4 gives 65,536 buckets: ~15 entries each at 1M entries.
    uint8_t leaf_depth = 4;
    // New keys beyond this are refused with errc::tree_full.
    uint32_t entry_count_max = 1u << 24;
    hash_backend backend = hash_backend::automatic;
};

namespace detail {
// The leaf arena's allocator: blocks of 2 MiB or more are 2 MiB-aligned and advised as
// transparent huge pages (madvise MADV_HUGEPAGE; ignored where THP is off), so the random bucket
// visits of a large tree miss the TLB far less. Smaller blocks come from operator new.
void* allocate_arena(size_t bytes);
void deallocate_arena(void* block, size_t bytes) noexcept;

template <class T>
struct arena_allocator {
    using value_type = T;
    arena_allocator() = default;
    template <class U>
    explicit arena_allocator(const arena_allocator<U>&) noexcept {}
    [[nodiscard]] T* allocate(size_t count) { return static_cast<T*>(allocate_arena(count * sizeof(T))); }
    void deallocate(T* block, size_t count) noexcept { deallocate_arena(block, count * sizeof(T)); }
    friend bool operator==(const arena_allocator&, const arena_allocator&) noexcept { return true; }
};
} // namespace detail

class tree {
public:
    explicit tree(const tree_config& config = {});

    // Queues an insert or replacement of the leaf for key_hash (see Consistency above).
    // errc::tree_full if key_hash is new and entry_count_max keys are already present.
    [[nodiscard]] result<void> upsert(uint64_t key_hash, const digest& leaf_digest);
    // Applies the pending log, then removes key_hash if present (true) and marks its bucket dirty.
    bool erase(uint64_t key_hash);
    // Applies the pending log, then recomputes every dirty node once, bottom-up. Cost: the log's
    // radix sort, one bucket visit per queued upsert, one XXH3 per dirty node.
    void rehash();

    [[nodiscard]] bool dirty() const noexcept { return !m_pending.empty() || !m_dirty.empty(); }
    // Upserts queued and not yet applied.
    [[nodiscard]] size_t pending_count() const noexcept { return m_pending.size(); }
    // The root digest. Precondition: !dirty().
    [[nodiscard]] digest root() const noexcept;

    // Digest of the node at pos (empty_digest if that subtree is empty). Precondition: clean,
    // pos.depth <= leaf_depth.
    [[nodiscard]] digest node_digest(position pos) const noexcept;
    // Digests of all 16^levels descendants `levels` below pos, in prefix order, into out
    // (out.size() == 16^levels). Precondition: clean, pos.depth + levels <= leaf_depth.
    void descendant_digests(position pos, uint8_t levels, std::span<digest> out) const noexcept;
    // The sorted leaves of the bucket at pos (depth == leaf_depth); empty if none.
    // Precondition: clean.
    [[nodiscard]] std::span<const leaf> bucket(position pos) const noexcept;
    // Every leaf, in key_hash order. Precondition: clean.
    [[nodiscard]] std::vector<leaf> leaves() const;

    [[nodiscard]] const tree_config& config() const noexcept { return m_config; }
    [[nodiscard]] hash_backend backend() const noexcept { return m_backend; }
    // Switches the XXH3 implementation (all compute the same digests). Precondition: supported.
    void set_backend(hash_backend backend) noexcept;
    // Keys present. Precondition: clean.
    [[nodiscard]] size_t entry_count() const noexcept;
    // Bytes held by the tree's arrays, arena and log (capacities, not sizes).
    [[nodiscard]] size_t memory_bytes() const noexcept;
    // Digests computed by rehash() since construction (for tests and benchmarks).
    [[nodiscard]] uint64_t hash_count() const noexcept { return m_hash_count; }

private:
    // Applies the pending log to the buckets in prefix order and marks changed buckets dirty.
    // With hash_buckets (from rehash) it also hashes each changed bucket right after changing
    // it, while its leaves are in L1, and clears its dirty bit (it stays in m_dirty for the
    // inner levels).
    void apply_pending(bool hash_buckets = false);
    void mark_dirty(uint32_t bucket_index) noexcept;
    void hash_bucket(uint32_t bucket_index) noexcept;

    struct bucket_slot {
        uint32_t offset = 0;    // first leaf in m_arena
        uint32_t count = 0;     // leaves, sorted by key_hash
        uint32_t capacity = 0;  // leaves reserved at offset; 0: no block
    };
    [[nodiscard]] leaf* leaves_of(const bucket_slot& slot) noexcept { return m_arena.data() + slot.offset; }
    [[nodiscard]] const leaf* leaves_of(const bucket_slot& slot) const noexcept {
        return m_arena.data() + slot.offset;
    }
    // Inserts l at position index of the bucket, making room first (may move the arena).
    void insert_leaf(bucket_slot& slot, size_t index, const leaf& l);
    // Moves a full bucket to a block with room for more leaves at the arena's end.
    void grow(bucket_slot& slot);
    // Rewrites the arena in prefix order, without abandoned blocks, 1/8 slack per bucket.
    void compact();

    tree_config m_config;
    hash_backend m_backend;
    hash_fn m_hash;
    // m_digests[d][p]: digest of the node at depth d, prefix p (d in 1..leaf_depth; [0] unused).
    std::array<std::vector<digest>, leaf_depth_max + 1> m_digests;
    std::vector<bucket_slot> m_slots;
    using leaf_arena = std::vector<leaf, detail::arena_allocator<leaf>>;
    leaf_arena m_arena;
    size_t m_arena_garbage = 0;  // leaves of m_arena that no bucket owns
    std::vector<leaf> m_pending;
    // Scratch for apply_pending's sort: (bucket prefix << 32 | log index) and its radix buffer.
    std::vector<uint64_t> m_order;
    std::vector<uint64_t> m_order_scratch;
    // Dirty bucket prefixes (each once, m_dirty_bits dedupes), ascending unless m_dirty_unsorted.
    std::vector<uint32_t> m_dirty;
    std::vector<uint64_t> m_dirty_bits;
    bool m_dirty_unsorted = false;
    digest m_root;
    size_t m_entry_count = 0;
    uint64_t m_hash_count = 0;
};

} // namespace ainet::merkle
