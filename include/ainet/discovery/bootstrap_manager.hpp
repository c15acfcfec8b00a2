#pragma once
// bootstrap_manager: bootstrap auto-discovery (issue 5, "BootstrapDiscoveryManager"), as a
// sans-I/O state machine. It decides which nodes to ask for their lists (GET /bootstrap/nodes),
// verifies and merges what they answer, scores every known node by reachability, prunes the
// dead, builds the signed list this node serves, rate-limits who asks, and persists what it
// learnt. Whoever drives it (the simulator's discovery_node, the real node's discovery thread)
// does the HTTP exchanges and hands the bodies back.
//
// Inputs always carry the time: `now` (monotonic: RTTs, timeouts, backoff) and `wall`
// (unix_ms: record expiry, issued_at). Randomness comes from config.seed (a splitmix64
// stream owned by the manager), so a seed and the same inputs replay the same decisions.
// Every container iterated is ordered (std::map), so the decisions are also independent of
// the standard library's hashing.
//
// Driving loop:
//     mgr.start(now, wall);
//     loop: sleep until mgr.next_deadline(); mgr.tick(now, wall);
//           for (auto& r : mgr.take_requests()) send GET r.http/bootstrap/nodes, carrying
//               mgr.announcement() (this node's own signed record, so the server learns us);
//           on the body of r: mgr.on_response(r.id, body, now, wall);
//           on a transport error: mgr.on_failure(r.id, now)  (a missing answer times out);
//     serving: if (!mgr.admit(client, now)) answer 429; mgr.on_announce(text, client, ...);
//              answer 200 with mgr.serve(now, wall).
//
// Sources of nodes. The static bootstrap list (config::bootstrap_list) is kept aside: its
// nodes are never evicted, contacted at start, and again whenever the learned table has no
// usable node left ("runs dry"); their failures only back them off, so a bootnode that is down
// never blocks the table (the go-ethereum bug where a table emptied when its only bootnode
// failed one ping). Learned nodes come from verified lists (bootstrap_document.hpp), merged into
// known_nodes (newest record wins, per-source and total caps), and from announcements: the
// requester's own self-signed record, sent with its request, whose http address must be on
// the client's IP address.
//
// Recursion. Static nodes have depth 0; a record first learnt from a node of depth d has depth
// d + 1 (a shallower later sighting lowers it); an announced record has depth 1. Lists are
// merged only from nodes of depth < depth_max, so nothing is learnt deeper than depth_max (3).
// Nodes at depth_max are still contacted (that is how their reachability is measured).
//
// Fetch scheduling, each round (every round_interval while the selected set is short of
// selected_max, every round_interval_idle once it is full), up to fanout_max new fetches while
// fewer than concurrency_max are in flight, each with a fetch_timeout:
//   1. statics that are due, when the table has run dry (or at start);
//   2. never-contacted nodes, picked at random (discovery; once the table is healthy only one
//      round in feeler_one_in gets one: a Bitcoin-style feeler, so unreachable records are
//      found and pruned rather than left to fill the table);
//   3. while the selected set is short, nodes of depth < depth_max (statics included) whose
//      last list taught us a new node, last asked more than discovery_revisit_interval ago,
//      shallowest first (their lists grow as the network finds them); else the known node contacted
//      longest ago, if that is more than revisit_interval ago.
// A node in backoff is never picked.
//
// Score (integers, 0..1000, computed at selection; docs/BENCHMARKS.md repeats it):
//     latency   L = rtt unmeasured ? 500 : 1000 * R / (R + rtt_ewma)        R = rtt_reference
//     stability S = 1000 * (ok + 1) / (n + 2)   over the last n <= 16 contacts (Laplace)
//     uptime    U = reachable ? 1000 * min(now - up_since, W) / W : 0      W = uptime_window
//     base      = (4 L + 4 S + 2 U) / 10
//     rtt_ewma  = first sample, then (7 rtt_ewma + sample) / 8 (RFC 6298's alpha = 1/8)
// Diversity (like Bitcoin Core's addrman, netgroup = IPv4 /16 or IPv6 /32 of the http
// address): the selected set is built greedily, each step taking the candidate with the
// highest score / (1 + k), k = nodes of its netgroup already selected, ties to the lower node
// id, where score = base + 4096 for a tried node (its last contact succeeded), so every tried
// node ranks above every never-contacted one (Bitcoin's tried/new split). So a second node of a
// netgroup must score twice as well as a node of a fresh netgroup, and one operator's /16
// cannot fill the set. Candidates: learned nodes with no failure since their last success
// (never-contacted ones fill what tried ones leave).
//
// Pruning. A failed contact (timeout, transport error, or a rejected document) doubles the
// node's backoff (backoff_base * 2^(failures-1), at most backoff_max) and after failures_max
// consecutive failures a learned node is erased (event pruned). A success resets failures.
// A failed node is retried as soon as its backoff ends. The last pruned_memory_max pruned
// records are remembered: the same record (issued_at not newer) listed again by a peer that
// has not pruned it yet is ignored (records_pruned_before), so dead nodes do not circulate; a
// newer record (the node restarted) or the node's own announcement brings it back.
//
// Serving: serve() returns the JCS document (make_document) of this node's own record and
// the best served_max - 1 selected records, cached for serve_cache_ttl so a burst of requests
// costs one signature. admit() is a token bucket per client IP address (rate_burst tokens,
// one more every rate_refill_interval), in a table of at most rate_clients_max addresses; when
// the table is full, idle clients' buckets (full again) are dropped first, else the request is
// refused (rate_table_full).
//
// Persistence: persist() is a versioned binary blob of the learned records and their depth;
// restore() bounds-checks it, re-verifies every signature (a file can be edited), and drops
// expired records; each restored record raises a `discovered` event, as if learnt now, so the
// node seeds membership with the nodes it knew (a node restarted while its static nodes are
// unreachable, e.g. across a partition, still rejoins the others it knew). Format in bootstrap_manager.cpp and docs/PROTOCOL.md.
//
// Limits: table.nodes_max learned nodes, table.per_source_max per source, document.records_max
// per list, concurrency_max fetches in flight, events_max undrained events, rate_clients_max
// rate-limited clients, persisted_size_max bytes of state. Memory: O(nodes_max) entries of
// ~400 bytes.
//
// Threads: not thread-safe; owned by one thread. counters() may be read from any thread.

