#pragma once
// The HTTP control plane of a node: GET /metrics, GET /healthz, and the endpoints later parts
// register (bootstrap lists, registry, messages, status). Runs on its own small thread pool,
// never on a shard; it reaches shards only through shard_group::post_from_control and the
// counters' relaxed loads.
//
// Hostile clients are expected (docs/OPERATIONS.md "HTTP control plane limits"):
// - a request larger than request_size_max gets 413 before its body is read in full; a request
//   line or header block over cpp-httplib's 8 KiB gets 414/400;
// - every read waits at most read_timeout, and the whole request (line, headers, body) must
//   arrive within request_deadline of its first byte, so a client that drips one byte at a time
//   holds a thread for at most request_deadline + read_timeout; every write waits at most
//   write_timeout;
// - an idle keep-alive connection is closed after keep_alive_timeout, and after
//   keep_alive_request_count_max requests;
// - each client address gets requests_per_second (burst 2x) before answering 429;
// - accepted connections wait for one of `threads` workers in a queue of at most
//   pending_connection_count_max; beyond it the listener answers 503 at once and closes.
// Every refusal is counted by reason (counters() below, exported by relay_node's /metrics), and
// every answer by status code. Binds to loopback by default (config).
//
// Threads: handle() and start() from one thread before serving; the handlers run on the pool's
// threads (one connection at a time per thread); the counters are relaxed atomics, read from
// any thread. Lifecycle: construct -> handle()* -> start() -> stop() (idempotent; destructor).

#include <ainet/core/endpoint.hpp>
#include <ainet/core/time.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace ainet::node {

struct http_request {
    std::string method;
    std::string path;
    std::multimap<std::string, std::string> query;
    std::string body;
    std::string remote_address;
    // membership/discovery: request headers (names as sent) and the client's port, for the
    // bootstrap announcement header and the per-client rate limit.
    std::multimap<std::string, std::string> headers;
    uint16_t remote_port = 0;
};

struct http_response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

using http_handler = std::function<http_response(const http_request&)>;

struct control_server_options {
    endpoint listen;
    size_t request_size_max = 64 * 1024;
    // One read (or the wait for a connection's first request) may wait this long.
    duration read_timeout = std::chrono::seconds(5);
    // The whole request must arrive within this long of its first byte.
    duration request_deadline = std::chrono::seconds(10);
    duration write_timeout = std::chrono::seconds(5);
    // An idle keep-alive connection waits this long for its next request.
    duration keep_alive_timeout = std::chrono::seconds(2);
    uint32_t keep_alive_request_count_max = 100;
    uint32_t requests_per_second = 200;
    unsigned threads = 2;
    // Accepted connections waiting for a free thread; more are answered 503 by the listener.
    size_t pending_connection_count_max = 64;
    // Prefix of the metric families render_metrics() writes (a node's public listener uses
    // "ainet_http_public_" so its series stay apart from the admin server's).
    std::string metric_prefix = "ainet_http_";
};

// X(name, help): /metrics exports ainet_http_rejected_<name>_total. Server-level refusals:
// the request never reached a handler.
#define AINET_HTTP_REJECT_REASONS(X)                                                               \
    X(bad_request, "malformed requests answered 400 (or another 4xx) before any handler")          \
    X(not_found, "requests for no registered path or method (404)")                                \
    X(too_large, "requests refused as too large (413 body, 414 line, 431 headers)")                \
    X(rate_limited, "requests refused by the per-client rate limit (429)")                         \
    X(overloaded, "connections answered 503: every thread busy and the accept queue full")         \
    X(read_timeout, "connections closed: a read waited read_timeout (idle before a request)")      \
    X(slow_request, "connections closed: the request did not arrive within request_deadline")

struct control_server_counters {
#define AINET_HTTP_DECLARE(name, help) std::atomic<uint64_t> name{0};
    AINET_HTTP_REJECT_REASONS(AINET_HTTP_DECLARE)
#undef AINET_HTTP_DECLARE
    // Requests a handler answered (whatever its status).
    std::atomic<uint64_t> served{0};
    // Every answer written, by status code (index = status; out-of-range codes at 0).
    static constexpr size_t status_code_end = 600;
    std::array<std::atomic<uint64_t>, status_code_end> answers_by_status{};
    // Gauges.
    std::atomic<uint64_t> threads_busy{0};
    std::atomic<uint64_t> connections_queued{0};
};

class control_server {
public:
    explicit control_server(control_server_options options);
    ~control_server();
    control_server(const control_server&) = delete;
    control_server& operator=(const control_server&) = delete;

    // Register before start(). Paths are exact; a trailing "*" matches any suffix.
    void handle(const std::string& method, const std::string& path, http_handler handler);

    // Binds (port 0 picks one) and starts serving. Fails with a message if the bind fails.
    [[nodiscard]] bool start(std::string& error);
    void stop() noexcept;
    [[nodiscard]] endpoint local_endpoint() const noexcept { return m_local; }
    [[nodiscard]] const control_server_options& options() const noexcept;

    [[nodiscard]] const control_server_counters& counters() const noexcept;
    // Appends the ainet_http_* families in Prometheus text.
    void render_metrics(std::string& out) const;

    // Kept for callers of the first API.
    [[nodiscard]] uint64_t rejected_too_large() const noexcept;
    [[nodiscard]] uint64_t rejected_rate_limited() const noexcept;
    [[nodiscard]] uint64_t served() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> m_impl;
    endpoint m_local;
};

} // namespace ainet::node
