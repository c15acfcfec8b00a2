#pragma once
// sync::engine: anti-entropy between registry replicas, sans-I/O.
//
// What it does. Every round_interval the engine starts a session with one peer (healed peers
// first, then a random reachable one). A session is a short exchange of flights (messages.hpp),
// the initiator sending even flights, the responder odd ones:
//   F0  I: begin (root, salt, version vector) + the fingerprints of the 16^first_levels nodes
//          below the root.
//   F1  R: equal roots -> reply(equal), done. Both vectors inlined and R's delta for I small
//          -> reply(delta) + the entries I lacks by its vector. Otherwise reply(merkle) + the
//          next level's fingerprints under the positions that differed.
//   F2+    Merkle: each side diffs the other's fingerprints and descends one level under the
//          differing positions only; at the leaf depth it sends its bucket lists (key hash +
//          leaf fingerprint); the other answers with the differing entries and the key hashes
//          it wants; the wanted entries follow with end(check, root). Delta: I answers with
//          the entries R lacks and end(check, root).
//   last   end(converged | diverged): the side that checked roots tells the other.
// With leaf_depth 4 and first_levels 2, one difference costs 7 flights, the entries crossing
// by the 6th (3 round trips). A session that ends with equal roots joins the peer's version
// vector into the replica's (replica.hpp); one that ends diverged (fingerprint collision,
// concurrent writes, capped steps) is retried with a new salt, up to retry_max times in a row.
//
// Bounds. Every datagram <= 1,200 bytes; a flight <= flight_chunk_count_max datagrams; at most
// positions_per_step_max differing positions followed per step and entries_per_flight_max
// entries per flight (the rest waits for the next session, so a large divergence converges
// over several sessions instead of one unbounded one); sessions_max concurrent sessions;
// peers_max peers. A flight whose chunks do not all arrive before session_timeout ends the
// session (counted); the next round retries.
//
// Partitions. on_partition_suspected(peers) stops picking those peers (writes continue on
// every side: the replica never blocks on sync). on_partition_healed(peers) queues them ahead
// of random peers and starts a round at the next tick, so anti-entropy crosses the former cut
// first.
//
// Threading: one shard owns an engine and its replica. Time and the wall clock come in as
// arguments; randomness from the seed. Allocates per session (not a per-datagram hot path).

#include <ainet/core/datagram.hpp>
#include <ainet/core/time.hpp>
#include <ainet/registry/replica.hpp>
#include <ainet/sync/messages.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <set>
#include <span>
#include <vector>

namespace ainet::sync {

struct engine_config {
    uint8_t fingerprint_size = 4;
    uint8_t first_levels = 2;
    duration round_interval = std::chrono::seconds(1);
    duration session_timeout = std::chrono::seconds(2);
    duration collect_interval = std::chrono::seconds(60);
    uint32_t initiator_sessions_max = 1;
    uint32_t sessions_max = 32;
    uint32_t positions_per_step_max = 256;
    uint32_t entries_per_flight_max = 512;
    uint32_t delta_entries_max = 128;
    uint32_t peers_max = 4096;
    uint32_t retry_max = 3;
};

struct engine_counters {
    std::atomic<uint64_t> sessions_started{};
    std::atomic<uint64_t> sessions_accepted{};
    std::atomic<uint64_t> converged{};
    std::atomic<uint64_t> equal_at_start{};
    std::atomic<uint64_t> via_delta{};
    std::atomic<uint64_t> via_merkle{};
    std::atomic<uint64_t> diverged{};
    std::atomic<uint64_t> timed_out{};
    std::atomic<uint64_t> refused_full{};     // begin dropped: sessions_max reached
    std::atomic<uint64_t> malformed{};        // datagrams that did not decode
    std::atomic<uint64_t> unknown_session{};  // datagrams for no session (late, duplicated)
    std::atomic<uint64_t> stale_flight{};     // datagrams of a flight already processed
    std::atomic<uint64_t> datagrams_sent{};
    std::atomic<uint64_t> bytes_sent{};
    std::atomic<uint64_t> send_failed{};
    std::atomic<uint64_t> entries_sent{};
    std::atomic<uint64_t> entry_bytes_sent{};
};

// What happened in a finished session (for tests, benchmarks and metrics).
struct session_report {
    endpoint peer;
    bool initiator = false;
    bool converged = false;
    reply_mode path = reply_mode::equal;
    uint32_t flights = 0;          // flights sent and received
    uint64_t bytes_sent = 0;       // by this side, headers included
    uint64_t entry_bytes_sent = 0; // of which entry wire bytes
};

class engine {
public:
    engine(registry::replica& replica, const engine_config& config, uint64_t seed);

