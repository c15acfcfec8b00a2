#include <ainet/sim/world.hpp>

#include <ainet/core/assert.hpp>

#include <algorithm>
#include <utility>

namespace ainet::sim {

namespace {

__extension__ typedef __int128 int128_t;

constexpr int64_t ns_per_second = 1'000'000'000;
constexpr uint64_t network_stream = 0x6e6574776f726bull; // "network"
constexpr uint32_t no_node = UINT32_MAX;

// floor(a / b) for b > 0.
int64_t floor_div(int64_t a, int64_t b) noexcept {
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

} // namespace

uint64_t world_stats::dropped_total() const noexcept {
    uint64_t total = 0;
    for (uint64_t d : dropped)
        total += d;
    return total;
}

// --- context ----------------------------------------------------------------------------------

unix_ms context::wall() const noexcept {
    const int64_t since_start = m_now.ns_since_origin - m_world.m_config.start.ns_since_origin;
    return unix_ms{static_cast<int64_t>(m_world.m_config.wall_start) +
                   floor_div(since_start, 1'000'000)};
}

endpoint context::address() const noexcept {
    return m_world.m_config.addresses.endpoint_of(m_self);
}

uint32_t context::incarnation() const noexcept {
    return m_world.incarnation(m_self);
}

mutable_bytes context::prepare(const endpoint& destination) noexcept {
    AINET_ASSERT_MSG(!m_preparing, "prepare() twice without commit() or abandon()");
    m_preparing = true;
    m_pending_to = destination;
    return m_world.m_send_buffer;
}

void context::commit(size_t size) noexcept {
    AINET_ASSERT(m_preparing);
    AINET_ASSERT(size <= m_world.m_send_buffer.size());
    m_preparing = false;
    m_world.transmit(to_index(m_self), m_pending_to,
                     bytes_view(m_world.m_send_buffer.data(), size));
}

void context::abandon() noexcept {
    AINET_ASSERT(m_preparing);
    m_preparing = false;
}

result<timer_id> context::arm(instant deadline, uint64_t cookie) noexcept {
    return m_world.arm(to_index(m_self), deadline, cookie);
}

bool context::cancel(timer_id id) noexcept {
    return m_world.cancel(to_index(m_self), id);
}

rng& context::random() noexcept {
    return m_world.m_nodes[to_index(m_self)].random;
}

const address_plan& context::addresses() const noexcept {
    return m_world.m_config.addresses;
}

uint32_t context::node_count() const noexcept {
    return m_world.node_count();
}

// --- world ------------------------------------------------------------------------------------

world::link_model world::make_model(const link_profile& p) {
    AINET_ASSERT_MSG(p.latency_base.count() > 0, "links need latency_base > 0 (progress)");
    AINET_ASSERT(p.jitter.count() >= 0 && p.reorder_delay_max.count() >= 0);
    AINET_ASSERT(p.corrupt_bits_max >= 1 && p.corrupt_bits_max <= 64);
    AINET_ASSERT(p.bandwidth_bytes_per_second == 0 || p.queue_bytes_max > 0);
    return link_model{p.latency_base,
                      p.jitter,
                      p.shape,
                      probability::from_double(p.loss),
                      probability::from_double(p.duplicate),
                      probability::from_double(p.reorder),
                      p.reorder_delay_max,
                      probability::from_double(p.corrupt),
                      p.corrupt_bits_max,
                      p.bandwidth_bytes_per_second,
                      p.queue_bytes_max,
                      0};
}

world::world(const world_config& config, node_factory factory)
    : m_config(config), m_factory(std::move(factory)),
      m_random(derive_seed(config.seed, network_stream)), m_now(config.start),
      m_default_link(make_model(config.default_link)) {
    AINET_ASSERT(m_factory != nullptr);
    AINET_ASSERT(config.addresses.netgroup_count >= 1 &&
                 config.addresses.netgroup_count <= address_plan::netgroup_count_max);
    AINET_ASSERT(config.datagram_size_max >= 1 && config.datagram_size_max <= 65507);
    AINET_ASSERT(config.packets_in_flight_max >= 1 && config.timers_per_node_max >= 1);
    m_send_buffer.resize(config.datagram_size_max);
}

world::~world() = default;

node_index world::add_node() {
    AINET_ASSERT(!m_in_handler);
    AINET_ASSERT_MSG(m_nodes.size() < m_config.node_count_max, "node_count_max reached");
    AINET_ASSERT_MSG(m_nodes.size() < m_config.addresses.capacity(), "address plan is full");
    const auto index = static_cast<uint32_t>(m_nodes.size());
    m_nodes.emplace_back();
    push(m_now.ns_since_origin, event_type::start, index, 0);
    return node_index{index};
}

void world::add_nodes(uint32_t count) {
    m_nodes.reserve(m_nodes.size() + count);
    for (uint32_t i = 0; i < count; ++i)
        add_node();
}

endpoint world::endpoint_of(node_index i) const noexcept {
    AINET_ASSERT(to_index(i) < m_nodes.size());
    return m_config.addresses.endpoint_of(i);
}

bool world::is_up(node_index i) const noexcept {
    AINET_ASSERT(to_index(i) < m_nodes.size());
    return m_nodes[to_index(i)].up;
}

uint32_t world::incarnation(node_index i) const noexcept {
    AINET_ASSERT(to_index(i) < m_nodes.size());
    return m_nodes[to_index(i)].incarnation;
}

node* world::process(node_index i) noexcept {
    AINET_ASSERT(to_index(i) < m_nodes.size());
    return m_nodes[to_index(i)].process.get();
}

// --- faults -----------------------------------------------------------------------------------

void world::crash(node_index i) {
    AINET_ASSERT_MSG(!m_in_handler, "crash() from inside a node handler");
    AINET_ASSERT(to_index(i) < m_nodes.size());
    node_state& n = m_nodes[to_index(i)];
    if (!n.up)
        return;
    n.persisted = n.process->persist();
    n.process->on_crash();
    n.process.reset();
    n.up = false;
    n.timers_armed = 0; // its timers are now stale: the next start has another incarnation
    ++m_stats.crashes;
    record(trace_event{
        .kind = event_kind::crashed, .at = m_now, .from = i, .to = i, .cookie = n.incarnation});
}

void world::restart(node_index i, restart_mode mode, duration delay) {
    AINET_ASSERT_MSG(!m_in_handler, "restart() from inside a node handler");
    AINET_ASSERT(to_index(i) < m_nodes.size());
    AINET_ASSERT(delay.count() >= 0);
    crash(i);
    node_state& n = m_nodes[to_index(i)];
    ++n.incarnation;
    n.has_persisted = mode == restart_mode::with_state;
    push((m_now + delay).ns_since_origin, event_type::start, to_index(i), n.incarnation);
}

partition_id world::partition(std::span<const node_index> a, std::span<const node_index> b,
                              partition_direction direction) {
    partition_rule rule{m_next_partition++, std::vector<uint8_t>(m_nodes.size(), 0), false, true,
                        direction == partition_direction::both_ways};
    for (node_index i : a) {
        AINET_ASSERT(to_index(i) < m_nodes.size());
        rule.side[to_index(i)] = 1;
    }
    for (node_index i : b) {
        AINET_ASSERT(to_index(i) < m_nodes.size());
        AINET_ASSERT_MSG(rule.side[to_index(i)] != 1, "a node on both sides of a partition");
        rule.side[to_index(i)] = 2;
    }
    const partition_id id{rule.id};
    m_partitions.push_back(std::move(rule));
    return id;
}

partition_id world::isolate(std::span<const node_index> a, partition_direction direction) {
    const partition_id id = partition(a, {}, direction);
    m_partitions.back().rest_is_b = true;
    return id;
}

void world::heal(partition_id id) {
    std::erase_if(m_partitions,
                  [id](const partition_rule& r) { return r.id == static_cast<uint32_t>(id); });
}

void world::heal_all() {
    m_partitions.clear();
}

bool world::blocked(node_index from, node_index to) const noexcept {
    const uint32_t f = to_index(from);
    const uint32_t t = to_index(to);
    for (const partition_rule& r : m_partitions) {
        uint8_t sf = f < r.side.size() ? r.side[f] : 0;
        uint8_t st = t < r.side.size() ? r.side[t] : 0;
        if (r.rest_is_b) {
            sf = sf == 0 ? 2 : sf;
            st = st == 0 ? 2 : st;
        }
        if ((sf == 1 && st == 2 && r.a_to_b) || (sf == 2 && st == 1 && r.b_to_a))
            return true;
    }
    return false;
}

void world::set_link(node_index from, node_index to, const link_profile& profile) {
    AINET_ASSERT(to_index(from) < m_nodes.size() && to_index(to) < m_nodes.size());
    m_links.insert_or_assign(link_key(to_index(from), to_index(to)), make_model(profile));
}

void world::clear_link(node_index from, node_index to) {
    m_links.erase(link_key(to_index(from), to_index(to)));
}

void world::set_default_link(const link_profile& profile) {
    m_default_link = make_model(profile);
    m_config.default_link = profile;
    m_default_busy.clear();
}

void world::set_egress(node_index i, uint64_t bytes_per_second, uint64_t queue_bytes_max) {
    AINET_ASSERT(to_index(i) < m_nodes.size());
    AINET_ASSERT(bytes_per_second == 0 || queue_bytes_max > 0);
    node_state& n = m_nodes[to_index(i)];
    n.egress_bytes_per_second = bytes_per_second;
    n.egress_queue_bytes_max = queue_bytes_max;
}

void world::set_clock(node_index i, const clock_skew& skew) {
    AINET_ASSERT(to_index(i) < m_nodes.size());
    AINET_ASSERT_MSG(skew.drift_ppb > -ns_per_second, "drift would stop or reverse the clock");
    node_state& n = m_nodes[to_index(i)];
    const clock_skew old = n.clock;
    n.clock = skew;
    if (n.up && to_local_ns(n, m_now.ns_since_origin) < n.local_floor_ns) {
        n.clock = old;
        AINET_ASSERT_MSG(false, "set_clock would move a running node's clock backwards");
    }
}

instant world::local_now(node_index i) const noexcept {
    AINET_ASSERT(to_index(i) < m_nodes.size());
    return instant{to_local_ns(m_nodes[to_index(i)], m_now.ns_since_origin)};
}

void world::schedule(instant at, std::function<void(world&)> fn) {
    AINET_ASSERT(at >= m_now);
    AINET_ASSERT(fn != nullptr);
    uint32_t slot;
    if (!m_free_actions.empty()) {
        slot = m_free_actions.back();
        m_free_actions.pop_back();
        m_actions[slot] = std::move(fn);
    } else {
        slot = static_cast<uint32_t>(m_actions.size());
        m_actions.push_back(std::move(fn));
    }
    push(at.ns_since_origin, event_type::action, no_node, slot);
}

void world::send_from(node_index from, const endpoint& to, bytes_view payload) {
    AINET_ASSERT(to_index(from) < m_nodes.size());
    transmit(to_index(from), to, payload);
}

// --- clocks -----------------------------------------------------------------------------------

int64_t world::to_local_ns(const node_state& n, int64_t global_ns) const noexcept {
    const int64_t elapsed = global_ns - m_config.start.ns_since_origin;
    // Truncation toward zero keeps local time non-decreasing for any drift > -10^9.
    const auto drift = static_cast<int64_t>(int128_t{elapsed} * n.clock.drift_ppb / ns_per_second);
    return global_ns + n.clock.offset.count() + drift;
}

int64_t world::to_global_ns(const node_state& n, int64_t local_ns) const noexcept {
    const int64_t now_ns = m_now.ns_since_origin;
    if (to_local_ns(n, now_ns) >= local_ns)
        return now_ns;
    // Invert the linear map, then correct the rounding by a step or two either way.
    const int64_t start = m_config.start.ns_since_origin;
    const int128_t wanted_elapsed = int128_t{local_ns} - n.clock.offset.count() - start;
    auto g = static_cast<int64_t>(start + wanted_elapsed * ns_per_second /
                                              (ns_per_second + n.clock.drift_ppb));
    g = std::max(g, now_ns);
    for (int i = 0; to_local_ns(n, g) < local_ns; ++i) {
        AINET_ASSERT(i < 64);
        ++g;
    }
    for (int i = 0; g > now_ns && to_local_ns(n, g - 1) >= local_ns; ++i) {
        AINET_ASSERT(i < 64);
        --g;
    }
    return g;
}

context world::make_context(uint32_t index) noexcept {
    node_state& n = m_nodes[index];
    const int64_t local = to_local_ns(n, m_now.ns_since_origin);
    AINET_ASSERT(local >= n.local_floor_ns);
    n.local_floor_ns = local;
    return context(*this, node_index{index}, instant{local});
}

// --- timers -----------------------------------------------------------------------------------

result<timer_id> world::arm(uint32_t index, instant deadline, uint64_t cookie) noexcept {
    node_state& n = m_nodes[index];
    AINET_ASSERT(n.up);
    if (n.timers_armed >= m_config.timers_per_node_max)
        return fail(errc::timer_limit);
    uint32_t slot;
    if (!m_free_timers.empty()) {
        slot = m_free_timers.back();
        m_free_timers.pop_back();
    } else {
        slot = static_cast<uint32_t>(m_timers.size());
        m_timers.emplace_back();
    }
    timer_slot& t = m_timers[slot];
    t.generation = t.generation == UINT32_MAX ? 1 : t.generation + 1;
    t.cookie = cookie;
    t.node = index;
    t.incarnation = n.incarnation;
    t.armed = true;
    ++n.timers_armed;
    push(to_global_ns(n, deadline.ns_since_origin), event_type::timer, index, slot);
    return timer_id{(uint64_t{t.generation} << 32) | slot};
}

bool world::cancel(uint32_t index, timer_id id) noexcept {
    const auto raw = static_cast<uint64_t>(id);
    const auto slot = static_cast<uint32_t>(raw);
    const auto generation = static_cast<uint32_t>(raw >> 32);
    if (slot >= m_timers.size())
        return false;
    timer_slot& t = m_timers[slot];
    node_state& n = m_nodes[index];
    if (!t.armed || t.generation != generation || t.node != index ||
        t.incarnation != n.incarnation || !n.up)
        return false;
    t.armed = false; // the queue entry stays and is discarded when it comes up
    --n.timers_armed;
    return true;
}

// --- the network ------------------------------------------------------------------------------

void world::record(const trace_event& e) noexcept {
    m_hash.add(e);
    if (m_observer != nullptr)
        m_observer->on_event(e);
}

void world::drop(uint32_t from, uint32_t to, drop_reason reason, bytes_view payload, bool duplicate,
                 bool corrupted) noexcept {
    ++m_stats.dropped[static_cast<size_t>(reason)];
    record(trace_event{.kind = event_kind::dropped,
                       .reason = reason,
                       .duplicate = duplicate,
                       .corrupted = corrupted,
                       .at = m_now,
                       .from = node_index{from},
                       .to = node_index{to},
                       .payload = payload});
}

int64_t world::serialize(int64_t ready_ns, uint64_t size, uint64_t bytes_per_second,
                         uint64_t queue_bytes_max, int64_t& free_at_ns) noexcept {
    const int64_t start_ns = std::max(ready_ns, free_at_ns);
    const auto backlog_bytes = static_cast<uint64_t>(
        int128_t{start_ns - ready_ns} * static_cast<int64_t>(bytes_per_second) / ns_per_second);
    if (backlog_bytes + size > queue_bytes_max)
        return -1;
    // Rounded up, so a datagram never leaves before its last byte would have.
    const auto serialization_ns =
        static_cast<int64_t>((int128_t{static_cast<int64_t>(size)} * ns_per_second +
                              static_cast<int64_t>(bytes_per_second) - 1) /
                             static_cast<int64_t>(bytes_per_second));
    free_at_ns = start_ns + serialization_ns;
    return free_at_ns;
}

duration world::draw_delay(const link_model& link) noexcept {
    duration delay = link.latency_base;
    if (link.jitter.count() > 0) {
        delay += link.shape == jitter_shape::uniform
                     ? m_random.uniform(duration{0}, link.jitter)
                     : m_random.exponential(link.jitter, link.jitter * 8);
    }
    if (m_random.chance(link.reorder) && link.reorder_delay_max.count() > 0)
        delay += m_random.uniform(duration{0}, link.reorder_delay_max);
    return delay;
}

void world::corrupt(std::vector<uint8_t>& bytes, uint32_t bits_max) noexcept {
    const uint64_t bit_count = uint64_t{bytes.size()} * 8;
    const uint64_t flips = m_random.between(1, std::min<uint64_t>(bits_max, bit_count));
    std::array<uint64_t, 64> chosen{};
    for (uint64_t i = 0; i < flips; ++i) {
        uint64_t bit;
        bool fresh;
        // Distinct positions, so exactly `flips` bits differ. Terminates: flips <= bit_count.
        do {
            bit = m_random.below(bit_count);
            fresh = std::find(chosen.begin(), chosen.begin() + static_cast<ptrdiff_t>(i), bit) ==
                    chosen.begin() + static_cast<ptrdiff_t>(i);
        } while (!fresh);
        chosen[i] = bit;
        bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
}

uint32_t world::alloc_packet() {
    ++m_packets_in_flight;
    if (!m_free_packets.empty()) {
        const uint32_t slot = m_free_packets.back();
        m_free_packets.pop_back();
        return slot;
    }
    m_packets.emplace_back();
    return static_cast<uint32_t>(m_packets.size() - 1);
}

void world::free_packet(uint32_t slot) noexcept {
    --m_packets_in_flight;
    m_free_packets.push_back(slot); // capacity reserved by the pushes that grew m_packets
}

void world::transmit(uint32_t from, const endpoint& to_address, bytes_view payload) noexcept {
    ++m_stats.sent;
    const std::optional<node_index> resolved = m_config.addresses.index_of(to_address);
    const uint32_t to =
        resolved && to_index(*resolved) < m_nodes.size() ? to_index(*resolved) : no_node;
    record(trace_event{.kind = event_kind::sent,
                       .at = m_now,
                       .from = node_index{from},
                       .to = node_index{to},
                       .payload = payload});
    if (to == no_node)
        return drop(from, to, drop_reason::no_route, payload, false, false);
    if (payload.size() > m_config.datagram_size_max)
        return drop(from, to, drop_reason::oversize, payload, false, false);

    link_model* link = &m_default_link;
    int64_t* link_free_at = nullptr;
    if (!m_links.empty()) {
        auto it = m_links.find(link_key(from, to));
        if (it != m_links.end()) {
            link = &it->second;
            link_free_at = &it->second.free_at_ns;
        }
    }
    if (link_free_at == nullptr && link->bandwidth_bytes_per_second != 0)
        link_free_at = &m_default_busy[link_key(from, to)];

    if (m_random.chance(link->loss))
        return drop(from, to, drop_reason::loss, payload, false, false);

    int64_t departure_ns = m_now.ns_since_origin;
    node_state& sender = m_nodes[from];
    if (sender.egress_bytes_per_second != 0) {
        departure_ns = serialize(departure_ns, payload.size(), sender.egress_bytes_per_second,
                                 sender.egress_queue_bytes_max, sender.egress_free_at_ns);
        if (departure_ns < 0)
            return drop(from, to, drop_reason::queue_full, payload, false, false);
    }
    if (link->bandwidth_bytes_per_second != 0) {
        departure_ns = serialize(departure_ns, payload.size(), link->bandwidth_bytes_per_second,
                                 link->queue_bytes_max, *link_free_at);
        if (departure_ns < 0)
            return drop(from, to, drop_reason::queue_full, payload, false, false);
    }

    const int copies = m_random.chance(link->duplicate) ? 2 : 1;
    for (int copy = 0; copy < copies; ++copy) {
        const bool duplicate = copy == 1;
        if (m_packets_in_flight >= m_config.packets_in_flight_max) {
            drop(from, to, drop_reason::in_flight_limit, payload, duplicate, false);
            continue;
        }
        const duration delay = draw_delay(*link);
        const uint32_t slot = alloc_packet();
        packet& p = m_packets[slot];
        p.bytes.assign(payload.begin(), payload.end());
        p.from = from;
        p.duplicate = duplicate;
        p.corrupted = !payload.empty() && m_random.chance(link->corrupt);
        if (p.corrupted) {
            corrupt(p.bytes, link->corrupt_bits_max);
            ++m_stats.corrupted;
        }
        if (duplicate)
            ++m_stats.duplicated;
        push(departure_ns + delay.count(), event_type::deliver, to, slot);
    }
}

// --- the event loop ---------------------------------------------------------------------------

void world::push(int64_t at_ns, event_type type, uint32_t node, uint32_t slot) {
    AINET_ASSERT(at_ns >= m_now.ns_since_origin);
    m_queue.push_back(event{at_ns, m_sequence++, slot, node, type});
    std::push_heap(m_queue.begin(), m_queue.end(), event_later{});
}

bool world::step() {
    if (m_queue.empty())
        return false;
    std::pop_heap(m_queue.begin(), m_queue.end(), event_later{});
    const event e = m_queue.back();
    m_queue.pop_back();
    AINET_ASSERT(e.at_ns >= m_now.ns_since_origin);
    m_now = instant{e.at_ns};
    ++m_stats.events;
    if (!m_held.empty() && hold_if_paused(e))
        return true; // pause/resume block below
    switch (e.type) {
    case event_type::deliver:
        run_deliver(e);
        break;
    case event_type::timer:
        run_timer(e);
        break;
    case event_type::start:
        run_start(e);
        break;
    case event_type::action:
        run_action(e);
        break;
    case event_type::message:
        run_message(e);
        break;
    }
    return true;
}

uint64_t world::run_until(instant t) {
    AINET_ASSERT(!m_in_handler);
    AINET_ASSERT(t >= m_now);
    uint64_t count = 0;
    while (!m_queue.empty() && m_queue.front().at_ns <= t.ns_since_origin) {
        step();
        ++count;
    }
    m_now = t;
    return count;
}

void world::run_deliver(const event& e) {
    packet& p = m_packets[e.slot];
    const uint32_t from = p.from;
    const bool duplicate = p.duplicate;
    const bool corrupted = p.corrupted;
    // The buffer stays put while m_packets grows (vector moves keep their heap buffers).
    const bytes_view payload(p.bytes.data(), p.bytes.size());
    node_state& n = m_nodes[e.node];
    if (!n.up) {
        drop(from, e.node, drop_reason::node_down, payload, duplicate, corrupted);
    } else if (!m_partitions.empty() && blocked(node_index{from}, node_index{e.node})) {
        drop(from, e.node, drop_reason::partition, payload, duplicate, corrupted);
    } else {
        ++m_stats.delivered;
        record(trace_event{.kind = event_kind::delivered,
                           .duplicate = duplicate,
                           .corrupted = corrupted,
                           .at = m_now,
                           .from = node_index{from},
                           .to = node_index{e.node},
                           .payload = payload});
        context ctx = make_context(e.node);
        const datagram_ref d{payload, m_config.addresses.endpoint_of(node_index{from})};
        m_in_handler = true;
        n.process->on_datagram(ctx, d);
        m_in_handler = false;
    }
    free_packet(e.slot);
}

void world::run_timer(const event& e) {
    timer_slot& t = m_timers[e.slot];
    node_state& n = m_nodes[t.node];
    const bool live = t.armed && n.up && t.incarnation == n.incarnation;
    const uint64_t cookie = t.cookie;
    t.armed = false;
    m_free_timers.push_back(e.slot);
    if (!live)
        return; // cancelled, or its incarnation crashed
    --n.timers_armed;
    ++m_stats.timers_fired;
    record(trace_event{.kind = event_kind::timer_fired,
                       .at = m_now,
                       .from = node_index{e.node},
                       .to = node_index{e.node},
                       .cookie = cookie});
    context ctx = make_context(e.node);
    m_in_handler = true;
    n.process->on_timer(ctx, cookie);
    m_in_handler = false;
}

void world::run_start(const event& e) {
    node_state& n = m_nodes[e.node];
    if (n.up || n.incarnation != e.slot)
        return; // superseded by a later restart
    node_spec spec{node_index{e.node}, m_config.addresses.endpoint_of(node_index{e.node}),
                   n.incarnation, std::nullopt};
    if (n.has_persisted)
        spec.persisted = bytes_view(n.persisted);
    n.random = rng(derive_seed(m_config.seed, uint64_t{e.node} + 1, n.incarnation));
    n.local_floor_ns = INT64_MIN; // a new process: its monotonic clock owes nothing to the last
    m_in_handler = true;
    n.process = m_factory(spec);
    m_in_handler = false;
    AINET_ASSERT_MSG(n.process != nullptr, "the node factory returned no node");
    n.up = true;
    ++m_stats.starts;
    record(trace_event{.kind = event_kind::started,
                       .at = m_now,
                       .from = node_index{e.node},
                       .to = node_index{e.node},
                       .cookie = n.incarnation});
    context ctx = make_context(e.node);
    m_in_handler = true;
    n.process->on_start(ctx);
    m_in_handler = false;
}

void world::run_action(const event& e) {
    std::function<void(world&)> fn = std::move(m_actions[e.slot]);
    m_actions[e.slot] = nullptr;
    m_free_actions.push_back(e.slot);
    record(trace_event{.kind = event_kind::action, .at = m_now, .cookie = e.slot});
    fn(*this);
}

// --- pause/resume (membership scenarios, issue 5) ----------------------------------- begin ---

void world::pause(node_index i) {
    AINET_ASSERT_MSG(!m_in_handler, "pause() from inside a node handler");
    AINET_ASSERT(to_index(i) < m_nodes.size());
    m_held.try_emplace(to_index(i));
}

void world::resume(node_index i) {
    AINET_ASSERT_MSG(!m_in_handler, "resume() from inside a node handler");
    auto it = m_held.find(to_index(i));
    if (it == m_held.end())
        return;
    std::vector<event> held = std::move(it->second);
    m_held.erase(it);
    // Re-queued now, in their original order (fresh sequence numbers keep it).
    for (const event& e : held)
        push(m_now.ns_since_origin, e.type, e.node, e.slot);
}

bool world::is_paused(node_index i) const noexcept {
    return m_held.find(to_index(i)) != m_held.end();
}

bool world::hold_if_paused(const event& e) {
    if (e.type == event_type::action)
        return false;
    auto it = m_held.find(e.node);
    if (it == m_held.end())
        return false;
    it->second.push_back(e);
    return true;
}

// --- pause/resume ------------------------------------------------------------------------ end ---

// --- request/response messages (the HTTP model; discovery, issue 5) -----------------------------

void context::send_message(const endpoint& to, bytes_view message) {
    m_world.transmit_message(to_index(m_self), to, message);
}

void world::send_message_from(node_index from, const endpoint& to, bytes_view message) {
    AINET_ASSERT(to_index(from) < m_nodes.size());
    transmit_message(to_index(from), to, message);
}

void world::transmit_message(uint32_t from, const endpoint& to_address, bytes_view message) {
    ++m_stats.sent;
    ++m_messages_sent;
    m_message_bytes_sent += message.size();
    endpoint resolved_address = to_address;
    resolved_address.port = m_config.addresses.port; // HTTP and UDP addresses share the IP
    const std::optional<node_index> resolved = m_config.addresses.index_of(resolved_address);
    const uint32_t to =
        resolved && to_index(*resolved) < m_nodes.size() ? to_index(*resolved) : no_node;
    record(trace_event{.kind = event_kind::sent,
                       .at = m_now,
                       .from = node_index{from},
                       .to = node_index{to},
                       .cookie = message_trace_cookie,
                       .payload = message});
    if (to == no_node)
        return drop(from, to, drop_reason::no_route, message, false, false);
    if (message.size() > message_size_max)
        return drop(from, to, drop_reason::oversize, message, false, false);
    const link_model* link = &m_default_link;
    if (!m_links.empty()) {
        auto it = m_links.find(link_key(from, to));
        if (it != m_links.end())
            link = &it->second;
    }
    duration delay = link->latency_base;
    if (link->jitter.count() > 0)
        delay += link->shape == jitter_shape::uniform
                     ? m_random.uniform(duration{0}, link->jitter)
                     : m_random.exponential(link->jitter, link->jitter * 8);
    // In order per pair: never before the pair's previous message.
    int64_t& last = m_channel_last_ns[link_key(from, to)];
    const int64_t at = std::max(m_now.ns_since_origin + delay.count(), last);
    last = at;
    uint32_t slot;
    if (!m_free_messages.empty()) {
        slot = m_free_messages.back();
        m_free_messages.pop_back();
    } else {
        slot = static_cast<uint32_t>(m_messages.size());
        m_messages.emplace_back();
    }
    m_messages[slot].bytes.assign(message.begin(), message.end());
    m_messages[slot].from = from;
    push(at, event_type::message, to, slot);
}

void world::run_message(const event& e) {
    message_slot& m = m_messages[e.slot];
    const uint32_t from = m.from;
    std::vector<uint8_t> bytes = std::move(m.bytes);
    m.bytes.clear();
    m_free_messages.push_back(e.slot);
    const bytes_view payload(bytes);
    node_state& n = m_nodes[e.node];
    if (!n.up)
        return drop(from, e.node, drop_reason::node_down, payload, false, false);
    if (!m_partitions.empty() && blocked(node_index{from}, node_index{e.node}))
        return drop(from, e.node, drop_reason::partition, payload, false, false);
    ++m_stats.delivered;
    record(trace_event{.kind = event_kind::delivered,
                       .at = m_now,
                       .from = node_index{from},
                       .to = node_index{e.node},
                       .cookie = message_trace_cookie,
                       .payload = payload});
    context ctx = make_context(e.node);
    m_in_handler = true;
    n.process->on_message(ctx, m_config.addresses.endpoint_of(node_index{from}), payload);
    m_in_handler = false;
}

// --- end of request/response messages ---------------------------------------------------------

} // namespace ainet::sim
