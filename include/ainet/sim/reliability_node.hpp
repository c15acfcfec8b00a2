#pragma once
// A simulated node that runs reliability::reliability_core unchanged: the adapter the
// reliability scenarios (reliability_scenario_test.cpp) and `ainet-bench reliable-sim` share.
//
// Each node has an Ed25519 identity (its node id). Reliable datagrams go either directly to the
// peer's endpoint, or, with a relay, inside relay_data after the relay handshake (the relay is
// the production relay_core in relay_sim_node). A loop turn runs at most once per virtual
// instant: a datagram arms a zero-delay timer, and the turn (tick, flush, events) runs when it
// fires, so every datagram of that instant is acked in one frame. The node's durable state is a
// memory_store whose blob is what persist() hands to a restart with state; what the
// application saw (tags accepted, tags delivered) lives in an app_log outside the node, as an
// application's own storage would.

#include <ainet/crypto/ed25519.hpp>
#include <ainet/relay/relay_core.hpp>
#include <ainet/reliability/reliability_core.hpp>
#include <ainet/sim/world.hpp>
#include <ainet/wire/handshake.hpp>
#include <ainet/wire/header.hpp>
#include <ainet/wire/relay_data.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace ainet::sim::reliable {

inline crypto::key_pair keys_of(uint32_t index) {
    crypto::seed s{};
    s[0] = 0x8e;
    for (size_t b = 0; b < 4; ++b)
        s[1 + b] = static_cast<uint8_t>(index >> (8 * b));
    return crypto::key_pair::from_seed(s);
}

// What the applications on the nodes saw; outlives crashes.
struct app_log {
    std::vector<uint32_t> accepted;  // tags whose send was accepted (durable), in order
    std::vector<uint32_t> delivered; // tags delivered (and processed) at the receiver, in order
    uint64_t undeliverable = 0;
    uint64_t suspect = 0;
    uint64_t expired = 0;
    uint64_t delivered_bytes = 0;
    instant last_delivery{};
};

struct options {
    reliability::reliability_config config;
    std::vector<node_id> ids; // node id of every node index
    std::optional<endpoint> relay;
    uint32_t peer = 1;       // index of the node it sends to
    uint32_t send_count = 0; // messages to send in total (0: a pure receiver)
    uint32_t batch = 50;     // messages per send tick
    duration interval = std::chrono::milliseconds(5);
    uint32_t size = 64;
    // Receiver: messages the application handles per millisecond (0: at once, auto_process).
    uint32_t process_per_ms = 0;
    // Membership stand-in: when set, a suspect peer is reported alive once this returns true.
    std::function<bool()> peer_alive;
};

class reliable_node final : public node {
public:
    static constexpr uint64_t timer_turn = 1;
    static constexpr uint64_t timer_send = 2;
    static constexpr uint64_t timer_handshake = 3;
    static constexpr uint64_t timer_process = 4;
    static constexpr uint64_t timer_membership = 5;

    reliable_node(const node_spec& spec, std::shared_ptr<const options> opts,
                  std::shared_ptr<app_log> log)
        : m_opts(std::move(opts)), m_log(std::move(log)), m_keys(keys_of(to_index(spec.index))),
          m_index(to_index(spec.index)), m_incarnation(spec.incarnation) {
        if (spec.persisted) {
            auto state = reliability::decode_state(*spec.persisted);
            AINET_ASSERT(state.has_value());
            m_restored = std::move(state).value();
            m_store.load(*m_restored);
        }
    }

    reliability::reliability_core& core() { return *m_core; }
    reliability::reliability_counters& counters() { return m_counters; }
    uint32_t sent() const { return m_sent; }

    void on_start(context& ctx) override {
        reliability::reliability_config config = m_opts->config;
        // A stream epoch above any earlier one (used only when nothing is restored).
        config.stream_epoch = uint64_t(static_cast<int64_t>(ctx.wall())) * 1000 + m_incarnation + 1;
        config.incarnation = (uint64_t{m_index} << 32) | (m_incarnation + 1);
        m_core = std::make_unique<reliability::reliability_core>(config, m_store, m_counters);
        if (m_restored) {
            m_core->restore(ctx.now(), *m_restored);
            m_restored.reset();
        }
        m_authenticated = !m_opts->relay.has_value();
        if (!m_authenticated)
            hello(ctx);
        if (m_opts->send_count > 0) {
            m_sent = static_cast<uint32_t>(m_log->accepted.size());
            (void)ctx.arm_after(m_opts->interval, timer_send);
        }
        if (m_opts->process_per_ms > 0)
            (void)ctx.arm_after(std::chrono::milliseconds(1), timer_process);
        if (m_opts->peer_alive)
            (void)ctx.arm_after(std::chrono::milliseconds(100), timer_membership);
        schedule_turn_now(ctx);
    }