    void add_peer(const endpoint& peer);
    void remove_peer(const endpoint& peer);
    void on_partition_suspected(std::span<const endpoint> peers);
    void on_partition_healed(std::span<const endpoint> peers);

    // A received datagram of a sync type (callers route codes 0x40..0x4f here).
    void on_datagram(instant now, unix_ms wall, const datagram_ref& d, datagram_sink& out);
    // Rounds, timeouts and tombstone collection.
    void tick(instant now, unix_ms wall, datagram_sink& out);
    [[nodiscard]] instant next_deadline() const noexcept;
    // Starts a session now (false if one with this peer is running or sessions are full).
    bool start_session(const endpoint& peer, instant now, unix_ms wall, datagram_sink& out);

    [[nodiscard]] size_t active_sessions() const noexcept { return m_sessions.size(); }
    [[nodiscard]] const engine_counters& counters() const noexcept { return m_counters; }
    // Finished sessions since the last call (bounded: the oldest are dropped beyond 256).
    [[nodiscard]] std::vector<session_report> take_reports();

private:
    struct session {
        endpoint peer;
        uint64_t id = 0;
        bool initiator = false;
        uint8_t fingerprint_size = 4;
        uint64_t salt = 0;
        uint8_t next_in = 0;   // the flight number expected next
        uint8_t next_out = 0;  // the flight number sent next
        std::vector<std::vector<uint8_t>> chunks;
        uint16_t chunk_count = 0;
        uint16_t chunks_received = 0;
        instant deadline;
        std::optional<registry::version_vector> peer_vv;
        reply_mode path = reply_mode::merkle;
        session_report report;
    };
    using session_key = std::pair<endpoint, uint64_t>;
    struct flight;

    void process(session& s, instant now, unix_ms wall, datagram_sink& out, bool& finished);
    void send_flight(session& s, flight& f, datagram_sink& out);
    void finish(session& s, bool converged, unix_ms wall);
    void add_merkle_step(session& s, flight& f, uint8_t depth, std::vector<uint64_t> prefixes);
    void add_entries(session& s, flight& f, const std::vector<uint64_t>& key_hashes);
    void add_entry_list(uint64_t session_id, flight& f,
                        std::vector<std::pair<registry::entry_ptr, registry::dot>> list);
    [[nodiscard]] bool peer_busy(const endpoint& peer) const;
    [[nodiscard]] std::optional<endpoint> pick_peer();
    [[nodiscard]] uint64_t random() noexcept;

    registry::replica& m_replica;
    engine_config m_config;
    uint64_t m_random_state;
    std::vector<endpoint> m_peers;
    std::set<endpoint> m_suspected;
    std::deque<endpoint> m_priority;
    std::map<endpoint, uint32_t> m_retries;
    std::set<endpoint> m_force_merkle;  // peers whose last delta session ended diverged
    std::map<session_key, session> m_sessions;
    std::deque<session_key> m_finished;  // recently finished, to ignore their late datagrams
    std::vector<session_report> m_reports;
    instant m_next_round{INT64_MIN};
    instant m_next_collect{INT64_MIN};
    bool m_round_now = true;
    engine_counters m_counters;
};

} // namespace ainet::sync
