#pragma once
// registry::replica: one node's replica of the registry: a last-writer-wins register per key,
// the Merkle tree over it, a version vector, tombstone collection, the verification gate for
// received entries and the durability hand-off. Sans-I/O: time comes in as arguments; nothing
// here touches a disk or a socket.
//
// Convergence (LWW). For one key the stored entry is the one with the higher hlc; on equal hlc
// the one whose wire bytes compare greater (lexicographically) wins. This is a total order on
// entries of a key, so applying any permutation of any multiset of entries gives the same state
// and the same Merkle root (tests/unit/registry/replica_test.cpp checks it). Deletes are signed
// tombstones (flag_tombstone), ordered like any entry.
//
// Merkle leaves. key_hash(public_key, name) places a key; its leaf digest is the entry's
// cryptographic digest (entry.hpp), or, when several keys share one 64-bit key_hash (cheap to
// grind, 2^32 work), the fold of their digests in key order, as merkle/tree.hpp requires.
//
// Origins and version vectors. Entries are signed by writers, but a writer may write through
// any replica and writers are unbounded in number, so a writer's key is not a usable origin
// (its hlc values are not a per-origin sequence either: two replicas may deliver a writer's
// entries out of order). The origin of an entry is instead the replica that first accepted it
// from a client: that replica assigns it a dot (origin_id, counter), counter = 1, 2, 3... per
// origin. Dots travel beside entries in sync messages; they are NOT signed (a replica cannot
// sign for the writer) and so are hints: a lying peer can only cost bandwidth or push a session
// onto the Merkle path, never change which entry wins (LWW reads only signed fields).
// version_vector()[o] = n claims "I hold every entry with a dot (o, <= n), or an entry that
// supersedes it". It advances on local writes, and by joining with a peer's vector only after
// a sync session ended with equal Merkle roots (the peer's state at session start is then
// contained in ours). Entries learned out of order keep their dots in the dot index, so a peer
// may resend them (harmless). Delta sync (entries whose dot is beyond the peer's vector) is
// therefore only a fast path: every session ends by comparing roots and falls back to Merkle
// descent when they differ (after partitions, restarts, tombstone collection, lies).
//
// Verification. receive() verifies a batch of entries through crypto::verify_batch (the batch
// API the batched verifier implements) before storing anything, and drops with a counter per
// reason: malformed (bad encoding or limits), oversized, forged (bad signature), future (hlc
// more than max_clock_skew_ms ahead of the local wall clock). A node whose clock is behind by
// more than the skew drops honest fresh entries as "future" until sync retries them (they
// converge once its clock is within the bound); a node whose clock is ahead writes entries
// that others drop until their clocks catch up; its HLC also stays ahead, so its writes win
// conflicts they would lose with a true clock. Default skew: 2,000 ms (between CockroachDB's
// 500 ms datacenter bound and what NTP-less open-internet hosts show).
//
// Tombstones and the horizon. A tombstone whose hlc is older than wall - tombstone_horizon_ms
// is collected (collect()). A replica that did not converge with anyone for longer than the
// horizon may hold entries whose deleting tombstone the others already collected; syncing
// them back would resurrect deleted entries. So on restart and before each sync session,
// purge_if_stale() checks the wall time of the last converged session: if it is older than the
// horizon, every entry older than wall - horizon is dropped (counted), keeping only entries
// too young to have been deleted by a collected tombstone, and the replica re-learns the rest
// from its peers. Consequence (documented in docs/PROTOCOL.md): a replica cut off for longer
// than the horizon loses the writes it accepted more than one horizon ago that no peer holds.
//
// Durability. Every state change (entries put or removed, clock, vector) is queued in a
// durable_batch; the owner takes it (take_batch()) once per loop turn, writes it in one
// transaction (LMDB group commit, later) and calls on_durable(sequence). A client write
// (write()) returns a ticket that on_durable() releases only once the batch that holds it is
// durable: acknowledge the client then, not before.
//
// Limits: entry_count_max entries (errc::store_full beyond), receive batches of at most
// receive_batch_max entries. Threading: one shard owns a replica. Entry blobs are immutable and
// held by shared_ptr, so simulations share one blob between thousands of replicas.

#include <ainet/core/time.hpp>
#include <ainet/registry/entry.hpp>
#include <ainet/registry/hlc.hpp>
#include <ainet/merkle/tree.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace ainet::registry {

enum class origin_id : uint64_t {};

struct dot {
    origin_id origin{0};
    uint64_t counter = 0;  // 0: unknown (restored without a dot)
    friend constexpr auto operator<=>(const dot&, const dot&) = default;
};

