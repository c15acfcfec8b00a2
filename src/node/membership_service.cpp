#include <ainet/node/membership_service.hpp>

#include <ainet/config/file.hpp>
#include <ainet/core/assert.hpp>
#include <ainet/core/rng.hpp>
#include <ainet/membership/state.hpp>
#include <ainet/node/relay_node.hpp>
#include <ainet/runtime/metrics.hpp>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

namespace ainet::node {

namespace {

constexpr uint32_t message_seed = 1;
constexpr uint64_t cookie_core = 1;    // the core's next_deadline()
constexpr uint64_t cookie_publish = 2; // a change waits for the end of publish_interval
constexpr shard_id owner_shard{0};

peer_state to_peer_state(membership::member_state s) noexcept {
    switch (s) {
    case membership::member_state::alive: return peer_state::alive;
    case membership::member_state::suspect: return peer_state::suspect;
    case membership::member_state::dead: return peer_state::dead;
    case membership::member_state::left: return peer_state::left;
    case membership::member_state::unreachable: return peer_state::unreachable;
    }
    return peer_state::dead;
}

uint64_t wall_clock_ms() noexcept {
    using std::chrono::milliseconds;
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<uint64_t>(std::chrono::duration_cast<milliseconds>(since_epoch).count());
}

// Order-independent digest of the (member, incarnation, address) set a snapshot would hold: the
// shard copies the claims for the persister only when it moves.
uint64_t members_fingerprint(const std::vector<membership::member_info>& members) noexcept {
    uint64_t sum = 0;
    for (const membership::member_info& m : members) {
        if (m.state == membership::member_state::dead || m.state == membership::member_state::left)
            continue;
        uint64_t word = 0;
        std::memcpy(&word, m.id.bytes.data(), sizeof(word));
        uint64_t state = word ^ (m.incarnation * 0x9e3779b97f4a7c15ULL) ^
                         (uint64_t{m.address.port} << 48) ^ m.address.address[0] ^
                         (uint64_t{m.address.address[3]} << 24);
        sum += splitmix64(state);
    }
    return sum;
}

} // namespace

class membership_shard final : public shard_service {
public:
    membership_shard(membership_service& shared, shard_id shard, service_slot slot)
        : m_shared(shared), m_shard(shard), m_slot(slot) {}

    void on_start(runtime::shard_context& ctx) override {
        if (m_shard != owner_shard)
            return;
        membership::membership_config config = m_shared.m_options.core;
        // A restart must claim above any incarnation it used before: attach() set it from the
        // state file; without one, the wall clock.
        if (config.initial_incarnation == 0)
            config.initial_incarnation = static_cast<uint64_t>(static_cast<int64_t>(ctx.wall_now));
        m_core = std::make_unique<membership::membership_core>(
            config, m_shared.m_keys, m_shared.m_options.advertise, m_shared.m_options.seed,
            m_shared.m_counters);
        m_core->start(ctx.now);
        // The member snapshot attach() accepted: everyone we knew, probed from now on.
        if (!m_shared.m_restored_members.empty()) {
            m_core->learn(ctx.now, m_shared.m_restored_members, false);
            m_shared.m_gauges.members_restored.store(m_core->member_count(),
                                                     std::memory_order_relaxed);
            m_shared.m_restored_members = {};
        }
        m_dirty = true;
        after(ctx);
    }

