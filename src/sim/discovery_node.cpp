#include <ainet/sim/discovery_node.hpp>

#include <ainet/core/assert.hpp>
#include <ainet/core/bytes.hpp>
#include <ainet/sim/world.hpp>

#include <utility>

namespace ainet::sim {

namespace {

constexpr uint64_t tick_cookie = 1;

std::string_view as_text(bytes_view b) noexcept {
    return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

} // namespace

crypto::key_pair discovery_key(uint64_t key_seed, node_index i) {
    crypto::seed s{};
    const uint64_t a = derive_seed(key_seed, 0x6b657973ull, to_index(i)); // "keys"
    const uint64_t b = derive_seed(a, 1);
    for (size_t k = 0; k < 8; ++k) {
        s[k] = static_cast<uint8_t>(a >> (8 * k));
        s[8 + k] = static_cast<uint8_t>(b >> (8 * k));
        s[16 + k] = static_cast<uint8_t>(i == node_index{} ? k : to_index(i) >> (k % 4));
        s[24 + k] = static_cast<uint8_t>(k);
    }
    return crypto::key_pair::from_seed(s);
}

discovery_node::discovery_node(
    const discovery_sim_config& config, const node_spec& spec,
    std::shared_ptr<const std::vector<discovery::node_record>> adversary_records)
    : m_keys(discovery_key(config.key_seed, spec.index)),
      m_adversary_records(std::move(adversary_records)) {
    discovery::bootstrap_manager_config c = config.manager;
    c.udp = spec.address;
    c.http = spec.address;
    c.seed = derive_seed(derive_seed(config.key_seed, 0x6d6772ull, to_index(spec.index)),
                         spec.incarnation);
    c.statics.nodes.clear();
    for (uint32_t s = 0; s < config.static_count; ++s) {
        const node_index si{s};
        const endpoint e = config.addresses.endpoint_of(si);
        c.statics.nodes.push_back(
            config::bootstrap_node{discovery_key(config.key_seed, si).id(), e, e});
    }
    m_manager = std::make_unique<discovery::bootstrap_manager>(m_keys, c);
    if (spec.persisted) {
        m_persisted_copy.assign(spec.persisted->begin(), spec.persisted->end());
        m_persisted = bytes_view(m_persisted_copy);
    }
}

void discovery_node::on_start(context& ctx) {
    if (m_persisted) {
        m_restored = m_manager->restore(*m_persisted, ctx.wall()).has_value();
        m_persisted.reset();
        m_persisted_copy.clear();
    }
    m_manager->start(ctx.now(), ctx.wall());
    pump(ctx);
}

void discovery_node::on_timer(context& ctx, uint64_t cookie) {
    if (cookie != tick_cookie)
        return;
    m_timer.reset();
    m_manager->tick(ctx.now(), ctx.wall());
    pump(ctx);
}

void discovery_node::pump(context& ctx) {
    const std::string& own = m_manager->announcement(ctx.wall());
    for (const auto& r : m_manager->take_requests()) {
        std::vector<uint8_t> message(1 + 8 + varint_size_max + own.size());
        byte_writer w(message);
        w.u8(request_kind);
        w.u64(r.id);
        w.length_prefixed(own);
        AINET_ASSERT(w.ok());
        message.resize(w.position());
        ctx.send_message(r.http, message);
    }
    (void)m_manager->take_events(); // membership consumes these in the real node, later
    const instant next = std::max(m_manager->next_deadline(), ctx.now());
    if (m_timer && m_timer_at == next)
        return;
    if (m_timer)
        (void)ctx.cancel(*m_timer);
    auto armed = ctx.arm(next, tick_cookie);
    AINET_ASSERT(armed.has_value());
    m_timer = *armed;
    m_timer_at = next;
}

void discovery_node::answer(context& ctx, const endpoint& to, uint64_t id, uint16_t status,
                            std::string_view body) {
    std::vector<uint8_t> message(1 + 8 + 2 + varint_size_max + body.size());
    byte_writer w(message);
    w.u8(response_kind);
    w.u64(id);
    w.u16(status);
    w.length_prefixed(body);
    AINET_ASSERT(w.ok());
    message.resize(w.position());
    ctx.send_message(to, message);
}

const std::string& discovery_node::adversarial_document(context& ctx) {
    // A fresh random pick once per second, like an honest node's serve cache.
    if (m_adversary_document_at && ctx.now() - *m_adversary_document_at < std::chrono::seconds(1))
        return m_adversary_document;
    const auto& pool = *m_adversary_records;
    const size_t count = std::min(m_manager->config().served_max, pool.size());
    std::vector<discovery::node_record> records;
    std::vector<bool> taken(pool.size(), false);
    while (records.size() < count) {
        const size_t pick = ctx.random().below(pool.size());
        if (taken[pick])
            continue;
        taken[pick] = true;
        records.push_back(pool[pick]);
    }
    m_adversary_document = discovery::make_document(m_keys, records, ctx.wall());
    m_adversary_document_at = ctx.now();
    return m_adversary_document;
}

void discovery_node::on_message(context& ctx, const endpoint& from, bytes_view message) {
    byte_reader r(message);
    auto kind = r.u8();
    auto id = r.u64();
    if (!kind || !id) {
        ++m_bad_envelopes;
        return;
    }
    if (*kind == request_kind) {
        auto own = r.length_prefixed(discovery::record_text_size_max);
        if (!own || !r.expect_end()) {
            ++m_bad_envelopes;
            return;
        }
        if (!m_manager->admit(from, ctx.now())) {
            answer(ctx, from, *id, 429, {});
            return;
        }
        if (!own->empty())
            (void)m_manager->on_announce(as_text(*own), from, ctx.now(), ctx.wall());
        if (m_adversary_records != nullptr)
            answer(ctx, from, *id, 200, adversarial_document(ctx));
        else
            answer(ctx, from, *id, 200, m_manager->serve(ctx.now(), ctx.wall()));
        pump(ctx);
        return;
    }
    if (*kind == response_kind) {
        auto status = r.u16();
        auto body = r.length_prefixed(world::message_size_max);
        if (!status || !body || !r.expect_end()) {
            ++m_bad_envelopes;
            return;
        }
        if (*status == 200)
            m_manager->on_response(*id, as_text(*body), ctx.now(), ctx.wall());
        else
            m_manager->on_failure(*id, ctx.now());
        pump(ctx);
        return;
    }
    ++m_bad_envelopes;
}

std::vector<uint8_t> discovery_node::persist() const {
    return m_manager->persist();
}

node_factory make_discovery_factory(const discovery_sim_config& config,
                                    const address_plan& addresses) {
    discovery_sim_config c = config;
    c.addresses = addresses;
    std::shared_ptr<const std::vector<discovery::node_record>> adversaries;
    if (c.adversarial) {
        auto records = std::make_shared<std::vector<discovery::node_record>>();
        for (uint32_t i = 0; i < c.node_count; ++i) {
            const node_index index{i};
            if (!c.adversarial(index))
                continue;
            const endpoint e = addresses.endpoint_of(index);
            records->push_back(discovery::make_node_record(
                discovery_key(c.key_seed, index), e, e, c.adversary_wall,
                unix_ms{static_cast<int64_t>(c.adversary_wall) + 24 * 3600 * 1000LL}));
        }
        adversaries = std::move(records);
    }
    return [c, adversaries](const node_spec& spec) -> std::unique_ptr<node> {
        const bool adversary = c.adversarial && c.adversarial(spec.index);
        return std::make_unique<discovery_node>(c, spec, adversary ? adversaries : nullptr);
    };
}

} // namespace ainet::sim
