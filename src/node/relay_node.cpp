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
// From the control thread: start draining (drain_and_stop).
constexpr uint32_t message_drain = 2;
// While draining, how often a shard re-asks its services' drain hooks.
constexpr duration drain_poll_interval = std::chrono::milliseconds(1);
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
    // services[i] is service number i + 1; service_of_type[t] is the number owning datagram
    // type t, 0 for the relay.
    relay_app(const relay::relay_config& config, const crypto::key_pair& keys,
              const crypto::mac_key& cookie_key, relay::relay_counters& counters,
              std::vector<std::unique_ptr<shard_service>> services,
              const std::array<uint8_t, 256>& service_of_type,
              std::atomic<uint32_t>& drained_shards)
        : m_core(config, keys, cookie_key, counters), m_services(std::move(services)),
          m_service_of_type(service_of_type), m_drained_shards(drained_shards) {}

    void on_start(runtime::shard_context& ctx) override {
        // The wheel is sized from limits; failing to arm the only timer is a bug, not load.
        AINET_ASSERT(ctx.timers.arm(ctx.now + upkeep_interval, timer_upkeep).has_value());
        m_unsent.reserve(size_t{ctx.shard_count} * 1024);
        m_relay_batch.reserve(4096);
        for (auto& service : m_services)
            service->on_start(ctx);
    }

    void on_datagrams(runtime::shard_context& ctx,
                      std::span<const runtime::rx_datagram> batch) noexcept override {
        if (m_services.empty()) {
            m_core.on_datagrams(ctx.now, ctx.wall_now, batch, ctx.tx);
        } else {
            // Split off the services' datagrams; the relay keeps its batch (and its batched
            // hello verification) for the rest.
            m_relay_batch.clear();
            for (const runtime::rx_datagram& d : batch) {
                if (const uint32_t s = service_of(d); s != 0)
                    m_services[s - 1]->on_datagram(ctx, d);
                else if (m_relay_batch.size() < m_relay_batch.capacity())
                    m_relay_batch.push_back(d);
            }
            m_core.on_datagrams(ctx.now, ctx.wall_now, m_relay_batch, ctx.tx);
        }
        broadcast_routes(ctx);
    }

    void on_handoff(runtime::shard_context& ctx, const datagram_ref& d) noexcept override {
        if (const uint32_t s = service_of(d); s != 0)
            m_services[s - 1]->on_handoff(ctx, d);
    }

    void on_message(runtime::shard_context& ctx, const runtime::shard_message& msg) noexcept override {
        if (const uint32_t s = service_slot::service_of_kind(msg.kind); s != 0) {
            if (s <= m_services.size())
                m_services[s - 1]->on_message(ctx, msg.kind & service_slot::kind_mask, msg);
            return;
        }
        if (msg.kind == message_route_update)
            m_core.apply_route(decode_route(msg));
        else if (msg.kind == message_drain)
            m_draining = true;
    }

    void on_timer(runtime::shard_context& ctx, timer::timer_id, uint64_t cookie) noexcept override {
        if (const uint32_t s = service_slot::service_of_cookie(cookie); s != 0) {
            if (s <= m_services.size())
                m_services[s - 1]->on_timer(ctx, cookie & service_slot::cookie_mask);
            return;
        }
        if (cookie != timer_upkeep)
            return;
        m_core.on_tick(ctx.now);
        broadcast_routes(ctx);
        AINET_ASSERT(ctx.timers.arm(ctx.now + upkeep_interval, timer_upkeep).has_value());
    }

    duration on_tick(runtime::shard_context& ctx) noexcept override {
        duration sleep = duration::max();
        for (auto& service : m_services)
            sleep = std::min(sleep, service->on_tick(ctx));
        if (m_draining && !m_drained) {
            // Every hook is asked every turn (each flushes what it can); done when all say so
            // and what they flushed has left the send queue.
            bool done = true;
            for (auto& service : m_services)
                done = service->on_drain(ctx) && done;
            if (done && ctx.tx.empty()) {
                m_drained = true;
                m_drained_shards.fetch_add(1, std::memory_order_release);
            } else {
                sleep = std::min(sleep, drain_poll_interval);
            }
        }
        return sleep;
    }

    void on_stop(runtime::shard_context& ctx) override {
        for (auto& service : m_services)
            service->on_stop(ctx);
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

    [[nodiscard]] uint32_t service_of(const datagram_ref& d) const noexcept {
        return d.payload.size() > 3 ? m_service_of_type[d.payload[3]] : 0;
    }

    relay::relay_core m_core;
    std::vector<std::pair<shard_id, runtime::shard_message>> m_unsent;
    std::vector<std::unique_ptr<shard_service>> m_services;
    std::array<uint8_t, 256> m_service_of_type;
    std::vector<runtime::rx_datagram> m_relay_batch;
    std::atomic<uint32_t>& m_drained_shards;
    bool m_draining = false;
    bool m_drained = false;
};

