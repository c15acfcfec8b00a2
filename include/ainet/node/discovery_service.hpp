#pragma once
// discovery_service: bootstrap auto-discovery (discovery/bootstrap_manager.hpp) on the node's
// control side, and the HTTP endpoints that go with it.
//
// What runs where. The manager is sans-I/O and not thread-safe; here it lives behind one mutex
// on the control side (never touched by a shard). A discovery thread drives it: it sleeps
// until the manager's next deadline (or until woken), ticks it, hands the fetches it asks for
// to fetch_threads workers, which GET <http>/bootstrap/nodes with cpp-httplib's client
// (connect and read timeouts, the body capped at document_size_max + 1 bytes so an oversized
// list is rejected as too_large without being buffered), sending this node's own record in the
// Ainet-Node-Record header (docs/PROTOCOL.md), and feeds each body or failure back. Nodes the
// manager discovers (and the static bootstrap nodes, at start and whenever membership has no
// live member) are posted to the membership service as join seeds.
//
// Serving. GET /bootstrap/nodes: admit() (the manager's per-client token bucket; 429 when
// empty), the announcement header if any, then the manager's serve() body. GET /peers: a JSON
// array joining the membership directory (id, udp, state, incarnation, rtt) with the
// discovery table (http, score, netgroup); nodes discovery holds a record of but membership
// does not know yet have state "discovered". Both run on the control server's threads.
//
// Persistence: the manager's persist() blob is written to state_file atomically
// (config::write_file_atomic) at most every persist_interval when the known set changed, and at
// stop(); start() restores it (a damaged or foreign file is counted and ignored).
//
// Limits: fetch_threads workers; at most the manager's concurrency_max fetches queued or in
// flight; bodies capped as above; the manager's own limits (bootstrap_manager.hpp).
// Lifecycle: construct -> attach(node) before node.start() -> start() after it -> stop()
// before the node stops (idempotent; the destructor stops). Must outlive the relay_node.

#include <ainet/discovery/bootstrap_manager.hpp>
#include <ainet/node/membership_service.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ainet::node {

class relay_node;

struct discovery_service_options {
    discovery::bootstrap_manager_config manager; // udp, http, statics and seed filled in
    std::filesystem::path state_file;            // empty: nothing persisted
    unsigned fetch_threads = 4;
    duration connect_timeout = std::chrono::seconds(1);
    duration read_timeout = std::chrono::seconds(2);
    duration persist_interval = std::chrono::seconds(2);
    // Static nodes are seeded into membership again this often while it has no live member.
    duration reseed_interval = std::chrono::seconds(5);
};

class discovery_service {
public:
    // membership may be null (discovery only). keys and membership must outlive the service.
    discovery_service(const crypto::key_pair& keys, discovery_service_options options,
                      membership_service* membership);
    ~discovery_service();
    discovery_service(const discovery_service&) = delete;
    discovery_service& operator=(const discovery_service&) = delete;

    // Registers GET /bootstrap/nodes, GET /peers and the /metrics renderer. Before node.start().
    void attach(relay_node& node);
    // Restores the state file and starts the threads. After node.start().
    void start();
    void stop() noexcept;

    [[nodiscard]] std::string peers_json();
    void render_metrics(std::string& out) const;
    // The manager's counters (relaxed atomics, any thread).
    [[nodiscard]] const discovery::bootstrap_counters& counters() const noexcept {
        return m_manager.counters();
    }

private:
    struct fetch_result {
        uint64_t id;
        bool ok;
        std::string body;
    };
    void run();
    void fetch_worker();
    void drain_events_locked(std::vector<endpoint>& seeds);
    void persist_locked(bool force);

    discovery_service_options m_options;
    membership_service* m_membership;
    mutable std::mutex m_mutex; // guards everything below
    std::condition_variable m_wake;
    discovery::bootstrap_manager m_manager;
    std::deque<discovery::fetch_request> m_jobs;
    std::vector<fetch_result> m_results;
    std::string m_announcement;
    bool m_stopping = false;
    bool m_started = false;
    bool m_state_dirty = false;
    bool m_poke = false; // an announcement arrived: drain events now
    instant m_persisted_at{};
    instant m_reseeded_at{};
    std::atomic<uint64_t> m_persist_failures{0};
    std::atomic<uint64_t> m_persist_writes{0};
    std::atomic<uint64_t> m_fetch_bodies_capped{0};
    std::atomic<uint64_t> m_known{0};
    std::atomic<uint64_t> m_selected{0};
    std::thread m_thread;
    std::vector<std::thread> m_workers;
};

} // namespace ainet::node