#include <ainet/config/bootstrap_list.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/discovery/bootstrap_document.hpp>
#include <ainet/discovery/known_nodes.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ainet::discovery {

struct bootstrap_manager_config {
    endpoint udp;  // this node's UDP protocol address (its own record)
    endpoint http; // this node's HTTP control address (its own record)
    config::bootstrap_list statics;
    uint64_t seed = 0;

    known_nodes_limits table{.nodes_max = 4096, .per_source_max = 64};
    document_limits document{};
    int64_t record_lifetime_ms = 24 * 60 * 60 * 1000LL; // own record; re-signed at half-life

    size_t selected_max = 64;   // the selected (best-scored, diverse) peer set
    size_t served_max = 64;     // records in the served list, own record included
    size_t concurrency_max = 8; // fetches in flight
    size_t fanout_max = 4;      // fetches started per round
    duration round_interval = std::chrono::milliseconds(500);
    duration round_interval_idle = std::chrono::seconds(2);
    duration fetch_timeout = std::chrono::seconds(2);
    duration revisit_interval = std::chrono::seconds(60);
    duration discovery_revisit_interval = std::chrono::seconds(3);
    uint8_t depth_max = 3;
    uint32_t failures_max = 3;
    duration backoff_base = std::chrono::seconds(2);
    duration backoff_max = std::chrono::minutes(5);
    duration static_backoff_max = std::chrono::seconds(30);
    uint32_t feeler_one_in = 2;
    duration rtt_reference = std::chrono::milliseconds(100);
    duration uptime_window = std::chrono::minutes(10);
    duration serve_cache_ttl = std::chrono::seconds(1);

    uint32_t rate_burst = 10;
    duration rate_refill_interval = std::chrono::milliseconds(200);
    size_t rate_clients_max = 4096;

    size_t events_max = 8192;
    size_t pruned_memory_max = 4096; // pruned records remembered (see Pruning)
    size_t persisted_size_max = 4 * 1024 * 1024;
};