// faults: the admin endpoints answer only clients on a loopback address, whatever the
// control server's listen address is.
bool loopback_client(const http_request& request) {
    std::string text = request.remote_address;
    if (text.rfind("::ffff:", 0) == 0)
        text = text.substr(7);
    else if (text.find(':') != std::string::npos)
        text = "[" + text + "]";
    auto e = parse_endpoint(text + ":1");
    return e && e->is_loopback();
}

} // namespace

relay_node::relay_node(const config::node_config& config, const crypto::key_pair& keys,
                       relay_node_options options)
    : m_config(config), m_keys(keys), m_options(options), m_cookie_key(crypto::random_mac_key()) {}

relay_node::~relay_node() { stop(); }

service_slot relay_node::add_service(shard_service_registration registration) {
    AINET_ASSERT(!m_shards);
    AINET_ASSERT(m_services.size() < service_count_max);
    AINET_ASSERT(registration.type_first <= registration.type_last && registration.make);
    const auto number = static_cast<uint8_t>(m_services.size() + 1);
    for (unsigned t = registration.type_first; t <= registration.type_last; ++t) {
        // Two owners for one type, or a service claiming a relay type, is a wiring bug.
        AINET_ASSERT(m_service_of_type[t] == 0);
        AINET_ASSERT(t >= relay_owned_type_end);
        m_service_of_type[t] = number;
    }
    m_services.push_back(std::move(registration));
    return service_slot(number);
}

void relay_node::add_metrics(std::function<void(std::string&)> render) {
    AINET_ASSERT(!m_control);
    m_metrics.push_back(std::move(render));
}

void relay_node::on_stop_accepting(std::function<void()> hook) {
    AINET_ASSERT(!m_control);
    m_stop_accepting.push_back(std::move(hook));
}

void relay_node::handle_http(const std::string& method, const std::string& path,
                             http_handler handler) {
    AINET_ASSERT(!m_control);
    m_http_handlers.push_back({method, path, std::move(handler)});
}

void relay_node::handle_public_http(const std::string& method, const std::string& path,
                                    http_handler handler) {
    AINET_ASSERT(!m_control);
    m_public_http_handlers.push_back({method, path, handler});
    m_http_handlers.push_back({method, path, std::move(handler)});
}