// What this replica has seen of each origin (see the header comment).
using version_vector = std::map<origin_id, uint64_t>;
// Joins b into a (component-wise max).
void join(version_vector& a, const version_vector& b);

// An immutable entry with its wire bytes and digests, shared between replicas and messages.
struct stored_entry {
    entry value;
    std::vector<uint8_t> wire;
    uint64_t key_hash = 0;
    merkle::digest digest;
};
using entry_ptr = std::shared_ptr<const stored_entry>;
// Builds a stored_entry. Precondition: check_limits(e).
[[nodiscard]] entry_ptr make_stored(entry e);
// The LWW order: true when a supersedes b (same key assumed).
[[nodiscard]] bool supersedes(const stored_entry& a, const stored_entry& b) noexcept;

// Shares immutable, already verified entry blobs between the replicas of one process: the
// simulator runs hundreds of replicas that each receive the same entries, and without sharing
// each would keep (and verify) its own copy. A hit skips decoding and signature verification
// (the blob's wire bytes are identical to ones a replica verified before); the skew check and
// LWW still run. Nodes leave it null: one replica per shard has nothing to share.
class entry_pool {
public:
    // A verified blob whose wire bytes equal wire, or nullptr.
    [[nodiscard]] virtual entry_ptr find(bytes_view wire) = 0;
    virtual void add(const entry_ptr& e) = 0;

protected:
    ~entry_pool() = default;
};

struct replica_config {
    origin_id origin{1};
    int64_t max_clock_skew_ms = 2000;
    int64_t tombstone_horizon_ms = 24 * 3600 * 1000;
    uint32_t entry_count_max = 1u << 22;
    uint8_t leaf_depth = 4;
    entry_pool* pool = nullptr;  // not owned; outlives the replica
};

inline constexpr size_t receive_batch_max = 1024;

// Why a received entry was not stored: bad encoding or limits, above entry_wire_size_max, bad
// signature, hlc beyond wall + max_clock_skew_ms, or entry_count_max reached.
enum class drop_reason : uint8_t { malformed, oversized, forged, future, full, count_ };
[[nodiscard]] std::string_view to_string(drop_reason r) noexcept;

struct replica_counters {
    std::array<std::atomic<uint64_t>, static_cast<size_t>(drop_reason::count_)> dropped{};
    std::atomic<uint64_t> received{};     // entries handed to receive()
    std::atomic<uint64_t> applied{};      // entries that changed the state
    std::atomic<uint64_t> duplicates{};   // entries equal to or older than the stored one
    std::atomic<uint64_t> local_writes{};
    std::atomic<uint64_t> tombstones_collected{};
    std::atomic<uint64_t> purged_stale{};  // entries dropped by purge_if_stale()
    [[nodiscard]] uint64_t dropped_by(drop_reason r) const noexcept {
        return dropped[static_cast<size_t>(r)].load(std::memory_order_relaxed);
    }
};

// An entry put in (with its dot) or a key removed (collection, purge), for the durable store.
struct durable_put {
    entry_ptr e;
    dot d;
};
struct durable_remove {
    crypto::public_key public_key{};
    std::string name;
};
// Replica metadata the store keeps beside the entries.
struct replica_meta {
    uint64_t hlc = 0;
    uint64_t local_counter = 0;      // the last counter this replica assigned as an origin
    int64_t last_converged_ms = -1;  // wall ms of the last session that ended with equal roots
    version_vector vv;
};
struct durable_batch {
    uint64_t sequence = 0;
    std::vector<durable_put> puts;
    std::vector<durable_remove> removes;
    replica_meta meta;  // always the current meta (small)
    [[nodiscard]] bool empty() const noexcept { return puts.empty() && removes.empty(); }
};

enum class write_ticket : uint64_t {};

class replica {
public:
    explicit replica(const replica_config& config = {});

    // --- writes -------------------------------------------------------------------------------
    // A client write (already signed by its writer). Verified, skew-checked, then applied if it
    // supersedes the stored entry (else errc::not_newer). The ticket is released by
    // on_durable() once the batch holding it is durable.
    [[nodiscard]] result<write_ticket> write(const entry& e, unix_ms wall);
    // The next timestamp for a local writer using this replica's clock.
    [[nodiscard]] uint64_t next_hlc(unix_ms wall) noexcept { return m_clock.now(wall); }

