#pragma once
// registry_service: the registry replica and its anti-entropy engine running inside a node
// (issue #6), with LMDB persistence and the HTTP API (docs/PROTOCOL.md "Registry HTTP API").
//
// Placement. The key space is partitioned by shard (registry_shards.hpp): branch b of the
// Merkle tree's first level belongs to slice b mod S (S = the node's shard count, at most 16).
// Shard i owns store slice i (its own LMDB environment: its own writer lock and fdatasync) and
// is the only thread that commits it while the node runs; a node restarted with another shard
// count re-partitions its store at open. The root the node reports and sends is the
// combination of the 16 branch digests, the same for every S: nodes with different shard
// counts sync unchanged (no wire change).
// Still on shard 0 (not split yet): the one replica (entries, Merkle tree, HLC, version
// vector), the sync engine and the HTTP requests; the sync datagrams (0x40..0x4f) that the
// kernel hands to other shards are hand_over()ed to shard 0. What splitting the replica needs
// (not done): per-shard replicas holding only their branches, each publishing its 16 branch
// digests after its group commit (an atomic snapshot per shard) so that the root is combined
// where it is needed (sync begin, GET /registry/root); a sync session owned by shard 0 for the
// root level, the descent into branch b and the entries under it delegated to b's owner by
// message (the engine is synchronous over one replica today, so this is a rework of
// sync::engine, not of this file); PUT and GET by key posted to the key's owner, list gathered
// from every shard; an HLC per shard (each writer's entries carry the hlc the writer signed,
// so the replicas' clocks only bound skew and order their own metadata; per shard is fine);
// version vectors per shard, joined for GET /registry/root.
//
// Durability. The replica queues every state change in a durable_batch; shard 0 takes it once
// per loop turn (on_tick, after the turn's datagrams and messages), splits it by slice
// (registry_commit_pipeline) and posts each part to the shard owning its slice, which writes it
// in one write transaction (one fdatasync) and posts "done" back; shard 0 writes slice 0's part
// with the replica meta (HLC, local counter, version vector) in the same turn, so the slices'
// fdatasyncs overlap. One batch is in flight at a time; the replica's batches of the turns it
// takes are folded into one waiting batch (group commit across slices, as one environment
// gets when its commit blocks shard 0). Once every part of a batch is durable shard 0 calls
// on_durable(),
// which releases the client writes of that batch: PUT answers 201 after that, never before.
// After a crash the meta may be ahead of another slice's entries (a vector claiming a dot whose
// entry was lost with an unacknowledged batch): harmless, the vector only picks the delta fast
// path and every sync session ends by comparing Merkle roots (registry/replica.hpp), which finds
// and refetches such an entry; the HLC only has to be monotonic, and ahead is monotonic.
// Batches complete strictly in order; a failed commit is retried (every turn on shard 0, every
// slice_retry_delay on the others) and the batch waits (the clients wait, then get 503). On a
// graceful stop every shard drains its parts (on_drain); whatever is still in flight when the
// shards stop is written by ~registry_node, in order, on the destroying thread.
//
// Restart. registry_node's constructor loads the entries and the replica metadata (HLC, version
// vector, last converged time) from the store and restores the replica, then purge_if_stale()
// drops what a long-isolated replica must not sync back (replica.hpp).
//
// Sync peers. Every sync_peer_refresh the shard reads the peer_directory snapshot (if the node
// has one): its alive peers are the sync peers; when it names none (membership not running),
// the static peers (the bootstrap list, minus this node) are. A change of partition_epoch calls
// on_partition_suspected / on_partition_healed with the peers named. ainetd passes the
// membership service's directory (registry_node_options::peers) when membership runs.
//
// Threads. registry_node is built and attached on the main thread before relay_node::start();
// the replica and engine are then touched only by shard 0, store slice i only by shard i
// (slice 0 and slices beyond the node's shard count by shard 0); the commit pipeline's parts
// are immutable while another shard reads them. The control thread reads the
// atomic counters and talks to shard 0 only through posted requests (bounded wait).
//
// Limits: list answers at most list_limit_max entries; a request waits request_timeout. A list
// with a public_key filter and root?verify=1 walk every entry on shard 0 (O(entries), fine for
// the registries of tests and small networks; an index by writer is the fix when it matters).
// Store failures: a batch whose commit fails stays in the pipeline (the backlog), retried. Once
// the backlog holds backlog_entries_max puts/removes the node stops taking new state: PUTs are
// answered 503 before they touch the replica, and sync datagrams are dropped (both counted in
// store_backpressure; peers re-send through anti-entropy once commits succeed again). So a
// failing disk costs bounded memory, and no state the node cannot persist is gossiped on.