bool relay_node::post_from_control(shard_id to, const runtime::shard_message& msg) noexcept {
    return m_shards && m_shards->post_from_control(to, msg);
}

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
    group.faults = m_config.faults; // faults
    m_options.relay.session_count_max = m_config.limits.peer_count_max;
    m_options.relay.route_count_max = m_config.limits.peer_count_max;

    m_shards_count_for_services = group.shard_count;
    for (uint16_t i = 0; i < group.shard_count; ++i)
        m_relay_counters.push_back(std::make_unique<relay::relay_counters>());
    m_shards = std::make_unique<runtime::shard_group>(group, [this](shard_id id) {
        std::vector<std::unique_ptr<shard_service>> services;
        for (size_t i = 0; i < m_services.size(); ++i)
            services.push_back(m_services[i].make(id, m_shards_count_for_services,
                                                  service_slot(static_cast<uint32_t>(i + 1))));
        return std::make_unique<relay_app>(m_options.relay, m_keys, m_cookie_key,
                                           *m_relay_counters[to_index(id)], std::move(services),
                                           m_service_of_type, m_drained_shards);
    });
    if (auto started = m_shards->start(); !started) {
        error = "udp " + to_string(m_config.udp_listen) + ": " +
                std::string(runtime::to_string(started.error())) +
                (m_shards->fallback_reason().empty() ? "" : " (" + m_shards->fallback_reason() + ")");
        return false;
    }

    control_server_options control;
    control.listen = m_config.http_listen;
    // operations: every limit from the config (core/limits.hpp, docs/OPERATIONS.md).
    const ainet::limits& limits = m_config.limits;
    using std::chrono::milliseconds;
    control.request_size_max = limits.http_request_size_max;
    control.threads = limits.http_threads;
    control.pending_connection_count_max = limits.http_pending_connection_count_max;
    control.requests_per_second = limits.http_requests_per_second;
    control.read_timeout = milliseconds(limits.http_read_timeout_ms);
    control.request_deadline = milliseconds(limits.http_request_deadline_ms);
    control.write_timeout = milliseconds(limits.http_write_timeout_ms);
    control.keep_alive_timeout = milliseconds(limits.http_keep_alive_timeout_ms);
    control.keep_alive_request_count_max = limits.http_keep_alive_request_count_max;
    const auto healthz = [](const http_request&) {
        return http_response{200, "text/plain; charset=utf-8", "ok\n"};
    };
    if (m_config.public_http_listen) {
        // The public listener: what other nodes need from us, nothing an operator uses. It
        // serves few, small answers, so fewer threads; every other limit as the admin one.
        control_server_options open = control;
        open.listen = *m_config.public_http_listen;
        open.threads = 2;
        open.metric_prefix = "ainet_http_public_";
        m_public_control = std::make_unique<control_server>(open);
        m_public_control->handle("GET", "/healthz", healthz);
        for (auto& [method, path, handler] : m_public_http_handlers)
            m_public_control->handle(method, path, std::move(handler));
        if (!m_public_control->start(error)) {
            error = "public_http_listen: " + error;
            m_shards->stop();
            return false;
        }
    }
    m_public_http_handlers.clear();
    m_control = std::make_unique<control_server>(control);
    m_control->handle("GET", "/healthz", healthz);
    m_control->handle("GET", "/metrics", [this](const http_request&) {
        return http_response{200, "text/plain; version=0.0.4; charset=utf-8", render_metrics()};
    });
    // faults: GET/POST /admin/faults (fault_injector.hpp), loopback clients only.
    m_control->handle("GET", "/admin/faults", [this](const http_request& request) {
        if (!loopback_client(request))
            return http_response{403, "text/plain; charset=utf-8", "admin endpoints are loopback-only\n"};
        return http_response{200, "application/json", config::to_json(m_shards->faults()) + "\n"};
    });
    m_control->handle("POST", "/admin/faults", [this](const http_request& request) {
        if (!loopback_client(request))
            return http_response{403, "text/plain; charset=utf-8", "admin endpoints are loopback-only\n"};
        auto settings = config::parse_fault_config(request.body, "POST /admin/faults");
        if (!settings)
            return http_response{400, "text/plain; charset=utf-8", settings.error().message() + "\n"};
        if (!m_shards->set_faults(*settings))
            return http_response{503, "text/plain; charset=utf-8",
                                 "a shard's queue was full; not every shard has the settings, retry\n"};
        return http_response{200, "application/json", config::to_json(*settings) + "\n"};
    });
    // end faults
    for (auto& [method, path, handler] : m_http_handlers)
        m_control->handle(method, path, std::move(handler));
    m_http_handlers.clear();
    if (!m_control->start(error)) {
        if (m_public_control)
            m_public_control->stop();
        m_shards->stop();
        return false;
    }
    return true;
}

void relay_node::stop() noexcept {
    if (m_control) {
        for (const auto& hook : m_stop_accepting)
            hook();
        m_control->stop();
    }
    if (m_public_control)
        m_public_control->stop();
    if (m_shards)
        m_shards->stop();
}

bool relay_node::drain_and_stop(duration timeout) noexcept {
    if (!m_shards)
        return true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // (1) Stop accepting: no new HTTP requests; those in flight finish (waiting ones are
    // told to return first).
    if (m_control) {
        for (const auto& hook : m_stop_accepting)
            hook();
        m_control->stop();
    }
    if (m_public_control)
        m_public_control->stop();
    // (2) Drain: ask every shard (a full queue is retried until the deadline), then wait.
    const uint16_t count = m_shards->shard_count();
    std::vector<bool> asked(count, false);
    uint16_t asked_count = 0;
    bool drained = false;
    while (std::chrono::steady_clock::now() < deadline) {
        for (uint16_t s = 0; s < count; ++s) {
            runtime::shard_message msg;
            msg.kind = message_drain;
            if (!asked[s] && m_shards->post_from_control(shard_id{s}, msg)) {
                asked[s] = true;
                ++asked_count;
            }
        }
        if (asked_count == count && m_drained_shards.load(std::memory_order_acquire) == count) {
            drained = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // (3) Stop: each shard flushes its send queue once more on the way out.
    m_shards->stop();
    return drained;
}

endpoint relay_node::udp_endpoint() const noexcept { return m_shards->local_endpoint(); }
endpoint relay_node::http_endpoint() const noexcept { return m_control->local_endpoint(); }
std::optional<endpoint> relay_node::public_http_endpoint() const noexcept {
    return m_public_control ? std::optional(m_public_control->local_endpoint()) : std::nullopt;
}
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
    if (m_control)
        m_control->render_metrics(out);
    if (m_public_control)
        m_public_control->render_metrics(out);
    for (const auto& render : m_metrics)
        render(out);
    return out;
}

} // namespace ainet::node
