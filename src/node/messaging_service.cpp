#include <ainet/node/messaging_service.hpp>

#include <ainet/core/assert.hpp>
#include <ainet/core/encoding.hpp>
#include <ainet/runtime/metrics.hpp>
#include <ainet/wire/header.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <iostream>
#include <limits>
#include <map>
#include <unordered_map>

namespace ainet::node {
namespace {

constexpr uint32_t kind_send = 1;
constexpr uint32_t kind_processed = 2;

struct send_request {
    node_id peer;
    channel_id channel{};
    std::vector<uint8_t> body;
    std::promise<messaging_service::send_result> answer;
};

// kind_processed body: peer (32), channel u32, seq u64, and the promise the shard fulfils once
// the watermark is durable (owned by the shard after the post; null: nobody waits).
struct processed_body {
    node_id peer;
    uint32_t channel;
    uint64_t seq;
    std::promise<bool>* durable;
};

// Counts the commits of the store under the core, so the shard can tell whether the flush of a
// turn made that turn's records durable.
class commit_observer final : public reliability::durable_store {
public:
    void attach(reliability::durable_store& inner) noexcept { m_inner = &inner; }
    reliability::result<void> commit(std::span<const reliability::persist_record> records) noexcept
        override {
        auto r = m_inner->commit(records);
        if (!r)
            ++m_failures;
        return r;
    }
    [[nodiscard]] uint64_t failures() const noexcept { return m_failures; }

private:
    reliability::durable_store* m_inner = nullptr;
    uint64_t m_failures = 0;
};
static_assert(std::is_trivially_copyable_v<processed_body>);
static_assert(sizeof(processed_body) <= sizeof(runtime::shard_message::body));

uint64_t wall_us() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

} // namespace

class messaging_service::shard_part final : public shard_service, private reliability::packet_sink {
public:
    shard_part(messaging_service& owner, shard_id shard, uint16_t shard_count, service_slot slot)
        : m_owner(owner), m_shard(shard), m_shard_count(shard_count), m_slot(slot),
          m_counters(*owner.m_counters[to_index(shard)]),
          m_core_counters(*owner.m_core_counters[to_index(shard)]) {}

    void on_start(runtime::shard_context& ctx) override {
        const auto& opts = m_owner.m_options;
        reliability::reliability_config config = opts.reliability;
        config.auto_process = false;
        config.datagram_size_max = std::min<size_t>(config.datagram_size_max, ctx.tx.slot_size());
        config.stream_epoch = m_owner.m_start_us * 64 + to_index(m_shard);
        config.incarnation = (m_owner.m_start_us << 8) | (to_index(m_shard) & 0xff) | 1;
        m_size_max = reliability::message_size_max(config);
        reliability::recovered_state restored;
        bool restore = false;
        if (!opts.directory.empty()) {
            std::string error;
            const auto dir = opts.directory / ("shard-" + std::to_string(to_index(m_shard)));
            m_lmdb = messaging_store::open(dir, opts.durable, error);
            if (m_lmdb && m_lmdb->load(restored, error)) {
                restore = restored.stream_epoch != 0;
            } else {
                std::cerr << "ainetd: messaging: shard " << to_index(m_shard)
                          << " store unavailable, refusing sends: " << error << std::endl;
                m_counters.store_load_failed.fetch_add(1, std::memory_order_relaxed);
                m_store_failed = true;
                m_lmdb.reset();
            }
        }
        m_observer.attach(m_lmdb ? static_cast<reliability::durable_store&>(*m_lmdb) : m_memory);
        m_core = std::make_unique<reliability::reliability_core>(config, m_observer, m_core_counters);
        if (restore)
            m_core->restore(ctx.now, restored);
        refresh(ctx, true);
    }

    void on_datagram(runtime::shard_context& ctx, const datagram_ref& d) noexcept override {
        refresh(ctx, false);
        auto it = m_by_endpoint.find(d.source);
        if (it == m_by_endpoint.end()) {
            bump(m_counters.drop_unknown_sender);
            return;
        }
        const auto owner = shard_id{static_cast<uint16_t>(
            reliability::shard_for(it->second, m_shard_count))};
        if (owner != m_shard) {
            if (ctx.hand_over(owner, d))
                bump(m_counters.handoffs);
            else
                bump(m_counters.handoff_failed);
            return;
        }
        m_core->on_packet(ctx.now, it->second, d.payload);
    }