    // Entries from a peer: each wire blob decoded, limit-checked, skew-checked, then verified
    // as one batch (crypto::verify_batch), then applied. dots[i] (optional, same size) is the
    // dot the peer sent for wires[i]. Returns how many changed the state.
    size_t receive(std::span<const bytes_view> wires, std::span<const dot> dots, unix_ms wall);
    // Already verified entries (shared blobs, e.g. a simulator handing one blob to many
    // replicas, or a trusted restore). Skips verification, keeps the skew check.
    size_t receive_verified(std::span<const entry_ptr> entries, std::span<const dot> dots,
                            unix_ms wall);

    // --- reads --------------------------------------------------------------------------------
    [[nodiscard]] entry_ptr get(const crypto::public_key& key, std::string_view name) const;
    // Every stored entry with this key hash (usually one), in key order.
    void find_by_key_hash(uint64_t key_hash, std::vector<std::pair<entry_ptr, dot>>& out) const;
    // Entries whose dot is beyond peer's vector (for origins in the index), at most limit;
    // false if more exist than limit (the delta does not fit: use Merkle).
    bool delta_for(const version_vector& peer, size_t limit,
                   std::vector<std::pair<entry_ptr, dot>>& out) const;
    // Visits every entry in key order.
    void for_each(const std::function<void(const entry_ptr&, const dot&)>& fn) const;
    [[nodiscard]] size_t size() const noexcept { return m_records.size(); }

    // The Merkle tree, rehashed if needed.
    [[nodiscard]] const merkle::tree& tree();
    [[nodiscard]] merkle::digest root() { return tree().root(); }
    [[nodiscard]] const version_vector& vv() const noexcept { return m_meta.vv; }
    // A sync session ended with equal roots at wall time `wall`, the peer having sent peer_vv.
    void on_converged(const version_vector& peer_vv, unix_ms wall);

    // --- maintenance --------------------------------------------------------------------------
    // Removes tombstones older than wall - horizon. Returns how many.
    size_t collect(unix_ms wall);
    // See the header comment. Returns how many entries were dropped.
    size_t purge_if_stale(unix_ms wall);

    // --- durability ---------------------------------------------------------------------------
    [[nodiscard]] bool has_pending() const noexcept { return !m_pending.empty(); }
    // The changes since the last take, numbered; empty batches are not numbered.
    [[nodiscard]] durable_batch take_batch();
    // Batches up to `sequence` are durable: returns the client writes now acknowledged.
    [[nodiscard]] std::vector<write_ticket> on_durable(uint64_t sequence);
    // Rebuilds state from what the store holds (trusted: no verification).
    void restore(const replica_meta& meta, std::span<const durable_put> entries);
    [[nodiscard]] const replica_meta& meta() const noexcept;

    [[nodiscard]] const replica_counters& counters() const noexcept { return m_counters; }
    [[nodiscard]] const replica_config& config() const noexcept { return m_config; }

private:
    struct record {
        uint64_t key_hash;
        mutable entry_ptr e;
        mutable dot d;
    };
    struct key_view {
        uint64_t key_hash;
        const crypto::public_key* public_key;
        std::string_view name;
    };
    struct record_less {
        using is_transparent = void;
        static key_view view(const record& r) noexcept {
            return {r.key_hash, &r.e->value.public_key, r.e->value.name};
        }
        static key_view view(const key_view& k) noexcept { return k; }
        static bool less(const key_view& a, const key_view& b) noexcept;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const noexcept {
            return less(view(a), view(b));
        }
    };

    enum class apply_result : uint8_t { applied, duplicate, full };
    apply_result apply(const entry_ptr& e, const dot& d, bool durable_log);
    // apply() for an entry from a peer, counted; true when it changed the state.
    bool apply_received(const entry_ptr& e, const dot& d);
    void erase_record(std::set<record, record_less>::iterator it, bool durable_log);
    void index_dot(const dot& d, const entry_ptr& e);
    void unindex_dot(const dot& d);
    [[nodiscard]] bool too_far_ahead(uint64_t hlc, unix_ms wall) const noexcept;
    void drop(drop_reason r) noexcept;

    replica_config m_config;
    hlc m_clock;
    merkle::tree m_tree;
    std::set<record, record_less> m_records;
    // origin -> counter -> the stored entry holding that dot (for delta_for). Dots with
    // counter 0 (unknown) are not indexed.
    std::map<origin_id, std::map<uint64_t, entry_ptr>> m_dots;
    mutable replica_meta m_meta;
    durable_batch m_pending;
    uint64_t m_batch_sequence = 0;
    std::vector<std::pair<uint64_t, write_ticket>> m_waiting;  // (batch sequence, ticket)
    uint64_t m_ticket_next = 1;
    replica_counters m_counters;
};

} // namespace ainet::registry