    void on_datagram(runtime::shard_context& ctx, const datagram_ref& d) noexcept override {
        if (m_shard != owner_shard) {
            if (!ctx.hand_over(owner_shard, d))
                m_shared.m_gauges.handoffs_failed.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (!m_core)
            return;
        m_core->on_datagram(ctx.now, d, ctx.tx);
        after(ctx);
    }

    void on_message(runtime::shard_context& ctx, uint32_t kind,
                    const runtime::shard_message& msg) noexcept override {
        if (!m_core || kind != message_seed || msg.size != sizeof(endpoint))
            return;
        endpoint seed;
        std::memcpy(&seed, msg.body.data(), sizeof(endpoint));
        m_core->add_seed(ctx.now, seed, ctx.tx);
        after(ctx);
    }

    void on_timer(runtime::shard_context& ctx, uint64_t cookie) noexcept override {
        if (!m_core)
            return;
        if (cookie == cookie_core) {
            m_timer.reset();
            if (ctx.now >= m_core->next_deadline())
                m_core->tick(ctx.now, ctx.tx);
        } else if (cookie == cookie_publish) {
            m_publish_timer = false;
        }
        after(ctx);
    }

    void on_stop(runtime::shard_context&) override {
        if (m_core && m_dirty)
            publish(unix_ms{0});
    }

private:
    void after(runtime::shard_context& ctx) noexcept {
        m_shared.m_gauges.incarnation.store(m_core->incarnation(), std::memory_order_relaxed);
        drain_events();
        // RTTs and contact times change without events: refresh them now and then.
        if (m_published_once && ctx.now - m_last_publish >= m_shared.m_options.refresh_interval)
            m_dirty = true;
        if (m_dirty) {
            const instant due = m_last_publish + m_shared.m_options.publish_interval;
            if (!m_published_once || ctx.now >= due) {
                publish(ctx.wall_now);
                m_last_publish = ctx.now;
                m_published_once = true;
            } else if (!m_publish_timer) {
                m_publish_timer = ctx.timers.arm(due, m_slot.cookie(cookie_publish)).has_value();
            }
        }
        const instant deadline = std::max(m_core->next_deadline(), ctx.now);
        if (m_timer && m_timer_at == deadline)
            return;
        if (m_timer)
            (void)ctx.timers.cancel(*m_timer);
        m_timer.reset();
        if (auto id = ctx.timers.arm(deadline, m_slot.cookie(cookie_core)); id) {
            m_timer = *id;
            m_timer_at = deadline;
        }
    }

    void drain_events() noexcept {
        const auto events = m_core->events();
        if (events.empty())
            return;
        m_dirty = true;
        for (const membership::membership_event& e : events) {
            if (e.kind == membership::event_kind::partition_suspected) {
                m_partition_suspected = true;
                ++m_partition_epoch;
                m_unreachable = e.members;
                m_shared.m_gauges.partition_events.fetch_add(1, std::memory_order_relaxed);
            } else if (e.kind == membership::event_kind::partition_healed) {
                m_partition_suspected = false;
                ++m_partition_epoch;
                m_unreachable.clear();
                m_shared.m_gauges.partition_events.fetch_add(1, std::memory_order_relaxed);
            }
        }
        m_core->clear_events();
    }

    // Allocates (the snapshot); runs at most once per publish_interval, off the datagram path's
    // steady state.
    void publish(unix_ms wall) noexcept {
        peer_snapshot snapshot;
        const auto members = m_core->snapshot();
        snapshot.peers.reserve(members.size());
        uint64_t alive = 0, suspect = 0, dead = 0, unreachable = 0;
        for (const membership::member_info& m : members) {
            peer_info p;
            p.id = m.id;
            p.udp = m.address;
            p.state = to_peer_state(m.state);
            p.incarnation = m.incarnation;
            if (m.rtt)
                p.rtt_us = std::chrono::duration_cast<std::chrono::microseconds>(*m.rtt).count();
            snapshot.peers.push_back(p);
            switch (m.state) {
            case membership::member_state::alive: ++alive; break;
            case membership::member_state::suspect: ++suspect; break;
            case membership::member_state::unreachable: ++unreachable; break;
            default: ++dead; break;
            }
        }
        if (!m_shared.m_options.members_file.empty()) {
            const uint64_t fingerprint = members_fingerprint(members);
            if (fingerprint != m_members_fingerprint) {
                m_members_fingerprint = fingerprint;
                m_shared.offer_members(m_core->alive_claims());
            }
        }
        snapshot.partition_epoch = m_partition_epoch;
        snapshot.partition_suspected = m_partition_suspected;
        snapshot.unreachable = m_unreachable;
        snapshot.published_at = wall;
        m_shared.m_directory.publish(std::move(snapshot));
        auto& g = m_shared.m_gauges;
        g.alive.store(alive, std::memory_order_relaxed);
        g.suspect.store(suspect, std::memory_order_relaxed);
        g.dead.store(dead, std::memory_order_relaxed);
        g.unreachable.store(unreachable, std::memory_order_relaxed);
        g.partition_suspected.store(m_partition_suspected ? 1 : 0, std::memory_order_relaxed);
        m_dirty = false;
    }

    membership_service& m_shared;
    shard_id m_shard;
    service_slot m_slot;
    std::unique_ptr<membership::membership_core> m_core; // shard 0 only
    std::optional<timer::timer_id> m_timer;
    instant m_timer_at{};
    bool m_publish_timer = false;
    bool m_dirty = false;
    bool m_published_once = false;
    instant m_last_publish{};
    bool m_partition_suspected = false;
    uint64_t m_partition_epoch = 0;
    std::vector<node_id> m_unreachable;
    uint64_t m_members_fingerprint = 0;
};

incarnation_plan plan_incarnation(const std::filesystem::path& state_file, uint64_t wall_ms,
                                  uint64_t lease) {
    incarnation_plan plan;
    std::optional<membership::persisted_state> persisted;
    if (auto text = config::read_config_file(state_file, 64); text) {
        const auto* data = reinterpret_cast<const uint8_t*>(text->data());
        if (auto state = membership::decode_state(bytes_view(data, text->size())); state)
            persisted = *state;
    }
    plan.restored = persisted.has_value();
    plan.initial = membership::restart_incarnation(persisted ? &*persisted : nullptr, wall_ms);
    const auto blob = membership::encode_state({plan.initial + lease});
    const std::string_view text(reinterpret_cast<const char*>(blob.data()), blob.size());
    plan.written = config::write_file_atomic(state_file, text).has_value();
    return plan;
}

membership_service::membership_service(const crypto::key_pair& keys,
                                       membership_service_options options)
    : m_keys(keys), m_options(options) {
    AINET_ASSERT(m_options.incarnation_lease >= 1);
}

membership_service::~membership_service() {
    {
        std::lock_guard lock(m_persist_mutex);
        m_persist_stop = true;
    }
    m_persist_wake.notify_all();
    if (m_persister.joinable())
        m_persister.join();
}

void membership_service::persist_loop() {
    std::unique_lock lock(m_persist_mutex);
    for (;;) {
        m_persist_wake.wait_for(lock, m_options.persist_check_interval,
                                [this] { return m_persist_stop; });
        persist_if_needed();
        persist_members_if_needed();
        if (m_persist_stop)
            return;
    }
}

void membership_service::offer_members(std::vector<membership::claim> claims) {
    std::lock_guard lock(m_members_mutex);
    m_members_pending = std::move(claims);
}

void membership_service::persist_members_if_needed() {
    if (m_options.members_file.empty())
        return;
    bool changed = false;
    {
        std::lock_guard lock(m_members_mutex);
        if (m_members_pending) {
            m_members_written = std::move(*m_members_pending);
            m_members_pending.reset();
            changed = true;
        }
    }
    const auto now = std::chrono::steady_clock::now();
    const bool stale = !m_members_written.empty() &&
                       now - m_members_written_at >= m_options.members_restore_max_age / 3;
    if (!changed && !stale)
        return;
    const auto blob = membership::encode_members(wall_clock_ms(), m_members_written);
    auto written = config::write_file_atomic(
        m_options.members_file,
        std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()));
    m_members_written_at = now;
    (written ? m_gauges.members_writes : m_gauges.members_write_failures)
        .fetch_add(1, std::memory_order_relaxed);
}

void membership_service::persist_if_needed() {
    const uint64_t incarnation = m_gauges.incarnation.load(std::memory_order_relaxed);
    if (incarnation < m_floor)
        return;
    const uint64_t floor = incarnation + m_options.incarnation_lease;
    const auto blob = membership::encode_state({floor});
    auto written = config::write_file_atomic(
        m_options.state_file,
        std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()));
    if (written) {
        m_floor = floor;
        m_gauges.state_writes.fetch_add(1, std::memory_order_relaxed);
    } else {
        m_gauges.state_write_failures.fetch_add(1, std::memory_order_relaxed);
    }
}

