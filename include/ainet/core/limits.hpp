#pragma once
// The limits every pool, queue, batch and table is sized from (STYLE.md: everything has a
// limit). A node reads them from its config at start-up (config module, "limits" object),
// validates them once, and carves its preallocated structures from them; nothing grows past
// them afterwards. The defaults are documented in docs/OPERATIONS.md and suit a small node.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ainet {

struct limits {
    // Largest UDP payload sent or accepted. 1472 = Ethernet MTU 1500 - IPv4 20 - UDP 8.
    uint32_t datagram_size_max = 1472;
    // Shards (threads) a node may run.
    uint32_t shard_count_max = 64;
    // Receive buffers in each shard's provided-buffer ring (a power of two).
    uint32_t recv_buffer_count = 4096;
    // Datagrams reaped or sent per loop turn per shard.
    uint32_t io_batch_size_max = 64;
    // Datagrams parked in a shard's send queue before new sends are refused and counted.
    uint32_t send_queue_size_max = 16384;
    // Messages in one cross-shard queue (per ordered shard pair) before senders see "full".
    uint32_t cross_shard_queue_size_max = 8192;
    // Peers (routing table entries, authenticated sessions) a node tracks.
    uint32_t peer_count_max = 65536;
    // Nodes held by bootstrap discovery, and records taken from one source's list.
    uint32_t known_node_count_max = 4096;
    uint32_t bootstrap_records_per_source_max = 256;
    // HTTP control server (node/control_server.hpp; docs/OPERATIONS.md "HTTP control plane
    // limits"). Bytes of a request read before answering 413.
    uint32_t http_request_size_max = 64 * 1024;
    // Worker threads, one connection at a time each (long polls and sends waiting for their
    // commit hold one, so more than two).
    uint32_t http_threads = 8;
    // Accepted connections waiting for a free thread; more are answered 503 at once.
    uint32_t http_pending_connection_count_max = 64;
    // Requests per second per client address (burst twice that) before 429.
    uint32_t http_requests_per_second = 200;
    // One read (or the wait for a connection's first request), the whole request from its
    // first byte, one write, and an idle keep-alive connection, in milliseconds.
    uint32_t http_read_timeout_ms = 5000;
    uint32_t http_request_deadline_ms = 10000;
    uint32_t http_write_timeout_ms = 5000;
    uint32_t http_keep_alive_timeout_ms = 2000;
    // Requests served on one keep-alive connection before it is closed.
    uint32_t http_keep_alive_request_count_max = 100;
    // GET /messages long polls waiting at once (fewer than http_threads, so a thread is always
    // left for everything else).
    uint32_t http_long_poll_count_max = 4;
    // Timers armed at once in one shard's wheel.
    uint32_t timer_count_max = 1u << 20;
};

// Human-readable violations of the relations between limits (empty when valid). Each names the
// field, e.g. "recv_buffer_count: must be a power of two between 16 and 32768".
[[nodiscard]] std::vector<std::string> validate(const limits& l);

} // namespace ainet
