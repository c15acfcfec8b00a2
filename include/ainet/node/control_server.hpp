#pragma once
// The HTTP control plane of a node: GET /metrics, GET /healthz, and the endpoints later parts
// register (bootstrap lists, registry, messages). Runs on its own small thread pool, never on a
// shard; it reaches shards only through shard_group::post_from_control and the counters' relaxed
// loads.
//
// Hostile clients are expected: requests larger than request_size_max get 413 before their body
// is read in full, slow clients are cut off after read_timeout, and each client address gets
// requests_per_second (burst 2x) before answering 429. Binds to loopback by default (config).

#include <ainet/core/endpoint.hpp>
#include <ainet/core/time.hpp>

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
    duration read_timeout = std::chrono::seconds(5);
    uint32_t requests_per_second = 200;
    unsigned threads = 2;
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

    // Requests refused, by reason, for /metrics.
    [[nodiscard]] uint64_t rejected_too_large() const noexcept;
    [[nodiscard]] uint64_t rejected_rate_limited() const noexcept;
    [[nodiscard]] uint64_t served() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> m_impl;
    endpoint m_local;
};

} // namespace ainet::node
