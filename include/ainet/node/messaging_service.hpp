#pragma once
// messaging_service: reliable, ordered, at-least-once messages between nodes for applications,
// run inside a relay_node: one reliability_core per shard (reliability/reliability_core.hpp),
// its state made durable in LMDB (messaging_store.hpp), and the HTTP API of docs/OPERATIONS.md
// ("Messaging"): POST /messages, GET /messages, POST /messages/ack.
//
// Sessions are pinned: a peer's sessions live on shard reliability::shard_for(peer,
// shard_count). The kernel spreads received datagrams over the shards by 4-tuple hash, so a
// `reliable` datagram (type 0x50) that lands on another shard is handed over to the owner. The
// reliable packet carries no sender id: the sender is the node behind the datagram's source
// endpoint, looked up in the peer_directory snapshot and, for peers it lacks, in the static
// bootstrap list (the same lookup gives the endpoint to send to). Datagrams from unknown
// endpoints are dropped and counted. This identification is as strong as the network's source
// addresses (no authentication of its own, like the reliability simulator's direct mode).
//
// Each loop turn a shard feeds its core the datagrams of the turn, ticks it, flushes once
// (one LMDB group commit for the turn), and handles the events: `accepted` answers the waiting
// POST /messages with 202 and the message id; `delivered` goes to the node's inbox, where GET
// /messages reads it; suspect, undeliverable and expired are counted. The core runs with
// auto_process = false: a delivered message counts as processed (and is acknowledged to its
// sender, after its watermark is durable) only when the application acknowledges it with POST
// /messages/ack, so a receiver that crashes before the application acknowledged gets the message
// again (at least once). A suspect peer is offered on_peer_alive() when the peer_directory shows
// it alive, or, while the directory does not know it, every suspect_probe_interval.
//
// Threads: shard state on the shards; the HTTP handlers on the control server's threads post
// requests to the owning shard (post_from_control) and wait for the answer with a bounded
// timeout (503). The inbox is the one shared structure: a mutex on the control side, taken once
// per shard turn that delivered something. Limits: messaging_limits below; a full inbox drops
// and counts (inbox_full) the messages it cannot hold without processing them, so they come
// back after a restart of the node.

#include <ainet/config/bootstrap_list.hpp>
#include <ainet/node/messaging_store.hpp>
#include <ainet/node/peer_directory.hpp>
#include <ainet/node/relay_node.hpp>
#include <ainet/reliability/reliability_core.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ainet::node {

// X(name, help): /metrics exports ainet_messaging_<name>_total{shard="i"}.
#define AINET_MESSAGING_COUNTERS(X)                                                                \
    X(send_requests, "POST /messages requests that reached their shard")                          \
    X(send_accepted, "messages accepted (durable) and answered 202")                               \
    X(send_refused, "sends refused by the core (too large, outbox or tables full)")               \
    X(send_backpressure, "sends refused because too many were waiting for acceptance")           \
    X(delivered, "messages delivered in order into the inbox")                                     \
    X(inbox_full, "delivered messages dropped (unprocessed) because the inbox was full")          \
    X(processed, "acknowledgements from the application passed to the core")                      \
    X(handoffs, "reliable datagrams handed over to the shard owning the peer")                     \
    X(handoff_failed, "reliable datagrams dropped: the hand-over to the owner failed")            \
    X(drop_unknown_sender, "reliable datagrams dropped: source endpoint is no known node")        \
    X(no_endpoint, "flushes that found no endpoint for a peer (no directory or bootstrap entry)") \
    X(undeliverable, "messages reported undeliverable (retries exhausted, still retried)")        \
    X(expired, "messages whose TTL ended before acknowledgement")                                  \
    X(peer_suspect, "peers that exhausted the retry budget")                                       \
    X(peer_alive, "suspect peers offered on_peer_alive (directory alive or probe)")               \
    X(store_load_failed, "shards that could not restore their stored state")

struct messaging_counters {
#define AINET_MESSAGING_DECLARE(name, help) std::atomic<uint64_t> name{0};
    AINET_MESSAGING_COUNTERS(AINET_MESSAGING_DECLARE)
#undef AINET_MESSAGING_DECLARE
    // operations: gauge, the core's outbox size at the end of the shard's last turn.
    std::atomic<uint64_t> outbox_messages{0};
};