void membership_service::attach(relay_node& node) {
    AINET_ASSERT(m_node == nullptr);
    m_node = &node;
    const uint64_t wall = wall_clock_ms();
    if (!m_options.members_file.empty())
        restore_members(wall);
    if (!m_options.state_file.empty()) {
        const incarnation_plan plan =
            plan_incarnation(m_options.state_file, wall, m_options.incarnation_lease);
        m_options.core.initial_incarnation = plan.initial;
        m_gauges.incarnation.store(plan.initial, std::memory_order_relaxed);
        (plan.written ? m_gauges.state_writes : m_gauges.state_write_failures)
            .fetch_add(1, std::memory_order_relaxed);
        // A failed write leaves m_floor at 0: the persister tries again on its first check.
        m_floor = plan.written ? plan.initial + m_options.incarnation_lease : 0;
    }
    if (!m_options.state_file.empty() || !m_options.members_file.empty())
        m_persister = std::thread([this] { persist_loop(); });
    node.add_service({"membership", type_first, type_last,
                      [this](shard_id shard, uint16_t, service_slot slot) {
                          m_slot = slot.number();
                          return std::make_unique<membership_shard>(*this, shard, slot);
                      }});
    node.add_metrics([this](std::string& out) { render_metrics(out); });
}

void membership_service::restore_members(uint64_t wall_ms) {
    auto text =
        config::read_config_file(m_options.members_file, membership::members_snapshot_size_max);
    if (!text)
        return; // none yet: a first start
    const auto* data = reinterpret_cast<const uint8_t*>(text->data());
    auto snapshot = membership::decode_members(bytes_view(data, text->size()));
    using std::chrono::milliseconds;
    const auto max_age = static_cast<uint64_t>(
        std::chrono::duration_cast<milliseconds>(m_options.members_restore_max_age).count());
    // A snapshot from the future (a clock stepped back) is as untrustworthy as an old one.
    if (!snapshot || snapshot->written_at_ms > wall_ms ||
        wall_ms - snapshot->written_at_ms > max_age) {
        m_gauges.members_snapshot_ignored.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    std::erase_if(snapshot->members,
                  [this](const membership::claim& c) { return c.subject == m_keys.id(); });
    m_gauges.members_snapshot_claims.store(snapshot->members.size(), std::memory_order_relaxed);
    m_restored_members = std::move(snapshot->members);
}

bool membership_service::seed(const endpoint& udp) {
    AINET_ASSERT(m_node != nullptr && m_slot != 0);
    runtime::shard_message msg;
    msg.kind = service_slot(m_slot).kind(message_seed);
    std::memcpy(msg.body.data(), &udp, sizeof(endpoint));
    msg.size = sizeof(endpoint);
    const bool ok = m_node->post_from_control(owner_shard, msg);
    (ok ? m_gauges.seeds_posted : m_gauges.seeds_refused).fetch_add(1, std::memory_order_relaxed);
    return ok;
}

void membership_service::render_metrics(std::string& out) const {
#define AINET_RENDER_MEMBERSHIP(name, help)                                                        \
    runtime::render_metric(out, "ainet_membership_" #name "_total", "counter", help,               \
                           m_counters.name.load(std::memory_order_relaxed));
    AINET_MEMBERSHIP_COUNTERS(AINET_RENDER_MEMBERSHIP)
#undef AINET_RENDER_MEMBERSHIP
    const auto gauge = [&out](const char* name, const char* help, const std::atomic<uint64_t>& v) {
        runtime::render_metric(out, name, "gauge", help, v.load(std::memory_order_relaxed));
    };
    const auto counter = [&out](const char* name, const char* help,
                                const std::atomic<uint64_t>& v) {
        runtime::render_metric(out, name, "counter", help, v.load(std::memory_order_relaxed));
    };
    gauge("ainet_membership_members_alive", "members alive", m_gauges.alive);
    gauge("ainet_membership_members_suspect", "members suspect", m_gauges.suspect);
    gauge("ainet_membership_members_dead", "members dead or left", m_gauges.dead);
    gauge("ainet_membership_members_unreachable", "members unreachable (partition or unconfirmed)",
          m_gauges.unreachable);
    gauge("ainet_membership_partition_suspected", "1 while a partition is suspected",
          m_gauges.partition_suspected);
    counter("ainet_membership_partition_events_total", "partition suspected/healed transitions",
            m_gauges.partition_events);
    counter("ainet_membership_seeds_posted_total", "join seeds posted to shard 0",
            m_gauges.seeds_posted);
    counter("ainet_membership_seeds_refused_total", "join seeds refused: shard 0 queue full",
            m_gauges.seeds_refused);
    counter("ainet_membership_handoffs_failed_total",
            "membership datagrams not handed over to shard 0", m_gauges.handoffs_failed);
    gauge("ainet_membership_incarnation", "this node's incarnation", m_gauges.incarnation);
    counter("ainet_membership_state_writes_total", "incarnation floor writes to the state file",
            m_gauges.state_writes);
    counter("ainet_membership_state_write_failures_total", "incarnation floor writes that failed",
            m_gauges.state_write_failures);
    gauge("ainet_membership_snapshot_claims", "member snapshot claims read back at start",
          m_gauges.members_snapshot_claims);
    gauge("ainet_membership_members_restored", "members the core took from the snapshot at start",
          m_gauges.members_restored);
    counter("ainet_membership_snapshot_ignored_total",
            "member snapshots not restored: too old, from the future, or unreadable",
            m_gauges.members_snapshot_ignored);
    counter("ainet_membership_snapshot_writes_total", "member snapshot writes",
            m_gauges.members_writes);
    counter("ainet_membership_snapshot_write_failures_total", "member snapshot writes that failed",
            m_gauges.members_write_failures);
}

} // namespace ainet::node
