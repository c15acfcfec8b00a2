#pragma once
// membership_service: the SWIM/Lifeguard membership core (membership/membership_core.hpp)
// running inside a relay_node, and the peer_directory it publishes.
//
// One core per node, owned by shard 0. Datagrams of the membership range (0x30..0x3f) that the
// kernel delivers to another shard are hand_over()ed to shard 0; the core's deadline is one
// timer of shard 0's wheel tagged with the service slot; its datagrams go out through shard 0's
// tx queue. After every call that may change the table, shard 0 drains the core's events
// (partition suspected/healed move the directory's partition epoch) and publishes a fresh
// peer_snapshot when something changed, at most once per publish_interval (250 ms): a change
// inside the interval is published by a timer at its end, and the snapshot is refreshed every
// refresh_interval anyway (RTTs change without events).
//
// Seeds: the control side (the discovery thread: static bootstrap nodes and nodes it learns)
// calls seed(), which posts a message to shard 0 whose core then sends a join push_pull there.
//
// Incarnation across restarts (membership/state.hpp): attach() reads options.state_file, starts
// the core at max(persisted floor, wall-clock ms) and writes floor = that + incarnation_lease at
// once (main thread, before the shards run). Shard 0 publishes its core's incarnation in an
// atomic; a small persister thread looks at it every persist_check_interval and, when it has
// reached the floor (after `lease` refutations, or a jump forced by accusations), writes
// floor = incarnation + lease atomically (config::write_file_atomic): blocking I/O stays off the
// shard. A crash between a jump and the write costs only one refutation after the restart.
//
// Members across restarts (membership/state.hpp, "member snapshot"): shard 0 hands the signed
// alive claims of its table to the persister whenever the set of (member, incarnation) changes
// (checked at publish time through a fingerprint, so an unchanged table costs no copy), and the
// persister writes options.members_file (atomically, off the shard), and rewrites it every
// members_restore_max_age / 3 so a quiet table stays fresh. attach() reads the file; when it is
// at most members_restore_max_age old, shard 0's core learns its claims at start (signatures
// verified, nothing gossiped), so a restarted node probes everyone it knew at once: it rejoins
// without waiting for seeds, and a node restarted during a partition sees, counts and reports the
// members it cannot reach like every other node on its side. An older snapshot is ignored
// (members that died long ago would only be probed, suspected and taken for a partition); the
// node then joins through its seeds as a new one would.
//
// Threads: construct and register on the main thread before relay_node::start(); the shard
// instances run on their shards; seed(), directory(), counters() and render_metrics() from any
// control-side thread (counters and gauges are relaxed atomics written by shard 0 only).
// Lifecycle: the membership_service must outlive the relay_node it is registered with.
// Memory: the core (about 200 bytes per member) plus one snapshot per publish.

#include <ainet/crypto/ed25519.hpp>
#include <ainet/membership/membership_core.hpp>
#include <ainet/node/peer_directory.hpp>
#include <ainet/node/shard_service.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ainet::node {

class relay_node;

struct membership_service_options {
    membership::membership_config core;
    // The address our alive claims announce (the node's UDP address as others reach it).
    endpoint advertise;
    duration publish_interval = std::chrono::milliseconds(250);
    // Published even without a membership change this often (RTTs move without events).
    duration refresh_interval = std::chrono::seconds(2);
    uint64_t seed = 0; // the core's randomness
    // <data_dir>/membership.state; empty: nothing persisted (the incarnation comes from the wall
    // clock alone).
    std::filesystem::path state_file;
    uint64_t incarnation_lease = 1024;
    duration persist_check_interval = std::chrono::seconds(1);
    // <data_dir>/membership.members; empty: the member table is not persisted.
    std::filesystem::path members_file;
    // A snapshot older than this (the node was down longer) is not restored. The default is the
    // core's dead_retention: members that died while we were away are still known dead to the
    // others, who tell us at once.
    duration members_restore_max_age = std::chrono::seconds(60);
};

