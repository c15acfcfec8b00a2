#include <ainet/core/assert.hpp>
#include <ainet/core/bytes.hpp>
#include <ainet/core/counter.hpp>
#include <ainet/discovery/bootstrap_manager.hpp>

#include <algorithm>
#include <queue>
#include <utility>

namespace ainet::discovery {

namespace {

int64_t ms(unix_ms t) noexcept {
    return static_cast<int64_t>(t);
}

// Persisted state (little-endian, byte_writer/byte_reader):
//     u32 magic "ABDS" | u8 version (1) | varint count (<= nodes_max)
//     count x { 32 public key | endpoint udp | endpoint http | u64 issued_at | u64 expires_at
//               | 64 signature | u8 depth }
//     endpoint = u8 family (4 or 6) | 4 or 16 address bytes | u16 port
constexpr uint32_t persisted_magic = 0x53444241; // "ABDS" as read little-endian

void write_endpoint(byte_writer& w, const endpoint& e) {
    w.u8(static_cast<uint8_t>(e.family));
    w.bytes(bytes_view(e.address.data(), e.address_size()));
    w.u16(e.port);
}

result<endpoint> read_endpoint(byte_reader& r) {
    auto family = r.u8();
    if (!family || (*family != 4 && *family != 6))
        return fail(errc::bad_value);
    endpoint e;
    e.family = *family == 4 ? address_family::ipv4 : address_family::ipv6;
    auto address = r.bytes(e.address_size());
    if (!address)
        return fail(errc::bad_value);
    std::copy(address->begin(), address->end(), e.address.begin());
    auto port = r.u16();
    if (!port || *port == 0)
        return fail(errc::bad_value);
    e.port = *port;
    return e;
}

constexpr size_t persisted_entry_size_min = 32 + 7 + 7 + 8 + 8 + 64 + 1;

} // namespace

uint64_t bootstrap_manager::netgroup(const endpoint& e) noexcept {
    if (e.family == address_family::ipv4)
        return (uint64_t{4} << 40) | (uint64_t{e.address[0]} << 8) | e.address[1];
    return (uint64_t{6} << 40) | (uint64_t{e.address[0]} << 24) | (uint64_t{e.address[1]} << 16) |
           (uint64_t{e.address[2]} << 8) | e.address[3];
}

bootstrap_manager::bootstrap_manager(const crypto::key_pair& keys,
                                     const bootstrap_manager_config& config)
    : m_keys(keys), m_config(config), m_known(config.table),
      m_random_state(config.seed ^ 0x626f6f7473747261ull) {
    AINET_ASSERT(config.udp.port != 0 && config.http.port != 0);
    AINET_ASSERT(config.selected_max >= 1 && config.served_max >= 1);
    AINET_ASSERT(config.served_max <= config.document.records_max);
    AINET_ASSERT(config.concurrency_max >= 1 && config.fanout_max >= 1);
    AINET_ASSERT(config.failures_max >= 1 && config.feeler_one_in >= 1);
    AINET_ASSERT(config.rate_burst >= 1 && config.rate_clients_max >= 1);
    AINET_ASSERT(config.events_max >= 1 && config.depth_max >= 1);
    AINET_ASSERT(config.round_interval.count() > 0 && config.round_interval_idle.count() > 0);
    AINET_ASSERT(config.fetch_timeout.count() > 0 && config.rate_refill_interval.count() > 0);
    AINET_ASSERT(config.rtt_reference.count() > 0 && config.uptime_window.count() > 0);
    for (const auto& s : config.statics.nodes) {
        if (s.public_key == keys.id())
            continue; // a node listed in its own bootstrap file does not ask itself
        peer_state p;
        p.is_static = true;
        p.depth = 0;
        p.http = s.http;
        m_peers.emplace(s.public_key, p);
    }
}

uint64_t bootstrap_manager::random() noexcept {
    // splitmix64 (Steele, Lea, Flood 2014): a seeded stream, enough for picking peers.
    uint64_t z = (m_random_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

bool bootstrap_manager::contains(const node_record& record) const noexcept {
    if (record.id == m_own.id)
        return record == m_own;
    const node_record* held = m_known.find(record.id);
    return held != nullptr && *held == record;
}

void bootstrap_manager::refresh_own(unix_ms wall) {
    const int64_t now_ms = ms(wall);
    const bool fresh = !m_own_text.empty() &&
                       ms(m_own.expires_at) - now_ms > m_config.record_lifetime_ms / 2 &&
                       ms(m_own.issued_at) <= now_ms;
    if (fresh)
        return;
    m_own = make_node_record(m_keys, m_config.udp, m_config.http, wall,
                             unix_ms{now_ms + m_config.record_lifetime_ms});
    m_own_text = canonicalize(to_json(m_own));
    m_served_at.reset();
}

const std::string& bootstrap_manager::announcement(unix_ms wall) {
    refresh_own(wall);
    return m_own_text;
}

void bootstrap_manager::start(instant now, unix_ms wall) {
    AINET_ASSERT(!m_started);
    m_started = true;
    refresh_own(wall);
    m_next_round = now;
    tick(now, wall);
}

instant bootstrap_manager::next_deadline() const noexcept {
    instant next = m_next_round;
    for (const auto& [id, f] : m_in_flight)
        next = std::min(next, f.deadline);
    return next;
}

std::vector<fetch_request> bootstrap_manager::take_requests() {
    return std::exchange(m_requests, {});
}

std::vector<discovery_event> bootstrap_manager::take_events() {
    return std::exchange(m_events, {});
}

void bootstrap_manager::tick(instant now, unix_ms wall) {
    AINET_ASSERT(m_started);
    refresh_own(wall);
    std::vector<uint64_t> expired;
    for (const auto& [id, f] : m_in_flight)
        if (f.deadline <= now)
            expired.push_back(id);
    for (uint64_t id : expired) {
        auto it = m_in_flight.find(id);
        if (it == m_in_flight.end())
            continue; // its node was pruned by an earlier timeout of this loop
        const node_id target = it->second.target;
        m_in_flight.erase(it);
        bump(m_counters.fetches_timed_out);
        contact_failed(target, now);
    }
    if (now >= m_next_round) {
        run_round(now, wall);
        const bool full = m_selected.size() >= m_config.selected_max;
        m_next_round = now + (full ? m_config.round_interval_idle : m_config.round_interval);
    }
}

bool bootstrap_manager::table_dry() const {
    for (const auto& [id, p] : m_peers)
        if (!p.is_static && p.failures == 0)
            return false;
    return true;
}

void bootstrap_manager::run_round(instant now, unix_ms) {
    compute_selected(now);
    size_t budget =
        std::min(m_config.fanout_max,
                 m_config.concurrency_max - std::min(m_config.concurrency_max, m_in_flight.size()));
    if (budget == 0)
        return;
    auto due = [&](const peer_state& p) { return !p.in_flight && p.next_allowed <= now; };

    // 1. The static fallback: at start and whenever the learned table has nothing usable.
    if (table_dry()) {
        bool any = false;
        for (auto& [id, p] : m_peers) {
            if (budget == 0)
                break;
            if (p.is_static && due(p) && p.last_contact + m_config.round_interval <= now) {
                launch(id, now, false);
                --budget;
                any = true;
            }
        }
        if (any)
            bump(m_counters.static_fallbacks);
    }

    // 2. Never-contacted nodes, at random: discovery while the selected set is short, one
    //    feeler in feeler_one_in rounds once it is full.
    std::vector<node_id> fresh;
    for (const auto& [id, p] : m_peers)
        if (!p.fetched_once && !p.is_static && due(p))
            fresh.push_back(id);
    const bool healthy = m_selected.size() >= m_config.selected_max;
    size_t fresh_budget = budget;
    if (healthy)
        fresh_budget = random() % m_config.feeler_one_in == 0 ? std::min<size_t>(budget, 1) : 0;
    while (fresh_budget > 0 && !fresh.empty()) {
        const size_t pick = random() % fresh.size();
        launch(fresh[pick], now, healthy);
        fresh[pick] = fresh.back();
        fresh.pop_back();
        --fresh_budget;
        --budget;
    }

    // 3. Revisit known nodes to keep scores current: the one contacted longest ago, once
    //    revisit_interval has passed. While the selected set is short, nodes that may still
    //    teach us something (depth < depth_max, statics included) are asked again every
    //    discovery_revisit_interval, shallowest first: their lists grow as the network finds
    //    them.
    while (budget > 0) {
        const node_id* best = nullptr;
        std::pair<uint8_t, instant> best_key{UINT8_MAX, instant{INT64_MAX}};
        for (const auto& [id, p] : m_peers) {
            if (!p.fetched_once || !due(p))
                continue;
            const bool teaching = !healthy && p.depth < m_config.depth_max && p.taught;
            // A node that failed is retried as soon as its backoff ends, to prune it or clear it.
            const duration interval = p.failures > 0 ? duration{0}
                                      : teaching     ? m_config.discovery_revisit_interval
                                                     : m_config.revisit_interval;
            if (p.last_contact + interval > now)
                continue;
            if (p.is_static && healthy && !table_dry())
                continue; // statics are the fallback, not everyone's steady peer
            const std::pair<uint8_t, instant> key{teaching ? p.depth : uint8_t{0}, p.last_contact};
            if (key < best_key) {
                best_key = key;
                best = &id;
            }
        }
        if (best == nullptr)
            break;
        launch(*best, now, false);
        --budget;
    }
}

void bootstrap_manager::launch(const node_id& id, instant now, bool feeler) {
    auto it = m_peers.find(id);
    AINET_ASSERT(it != m_peers.end());
    peer_state& p = it->second;
    AINET_ASSERT(!p.in_flight);
    const node_record* record = m_known.find(id);
    fetch_request r;
    r.id = m_next_id++;
    r.target = id;
    r.http = record != nullptr ? record->http : p.http;
    r.feeler = feeler;
    p.in_flight = true;
    p.fetched_once = true;
    p.last_contact = now;
    m_in_flight.emplace(r.id, flight{id, now, now + m_config.fetch_timeout});
    m_requests.push_back(r);
    bump(m_counters.fetches_started);
    if (feeler)
        bump(m_counters.feelers_started);
    AINET_ASSERT(m_in_flight.size() <= m_config.concurrency_max);
}

void bootstrap_manager::contact_failed(const node_id& id, instant now) {
    auto it = m_peers.find(id);
    if (it == m_peers.end())
        return;
    peer_state& p = it->second;
    p.in_flight = false;
    ++p.failures;
    p.outcomes = static_cast<uint16_t>(p.outcomes << 1);
    p.outcome_count =
        static_cast<uint8_t>(std::min<size_t>(p.outcome_count + 1u, stability_window));
    p.up_since.reset();
    const uint32_t shift = std::min<uint32_t>(p.failures - 1, 20);
    const duration cap = p.is_static ? m_config.static_backoff_max : m_config.backoff_max;
    const duration backoff = std::min(cap, m_config.backoff_base * (int64_t{1} << shift));
    p.next_allowed = now + backoff;
    m_selected_dirty = true;
    if (!p.is_static && p.failures >= m_config.failures_max)
        prune(id);
}

void bootstrap_manager::contact_ok(const node_id& id, instant now, duration rtt) {
    auto it = m_peers.find(id);
    if (it == m_peers.end())
        return;
    peer_state& p = it->second;
    p.in_flight = false;
    p.failures = 0;
    p.next_allowed = instant{INT64_MIN};
    p.outcomes = static_cast<uint16_t>((static_cast<unsigned>(p.outcomes) << 1) | 1u);
    p.outcome_count =
        static_cast<uint8_t>(std::min<size_t>(p.outcome_count + 1u, stability_window));
    if (!p.up_since)
        p.up_since = now;
    const int64_t sample = std::max<int64_t>(rtt.count(), 0);
    p.rtt_ewma_ns = p.rtt_ewma_ns < 0 ? sample : (7 * p.rtt_ewma_ns + sample) / 8;
    m_selected_dirty = true;
}

void bootstrap_manager::prune(const node_id& id) {
    auto it = m_peers.find(id);
    AINET_ASSERT(it != m_peers.end() && !it->second.is_static);
    const node_record* record = m_known.find(id);
    if (record != nullptr) {
        push_event(discovery_event::kind::pruned, id, *record);
        // Remember what was pruned, so peers that still list the same record cannot bring it
        // straight back; a newer record (the node restarted) or its own announcement can.
        if (m_pruned.size() >= m_config.pruned_memory_max) {
            m_pruned.erase(m_pruned_order.front());
            m_pruned_order.pop_front();
        }
        if (m_pruned.insert_or_assign(id, record->issued_at).second)
            m_pruned_order.push_back(id);
        m_known.erase(id);
    }
    // A fetch still in flight for it answers into nothing (responses_unknown).
    for (auto f = m_in_flight.begin(); f != m_in_flight.end();) {
        if (f->second.target == id)
            f = m_in_flight.erase(f);
        else
            ++f;
    }
    m_peers.erase(it);
    bump(m_counters.nodes_pruned);
    m_selected_dirty = true;
}

void bootstrap_manager::push_event(discovery_event::kind what, const node_id& id,
                                   const node_record& record) {
    if (m_events.size() >= m_config.events_max) {
        bump(m_counters.events_dropped);
        return;
    }
    m_events.push_back(discovery_event{what, id, record});
}

void bootstrap_manager::on_failure(uint64_t id, instant now) {
    auto it = m_in_flight.find(id);
    if (it == m_in_flight.end()) {
        bump(m_counters.responses_unknown);
        return;
    }
    const node_id target = it->second.target;
    m_in_flight.erase(it);
    bump(m_counters.fetches_failed);
    contact_failed(target, now);
}

void bootstrap_manager::on_response(uint64_t id, std::string_view body, instant now, unix_ms wall) {
    auto it = m_in_flight.find(id);
    if (it == m_in_flight.end()) {
        bump(m_counters.responses_unknown);
        return;
    }
    const flight f = it->second;
    m_in_flight.erase(it);
    auto document = parse_and_verify_document(body, f.target, wall, m_config.document,
                                              m_counters.documents, this);
    if (!document) {
        bump(m_counters.fetches_rejected);
        contact_failed(f.target, now);
        return;
    }
    bump(m_counters.fetches_ok);
    contact_ok(f.target, now, now - f.sent_at);
    const auto source = m_peers.find(f.target);
    if (source == m_peers.end())
        return;
    const uint8_t source_depth = source->second.depth;
    if (source_depth >= m_config.depth_max) {
        bump(m_counters.records_too_deep, document->accepted_count);
        return;
    }
    std::vector<node_record> records;
    records.reserve(document->accepted_count);
    for (size_t i = 0; i < document->records.size(); ++i) {
        const node_record& r = document->records[i];
        if (document->verdicts[i] != record_verdict::accepted || r.id == m_own.id)
            continue;
        const auto tomb = m_pruned.find(r.id);
        if (tomb != m_pruned.end() && ms(r.issued_at) <= ms(tomb->second)) {
            bump(m_counters.records_pruned_before);
            continue;
        }
        records.push_back(r);
    }
    const merge_report report = m_known.merge(document->signer, records);
    bump(m_counters.records_added, report.added.size());
    bump(m_counters.records_updated, report.updated.size());
    bump(m_counters.records_source_capped, report.source_cap_count);
    bump(m_counters.records_table_full, report.table_full_count);
    const auto depth = static_cast<uint8_t>(source_depth + 1);
    for (const auto& added : report.added) {
        auto [p, inserted] = m_peers.try_emplace(added);
        if (inserted)
            p->second.depth = depth;
        else
            p->second.depth = std::min(p->second.depth, depth); // a static's own record
        push_event(discovery_event::kind::discovered, added, *m_known.find(added));
    }
    // A record of a known node seen again through a shallower source lowers its depth.
    for (const auto& r : records) {
        auto p = m_peers.find(r.id);
        if (p != m_peers.end() && m_known.find(r.id) != nullptr)
            p->second.depth = std::min(p->second.depth, depth);
    }
    source->second.taught = !report.added.empty();
    if (report.changed())
        m_selected_dirty = true;
}

bool bootstrap_manager::admit(const endpoint& client, instant now) {
    endpoint key = client;
    key.port = 0; // per address: a client opening many connections is still one client
    const int64_t interval = m_config.rate_refill_interval.count();
    const int64_t full = int64_t{m_config.rate_burst} * interval;
    auto it = m_buckets.find(key);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= m_config.rate_clients_max) {
            // Drop the buckets that have refilled completely: those clients are idle and a new
            // bucket for them would be identical.
            std::erase_if(m_buckets, [&](const auto& kv) {
                return kv.second.tokens_ns + (now - kv.second.last).count() >= full;
            });
            if (m_buckets.size() >= m_config.rate_clients_max) {
                bump(m_counters.rate_table_full);
                return false;
            }
        }
        it = m_buckets.emplace(key, bucket{full, now}).first;
    }
    bucket& b = it->second;
    const int64_t elapsed = std::max<int64_t>((now - b.last).count(), 0);
    b.tokens_ns = std::min(full, b.tokens_ns + elapsed);
    b.last = std::max(b.last, now);
    if (b.tokens_ns < interval) {
        bump(m_counters.rate_limited);
        return false;
    }
    b.tokens_ns -= interval;
    return true;
}

bool bootstrap_manager::on_announce(std::string_view record_text, const endpoint& client, instant,
                                    unix_ms wall) {
    auto parsed = parse_record(record_text);
    bool ok = parsed.has_value() && parsed->id != m_own.id;
    // The announced http address must be the client's own address: a node may announce only
    // itself, from where it is.
    ok = ok && parsed->http.family == client.family && parsed->http.address == client.address;
    ok = ok && (contains(*parsed) || judge_record(*parsed, verify_record(*parsed), wall,
                                                  m_config.document) == record_verdict::accepted);
    if (!ok) {
        bump(m_counters.announces_rejected);
        return false;
    }
    bump(m_counters.announces_accepted);
    const node_record record = *parsed;
    if (m_pruned.erase(record.id) > 0)
        std::erase(m_pruned_order, record.id); // it is alive after all: it asked us
    const merge_report report = m_known.merge(record.id, std::span<const node_record>(&record, 1));
    bump(m_counters.records_added, report.added.size());
    bump(m_counters.records_updated, report.updated.size());
    bump(m_counters.records_source_capped, report.source_cap_count);
    bump(m_counters.records_table_full, report.table_full_count);
    if (!report.added.empty()) {
        auto [p, inserted] = m_peers.try_emplace(record.id);
        if (inserted)
            p->second.depth = 1;
        push_event(discovery_event::kind::discovered, record.id, record);
    }
    if (report.changed())
        m_selected_dirty = true;
    return true;
}

uint32_t bootstrap_manager::base_score(const peer_state& p, instant now, uint32_t* l, uint32_t* s,
                                       uint32_t* u) const {
    const int64_t reference = m_config.rtt_reference.count();
    const uint32_t latency =
        p.rtt_ewma_ns < 0 ? 500u
                          : static_cast<uint32_t>(1000 * reference / (reference + p.rtt_ewma_ns));
    uint32_t ok = 0;
    for (size_t i = 0; i < p.outcome_count; ++i)
        ok += (p.outcomes >> i) & 1u;
    const uint32_t stability = 1000 * (ok + 1) / (p.outcome_count + 2u);
    uint32_t uptime = 0;
    if (p.up_since) {
        const int64_t window = m_config.uptime_window.count();
        const int64_t up =
            std::min<int64_t>(std::max<int64_t>((now - *p.up_since).count(), 0), window);
        // In ms, so up * 1000 cannot overflow for any window below 290,000 years.
        uptime = static_cast<uint32_t>((up / 1'000'000) * 1000 /
                                       std::max<int64_t>(window / 1'000'000, 1));
    }
    if (l != nullptr)
        *l = latency;
    if (s != nullptr)
        *s = stability;
    if (u != nullptr)
        *u = uptime;
    return (4 * latency + 4 * stability + 2 * uptime) / 10;
}

void bootstrap_manager::compute_selected(instant now) {
    // Candidates grouped by netgroup, each group best first.
    struct candidate {
        uint64_t score; // tried nodes above every untried one, then the base score
        node_id id;
    };
    std::map<uint64_t, std::vector<candidate>> groups;
    for (const auto& [id, p] : m_peers) {
        const node_record* record = m_known.find(id);
        if (record == nullptr || p.failures != 0)
            continue;
        const bool tried = p.outcome_count > 0; // and failures == 0: its last contact worked
        groups[netgroup(record->http)].push_back(candidate{
            (tried ? uint64_t{1} << 12 : 0) + base_score(p, now, nullptr, nullptr, nullptr), id});
    }
    struct head {
        uint64_t effective_scaled; // score * 2^20 / (1 + k): integer, so ties are exact
        node_id id;
        uint64_t group;
        size_t next;
    };
    auto worse = [](const head& a, const head& b) {
        if (a.effective_scaled != b.effective_scaled)
            return a.effective_scaled < b.effective_scaled;
        return a.id > b.id; // ties go to the lower node id
    };
    std::priority_queue<head, std::vector<head>, decltype(worse)> heap(worse);
    for (auto& [g, list] : groups) {
        std::sort(list.begin(), list.end(), [](const candidate& a, const candidate& b) {
            return a.score != b.score ? a.score > b.score : a.id < b.id;
        });
        heap.push(head{uint64_t{list[0].score} << 20, list[0].id, g, 0});
    }
    m_selected.clear();
    while (!heap.empty() && m_selected.size() < m_config.selected_max) {
        const head h = heap.top();
        heap.pop();
        m_selected.push_back(h.id);
        const auto& list = groups[h.group];
        const size_t next = h.next + 1;
        if (next < list.size())
            heap.push(head{(uint64_t{list[next].score} << 20) / (next + 1), list[next].id, h.group,
                           next});
    }
    m_selected_dirty = false;
}

std::vector<node_id> bootstrap_manager::selected(instant now) {
    compute_selected(now);
    return m_selected;
}

const std::string& bootstrap_manager::serve(instant now, unix_ms wall) {
    bump(m_counters.served);
    refresh_own(wall);
    if (m_served_at && now - *m_served_at < m_config.serve_cache_ttl)
        return m_served;
    if (m_selected_dirty)
        compute_selected(now);
    std::vector<node_record> records;
    records.reserve(std::min(m_config.served_max, m_selected.size() + 1));
    records.push_back(m_own);
    for (const auto& id : m_selected) {
        if (records.size() >= m_config.served_max)
            break;
        const node_record* r = m_known.find(id);
        if (r != nullptr && ms(r->expires_at) > ms(wall))
            records.push_back(*r);
    }
    m_served = make_document(m_keys, records, wall);
    m_served_at = now;
    bump(m_counters.serve_signatures);
    return m_served;
}

std::vector<node_id> bootstrap_manager::known_ids() const {
    std::vector<node_id> out;
    for (const auto& [id, p] : m_peers)
        if (m_known.find(id) != nullptr)
            out.push_back(id);
    return out;
}

std::vector<peer_view> bootstrap_manager::peers(instant now) {
    compute_selected(now);
    std::vector<peer_view> out;
    out.reserve(m_peers.size());
    for (const auto& [id, p] : m_peers) {
        peer_view v;
        v.id = id;
        const node_record* record = m_known.find(id);
        v.has_record = record != nullptr;
        v.http = record != nullptr ? record->http : p.http;
        if (record != nullptr)
            v.udp = record->udp;
        v.is_static = p.is_static;
        v.selected = std::find(m_selected.begin(), m_selected.end(), id) != m_selected.end();
        v.depth = p.depth;
        v.failures = p.failures;
        v.contacts = p.outcome_count;
        for (size_t i = 0; i < p.outcome_count; ++i)
            v.successes += (p.outcomes >> i) & 1u;
        v.rtt_ewma_us = p.rtt_ewma_ns < 0 ? -1 : p.rtt_ewma_ns / 1000;
        v.score = base_score(p, now, &v.latency_points, &v.stability_points, &v.uptime_points);
        out.push_back(v);
    }
    return out;
}

std::vector<uint8_t> bootstrap_manager::persist() const {
    std::vector<node_record> records;
    std::vector<uint8_t> depths;
    for (const auto& [id, p] : m_peers) {
        const node_record* r = m_known.find(id);
        if (r == nullptr || p.is_static)
            continue;
        records.push_back(*r);
        depths.push_back(p.depth);
    }
    std::vector<uint8_t> out(4 + 1 + varint_size_max +
                             records.size() * (32 + 2 * 19 + 16 + 64 + 1));
    byte_writer w(out);
    w.u32(persisted_magic);
    w.u8(persisted_version);
    w.varint(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
        const node_record& r = records[i];
        w.bytes(bytes_view(r.id.bytes));
        write_endpoint(w, r.udp);
        write_endpoint(w, r.http);
        w.u64(static_cast<uint64_t>(ms(r.issued_at)));
        w.u64(static_cast<uint64_t>(ms(r.expires_at)));
        w.bytes(bytes_view(r.sig));
        w.u8(depths[i]);
    }
    AINET_ASSERT(w.ok());
    out.resize(w.position());
    return out;
}

result<size_t> bootstrap_manager::restore(bytes_view blob, unix_ms wall) {
    AINET_ASSERT(!m_started);
    auto reject = [&](errc e) -> result<size_t> {
        bump(m_counters.restore_rejected);
        return fail(e);
    };
    if (blob.size() > m_config.persisted_size_max)
        return reject(errc::too_large);
    byte_reader r(blob);
    auto magic = r.u32();
    auto version = r.u8();
    if (!magic || *magic != persisted_magic || !version || *version != persisted_version)
        return reject(errc::bad_value);
    auto count = r.varint();
    if (!count || *count > m_config.table.nodes_max ||
        *count > r.remaining() / persisted_entry_size_min)
        return reject(errc::too_many_records);
    std::vector<node_record> records;
    std::vector<uint8_t> depths;
    records.reserve(*count);
    for (uint64_t i = 0; i < *count; ++i) {
        node_record rec;
        auto id = r.fixed<32>();
        if (!id)
            return reject(errc::bad_value);
        rec.id.bytes = *id;
        AINET_TRY(udp, read_endpoint(r));
        AINET_TRY(http, read_endpoint(r));
        rec.udp = udp;
        rec.http = http;
        auto issued = r.u64();
        auto expires = r.u64();
        auto sig = r.fixed<64>();
        auto depth = r.u8();
        if (!issued || !expires || !sig || !depth || *issued > json_integer_max ||
            *expires > json_integer_max || *depth == 0 || *depth > m_config.depth_max)
            return reject(errc::bad_value);
        rec.issued_at = unix_ms{static_cast<int64_t>(*issued)};
        rec.expires_at = unix_ms{static_cast<int64_t>(*expires)};
        rec.sig = *sig;
        records.push_back(rec);
        depths.push_back(*depth);
    }
    if (!r.expect_end())
        return reject(errc::syntax);

    // Every signature again, in one batch: the file is outside our control.
    std::vector<std::string> texts;
    std::vector<std::vector<uint8_t>> messages;
    std::vector<crypto::verify_request> requests;
    messages.reserve(records.size());
    for (const auto& rec : records) {
        const std::string text = record_signed_text(rec);
        messages.push_back(crypto::signed_message(
            crypto::sig_domain::node_record,
            bytes_view(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
        requests.push_back(crypto::verify_request{rec.id.bytes, messages.back(), rec.sig});
    }
    const auto ok = std::make_unique<bool[]>(records.empty() ? 1 : records.size());
    crypto::verify_batch(requests, std::span<bool>(ok.get(), records.size()));
    size_t restored = 0;
    for (size_t i = 0; i < records.size(); ++i) {
        const node_record& rec = records[i];
        if (rec.id == m_keys.id() ||
            judge_record(rec, ok[i], wall, m_config.document) != record_verdict::accepted)
            continue;
        const merge_report report = m_known.merge(rec.id, std::span<const node_record>(&rec, 1));
        if (report.added.empty())
            continue;
        auto [p, inserted] = m_peers.try_emplace(rec.id);
        if (inserted)
            p->second.depth = depths[i];
        // As if learnt now: the node re-seeds membership with the nodes it knew, so a restart
        // while its static nodes are unreachable (a partition) still rejoins the others.
        push_event(discovery_event::kind::discovered, rec.id, *m_known.find(rec.id));
        ++restored;
    }
    bump(m_counters.restored_records, restored);
    m_selected_dirty = true;
    return restored;
}

} // namespace ainet::discovery