    void on_handoff(runtime::shard_context& ctx, const datagram_ref& d) noexcept override {
        refresh(ctx, false);
        auto it = m_by_endpoint.find(d.source);
        if (it == m_by_endpoint.end()) {
            bump(m_counters.drop_unknown_sender);
            return;
        }
        m_core->on_packet(ctx.now, it->second, d.payload);
    }

    void on_message(runtime::shard_context& ctx, uint32_t kind,
                    const runtime::shard_message& msg) noexcept override {
        if (kind == kind_send) {
            send_request* raw = nullptr;
            AINET_ASSERT(msg.size == sizeof(raw));
            std::memcpy(&raw, msg.body.data(), sizeof(raw));
            std::unique_ptr<send_request> request(raw);
            on_send(ctx, std::move(request));
        } else if (kind == kind_processed) {
            processed_body body;
            AINET_ASSERT(msg.size == sizeof(body));
            std::memcpy(&body, msg.body.data(), sizeof(body));
            m_core->processed(body.peer, channel_id{body.channel}, body.seq);
            bump(m_counters.processed);
            if (body.durable != nullptr)
                m_ack_waiters.emplace_back(body.durable);
        }
    }

    duration on_tick(runtime::shard_context& ctx) noexcept override {
        const instant now = ctx.now;
        refresh(ctx, false);
        m_core->tick(now);
        m_ctx = &ctx;
        const uint64_t failures = m_observer.failures();
        m_core->flush(now, *this);
        m_ctx = nullptr;
        // This turn's flush committed every watermark processed() recorded before it, unless a
        // commit failed (then the core retries next turn, and so do the waiters).
        if (!m_ack_waiters.empty() && m_observer.failures() == failures) {
            for (auto& waiter : m_ack_waiters)
                waiter->set_value(true);
            m_ack_waiters.clear();
        }
        handle_events();
        m_counters.outbox_messages.store(m_core->outbox_count(), std::memory_order_relaxed); // operations
        probe_suspects(now);
        instant deadline = m_core->next_deadline();
        if (!m_suspects.empty())
            deadline = std::min(deadline, m_next_probe);
        if (deadline.ns_since_origin == std::numeric_limits<int64_t>::max())
            return duration::max();
        return std::max<duration>(deadline - now, std::chrono::milliseconds(1));
    }

    void on_stop(runtime::shard_context&) override {
        for (auto& [id, request] : m_pending)
            request->answer.set_value({503, 0, "node stopping"});
        m_pending.clear();
        for (auto& waiter : m_ack_waiters)
            waiter->set_value(false);
        m_ack_waiters.clear();
    }

private:
    static void bump(std::atomic<uint64_t>& c) noexcept { c.fetch_add(1, std::memory_order_relaxed); }

    void on_send(runtime::shard_context& ctx, std::unique_ptr<send_request> request) noexcept {
        bump(m_counters.send_requests);
        if (m_store_failed) {
            request->answer.set_value({503, 0, "message store unavailable"});
            return;
        }
        if (request->body.size() > m_size_max) {
            request->answer.set_value({413, 0, "body larger than " + std::to_string(m_size_max)});
            return;
        }
        if (m_pending.size() >= m_owner.m_options.limits.pending_send_count_max) {
            bump(m_counters.send_backpressure);
            request->answer.set_value({429, 0, "too many sends waiting for acceptance"});
            return;
        }
        auto id = m_core->send(ctx.now, request->peer, request->channel, request->body);
        if (!id) {
            bump(m_counters.send_refused);
            const auto e = id.error();
            const int status = e == reliability::errc::message_too_large ? 413 : 429;
            request->answer.set_value({status, 0, std::string(reliability::to_string(e))});
            return;
        }
        m_pending.emplace(static_cast<uint64_t>(*id), std::move(request));
    }