    void on_datagram(context& ctx, const datagram_ref& d) override {
        if (!m_opts->relay) {
            auto from = ctx.addresses().index_of(d.source);
            if (from && to_index(*from) < m_opts->ids.size())
                m_core->on_packet(ctx.now(), m_opts->ids[to_index(*from)], d.payload);
            schedule_turn_now(ctx);
            return;
        }
        auto view = wire::decode_datagram(d.payload);
        if (!view)
            return;
        if (view->head.type == wire::message_type::relay_data) {
            auto data = wire::decode_relay_data(view->payload);
            if (data && data->destination == m_keys.id())
                m_core->on_packet(ctx.now(), data->source, data->payload);
        } else if (view->head.type == wire::message_type::hello_challenge && !m_authenticated) {
            auto challenge = wire::decode_hello_challenge(view->payload);
            if (challenge)
                send_wire(ctx, relay::sign_hello(m_keys, *challenge));
        } else if (view->head.type == wire::message_type::hello_ack) {
            m_authenticated = true;
        }
        schedule_turn_now(ctx);
    }

    void on_timer(context& ctx, uint64_t cookie) override {
        switch (cookie) {
        case timer_turn:
            m_turn_armed = false;
            turn(ctx);
            break;
        case timer_send:
            send_batch(ctx);
            break;
        case timer_handshake:
            if (!m_authenticated)
                hello(ctx);
            break;
        case timer_process:
            process(ctx);
            break;
        case timer_membership:
            if (m_opts->peer_alive && m_core->is_suspect(m_opts->ids[m_opts->peer]) &&
                m_opts->peer_alive())
                m_core->on_peer_alive(ctx.now(), m_opts->ids[m_opts->peer]);
            schedule_turn_now(ctx);
            (void)ctx.arm_after(std::chrono::milliseconds(100), timer_membership);
            break;
        default:
            break;
        }
    }

    std::vector<uint8_t> persist() const override { return m_store.encode(); }

private:
    class sink final : public reliability::packet_sink {
    public:
        sink(reliable_node& n, context& ctx) : m_node(n), m_ctx(ctx) {}
        mutable_bytes prepare(const node_id& peer) noexcept override {
            m_peer = peer;
            return m_buffer;
        }
        void commit(size_t size) noexcept override {
            const bytes_view datagram(m_buffer.data(), size);
            if (!m_node.m_opts->relay) {
                for (uint32_t i = 0; i < m_node.m_opts->ids.size(); ++i)
                    if (m_node.m_opts->ids[i] == m_peer)
                        m_ctx.out().send(m_ctx.addresses().endpoint_of(node_index{i}), datagram);
                return;
            }
            if (!m_node.m_authenticated)
                return; // lost, as if the relay had dropped it: reliability resends
            wire::relay_data m;
            m.destination = m_peer;
            m.source = m_node.m_keys.id();
            m.hop_limit = 4;
            m.payload = datagram;
            auto encoded = wire::encode(m, m_wrapped);
            if (encoded)
                m_ctx.out().send(*m_node.m_opts->relay, bytes_view(m_wrapped.data(), *encoded));
        }
        void abandon() noexcept override {}

    private:
        reliable_node& m_node;
        context& m_ctx;
        node_id m_peer;
        std::array<uint8_t, 1400> m_buffer{};
        std::array<uint8_t, 1500> m_wrapped{};
    };

    template <class Message>
    void send_wire(context& ctx, const Message& m) {
        std::array<uint8_t, 512> buffer{};
        auto size = wire::encode(m, buffer);
        if (size)
            ctx.out().send(*m_opts->relay, bytes_view(buffer.data(), *size));
    }

    void hello(context& ctx) {
        send_wire(ctx, wire::hello_request{m_keys.id()});
        (void)ctx.arm_after(std::chrono::milliseconds(300), timer_handshake);
    }

    void schedule_turn(context& ctx) {
        const instant next = m_core->next_deadline();
        if (next.ns_since_origin == INT64_MAX || (m_turn_armed && m_turn_at <= next))
            return;
        if (m_turn_armed)
            ctx.cancel(m_turn_id);
        m_turn_at = std::max(next, ctx.now());
        auto id = ctx.arm(m_turn_at, timer_turn);
        AINET_ASSERT(id.has_value());
        m_turn_id = *id;
        m_turn_armed = true;
    }

    void schedule_turn_now(context& ctx) {
        if (m_turn_armed && m_turn_at <= ctx.now())
            return;
        if (m_turn_armed)
            ctx.cancel(m_turn_id);
        m_turn_at = ctx.now();
        auto id = ctx.arm(m_turn_at, timer_turn);
        AINET_ASSERT(id.has_value());
        m_turn_id = *id;
        m_turn_armed = true;
    }

