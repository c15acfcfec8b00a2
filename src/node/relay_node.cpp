#include <ainet/node/relay_node.hpp>

#include <ainet/core/assert.hpp>
#include <ainet/core/encoding.hpp>
#include <ainet/runtime/metrics.hpp>

#include <algorithm>
#include <cstring>
#include <thread>

namespace ainet::node {

namespace {

constexpr uint32_t message_route_update = 1;
constexpr uint64_t timer_upkeep = 1;
constexpr duration upkeep_interval = std::chrono::milliseconds(100);

// A route change as a shard message: node id (32) | endpoint (20) | remove (1).
runtime::shard_message encode_route(const relay::route_update& update) noexcept {
    runtime::shard_message msg;
    msg.kind = message_route_update;
    static_assert(sizeof(endpoint) + node_id_size + 1 <= sizeof(msg.body));
    std::memcpy(msg.body.data(), update.node.bytes.data(), node_id_size);
    std::memcpy(msg.body.data() + node_id_size, &update.at, sizeof(endpoint));
    msg.body[node_id_size + sizeof(endpoint)] = update.remove ? 1 : 0;
    msg.size = static_cast<uint16_t>(node_id_size + sizeof(endpoint) + 1);
    return msg;
}

relay::route_update decode_route(const runtime::shard_message& msg) noexcept {
    relay::route_update update;
    std::memcpy(update.node.bytes.data(), msg.body.data(), node_id_size);
    std::memcpy(&update.at, msg.body.data() + node_id_size, sizeof(endpoint));
    update.remove = msg.body[node_id_size + sizeof(endpoint)] != 0;
    return update;
}

class relay_app final : public runtime::shard_app {
public:
    relay_app(const relay::relay_config& config, const crypto::key_pair& keys,
              const crypto::mac_key& cookie_key, relay::relay_counters& counters)
        : m_core(config, keys, cookie_key, counters) {}

    void on_start(runtime::shard_context& ctx) override {
        // The wheel is sized from limits; failing to arm the only timer is a bug, not load.
        AINET_ASSERT(ctx.timers.arm(ctx.now + upkeep_interval, timer_upkeep).has_value());
        m_unsent.reserve(size_t{ctx.shard_count} * 1024);
    }

    void on_datagrams(runtime::shard_context& ctx,
                      std::span<const runtime::rx_datagram> batch) noexcept override {
        m_core.on_datagrams(ctx.now, ctx.wall_now, batch, ctx.tx);
        broadcast_routes(ctx);
    }

    void on_message(runtime::shard_context&, const runtime::shard_message& msg) noexcept override {
        if (msg.kind == message_route_update)
            m_core.apply_route(decode_route(msg));
    }

    void on_timer(runtime::shard_context& ctx, timer::timer_id, uint64_t cookie) noexcept override {
        if (cookie != timer_upkeep)
            return;
        m_core.on_tick(ctx.now);
        broadcast_routes(ctx);
        AINET_ASSERT(ctx.timers.arm(ctx.now + upkeep_interval, timer_upkeep).has_value());
    }

private:
    // Every shard must see every route change, in order: what a full queue refuses waits here
    // and goes first next time (the upkeep timer retries at least every 100 ms).
    void broadcast_routes(runtime::shard_context& ctx) noexcept {
        size_t kept = 0;
        for (const auto& [target, msg] : m_unsent)
            if (!ctx.post(target, msg))
                m_unsent[kept++] = {target, msg};
        m_unsent.resize(kept);
        for (const relay::route_update& update : m_core.route_outbox()) {
            const runtime::shard_message msg = encode_route(update);
            for (uint16_t s = 0; s < ctx.shard_count; ++s) {
                const bool earlier_waiting = std::any_of(m_unsent.begin(), m_unsent.end(),
                    [s](const auto& u) { return to_index(u.first) == s; });
                if (earlier_waiting || !ctx.post(shard_id{s}, msg))
                    m_unsent.emplace_back(shard_id{s}, msg);
            }
        }
        m_core.clear_route_outbox();
    }

