#include <ainet/sim/membership_node.hpp>

#include <ainet/core/assert.hpp>

#include <cstring>

namespace ainet::sim {

void shared_claim_verifier::verify(std::span<const crypto::verify_request> requests,
                                   std::span<bool> verdicts) noexcept {
    AINET_ASSERT(requests.size() == verdicts.size());
    for (size_t i = 0; i < requests.size(); ++i) {
        const crypto::verify_request& r = requests[i];
        std::string key;
        key.reserve(r.key.size() + r.sig.size() + r.message.size());
        key.append(reinterpret_cast<const char*>(r.key.data()), r.key.size());
        key.append(reinterpret_cast<const char*>(r.sig.data()), r.sig.size());
        key.append(reinterpret_cast<const char*>(r.message.data()), r.message.size());
        auto it = m_verdicts.find(key);
        if (it == m_verdicts.end()) {
            ++m_computed;
            it = m_verdicts.emplace(std::move(key), crypto::verify_raw(r.key, r.message, r.sig))
                     .first;
        }
        verdicts[i] = it->second;
    }
}

membership_world::membership_world(uint32_t node_count, uint64_t seed, const address_plan& plan,
                                   const membership::membership_config& core_config)
    : config(core_config), preload_count(node_count), counters(node_count) {
    keys.reserve(node_count);
    initial_claims.reserve(node_count);
    for (uint32_t i = 0; i < node_count; ++i) {
        crypto::seed secret{};
        uint64_t state = derive_seed(seed, 0x6d656d626572ull /* "member" */, i);
        for (size_t b = 0; b < secret.size(); b += 8) {
            const uint64_t word = splitmix64(state);
            std::memcpy(secret.data() + b, &word, 8);
        }
        keys.push_back(crypto::key_pair::from_seed(secret));
        membership::claim c;
        c.kind = membership::claim_kind::alive;
        c.subject = keys.back().id();
        c.incarnation = 0;
        c.address = plan.endpoint_of(node_index{i});
        membership::sign_claim(c, keys.back());
        initial_claims.push_back(c);
    }
}

node_factory membership_world::factory() {
    return [this](const node_spec& spec) -> std::unique_ptr<node> {
        AINET_ASSERT_MSG(to_index(spec.index) < keys.size(),
                         "more nodes than membership_world keys");
        return std::make_unique<membership_node>(*this, spec);
    };
}

uint64_t
membership_world::total(std::atomic<uint64_t> membership::membership_counters::*field) const {
    uint64_t sum = 0;
    for (const auto& c : counters)
        sum += (c.*field).load(std::memory_order_relaxed);
    return sum;
}

membership_node::membership_node(membership_world& shared, const node_spec& spec)
    : m_shared(shared), m_index(spec.index) {
    if (spec.persisted && spec.persisted->size() == 8) {
        // One above the last incarnation we used: others may hold us dead at that one, and
        // only a newer alive claim overrides a death (membership_core.hpp, "initial_incarnation").
        std::memcpy(&m_initial_incarnation, spec.persisted->data(), 8);
        ++m_initial_incarnation;
    } else if (spec.incarnation > 0) {
        m_from_wall_clock = true; // set from the wall clock in on_start
    }
}

void membership_node::on_start(context& ctx) {
    membership::membership_config config = m_shared.config;
    if (m_from_wall_clock)
        m_initial_incarnation = static_cast<uint64_t>(static_cast<int64_t>(ctx.wall()) / 1000);
    config.initial_incarnation = m_initial_incarnation;
    const uint32_t i = to_index(m_index);
    m_core = std::make_unique<membership::membership_core>(
        config, m_shared.keys[i], ctx.address(), ctx.random().next(), m_shared.counters[i],
        &m_shared.verifier);
    m_core->start(ctx.now());
    const auto count = static_cast<uint32_t>(m_shared.keys.size());
    if (i < m_shared.preload_count && ctx.incarnation() == 0) {
        for (uint32_t j = 0; j < m_shared.preload_count && j < count; ++j) {
            if (j != i)
                m_core->learn(ctx.now(), m_shared.initial_claims[j], false);
        }
        // A converged cluster has nothing left to gossip about its own formation.
        m_core->clear_events();
    } else {
        for (uint32_t j = 0; j < m_shared.seed_count && j < count; ++j) {
            if (j != i)
                m_core->add_seed(ctx.now(), ctx.addresses().endpoint_of(node_index{j}), ctx.out());
        }
    }
    after(ctx);
}

void membership_node::on_datagram(context& ctx, const datagram_ref& d) {
    m_core->on_datagram(ctx.now(), d, ctx.out());
    after(ctx);
}

void membership_node::on_timer(context& ctx, uint64_t cookie) {
    if (cookie != m_generation)
        return;
    m_timer.reset();
    m_core->tick(ctx.now(), ctx.out());
    after(ctx);
}

std::vector<uint8_t> membership_node::persist() const {
    std::vector<uint8_t> blob(8);
    const uint64_t incarnation = m_core ? m_core->incarnation() : m_initial_incarnation;
    std::memcpy(blob.data(), &incarnation, 8);
    return blob;
}

void membership_node::after(context& ctx) {
    if (!m_core->events().empty()) {
        if (m_shared.on_event) {
            for (const membership::membership_event& e : m_core->events())
                m_shared.on_event(m_index, e);
        }
        m_core->clear_events();
    }
    const instant deadline = m_core->next_deadline();
    if (m_timer && m_timer_at == deadline)
        return;
    if (m_timer)
        (void)ctx.cancel(*m_timer);
    auto id = ctx.arm(deadline, ++m_generation);
    AINET_ASSERT_MSG(id.has_value(), "membership_node: timer limit");
    m_timer = *id;
    m_timer_at = deadline;
}

} // namespace ainet::sim
