#include <ainet/sim/gossip_demo.hpp>

#include <ainet/core/bytes.hpp>

#include <array>

namespace ainet::sim {

namespace {

constexpr uint64_t timer_push = 1;

uint32_t check_word(bytes_view head) noexcept {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint8_t b : head)
        h = (h ^ b) * 0x100000001b3ull;
    return static_cast<uint32_t>(h ^ (h >> 32));
}

} // namespace

gossip_node::gossip_node(const gossip_config& config, const node_spec& spec)
    : m_config(config), m_self(spec.index) {
    AINET_ASSERT(config.period.count() > 0 && config.fanout >= 1);
    if (spec.persisted && spec.persisted->size() == 8) {
        byte_reader r(*spec.persisted);
        m_counter = r.u64().value_or(0);
        m_restored = true;
    }
}

void gossip_node::encode(uint64_t counter, mutable_bytes out) noexcept {
    AINET_ASSERT(out.size() >= message_size);
    byte_writer w(out.first(message_size));
    w.u32(magic);
    w.u64(counter);
    w.u32(check_word(w.written()));
    AINET_ASSERT(w.ok());
}

std::optional<uint64_t> gossip_node::decode(bytes_view message) noexcept {
    if (message.size() != message_size)
        return std::nullopt;
    byte_reader r(message);
    const auto m = r.u32();
    const auto counter = r.u64();
    const auto check = r.u32();
    if (!m || !counter || !check || *m != magic || *check != check_word(message.first(12)))
        return std::nullopt;
    return *counter;
}

void gossip_node::on_start(context& ctx) {
    // Stagger the first push so that the nodes do not tick in lockstep.
    const duration first = ctx.random().uniform(duration{1}, m_config.period);
    (void)ctx.arm_after(first, timer_push);
}

void gossip_node::push(context& ctx) {
    const uint32_t count = ctx.node_count();
    if (count < 2)
        return;
    std::array<uint8_t, message_size> message{};
    encode(m_counter, message);
    for (uint32_t i = 0; i < m_config.fanout; ++i) {
        // A uniformly random peer other than self.
        auto peer = static_cast<uint32_t>(ctx.random().below(count - 1));
        if (peer >= to_index(m_self))
            ++peer;
        ctx.out().send(ctx.addresses().endpoint_of(node_index{peer}), message);
    }
}

void gossip_node::on_datagram(context& ctx, const datagram_ref& d) {
    const std::optional<uint64_t> counter = decode(d.payload);
    if (!counter) {
        ++m_rejected;
        return;
    }
    ++m_received;
    if (*counter > m_counter) {
        m_counter = *counter;
        push(ctx); // flood news at once
    } else if (*counter < m_counter) {
        // Pull: a peer that is behind gets our counter back (push-pull anti-entropy).
        std::array<uint8_t, message_size> reply{};
        encode(m_counter, reply);
        ctx.out().send(d.source, reply);
    }
}

void gossip_node::on_timer(context& ctx, uint64_t cookie) {
    AINET_ASSERT(cookie == timer_push);
    ++m_ticks;
    m_last_tick = ctx.now();
    if (m_self == m_config.origin && m_counter < m_config.increments_max)
        ++m_counter;
    push(ctx);
    (void)ctx.arm_after(m_config.period, timer_push);
}

std::vector<uint8_t> gossip_node::persist() const {
    std::vector<uint8_t> out(8);
    byte_writer w(out);
    w.u64(m_counter);
    AINET_ASSERT(w.ok());
    return out;
}

node_factory make_gossip_factory(const gossip_config& config) {
    return [config](const node_spec& spec) { return std::make_unique<gossip_node>(config, spec); };
}

} // namespace ainet::sim