    void handle_events() noexcept {
        for (const auto& e : m_core->events()) {
            switch (e.kind) {
            case reliability::event_kind::accepted:
                if (auto it = m_pending.find(static_cast<uint64_t>(e.id)); it != m_pending.end()) {
                    it->second->answer.set_value({202, static_cast<uint64_t>(e.id), ""});
                    m_pending.erase(it);
                    bump(m_counters.send_accepted);
                }
                break;
            case reliability::event_kind::delivered: {
                const auto payload = m_core->payload_of(e);
                inbox_message m;
                m.from = e.peer;
                m.channel = e.channel;
                m.seq = e.seq;
                m.body.assign(payload.begin(), payload.end());
                m_delivered.push_back(std::move(m));
                break;
            }
            case reliability::event_kind::undeliverable:
                bump(m_counters.undeliverable);
                break;
            case reliability::event_kind::expired:
                bump(m_counters.expired);
                break;
            case reliability::event_kind::peer_suspect:
                bump(m_counters.peer_suspect);
                if (std::find(m_suspects.begin(), m_suspects.end(), e.peer) == m_suspects.end())
                    m_suspects.push_back(e.peer);
                break;
            case reliability::event_kind::acknowledged:
                break;
            }
        }
        m_core->clear_events();
        if (!m_delivered.empty()) {
            m_owner.inbox_push(m_delivered, m_counters);
            m_delivered.clear();
        }
    }

    void probe_suspects(instant now) noexcept {
        if (m_suspects.empty() || now < m_next_probe) {
            if (m_suspects.empty())
                m_next_probe = now + m_owner.m_options.limits.suspect_probe_interval;
            return;
        }
        m_next_probe = now + m_owner.m_options.limits.suspect_probe_interval;
        std::erase_if(m_suspects, [&](const node_id& peer) { return !m_core->is_suspect(peer); });
        for (const auto& peer : m_suspects) {
            const peer_info* info = m_snapshot ? m_snapshot->find(peer) : nullptr;
            // Known to the directory: trust its state. Unknown (membership not running): probe.
            if (info == nullptr || info->state == peer_state::alive) {
                m_core->on_peer_alive(now, peer);
                bump(m_counters.peer_alive);
            }
        }
    }

    // Rebuilds the endpoint maps from the bootstrap list and the directory's current snapshot.
    void refresh(runtime::shard_context& ctx, bool force) {
        if (!force && ctx.now < m_next_refresh)
            return;
        m_next_refresh = ctx.now + m_owner.m_options.limits.directory_refresh;
        auto snapshot = m_owner.m_directory ? m_owner.m_directory->snapshot() : nullptr;
        if (!force && snapshot == m_snapshot)
            return;
        m_snapshot = std::move(snapshot);
        m_by_endpoint.clear();
        m_by_id.clear();
        for (const auto& b : m_owner.m_bootstrap) {
            if (b.public_key == m_owner.m_self)
                continue;
            m_by_id[b.public_key] = b.udp;
        }
        if (m_snapshot)
            for (const auto& p : m_snapshot->peers)
                if (p.id != m_owner.m_self && p.udp.port != 0)
                    m_by_id[p.id] = p.udp;
        for (const auto& [id, ep] : m_by_id)
            m_by_endpoint[ep] = id;
    }

    // packet_sink
    mutable_bytes prepare(const node_id& peer) noexcept override {
        AINET_ASSERT(m_ctx != nullptr);
        auto it = m_by_id.find(peer);
        if (it == m_by_id.end()) {
            bump(m_counters.no_endpoint);
            return {};
        }
        return m_ctx->tx.prepare(it->second);
    }
    void commit(size_t size) noexcept override { m_ctx->tx.commit(size); }
    void abandon() noexcept override { m_ctx->tx.abandon(); }