// What attach() did with the state file.
struct incarnation_plan {
    uint64_t initial = 0;  // the core's first incarnation
    bool restored = false; // a valid state file was read
    bool written = false;  // the new floor (initial + lease) was written
};
// Reads state_file (a missing or rejected file counts as none), picks the first incarnation
// (membership::restart_incarnation) and writes the new floor. Blocking; main thread.
[[nodiscard]] incarnation_plan plan_incarnation(const std::filesystem::path& state_file,
                                                uint64_t wall_ms, uint64_t lease);

struct membership_gauges {
    std::atomic<uint64_t> alive{0};
    std::atomic<uint64_t> suspect{0};
    std::atomic<uint64_t> dead{0}; // dead or left
    std::atomic<uint64_t> unreachable{0};
    std::atomic<uint64_t> partition_suspected{0}; // 0 or 1
    std::atomic<uint64_t> partition_events{0};    // suspected + healed transitions
    std::atomic<uint64_t> seeds_posted{0};
    std::atomic<uint64_t> seeds_refused{0};  // control -> shard 0 queue full
    std::atomic<uint64_t> handoffs_failed{0}; // datagram not handed to shard 0
    std::atomic<uint64_t> incarnation{0};     // the core's, published by shard 0
    std::atomic<uint64_t> state_writes{0};
    std::atomic<uint64_t> state_write_failures{0};
    // Member snapshot: claims read back at start, members the core took from them (signatures
    // good), snapshots ignored as too old or unreadable, and file writes.
    std::atomic<uint64_t> members_snapshot_claims{0};
    std::atomic<uint64_t> members_restored{0};
    std::atomic<uint64_t> members_snapshot_ignored{0};
    std::atomic<uint64_t> members_writes{0};
    std::atomic<uint64_t> members_write_failures{0};
};

class membership_service {
public:
    // keys must outlive the service (the core signs our alive claims with them).
    membership_service(const crypto::key_pair& keys, membership_service_options options);
    membership_service(const membership_service&) = delete;
    membership_service& operator=(const membership_service&) = delete;
    ~membership_service(); // stops the persister thread (one last floor check first)

    // Registers the service (types 0x30..0x3f) and its /metrics with node. Before start().
    void attach(relay_node& node);

    // Control side, after start(): asks shard 0's core to join through a seed endpoint.
    bool seed(const endpoint& udp);

    [[nodiscard]] const peer_directory& directory() const noexcept { return m_directory; }
    [[nodiscard]] const membership::membership_counters& counters() const noexcept {
        return m_counters;
    }
    [[nodiscard]] const membership_gauges& gauges() const noexcept { return m_gauges; }
    void render_metrics(std::string& out) const;

    static constexpr uint8_t type_first = 0x30;
    static constexpr uint8_t type_last = 0x3f;

private:
    friend class membership_shard;
    const crypto::key_pair& m_keys;
    membership_service_options m_options;
    membership::membership_counters m_counters;
    membership_gauges m_gauges;
    peer_directory m_directory;
    relay_node* m_node = nullptr;
    std::atomic<uint32_t> m_slot{0}; // set by the factories (same value on every shard)

    void persist_loop();
    void persist_if_needed(); // m_persist_mutex held
    void persist_members_if_needed(); // m_persist_mutex held
    // Shard 0, at publish time: a new member set for the persister.
    void offer_members(std::vector<membership::claim> claims);
    void restore_members(uint64_t wall_ms);            // attach()
    std::vector<membership::claim> m_restored_members; // attach() -> shard 0's on_start
    std::mutex m_members_mutex; // the hand-over slot below, never held during I/O
    std::optional<std::vector<membership::claim>> m_members_pending;
    std::vector<membership::claim> m_members_written; // persister thread only
    std::chrono::steady_clock::time_point m_members_written_at{};
    std::mutex m_persist_mutex;
    std::condition_variable m_persist_wake;
    bool m_persist_stop = false;
    uint64_t m_floor = 0; // on disk (m_persist_mutex)
    std::thread m_persister;
};

} // namespace ainet::node