#include <ainet/node/peer_directory.hpp>
#include <ainet/node/registry_shards.hpp>
#include <ainet/node/relay_node.hpp>
#include <ainet/registry/replica.hpp>
#include <ainet/store/environment.hpp>
#include <ainet/store/write_batch.hpp>
#include <ainet/sync/engine.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ainet::node {

// The LMDB adapter: entries and the replica metadata in two tables of one environment.
//   registry.entries: key public_key (32) || name -> value u64 origin || varint counter || wire
//   registry.hlc:     key "meta" -> u64 hlc || u64 local_counter || u64 last_converged_ms
//                     || varint count || count x (u64 origin || varint counter)
// One thread owns it: the shard owning its slice once the node runs (registry_shards.hpp).
class registry_store {
public:
    static constexpr std::string_view entries_table = "registry.entries";
    static constexpr std::string_view meta_table = "registry.hlc";

    // Opens (creates) the environment in directory. error_text gets the reason on failure.
    [[nodiscard]] static store::result<registry_store> open(const std::filesystem::path& directory,
                                                            const store::options& opts = {},
                                                            std::string* error_text = nullptr);
    registry_store(registry_store&&) noexcept = default;
    registry_store& operator=(registry_store&&) noexcept = default;

    // Everything stored (trusted: written by this node). Entries that do not decode are
    // skipped and counted in skipped.
    [[nodiscard]] store::result<void> load(registry::replica_meta& meta,
                                           std::vector<registry::durable_put>& puts,
                                           size_t& skipped);
    // Writes one durable batch (puts, removes, meta unless !with_meta) and returns the commit
    // sequence. A batch larger than the write_batch limits is split into several commits, the
    // meta last.
    [[nodiscard]] store::result<uint64_t> write(const registry::durable_batch& batch,
                                                bool with_meta = true);

    [[nodiscard]] const store::batch_counters& counters() const noexcept { return m_batch->counters(); }
    [[nodiscard]] store::environment& environment() noexcept { return *m_env; }

private:
    registry_store() = default;
    [[nodiscard]] store::result<void> add(bool is_put, bytes_view key, bytes_view value,
                                          store::table t);

    std::unique_ptr<store::environment> m_env;
    store::table m_entries;
    store::table m_meta;
    std::unique_ptr<store::write_batch> m_batch;
    std::vector<uint8_t> m_key;
    std::vector<uint8_t> m_value;
};

// X(name, help): the node-side registry counters; /metrics exports ainet_registry_<name>_total.
#define AINET_REGISTRY_NODE_COUNTERS(X)                                                            \
    X(commits, "registry durable batches committed to the store")                                  \
    X(commit_failures, "registry batch commits that failed (retried next turn)")                   \
    X(store_backpressure, "PUTs answered 503 and sync datagrams dropped: commit backlog full")     \
    X(http_puts_accepted, "PUT /registry/entries answered 201 (durable)")                          \
    X(http_puts_rejected, "PUT /registry/entries answered 400 or 413")                             \
    X(http_forged, "PUT /registry/entries refused: bad signature")                                 \
    X(http_timeouts, "registry HTTP requests answered 503 (shard 0 did not answer in time)")       \
    X(handoffs, "sync datagrams handed over to shard 0")                                           \
    X(slice_parts_posted, "store slice parts posted to the shard owning the slice to commit")     \
    X(handoff_failures, "sync datagrams dropped: hand-over to shard 0 refused")                    \
    X(partition_events, "partition suspected/healed transitions passed to the sync engine")        \
    X(restored_skipped, "stored entries that did not decode at restore")                        \
    X(drop_unknown_source, "sync datagrams dropped: source is no member and no static peer")

struct registry_node_counters {
#define AINET_REGISTRY_NODE_FIELD(name, help) std::atomic<uint64_t> name{0};
    AINET_REGISTRY_NODE_COUNTERS(AINET_REGISTRY_NODE_FIELD)
#undef AINET_REGISTRY_NODE_FIELD
    std::atomic<uint64_t> entries{0};     // gauge: entries held (tombstones included)
    std::atomic<uint64_t> sync_peers{0};  // gauge
    std::atomic<uint64_t> restored{0};    // entries loaded at start
    std::atomic<uint64_t> purged_at_start{0};
    std::atomic<uint64_t> moved_at_start{0};  // re-partitioned to another slice at start
};