// A fetch to perform: GET http/bootstrap/nodes. Answer with on_response/on_failure(id).
struct fetch_request {
    uint64_t id = 0;
    node_id target;
    endpoint http;
    bool feeler = false; // contacts a never-contacted node in maintenance mode
};

struct discovery_event {
    enum class kind : uint8_t { discovered = 1, pruned };
    kind what;
    node_id id;
    node_record record; // the record held when the event happened
};

// A row of the peer table (GET /peers, `ainetctl peers`).
struct peer_view {
    node_id id;
    endpoint http;
    endpoint udp;
    bool is_static = false;
    bool selected = false;
    bool has_record = false;
    uint8_t depth = 0;
    uint32_t failures = 0;    // consecutive
    uint32_t contacts = 0;    // in the stability window (<= 16)
    uint32_t successes = 0;   // in the stability window
    int64_t rtt_ewma_us = -1; // -1: unmeasured
    uint32_t latency_points = 0;
    uint32_t stability_points = 0;
    uint32_t uptime_points = 0;
    uint32_t score = 0; // base score
};

// One bump per event; the names are the /metrics counter names without the prefix.
struct bootstrap_counters {
    std::atomic<uint64_t> fetches_started{0};
    std::atomic<uint64_t> feelers_started{0};
    std::atomic<uint64_t> fetches_ok{0};
    std::atomic<uint64_t> fetches_failed{0}; // transport errors reported by the driver
    std::atomic<uint64_t> fetches_timed_out{0};
    std::atomic<uint64_t> fetches_rejected{0};  // answered with a document that failed checks
    std::atomic<uint64_t> responses_unknown{0}; // answer to no fetch in flight (late, forged)
    std::atomic<uint64_t> records_added{0};
    std::atomic<uint64_t> records_updated{0};
    std::atomic<uint64_t> records_source_capped{0};
    std::atomic<uint64_t> records_table_full{0};
    std::atomic<uint64_t> records_too_deep{0}; // lists from depth_max nodes, not merged
    std::atomic<uint64_t> nodes_pruned{0};
    std::atomic<uint64_t> records_pruned_before{0}; // a record we pruned, listed again
    std::atomic<uint64_t> static_fallbacks{0};      // rounds that went back to the static list
    std::atomic<uint64_t> announces_accepted{0};
    std::atomic<uint64_t> announces_rejected{0};
    std::atomic<uint64_t> served{0};
    std::atomic<uint64_t> serve_signatures{0};
    std::atomic<uint64_t> rate_limited{0};
    std::atomic<uint64_t> rate_table_full{0};
    std::atomic<uint64_t> events_dropped{0};
    std::atomic<uint64_t> restored_records{0};
    std::atomic<uint64_t> restore_rejected{0}; // blobs refused whole
    discovery_counters documents;              // per-errc rejections and per-verdict records
};

class bootstrap_manager final : private verified_records {
public:
    // Preconditions: keys is this node's identity; udp and http have non-zero ports; every
    // limit is at least 1; served_max <= document.records_max.
    bootstrap_manager(const crypto::key_pair& keys, const bootstrap_manager_config& config);

    // First call: schedules the static nodes for an immediate contact.
    void start(instant now, unix_ms wall);
    // Times out fetches, runs a round when one is due. Requests land in take_requests().
    void tick(instant now, unix_ms wall);
    [[nodiscard]] instant next_deadline() const noexcept;
    [[nodiscard]] std::vector<fetch_request> take_requests();

    // The body fetched for request id. A rejected document counts as a failed contact.
    void on_response(uint64_t id, std::string_view body, instant now, unix_ms wall);
    // The fetch failed in transport (refused, reset, non-200 status).
    void on_failure(uint64_t id, instant now);

    // Serving side. admit(): one token of client's bucket (false: answer 429).
    [[nodiscard]] bool admit(const endpoint& client, instant now);
    // The requester's own record (JCS text) sent with its request; false if rejected.
    bool on_announce(std::string_view record_text, const endpoint& client, instant now,
                     unix_ms wall);
    // The document to answer GET /bootstrap/nodes with (valid until the next call).
    [[nodiscard]] const std::string& serve(instant now, unix_ms wall);
    // This node's own record as JCS text, to send with each request.
    [[nodiscard]] const std::string& announcement(unix_ms wall);

