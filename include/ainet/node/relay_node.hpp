#pragma once
// A running relay node: the composition of a shard group (one relay_core per shard) and the HTTP
// control server, built from a validated node_config and the node's key pair.
//
// Threads: start() runs the shards (one per configured core) and the control server's pool;
// everything else in this class runs on the caller's thread. Route changes made by any shard's
// relay_core are broadcast to every shard through the shard mesh, so each shard keeps its own
// copy of the routing table and forwarding reads it without locks.
//
// Lifecycle: construct -> start() -> (serve) -> stop() (idempotent; the destructor stops).

#include <ainet/config/node_config.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/crypto/mac.hpp>
#include <ainet/node/control_server.hpp>
#include <ainet/node/shard_service.hpp>
#include <ainet/relay/relay_core.hpp>
#include <ainet/runtime/shard.hpp>

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace ainet::node {

struct relay_node_options {
    runtime::backend_choice backend = runtime::backend_choice::automatic;
    bool pin_threads = false;
    // UDP_GRO on the shards' sockets: same-flow trains arrive as one receive.
    bool gro = false;
    relay::relay_config relay;
};

class relay_node {
public:
    relay_node(const config::node_config& config, const crypto::key_pair& keys,
               relay_node_options options = {});
    ~relay_node();
    relay_node(const relay_node&) = delete;
    relay_node& operator=(const relay_node&) = delete;

    // Before start(): runs a protocol service in every shard, receiving the datagrams of its
    // type range (shard_service.hpp). Types below relay_owned_type_end stay the relay's.
    void add_service(shard_service_registration registration);
    // Before start(): serves an HTTP endpoint on the control address (control_server::handle).
    void handle_http(const std::string& method, const std::string& path, http_handler handler);
    // The relay handshake, relayed traffic and liveness ranges (0x00..0x2f, docs/PROTOCOL.md).
    static constexpr unsigned relay_owned_type_end = 0x30;

    // membership/discovery (general hooks): before start(), a renderer appending to /metrics
    // (called on the control server's threads); after start(), a post to a shard from any
    // control-side thread (HTTP handlers, the discovery thread). The control thread's queues
    // have a single producer each, so posts are serialized by a mutex (never taken by shards).
    void add_metrics(std::function<void(std::string&)> renderer);
    bool post_from_control(shard_id to, const runtime::shard_message& msg);

    // Binds the UDP port and the control address and starts the shards. error says what
    // failed (bind, io backend, threads).
    [[nodiscard]] bool start(std::string& error);
    void stop() noexcept;

    [[nodiscard]] endpoint udp_endpoint() const noexcept;
    [[nodiscard]] endpoint http_endpoint() const noexcept;
    [[nodiscard]] runtime::backend_kind backend() const noexcept;
    [[nodiscard]] const std::string& backend_fallback_reason() const noexcept;
    [[nodiscard]] uint16_t shard_count() const noexcept;
    [[nodiscard]] const relay::relay_counters& relay_counters(uint16_t shard) const noexcept;
    [[nodiscard]] const runtime::shard_group& shards() const noexcept { return *m_shards; }

    // The Prometheus text /metrics serves.
    [[nodiscard]] std::string render_metrics() const;

private:
    config::node_config m_config;
    crypto::key_pair m_keys;
    relay_node_options m_options;
    crypto::mac_key m_cookie_key;
    // One counter block per shard, owned here so the control thread can read them while the
    // shards write them.
    std::vector<std::unique_ptr<relay::relay_counters>> m_relay_counters;
    std::vector<shard_service_registration> m_services;
    std::array<uint8_t, 256> m_service_of_type{};
    uint16_t m_shards_count_for_services = 0;
    std::vector<std::tuple<std::string, std::string, http_handler>> m_http_handlers;
    std::unique_ptr<runtime::shard_group> m_shards;
    std::unique_ptr<control_server> m_control;
    std::vector<std::function<void(std::string&)>> m_metrics; // membership/discovery
    std::mutex m_post_mutex;                                  // membership/discovery
};

} // namespace ainet::node