    void turn(context& ctx) {
        m_core->tick(ctx.now());
        sink out(*this, ctx);
        m_core->flush(ctx.now(), out);
        for (const auto& e : m_core->events()) {
            switch (e.kind) {
            case reliability::event_kind::accepted:
                m_log->accepted.push_back(m_pending_tags.at(static_cast<uint64_t>(e.id)));
                m_pending_tags.erase(static_cast<uint64_t>(e.id));
                break;
            case reliability::event_kind::delivered: {
                const bytes_view p = m_core->payload_of(e);
                uint32_t tag = 0;
                for (size_t b = 0; b < 4 && b < p.size(); ++b)
                    tag |= uint32_t{p[b]} << (8 * b);
                m_unprocessed.push_back({e.seq, tag, p.size()});
                break;
            }
            case reliability::event_kind::undeliverable:
                ++m_log->undeliverable;
                break;
            case reliability::event_kind::peer_suspect:
                ++m_log->suspect;
                break;
            case reliability::event_kind::expired:
                ++m_log->expired;
                break;
            default:
                break;
            }
        }
        m_core->clear_events();
        if (m_opts->process_per_ms == 0)
            drain(ctx, m_unprocessed.size());
        schedule_turn(ctx); // the timer that ran this turn has fired: arm the next deadline
    }

    // The application handles up to count delivered messages (and tells the core).
    void drain(context& ctx, size_t count) {
        count = std::min(count, m_unprocessed.size());
        for (size_t i = 0; i < count; ++i) {
            m_log->delivered.push_back(m_unprocessed[i].tag);
            m_log->delivered_bytes += m_unprocessed[i].size;
            m_log->last_delivery = ctx.now();
        }
        if (count > 0 && !m_opts->config.auto_process)
            m_core->processed(m_opts->ids[m_opts->peer], channel_id{1},
                              m_unprocessed[count - 1].seq);
        m_unprocessed.erase(m_unprocessed.begin(),
                            m_unprocessed.begin() + static_cast<ptrdiff_t>(count));
    }

    void process(context& ctx) {
        drain(ctx, m_opts->process_per_ms);
        schedule_turn_now(ctx);
        (void)ctx.arm_after(std::chrono::milliseconds(1), timer_process);
    }

    void send_batch(context& ctx) {
        std::vector<uint8_t> payload(std::max<uint32_t>(m_opts->size, 4), 0x5a);
        for (uint32_t i = 0; i < m_opts->batch && m_sent < m_opts->send_count; ++i) {
            for (size_t b = 0; b < 4; ++b)
                payload[b] = static_cast<uint8_t>(m_sent >> (8 * b));
            auto id = m_core->send(ctx.now(), m_opts->ids[m_opts->peer], channel_id{1}, payload);
            if (!id)
                break; // back-pressure: try again at the next tick
            m_pending_tags[static_cast<uint64_t>(*id)] = m_sent;
            ++m_sent;
        }
        if (m_sent < m_opts->send_count)
            (void)ctx.arm_after(m_opts->interval, timer_send);
        schedule_turn_now(ctx);
    }

    struct unprocessed {
        uint64_t seq;
        uint32_t tag;
        size_t size;
    };

    std::shared_ptr<const options> m_opts;
    std::shared_ptr<app_log> m_log;
    crypto::key_pair m_keys;
    uint32_t m_index;
    uint32_t m_incarnation;
    reliability::memory_store m_store;
    reliability::reliability_counters m_counters;
    std::unique_ptr<reliability::reliability_core> m_core;
    std::optional<reliability::recovered_state> m_restored;
    std::map<uint64_t, uint32_t> m_pending_tags; // message id -> tag, until accepted
    std::vector<unprocessed> m_unprocessed;
    bool m_authenticated = false;
    uint32_t m_sent = 0;
    bool m_turn_armed = false;
    instant m_turn_at{};
    timer_id m_turn_id{};
};

// The production relay, as a node (same adapter as relay_scenario_test.cpp).
struct relay_sim_node final : node {
    crypto::key_pair identity = keys_of(0xffff);
    crypto::mac_key cookie_key{7};
    relay::relay_counters counters;
    relay::relay_core core{relay::relay_config{}, identity, cookie_key, counters};

    void on_start(context& ctx) override { (void)ctx.arm_after(std::chrono::seconds(1), 0); }
    void on_datagram(context& ctx, const datagram_ref& d) override {
        core.on_datagrams(ctx.now(), ctx.wall(), std::span<const datagram_ref>(&d, 1), ctx.out());
        for (const auto& r : core.route_outbox())
            core.apply_route(r);
        core.clear_route_outbox();
    }
    void on_timer(context& ctx, uint64_t) override {
        core.on_tick(ctx.now());
        (void)ctx.arm_after(std::chrono::seconds(1), 0);
    }
};

} // namespace ainet::sim::reliable