    // State for a restart (see the header comment), and back. restore() before start().
    [[nodiscard]] std::vector<uint8_t> persist() const;
    [[nodiscard]] result<size_t> restore(bytes_view blob, unix_ms wall);

    [[nodiscard]] std::vector<discovery_event> take_events();

    // Introspection.
    [[nodiscard]] size_t known_count() const noexcept { return m_known.size(); }
    [[nodiscard]] const known_nodes& known() const noexcept { return m_known; }
    [[nodiscard]] std::vector<node_id> known_ids() const;
    [[nodiscard]] std::vector<node_id> selected(instant now);
    [[nodiscard]] std::vector<peer_view> peers(instant now);
    [[nodiscard]] size_t in_flight() const noexcept { return m_in_flight.size(); }
    [[nodiscard]] const node_record& own_record() const noexcept { return m_own; }
    [[nodiscard]] const bootstrap_counters& counters() const noexcept { return m_counters; }
    [[nodiscard]] const bootstrap_manager_config& config() const noexcept { return m_config; }

    // The netgroup of an address: IPv4 /16 or IPv6 /32, as a number (family in the top bits).
    [[nodiscard]] static uint64_t netgroup(const endpoint& e) noexcept;

    static constexpr uint8_t persisted_version = 1;
    static constexpr size_t stability_window = 16; // contacts remembered for S

private:
    struct peer_state {
        uint8_t depth = 0;
        bool is_static = false;
        bool fetched_once = false; // contacted at least once (by any outcome)
        bool in_flight = false;
        bool taught = true; // its last list added a node (worth asking again soon)
        uint32_t failures = 0;
        uint16_t outcomes = 0;     // bit i: contact i ago succeeded
        uint8_t outcome_count = 0; // <= stability_window
        int64_t rtt_ewma_ns = -1;
        instant last_contact{INT64_MIN};
        instant next_allowed{INT64_MIN}; // backoff: not contacted before
        std::optional<instant> up_since;
        endpoint http; // for statics (learned nodes use their record)
    };
    struct flight {
        node_id target;
        instant sent_at;
        instant deadline;
    };
    struct bucket {
        int64_t tokens_ns; // tokens * refill interval, so refill is integer arithmetic
        instant last;
    };

    [[nodiscard]] bool contains(const node_record& record) const noexcept override;
    void run_round(instant now, unix_ms wall);
    void launch(const node_id& id, instant now, bool feeler);
    void contact_failed(const node_id& id, instant now);
    void contact_ok(const node_id& id, instant now, duration rtt);
    void prune(const node_id& id);
    void push_event(discovery_event::kind what, const node_id& id, const node_record& record);
    void refresh_own(unix_ms wall);
    [[nodiscard]] bool table_dry() const;
    [[nodiscard]] uint32_t base_score(const peer_state& p, instant now, uint32_t* l, uint32_t* s,
                                      uint32_t* u) const;
    void compute_selected(instant now);
    [[nodiscard]] uint64_t random() noexcept;

    crypto::key_pair m_keys;
    bootstrap_manager_config m_config;
    known_nodes m_known;
    std::map<node_id, peer_state> m_peers; // learned and static nodes
    std::map<uint64_t, flight> m_in_flight;
    std::map<node_id, unix_ms> m_pruned; // issued_at of the record pruned
    std::deque<node_id> m_pruned_order;  // oldest first, for the pruned_memory_max bound
    std::vector<fetch_request> m_requests;
    std::vector<discovery_event> m_events;
    std::unordered_map<endpoint, bucket> m_buckets; // only looked up, iterated to drop idle ones
    std::vector<node_id> m_selected;
    node_record m_own;
    std::string m_own_text;
    std::string m_served;
    std::optional<instant> m_served_at;
    bootstrap_counters m_counters;
    uint64_t m_random_state;
    uint64_t m_next_id = 1;
    instant m_next_round{INT64_MIN};
    bool m_started = false;
    bool m_selected_dirty = true;
};

} // namespace ainet::discovery
