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
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
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
    // Returns the slot the service's instances get (to tag messages posted from control).
    service_slot add_service(shard_service_registration registration);
    // Before start(): serves an HTTP endpoint on the control address (control_server::handle).
    void handle_http(const std::string& method, const std::string& path, http_handler handler);
    // Before start(): the same, and also on the public listener when the config names one
    // (public_http_listen): only what strangers may ask (GET /bootstrap/nodes). /healthz is
    // served there too; nothing else is.
    void handle_public_http(const std::string& method, const std::string& path,
                            http_handler handler);
    // The relay handshake, relayed traffic and liveness ranges (0x00..0x2f, docs/PROTOCOL.md).
    static constexpr unsigned relay_owned_type_end = 0x30;

    // Binds the UDP port and the control address and starts the shards. error says what
    // failed (bind, io backend, threads).
    [[nodiscard]] bool start(std::string& error);
    void stop() noexcept;

    // Graceful stop (ainetd on SIGTERM): (1) stops accepting: the control server closes its
    // listener and finishes the requests in flight; (2) drains: every shard runs its services'
    // drain hook (shard_service::on_drain) each loop turn until all of them report done and
    // its send queue is empty; UDP keeps being forwarded meanwhile, so peers' in-flight
    // traffic is not cut; (3) stops the shards, which flush their send queues once more. The
    // relay itself keeps no outbox, so with no services (2) takes one loop turn per shard.
    // Returns false when the timeout cut the drain short (the node is stopped either way).
    // Call from the thread that called start(); after it, stop() is a no-op.
    [[nodiscard]] bool drain_and_stop(duration timeout) noexcept;

    [[nodiscard]] endpoint udp_endpoint() const noexcept;
    [[nodiscard]] endpoint http_endpoint() const noexcept;
    // The public listener's address; nullopt without one.
    [[nodiscard]] std::optional<endpoint> public_http_endpoint() const noexcept;
    [[nodiscard]] runtime::backend_kind backend() const noexcept;
    [[nodiscard]] const std::string& backend_fallback_reason() const noexcept;
    [[nodiscard]] uint16_t shard_count() const noexcept;
    // True once start() has started the shards and the control server.
    [[nodiscard]] bool running() const noexcept { return m_control != nullptr; }
    [[nodiscard]] const relay::relay_counters& relay_counters(uint16_t shard) const noexcept;
    [[nodiscard]] const runtime::shard_group& shards() const noexcept { return *m_shards; }
    // After start(): for services' control-side code (post_from_control).
    [[nodiscard]] runtime::shard_group& shards() noexcept { return *m_shards; }
    // Before start(): appends a service's metrics to what /metrics serves (control threads).
    void add_metrics(std::function<void(std::string&)> render);
    // Before start(): hook run when the node stops accepting (drain_and_stop or stop), before
    // the control server waits for the requests in flight, so a handler that waits (a long
    // poll) can return at once. May run twice (drain, then the destructor's stop): idempotent.
    void on_stop_accepting(std::function<void()> hook);

    // The Prometheus text /metrics serves.
    [[nodiscard]] std::string render_metrics() const;

    // After start(), from any control-side thread (HTTP handlers, the discovery thread): posts
    // msg to shard `to`; false when not started or the queue is full. shard_group serializes
    // control posts with a mutex that shards never take.
    bool post_from_control(shard_id to, const runtime::shard_message& msg) noexcept;

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
    std::vector<std::tuple<std::string, std::string, http_handler>> m_public_http_handlers;
    // Shards that finished draining (drain_and_stop); written by shards, read here.
    std::atomic<uint32_t> m_drained_shards{0};
    std::vector<std::function<void(std::string&)>> m_metrics;
    std::vector<std::function<void()>> m_stop_accepting;
    std::unique_ptr<runtime::shard_group> m_shards;
    std::unique_ptr<control_server> m_control;
    std::unique_ptr<control_server> m_public_control; // public_http_listen
};

} // namespace ainet::node