struct registry_node_options {
    std::filesystem::path store_directory;  // <data_dir>/store
    // The node's shard count: the store has registry_slice_count(shard_count) slices
    // (registry_shards.hpp). Any value loads a store written with any other.
    size_t shard_count = 1;
    store::options store;
    registry::replica_config replica;       // origin is derived from the node key when 0
    sync::engine_config engine;
    uint64_t seed = 1;
    // Sync peers used while the peer directory names no alive peer (the bootstrap list).
    std::vector<endpoint> static_peers;
    const peer_directory* peers = nullptr;  // not owned; may be null
    duration sync_peer_refresh = std::chrono::seconds(1);
    duration request_timeout = std::chrono::seconds(3);
    // Puts + removes waiting for a failed commit before the node stops taking new state.
    size_t backlog_entries_max = 65536;
};

inline constexpr size_t list_limit_max = 1000;

// A request from the control thread to shard 0 (heap-allocated, shared with the waiter).
struct registry_request;
// What a posted request message points to: owned by the control side (registry_node), which
// frees it once the shard has taken its reference (consumed) or at destruction (a message a
// stopped shard never read). The shard side takes no lock.
struct request_holder {
    std::shared_ptr<registry_request> request;
    std::atomic<bool> consumed{false};
};

// What shard 0 answers.
struct registry_answer {
    int status = 503;             // HTTP status
    std::string error;            // reason for 4xx
    std::vector<registry::entry_ptr> entries;
    std::string root_hex;
    std::string recomputed_root_hex;  // only when asked (verify)
    uint64_t entry_count = 0;
    registry::version_vector vv;
    uint64_t hlc = 0;
};

class registry_node {
public:
    // Opens the store, restores the replica from it and purges stale entries. Throws
    // std::runtime_error (start-up only) when the store cannot be opened or read.
    registry_node(registry_node_options options, const crypto::key_pair& keys);
    ~registry_node();
    registry_node(const registry_node&) = delete;
    registry_node& operator=(const registry_node&) = delete;

    // Before node.start(): registers the service (datagrams 0x40..0x4f), the HTTP endpoints
    // and the /metrics block. The registry_node must outlive node.
    void attach(relay_node& node);

    // Control thread: posts to shard 0 and waits at most request_timeout (status 503 then).
    [[nodiscard]] registry_answer put(const registry::entry& e);
    [[nodiscard]] registry_answer get(const crypto::public_key& key, const std::string& name);
    [[nodiscard]] registry_answer list(const std::optional<crypto::public_key>& key, size_t limit);
    [[nodiscard]] registry_answer root(bool verify);

    // The HTTP handlers (exposed for tests that drive them without a socket).
    [[nodiscard]] http_response handle_put(const http_request& request);
    [[nodiscard]] http_response handle_get(const http_request& request);
    [[nodiscard]] http_response handle_list(const http_request& request);
    [[nodiscard]] http_response handle_root(const http_request& request);

    void render_metrics(std::string& out) const;
    [[nodiscard]] const registry_node_counters& counters() const noexcept { return m_counters; }
    [[nodiscard]] const registry::replica_counters& replica_counters() const noexcept;
    [[nodiscard]] const sync::engine_counters& engine_counters() const noexcept;

private:
    class shard_part;
    friend class shard_part;
    [[nodiscard]] registry_answer call(std::shared_ptr<registry_request> request);
    [[nodiscard]] service_slot slot() const noexcept {
        return service_slot(m_slot.load(std::memory_order_relaxed));
    }
    // The shard that writes a store slice: its own shard, or shard 0 for slices beyond the
    // node's shards.
    [[nodiscard]] shard_id slice_owner(size_t slice) const noexcept {
        return slice < m_node_shard_count.load(std::memory_order_relaxed)
                   ? shard_id{static_cast<uint16_t>(slice)}
                   : shard_id{0};
    }

    registry_node_options m_options;
    size_t m_slice_count = 1;
    std::unique_ptr<registry_slices> m_store;
    registry_commit_pipeline m_commits;  // shard 0's (see registry_commit_pipeline)
    std::unique_ptr<registry::replica> m_replica;
    std::unique_ptr<sync::engine> m_engine;
    registry_node_counters m_counters;
    relay_node* m_node = nullptr;
    // The service number, set by the factory on each shard's thread (same value on all).
    std::atomic<uint32_t> m_slot{0};
    std::atomic<uint16_t> m_node_shard_count{1};
    std::mutex m_holders_mutex;  // control threads only
    std::vector<std::unique_ptr<request_holder>> m_holders;
    endpoint m_self;
};

// JSON form of an entry (docs/PROTOCOL.md "Registry HTTP API").
[[nodiscard]] std::string entry_to_json(const registry::entry& e);
// Parses the PUT body; error names the field on failure.
[[nodiscard]] std::optional<registry::entry> entry_from_json(std::string_view body,
                                                             std::string& error);

} // namespace ainet::node