    messaging_service& m_owner;
    shard_id m_shard;
    uint16_t m_shard_count;
    service_slot m_slot;
    messaging_counters& m_counters;
    reliability::reliability_counters& m_core_counters;
    reliability::volatile_store m_memory; // persistence off: nothing to keep
    std::unique_ptr<messaging_store> m_lmdb;
    commit_observer m_observer;
    std::vector<std::unique_ptr<std::promise<bool>>> m_ack_waiters;
    bool m_store_failed = false;
    std::unique_ptr<reliability::reliability_core> m_core;
    size_t m_size_max = 0;
    runtime::shard_context* m_ctx = nullptr;
    std::unordered_map<uint64_t, std::unique_ptr<send_request>> m_pending;
    std::vector<inbox_message> m_delivered;
    std::vector<node_id> m_suspects;
    instant m_next_probe{};
    instant m_next_refresh{};
    std::shared_ptr<const peer_snapshot> m_snapshot;
    std::unordered_map<node_id, endpoint> m_by_id;
    std::unordered_map<endpoint, node_id> m_by_endpoint;
};

messaging_service::messaging_service(messaging_options options, const node_id& self,
                                     std::shared_ptr<const peer_directory> directory,
                                     std::vector<config::bootstrap_node> bootstrap)
    : m_options(std::move(options)), m_self(self), m_directory(std::move(directory)),
      m_bootstrap(std::move(bootstrap)), m_start_us(wall_us()) {
    for (uint16_t i = 0; i < m_options.limits.shard_count_max; ++i) {
        m_counters.push_back(std::make_unique<messaging_counters>());
        m_core_counters.push_back(std::make_unique<reliability::reliability_counters>());
    }
    // Inbox ids stay ascending across restarts of the process (wall-clock based start).
    m_next_inbox_id = m_start_us;
}

messaging_service::~messaging_service() = default;

void messaging_service::inbox_push(std::vector<inbox_message>& batch, messaging_counters& counters) {
    {
        std::lock_guard lock(m_inbox_mutex);
        for (auto& m : batch) {
            if (m_inbox.size() >= m_options.limits.inbox_message_count_max ||
                m_inbox_bytes + m.body.size() > m_options.limits.inbox_bytes_max) {
                counters.inbox_full.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            m.id = m_next_inbox_id++;
            m_inbox_bytes += m.body.size();
            m_inbox.push_back(std::move(m));
            counters.delivered.fetch_add(1, std::memory_order_relaxed);
        }
    }
    m_inbox_cv.notify_all();
}

messaging_service::send_result messaging_service::send(const node_id& to, channel_id channel,
                                                       bytes_view body) {
    const uint16_t shards = shard_count();
    if (m_node == nullptr || shards == 0)
        return {503, 0, "messaging not running"};
    if (to == m_self)
        return {400, 0, "cannot send to this node itself"};
    auto request = std::make_unique<send_request>();
    request->peer = to;
    request->channel = channel;
    request->body.assign(body.begin(), body.end());
    auto answer = request->answer.get_future();
    runtime::shard_message msg;
    msg.kind = m_slot.kind(kind_send);
    send_request* raw = request.get();
    std::memcpy(msg.body.data(), &raw, sizeof(raw));
    msg.size = sizeof(raw);
    const auto owner = shard_id{static_cast<uint16_t>(reliability::shard_for(to, shards))};
    if (!m_node->shards().post_from_control(owner, msg))
        return {429, 0, "shard queue full"};
    (void)request.release(); // the shard owns it now
    if (answer.wait_for(m_options.limits.send_timeout) != std::future_status::ready)
        return {503, 0, "not accepted within the send timeout"};
    return answer.get();
}

std::vector<inbox_message> messaging_service::receive(channel_id channel, uint64_t after,
                                                      size_t max, duration wait) {
    max = std::min(max, m_options.limits.receive_batch_max);
    wait = std::min(wait, m_options.limits.wait_max);
    std::vector<inbox_message> out;
    std::unique_lock lock(m_inbox_mutex);
    auto collect = [&] {
        out.clear();
        for (const auto& m : m_inbox) {
            if (out.size() >= max)
                break;
            if (!m.acked && m.channel == channel && m.id > after)
                out.push_back(m);
        }
        return !out.empty();
    };
    (void)m_inbox_cv.wait_for(lock, wait, [&] { return collect() || m_stopping.load(); });
    return out;
}

messaging_service::ack_result messaging_service::ack(const std::vector<uint64_t>& ids,
                                                     std::optional<uint64_t> up_to,
                                                     std::optional<channel_id> channel) {
    std::vector<processed_body> posts;
    size_t count = 0;
    {
        std::lock_guard lock(m_inbox_mutex);
        std::vector<uint64_t> sorted = ids;
        std::sort(sorted.begin(), sorted.end());
        using session = std::pair<node_id, uint32_t>;
        std::map<session, bool> touched;
        for (auto& m : m_inbox) {
            if (m.acked)
                continue;
            const bool hit = std::binary_search(sorted.begin(), sorted.end(), m.id) ||
                             (up_to && m.id <= *up_to && (!channel || m.channel == *channel));
            if (hit) {
                m.acked = true;
                ++count;
                touched[{m.from, static_cast<uint32_t>(m.channel)}] = true;
            }
        }
        // A session's processed watermark advances over its contiguous acknowledged prefix
        // (the inbox holds a session's messages in seq order); acked entries behind an
        // unacknowledged one wait in the inbox until the gap closes.
        std::map<session, uint64_t> watermark;
        std::map<session, bool> blocked;
        for (const auto& m : m_inbox) {
            const session s{m.from, static_cast<uint32_t>(m.channel)};
            if (!touched.count(s) || blocked[s])
                continue;
            if (m.acked)
                watermark[s] = m.seq;
            else
                blocked[s] = true;
        }
        std::erase_if(m_inbox, [&](const inbox_message& m) {
            auto it = watermark.find({m.from, static_cast<uint32_t>(m.channel)});
            if (it == watermark.end() || !m.acked || m.seq > it->second)
                return false;
            m_inbox_bytes -= m.body.size();
            return true;
        });
        for (const auto& [s, seq] : watermark)
            posts.push_back({s.first, s.second, seq, nullptr});
    }
    const uint16_t shards = shard_count();
    if (shards == 0)
        return {count, false};
    std::vector<std::future<bool>> durable;
    bool all_posted = true;
    for (auto& p : posts) {
        auto promise = std::make_unique<std::promise<bool>>();
        durable.push_back(promise->get_future());
        p.durable = promise.get();
        runtime::shard_message msg;
        msg.kind = m_slot.kind(kind_processed);
        std::memcpy(msg.body.data(), &p, sizeof(p));
        msg.size = sizeof(p);
        const auto owner = shard_id{static_cast<uint16_t>(reliability::shard_for(p.peer, shards))};
        if (m_node->shards().post_from_control(owner, msg)) {
            (void)promise.release(); // the shard owns it now
        } else {
            // A full queue loses only this watermark step (the messages stay acknowledged here
            // and the next ack of the session carries the watermark); not durable yet.
            durable.pop_back();
            all_posted = false;
        }
    }
    const auto deadline = std::chrono::steady_clock::now() + m_options.limits.send_timeout;
    bool all_durable = all_posted;
    for (auto& f : durable)
        all_durable = f.wait_until(deadline) == std::future_status::ready && f.get() && all_durable;
    return {count, all_durable};
}

void messaging_service::render_metrics(std::string& out) const {
    const uint16_t shards = shard_count();
#define AINET_RENDER_MESSAGING(name, help)                                                         \
    out.append("# HELP ainet_messaging_" #name "_total " help "\n# TYPE ainet_messaging_" #name   \
               "_total counter\n");                                                                \
    for (uint16_t i = 0; i < shards; ++i)                                                          \
        out.append("ainet_messaging_" #name "_total{shard=\"")                                     \
            .append(std::to_string(i))                                                             \
            .append("\"} ")                                                                        \
            .append(std::to_string(m_counters[i]->name.load(std::memory_order_relaxed)))           \
            .append("\n");
    AINET_MESSAGING_COUNTERS(AINET_RENDER_MESSAGING)
#undef AINET_RENDER_MESSAGING
#define AINET_RENDER_CORE(name, help)                                                              \
    out.append("# HELP ainet_messaging_reliability_" #name "_total " help                          \
               "\n# TYPE ainet_messaging_reliability_" #name "_total counter\n");                 \
    for (uint16_t i = 0; i < shards; ++i)                                                          \
        out.append("ainet_messaging_reliability_" #name "_total{shard=\"")                         \
            .append(std::to_string(i))                                                             \
            .append("\"} ")                                                                        \
            .append(std::to_string(m_core_counters[i]->name.load(std::memory_order_relaxed)))      \
            .append("\n");
    AINET_RELIABILITY_COUNTERS(AINET_RENDER_CORE)
#undef AINET_RENDER_CORE
    size_t inbox = 0;
    {
        std::lock_guard lock(const_cast<std::mutex&>(m_inbox_mutex));
        inbox = m_inbox.size();
    }
    runtime::render_metric(out, "ainet_messaging_inbox_messages", "gauge",
                           "delivered messages waiting for the application's ack", inbox);
    // operations: outbox depth per shard and the long-poll bound.
    out.append("# HELP ainet_messaging_outbox_messages accepted messages not yet acknowledged "
               "by their receiver\n# TYPE ainet_messaging_outbox_messages gauge\n");
    for (uint16_t i = 0; i < shards; ++i)
        out.append("ainet_messaging_outbox_messages{shard=\"")
            .append(std::to_string(i))
            .append("\"} ")
            .append(std::to_string(m_counters[i]->outbox_messages.load(std::memory_order_relaxed)))
            .append("\n");
    runtime::render_metric(out, "ainet_messaging_long_polls_waiting", "gauge",
                           "GET /messages long polls waiting (each holds a control thread)",
                           m_long_polls_waiting.load(std::memory_order_relaxed));
    runtime::render_metric(out, "ainet_messaging_long_polls_refused_total", "counter",
                           "long polls answered at once: long_poll_count_max were waiting",
                           m_long_polls_refused.load(std::memory_order_relaxed));
    // end operations
}

namespace {

http_response json_response(int status, const nlohmann::json& body) {
    return http_response{status, "application/json", body.dump() + "\n"};
}
http_response error_response(int status, const std::string& reason) {
    return json_response(status, {{"error", reason}});
}
std::optional<uint64_t> query_u64(const http_request& r, const std::string& name) {
    auto it = r.query.find(name);
    if (it == r.query.end())
        return std::nullopt;
    try {
        size_t used = 0;
        const unsigned long long v = std::stoull(it->second, &used);
        if (used != it->second.size())
            return std::nullopt;
        return v;
    } catch (...) {
        return std::nullopt;
    }
}

} // namespace

void messaging_service::install(relay_node& node) {
    AINET_ASSERT(m_node == nullptr);
    m_node = &node;
    shard_service_registration reg;
    reg.name = "messaging";
    reg.type_first = static_cast<uint8_t>(wire::message_type::reliable);
    reg.type_last = 0x5f;
    reg.make = [this](shard_id shard, uint16_t shard_count,
                      service_slot slot) -> std::unique_ptr<shard_service> {
        AINET_ASSERT(shard_count <= m_options.limits.shard_count_max);
        return std::make_unique<shard_part>(*this, shard, shard_count, slot);
    };
    m_slot = node.add_service(std::move(reg));

    node.handle_http("POST", "/messages", [this](const http_request& r) {
        nlohmann::json body;
        try {
            body = nlohmann::json::parse(r.body);
        } catch (const std::exception&) {
            return error_response(400, "body is not JSON");
        }
        if (!body.is_object() || !body.contains("to") || !body["to"].is_string() ||
            !body.contains("channel") || !body["channel"].is_number_unsigned() ||
            !body.contains("body") || !body["body"].is_string())
            return error_response(400, "expected {\"to\": hex, \"channel\": u32, \"body\": base64}");
        node_id to;
        if (!from_hex_into(body["to"].get<std::string>(), to.bytes))
            return error_response(400, "to: not a 32-byte hex node id");
        const uint64_t channel = body["channel"].get<uint64_t>();
        if (channel > UINT32_MAX)
            return error_response(400, "channel: above 2^32 - 1");
        auto payload = from_base64(body["body"].get<std::string>());
        if (!payload)
            return error_response(400, "body: not base64");
        auto result = send(to, channel_id{static_cast<uint32_t>(channel)}, *payload);
        if (result.status == 202)
            return json_response(202, {{"id", result.id}});
        return error_response(result.status, result.reason);
    });
    node.handle_http("GET", "/messages", [this](const http_request& r) {
        const auto channel = query_u64(r, "channel");
        if (!channel || *channel > UINT32_MAX)
            return error_response(400, "channel: required, a u32");
        const uint64_t wait_ms = query_u64(r, "wait_ms").value_or(0);
        const uint64_t after = query_u64(r, "after").value_or(0);
        const uint64_t max = query_u64(r, "max").value_or(m_options.limits.receive_batch_max);
        // operations: bound the long polls waiting at once (messaging_limits).
        duration wait = std::chrono::milliseconds(std::min<uint64_t>(wait_ms, 3600000));
        bool waiting = false;
        if (wait > duration::zero()) {
            uint64_t current = m_long_polls_waiting.load(std::memory_order_relaxed);
            while (current < m_options.limits.long_poll_count_max &&
                   !m_long_polls_waiting.compare_exchange_weak(current, current + 1))
                ;
            waiting = current < m_options.limits.long_poll_count_max;
            if (!waiting) {
                m_long_polls_refused.fetch_add(1, std::memory_order_relaxed);
                wait = duration::zero();
            }
        }
        const bool refused = wait_ms > 0 && !waiting;
        auto messages = receive(channel_id{static_cast<uint32_t>(*channel)}, after, max, wait);
        if (waiting)
            m_long_polls_waiting.fetch_sub(1, std::memory_order_relaxed);
        if (messages.empty() && m_stopping.load())
            return error_response(503, "node stopping");
        if (refused && messages.empty())
            return error_response(503, "too many long polls waiting (" +
                                           std::to_string(m_options.limits.long_poll_count_max) +
                                           "); retry after a pause");
        // end operations
        nlohmann::json list = nlohmann::json::array();
        for (const auto& m : messages)
            list.push_back({{"id", m.id},
                            {"from", to_hex(m.from.bytes)},
                            {"channel", static_cast<uint32_t>(m.channel)},
                            {"seq", m.seq},
                            {"body", to_base64(m.body)}});
        return json_response(200, {{"messages", list}});
    });
    node.handle_http("POST", "/messages/ack", [this](const http_request& r) {
        nlohmann::json body;
        try {
            body = nlohmann::json::parse(r.body);
        } catch (const std::exception&) {
            return error_response(400, "body is not JSON");
        }
        if (!body.is_object())
            return error_response(400, "expected {\"ids\": [...]} or {\"up_to\": id}");
        std::vector<uint64_t> ids;
        std::optional<uint64_t> up_to;
        std::optional<channel_id> channel;
        try {
            if (body.contains("ids"))
                ids = body["ids"].get<std::vector<uint64_t>>();
            if (body.contains("up_to"))
                up_to = body["up_to"].get<uint64_t>();
            if (body.contains("channel"))
                channel = channel_id{body["channel"].get<uint32_t>()};
        } catch (const std::exception&) {
            return error_response(400, "ids: array of u64; up_to: u64; channel: u32");
        }
        if (ids.size() > m_options.limits.inbox_message_count_max)
            return error_response(413, "too many ids");
        const auto result = ack(ids, up_to, channel);
        if (!result.durable)
            return json_response(503, {{"acked", result.count},
                                       {"error", "acknowledged, delivery mark not yet durable"}});
        return json_response(200, {{"acked", result.count}});
    });
    node.add_metrics([this](std::string& out) { render_metrics(out); });
    // operations: a stopping node answers its long polls at once instead of holding the stop
    // for up to wait_max.
    node.on_stop_accepting([this] {
        {
            std::lock_guard lock(m_inbox_mutex);
            m_stopping.store(true);
        }
        m_inbox_cv.notify_all();
    });
}

} // namespace ainet::node