    relay::relay_core m_core;
    std::vector<std::pair<shard_id, runtime::shard_message>> m_unsent;
};

} // namespace

relay_node::relay_node(const config::node_config& config, const crypto::key_pair& keys,
                       relay_node_options options)
    : m_config(config), m_keys(keys), m_options(options), m_cookie_key(crypto::random_mac_key()) {}

relay_node::~relay_node() { stop(); }

bool relay_node::start(std::string& error) {
    runtime::shard_group_config group;
    group.shard_count = static_cast<uint16_t>(
        config::effective_shard_count(m_config, std::max(1u, std::thread::hardware_concurrency())));
    group.listen = m_config.udp_listen;
    group.backend = m_options.backend;
    group.pin_threads = m_options.pin_threads;
    group.socket.gro = m_options.gro;
    group.io.batch_size = m_config.limits.io_batch_size_max;
    group.io.recv_buffer_count = m_config.limits.recv_buffer_count;
    group.io.datagram_size_max = m_config.limits.datagram_size_max;
    group.tx_slot_count = m_config.limits.send_queue_size_max;
    group.cross_shard_queue_size = m_config.limits.cross_shard_queue_size_max;
    group.timer_capacity = std::min<uint32_t>(m_config.limits.timer_count_max, 65536);
    m_options.relay.session_count_max = m_config.limits.peer_count_max;
    m_options.relay.route_count_max = m_config.limits.peer_count_max;

    for (uint16_t i = 0; i < group.shard_count; ++i)
        m_relay_counters.push_back(std::make_unique<relay::relay_counters>());
    m_shards = std::make_unique<runtime::shard_group>(group, [this](shard_id id) {
        return std::make_unique<relay_app>(m_options.relay, m_keys, m_cookie_key,
                                           *m_relay_counters[to_index(id)]);
    });
    if (auto started = m_shards->start(); !started) {
        error = "udp " + to_string(m_config.udp_listen) + ": " +
                std::string(runtime::to_string(started.error())) +
                (m_shards->fallback_reason().empty() ? "" : " (" + m_shards->fallback_reason() + ")");
        return false;
    }

    control_server_options control;
    control.listen = m_config.http_listen;
    control.request_size_max = m_config.limits.http_request_size_max;
    m_control = std::make_unique<control_server>(control);
    m_control->handle("GET", "/healthz", [](const http_request&) {
        return http_response{200, "text/plain; charset=utf-8", "ok\n"};
    });
    m_control->handle("GET", "/metrics", [this](const http_request&) {
        return http_response{200, "text/plain; version=0.0.4; charset=utf-8", render_metrics()};
    });
    if (!m_control->start(error)) {
        m_shards->stop();
        return false;
    }
    return true;
}

void relay_node::stop() noexcept {
    if (m_control)
        m_control->stop();
    if (m_shards)
        m_shards->stop();
}

endpoint relay_node::udp_endpoint() const noexcept { return m_shards->local_endpoint(); }
endpoint relay_node::http_endpoint() const noexcept { return m_control->local_endpoint(); }
runtime::backend_kind relay_node::backend() const noexcept { return m_shards->backend(); }
const std::string& relay_node::backend_fallback_reason() const noexcept {
    return m_shards->fallback_reason();
}
uint16_t relay_node::shard_count() const noexcept { return m_shards->shard_count(); }
const relay::relay_counters& relay_node::relay_counters(uint16_t shard) const noexcept {
    return *m_relay_counters[shard];
}

std::string relay_node::render_metrics() const {
    std::string out;
    out.reserve(16384);
    runtime::render_prometheus(*m_shards, out);
#define AINET_RENDER_RELAY(name, help)                                                             \
    out.append("# HELP ainet_relay_" #name "_total " help "\n# TYPE ainet_relay_" #name           \
               "_total counter\n");                                                                \
    for (uint16_t i = 0; i < m_shards->shard_count(); ++i)                                         \
        out.append("ainet_relay_" #name "_total{shard=\"")                                         \
            .append(std::to_string(i))                                                             \
            .append("\"} ")                                                                        \
            .append(std::to_string(m_relay_counters[i]->name.load(std::memory_order_relaxed)))     \
            .append("\n");
    AINET_RELAY_COUNTERS(AINET_RENDER_RELAY)
#undef AINET_RENDER_RELAY
    if (m_control) {
        runtime::render_metric(out, "ainet_http_served_total", "counter", "HTTP requests served",
                               m_control->served());
        runtime::render_metric(out, "ainet_http_rejected_too_large_total", "counter",
                               "HTTP requests refused with 413", m_control->rejected_too_large());
        runtime::render_metric(out, "ainet_http_rejected_rate_limited_total", "counter",
                               "HTTP requests refused with 429", m_control->rejected_rate_limited());
    }
    return out;
}

} // namespace ainet::node