struct messaging_limits {
    // Delivered, not yet acknowledged messages the node's inbox holds (all channels).
    size_t inbox_message_count_max = 65536;
    uint64_t inbox_bytes_max = uint64_t{64} << 20;
    // Messages a GET /messages returns at most.
    size_t receive_batch_max = 1024;
    // Sends a shard holds waiting for their commit (POST beyond: 429).
    size_t pending_send_count_max = 8192;
    duration send_timeout = std::chrono::seconds(5);
    duration wait_max = std::chrono::seconds(30);
    // operations: GET /messages long polls waiting at once. Each holds one of the node's
    // control threads (limits.http_threads, 8 by default), so at most half of them; ainetd sets
    // it from limits.http_long_poll_count_max. A poll beyond the bound is answered at once with
    // what is there, or 503 when that is nothing (counted).
    size_t long_poll_count_max = 4;
    duration suspect_probe_interval = std::chrono::seconds(2);
    // The shard rereads the peer_directory snapshot at most this often.
    duration directory_refresh = std::chrono::milliseconds(100);
    // Shards (counter blocks) supported.
    uint16_t shard_count_max = 256;
};

struct messaging_options {
    // Empty: no persistence (memory_store). Else shard i keeps its state in directory/shard-<i>.
    std::filesystem::path directory;
    bool durable = true; // false: LMDB without fdatasync (benchmarks)
    reliability::reliability_config reliability;
    messaging_limits limits;
};

// One message in the inbox, as GET /messages returns it.
struct inbox_message {
    uint64_t id = 0; // local: unique within this node process, ascending in delivery order
    node_id from;
    channel_id channel{};
    uint64_t seq = 0;
    std::vector<uint8_t> body;
    bool acked = false;
};

class messaging_service {
public:
    // self: this node; directory: read each turn (may stay empty); bootstrap: the fallback
    // peer endpoints. unix time seeds the stream epoch and incarnation.
    messaging_service(messaging_options options, const node_id& self,
                      std::shared_ptr<const peer_directory> directory,
                      std::vector<config::bootstrap_node> bootstrap);
    ~messaging_service();
    messaging_service(const messaging_service&) = delete;
    messaging_service& operator=(const messaging_service&) = delete;

    // Before node.start(): registers the shard service (types 0x50..0x5f), the HTTP endpoints
    // and the metrics. The node must outlive this object's use by its shards and handlers.
    void install(relay_node& node);

    // The API behind the HTTP endpoints (control threads; also usable in-process).
    struct send_result {
        int status = 0; // 202 accepted, 400, 413, 429, 503
        uint64_t id = 0;
        std::string reason;
    };
    [[nodiscard]] send_result send(const node_id& to, channel_id channel, bytes_view body);
    // Unacknowledged messages of channel with id > after, in order, at most max; waits up to
    // wait for one to arrive when there is none.
    [[nodiscard]] std::vector<inbox_message> receive(channel_id channel, uint64_t after,
                                                     size_t max, duration wait);
    // Acknowledges ids (or, with up_to, every message of channel with id <= up_to) and waits
    // (at most send_timeout) until the delivery watermarks they advance are durable, so that a
    // restart after a successful ack does not deliver them again. count: messages newly
    // acknowledged; durable: false when the wait timed out or a shard queue was full (the
    // messages stay acknowledged; a later ack of the session makes its watermark durable).
    struct ack_result {
        size_t count = 0;
        bool durable = true;
    };
    ack_result ack(const std::vector<uint64_t>& ids, std::optional<uint64_t> up_to,
                   std::optional<channel_id> channel);

    void render_metrics(std::string& out) const;
    [[nodiscard]] const messaging_counters& counters(uint16_t shard) const noexcept {
        return *m_counters[shard];
    }
    [[nodiscard]] const reliability::reliability_counters& core_counters(uint16_t shard) const noexcept {
        return *m_core_counters[shard];
    }
    // 0 until the node has started.
    [[nodiscard]] uint16_t shard_count() const noexcept {
        return m_node != nullptr && m_node->running() ? m_node->shard_count() : 0;
    }

    class shard_part; // the per-shard instance (implementation)

private:
    friend class shard_part;
    void inbox_push(std::vector<inbox_message>& batch, messaging_counters& counters);

    messaging_options m_options;
    node_id m_self;
    std::shared_ptr<const peer_directory> m_directory;
    std::vector<config::bootstrap_node> m_bootstrap;
    uint64_t m_start_us = 0;
    relay_node* m_node = nullptr;
    service_slot m_slot{0};
    std::vector<std::unique_ptr<messaging_counters>> m_counters;
    std::vector<std::unique_ptr<reliability::reliability_counters>> m_core_counters;

    std::mutex m_inbox_mutex;
    std::condition_variable m_inbox_cv;
    std::deque<inbox_message> m_inbox; // ascending id
    // operations: long polls waiting now, and those refused by long_poll_count_max.
    std::atomic<uint64_t> m_long_polls_waiting{0};
    std::atomic<uint64_t> m_long_polls_refused{0};
    // Set (under m_inbox_mutex) when the node stops accepting: long polls return at once.
    std::atomic<bool> m_stopping{false};
    uint64_t m_inbox_bytes = 0;
    uint64_t m_next_inbox_id = 1;
};

} // namespace ainet::node
