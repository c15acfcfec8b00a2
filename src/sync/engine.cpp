#include <ainet/core/counter.hpp>
#include <ainet/sync/engine.hpp>

#include <algorithm>

namespace ainet::sync {
namespace {

constexpr size_t finished_remembered_max = 256;
constexpr size_t reports_max = 256;
// Offset of chunk_index in a sync datagram: header, session, flight.
constexpr size_t chunk_index_offset = wire::header_size + 8 + 1;
// Room a merkle body may take in one datagram.
constexpr size_t merkle_body_max = sync_body_size_max;
constexpr size_t descend_overhead = 1 + 1 + 1 + 1 + 8 + merkle::digest_size + varint_size_max;
constexpr size_t buckets_overhead = 1 + 1 + 8 + varint_size_max;

uint64_t splitmix(uint64_t& state) noexcept {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

size_t descendants(uint8_t levels) noexcept { return size_t{1} << (merkle::bits_per_level * levels); }

} // namespace

struct engine::flight {
    std::vector<std::vector<uint8_t>> datagrams;
    std::vector<uint8_t> scratch;
    prefix head;

    mutable_bytes next() {
        datagrams.emplace_back(sync_datagram_size_max);
        return datagrams.back();
    }
    void trim(size_t size) { datagrams.back().resize(size); }
};

engine::engine(registry::replica& replica, const engine_config& config, uint64_t seed)
    : m_replica(replica), m_config(config), m_random_state(seed) {
    AINET_ASSERT(merkle::valid_fingerprint_size(config.fingerprint_size));
    AINET_ASSERT(config.first_levels >= 1 && config.first_levels <= merkle::levels_per_message_max);
    AINET_ASSERT(descendants(config.first_levels) * config.fingerprint_size + descend_overhead <=
                 merkle_body_max);
    AINET_ASSERT(config.first_levels <= replica.config().leaf_depth);
}

uint64_t engine::random() noexcept { return splitmix(m_random_state); }

void engine::add_peer(const endpoint& peer) {
    if (m_peers.size() >= m_config.peers_max)
        return;
    if (std::find(m_peers.begin(), m_peers.end(), peer) == m_peers.end())
        m_peers.push_back(peer);
}

void engine::remove_peer(const endpoint& peer) {
    std::erase(m_peers, peer);
    m_suspected.erase(peer);
    std::erase(m_priority, peer);
}

void engine::on_partition_suspected(std::span<const endpoint> peers) {
    for (const auto& p : peers) {
        m_suspected.insert(p);
        std::erase(m_priority, p);
    }
}

void engine::on_partition_healed(std::span<const endpoint> peers) {
    for (const auto& p : peers) {
        m_suspected.erase(p);
        if (std::find(m_priority.begin(), m_priority.end(), p) == m_priority.end() &&
            m_priority.size() < m_config.peers_max)
            m_priority.push_back(p);
    }
    m_round_now = true;
}

bool engine::peer_busy(const endpoint& peer) const {
    auto it = m_sessions.lower_bound(session_key{peer, 0});
    return it != m_sessions.end() && it->first.first == peer;
}

std::optional<endpoint> engine::pick_peer() {
    while (!m_priority.empty()) {
        endpoint p = m_priority.front();
        m_priority.pop_front();
        if (!m_suspected.contains(p) && !peer_busy(p))
            return p;
    }
    if (m_peers.empty())
        return std::nullopt;
    for (int attempt = 0; attempt < 8; ++attempt) {
        const endpoint& p = m_peers[random() % m_peers.size()];
        if (!m_suspected.contains(p) && !peer_busy(p))
            return p;
    }
    return std::nullopt;
}

instant engine::next_deadline() const noexcept {
    instant t = m_round_now ? instant{INT64_MIN} : m_next_round;
    for (const auto& [key, s] : m_sessions)
        t = std::min(t, s.deadline);
    return std::min(t, m_next_collect);
}

void engine::tick(instant now, unix_ms wall, datagram_sink& out) {
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
        if (it->second.deadline <= now) {
            bump(m_counters.timed_out);
            m_finished.push_back(it->first);
            if (m_finished.size() > finished_remembered_max)
                m_finished.pop_front();
            it = m_sessions.erase(it);
        } else {
            ++it;
        }
    }
    if (now >= m_next_collect) {
        m_next_collect = now + m_config.collect_interval;
        (void)m_replica.collect(wall);
    }
    if (m_round_now || now >= m_next_round) {
        m_round_now = false;
        m_next_round = now + m_config.round_interval;
        uint32_t initiated = 0;
        for (const auto& [key, s] : m_sessions)
            initiated += s.initiator ? 1 : 0;
        // Healed peers may start several sessions at once: they are the priority.
        const uint32_t allowed = m_priority.empty() ? m_config.initiator_sessions_max
                                                    : std::max<uint32_t>(m_config.initiator_sessions_max, 4);
        while (initiated < allowed) {
            auto peer = pick_peer();
            if (!peer || !start_session(*peer, now, wall, out))
                break;
            ++initiated;
        }
    }
}

bool engine::start_session(const endpoint& peer, instant now, unix_ms wall, datagram_sink& out) {
    if (peer_busy(peer) || m_sessions.size() >= m_config.sessions_max)
        return false;
    (void)m_replica.purge_if_stale(wall);
    session s;
    s.peer = peer;
    s.id = random() | 1;
    s.initiator = true;
    s.fingerprint_size = m_config.fingerprint_size;
    s.salt = random();
    s.next_in = 1;
    s.next_out = 0;
    s.deadline = now + m_config.session_timeout;
    s.report.peer = peer;
    s.report.initiator = true;
    const auto& t = m_replica.tree();
    flight f;
    begin_body b;
    b.fingerprint_size = s.fingerprint_size;
    b.salt = s.salt;
    b.root = t.root();
    b.entry_count = m_replica.size();
    if (m_replica.vv().size() <= vv_inline_max && !m_force_merkle.contains(peer))
        b.vv = m_replica.vv();
    f.trim(encode_begin(prefix{s.id, 0, 0, 1}, b, f.next()));
    add_merkle_step(s, f, 0, {0});
    auto [it, inserted] = m_sessions.emplace(session_key{peer, s.id}, std::move(s));
    AINET_ASSERT(inserted);
    send_flight(it->second, f, out);
    bump(m_counters.sessions_started);
    return true;
}

void engine::send_flight(session& s, flight& f, datagram_sink& out) {
    AINET_ASSERT(!f.datagrams.empty());
    if (f.datagrams.size() > flight_chunk_count_max)
        f.datagrams.resize(flight_chunk_count_max);  // the builders' caps keep far below this
    const auto count = static_cast<uint16_t>(f.datagrams.size());
    for (uint16_t i = 0; i < count; ++i) {
        auto& d = f.datagrams[i];
        d[chunk_index_offset - 1] = s.next_out;
        d[chunk_index_offset] = static_cast<uint8_t>(i);
        d[chunk_index_offset + 1] = static_cast<uint8_t>(i >> 8);
        d[chunk_index_offset + 2] = static_cast<uint8_t>(count);
        d[chunk_index_offset + 3] = static_cast<uint8_t>(count >> 8);
        if (out.send(s.peer, d)) {
            bump(m_counters.datagrams_sent);
            bump(m_counters.bytes_sent, d.size());
            s.report.bytes_sent += d.size();
        } else {
            bump(m_counters.send_failed);
        }
    }
    s.next_out = static_cast<uint8_t>(s.next_out + 2);
    ++s.report.flights;
}

void engine::add_merkle_step(session& s, flight& f, uint8_t depth, std::vector<uint64_t> prefixes) {
    const auto& t = m_replica.tree();
    const uint8_t leaf_depth = t.config().leaf_depth;
    if (prefixes.size() > m_config.positions_per_step_max)
        prefixes.resize(m_config.positions_per_step_max);
    const uint8_t fp = s.fingerprint_size;
    if (depth < leaf_depth) {
        uint8_t levels = depth == 0 ? m_config.first_levels : 1;
        levels = std::min<uint8_t>(levels, static_cast<uint8_t>(leaf_depth - depth));
        const size_t per_parent = descendants(levels) * fp + varint_size_max;
        const size_t per_chunk = std::max<size_t>(1, (merkle_body_max - descend_overhead) / per_parent);
        for (size_t start = 0; start < prefixes.size(); start += per_chunk) {
            const size_t end = std::min(prefixes.size(), start + per_chunk);
            std::vector<uint64_t> part(prefixes.begin() + static_cast<ptrdiff_t>(start),
                                       prefixes.begin() + static_cast<ptrdiff_t>(end));
            auto m = merkle::make_descend(t, depth, levels, fp, s.salt, std::move(part));
            f.scratch.clear();
            (void)merkle::encode(m, f.scratch);
            AINET_ASSERT(f.scratch.size() <= merkle_body_max);
            f.trim(encode_merkle(wire::message_type::sync_descend, prefix{s.id, 0, 0, 1},
                                 f.scratch, f.next()));
        }
        return;
    }
    // Leaf depth: bucket lists, split across datagrams where a bucket is large.
    merkle::buckets_message m;
    m.fingerprint_size = fp;
    m.salt = s.salt;
    size_t used = buckets_overhead;
    auto flush = [&] {
        if (m.buckets.empty())
            return;
        f.scratch.clear();
        (void)merkle::encode(m, f.scratch);
        AINET_ASSERT(f.scratch.size() <= merkle_body_max);
        f.trim(encode_merkle(wire::message_type::sync_buckets, prefix{s.id, 0, 0, 1}, f.scratch,
                             f.next()));
        m.buckets.clear();
        used = buckets_overhead;
    };
    const size_t per_leaf = 8 + fp;
    const size_t per_bucket = 2 * varint_size_max;
    for (uint64_t p : prefixes) {
        const auto leaves = t.bucket(merkle::position{leaf_depth, p});
        size_t i = 0;
        do {
            if (used + per_bucket + per_leaf > merkle_body_max)
                flush();
            merkle::bucket_list b;
            b.prefix = p;
            while (i < leaves.size() && used + per_bucket + per_leaf * (b.key_hashes.size() + 1) <= merkle_body_max) {
                b.key_hashes.push_back(leaves[i].key_hash);
                b.fingerprints.resize(b.fingerprints.size() + fp);
                merkle::fingerprint(leaves[i].leaf_digest, s.salt, fp,
                                    b.fingerprints.data() + b.fingerprints.size() - fp);
                ++i;
            }
            used += per_bucket + per_leaf * b.key_hashes.size();
            m.buckets.push_back(std::move(b));
            if (i < leaves.size())
                flush();
        } while (i < leaves.size());
    }
    flush();
}

void engine::add_entry_list(uint64_t session_id, flight& f,
                            std::vector<std::pair<registry::entry_ptr, registry::dot>> list) {
    if (list.size() > m_config.entries_per_flight_max)
        list.resize(m_config.entries_per_flight_max);
    size_t start = 0;
    while (start < list.size()) {
        size_t used = varint_size_max;
        size_t end = start;
        while (end < list.size()) {
            const size_t size = entry_record_size(*list[end].first, list[end].second);
            if (end > start && used + size > sync_body_size_max)
                break;
            used += size;
            ++end;
        }
        std::span<const std::pair<registry::entry_ptr, registry::dot>> part(list.data() + start, end - start);
        for (const auto& e : part) {
            bump(m_counters.entries_sent);
            bump(m_counters.entry_bytes_sent, e.first->wire.size());
        }
        f.trim(encode_entries(prefix{session_id, 0, 0, 1}, part, f.next()));
        start = end;
    }
}

void engine::add_entries(session& s, flight& f, const std::vector<uint64_t>& key_hashes) {
    std::vector<std::pair<registry::entry_ptr, registry::dot>> list;
    for (uint64_t h : key_hashes) {
        m_replica.find_by_key_hash(h, list);
        if (list.size() >= m_config.entries_per_flight_max)
            break;
    }
    for (const auto& e : list)
        s.report.entry_bytes_sent += e.first->wire.size();
    add_entry_list(s.id, f, std::move(list));
}

void engine::finish(session& s, bool converged, unix_ms wall) {
    s.report.converged = converged;
    s.report.path = s.path;
    if (converged) {
        bump(m_counters.converged);
        if (s.path == reply_mode::delta)
            bump(m_counters.via_delta);
        else if (s.path == reply_mode::merkle)
            bump(m_counters.via_merkle);
        else
            bump(m_counters.equal_at_start);
        m_replica.on_converged(s.peer_vv.value_or(registry::version_vector{}), wall);
        m_retries.erase(s.peer);
        m_force_merkle.erase(s.peer);
    } else {
        bump(m_counters.diverged);
        if (s.path == reply_mode::delta && m_force_merkle.size() < m_config.peers_max)
            m_force_merkle.insert(s.peer);
        // Retry soon with a new salt, a bounded number of times in a row.
        auto& tries = m_retries[s.peer];
        if (s.initiator && ++tries <= m_config.retry_max) {
            m_priority.push_front(s.peer);
            m_round_now = true;
        }
    }
    if (m_reports.size() >= reports_max)
        m_reports.erase(m_reports.begin());
    m_reports.push_back(s.report);
}

std::vector<session_report> engine::take_reports() { return std::exchange(m_reports, {}); }

void engine::on_datagram(instant now, unix_ms wall, const datagram_ref& d, datagram_sink& out) {
    const uint8_t leaf_depth = m_replica.config().leaf_depth;
    auto decoded = decode(d.payload, leaf_depth);
    if (!decoded) {
        bump(m_counters.malformed);
        return;
    }
    const message& m = *decoded;
    const session_key key{d.source, m.head.session};
    auto it = m_sessions.find(key);
    if (it == m_sessions.end()) {
        if (m.type != wire::message_type::sync_begin && !(m.head.flight == 0 && m.type == wire::message_type::sync_descend)) {
            bump(m_counters.unknown_session);
            return;
        }
        if (m.head.flight != 0 ||
            std::find(m_finished.begin(), m_finished.end(), key) != m_finished.end()) {
            bump(m_counters.unknown_session);
            return;
        }
        if (m_sessions.size() >= m_config.sessions_max) {
            bump(m_counters.refused_full);
            return;
        }
        session s;
        s.peer = d.source;
        s.id = m.head.session;
        s.initiator = false;
        s.next_in = 0;
        s.next_out = 1;
        s.deadline = now + m_config.session_timeout;
        s.report.peer = d.source;
        it = m_sessions.emplace(key, std::move(s)).first;
        bump(m_counters.sessions_accepted);
    }
    session& s = it->second;
    if (m.head.flight != s.next_in) {
        bump(m_counters.stale_flight);
        return;
    }
    if (s.chunk_count == 0) {
        s.chunk_count = m.head.chunk_count;
        s.chunks.assign(s.chunk_count, {});
        s.chunks_received = 0;
    }
    if (m.head.chunk_count != s.chunk_count) {
        bump(m_counters.malformed);
        return;
    }
    auto& slot = s.chunks[m.head.chunk_index];
    if (!slot.empty()) {
        bump(m_counters.stale_flight);
        return;
    }
    slot.assign(d.payload.begin(), d.payload.end());
    ++s.chunks_received;
    s.deadline = now + m_config.session_timeout;
    if (s.chunks_received < s.chunk_count)
        return;
    bool finished = false;
    process(s, now, wall, out, finished);
    if (finished) {
        m_finished.push_back(key);
        if (m_finished.size() > finished_remembered_max)
            m_finished.pop_front();
        m_sessions.erase(key);
    }
}

void engine::process(session& s, instant now, unix_ms wall, datagram_sink& out, bool& finished) {
    (void)now;
    const uint8_t leaf_depth = m_replica.config().leaf_depth;
    std::vector<std::vector<uint8_t>> chunks = std::move(s.chunks);
    s.chunks.clear();
    s.chunk_count = 0;
    s.chunks_received = 0;
    s.next_in = static_cast<uint8_t>(s.next_in + 2);
    ++s.report.flights;

    std::optional<begin_body> begin;
    std::optional<reply_body> reply;
    std::optional<end_body> end;
    std::vector<merkle::descend_message> descends;
    std::map<uint64_t, merkle::bucket_list> buckets;
    uint8_t buckets_fp = 0;
    uint64_t buckets_salt = 0;
    std::vector<uint64_t> wants;
    std::vector<bytes_view> entry_wires;
    std::vector<registry::dot> entry_dots;
    bool bad = false;
    for (const auto& c : chunks) {
        auto decoded = decode(c, leaf_depth);
        if (!decoded) {
            bad = true;
            break;
        }
        message& m = *decoded;
        switch (m.type) {
        case wire::message_type::sync_begin:
            begin = m.begin;
            break;
        case wire::message_type::sync_reply:
            reply = m.reply;
            break;
        case wire::message_type::sync_end:
            end = m.end;
            break;
        case wire::message_type::sync_descend:
            descends.push_back(merkle::decode_descend(m.merkle_body, leaf_depth).value());
            break;
        case wire::message_type::sync_buckets: {
            auto b = merkle::decode_buckets(m.merkle_body, leaf_depth).value();
            buckets_fp = b.fingerprint_size;
            buckets_salt = b.salt;
            for (auto& list : b.buckets) {
                auto& merged = buckets[list.prefix];
                merged.prefix = list.prefix;
                merged.key_hashes.insert(merged.key_hashes.end(), list.key_hashes.begin(), list.key_hashes.end());
                merged.fingerprints.insert(merged.fingerprints.end(), list.fingerprints.begin(), list.fingerprints.end());
            }
            break;
        }
        case wire::message_type::sync_wants: {
            auto w = merkle::decode_wants(m.merkle_body).value();
            wants.insert(wants.end(), w.begin(), w.end());
            break;
        }
        case wire::message_type::sync_entries:
            for (const auto& e : m.entries) {
                entry_wires.push_back(e.wire);
                entry_dots.push_back(e.d);
            }
            break;
        default:
            bad = true;
            break;
        }
    }
    if (bad) {
        bump(m_counters.malformed);
        finish(s, false, wall);
        finished = true;
        return;
    }
    if (!entry_wires.empty())
        (void)m_replica.receive(entry_wires, entry_dots, wall);

    flight f;
    const prefix p{s.id, 0, 0, 1};
    const auto& t = m_replica.tree();
    auto root_now = [&] { return m_replica.tree().root(); };

    // The merkle differences the peer's fingerprints show, at one depth.
    auto descend_diffs = [&](uint8_t& depth) {
        std::vector<uint64_t> prefixes;
        depth = 0;
        for (const auto& d : descends) {
            if (d.fingerprint_size != s.fingerprint_size || d.salt != s.salt)
                continue;
            for (const auto& pos : merkle::diff(t, d)) {
                prefixes.push_back(pos.prefix);
                depth = pos.depth;
            }
        }
        std::sort(prefixes.begin(), prefixes.end());
        prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
        return prefixes;
    };
    auto merkle_or_check = [&](std::vector<uint64_t> prefixes, uint8_t depth) {
        if (prefixes.empty()) {
            f.trim(encode_end(p, end_body{end_status::check, root_now()}, f.next()));
            return;
        }
        add_merkle_step(s, f, depth, std::move(prefixes));
    };

    if (begin) {
        if (s.initiator || !merkle::valid_fingerprint_size(begin->fingerprint_size) ||
            descendants(m_config.first_levels) * begin->fingerprint_size + descend_overhead > merkle_body_max) {
            bump(m_counters.malformed);
            finish(s, false, wall);
            finished = true;
            return;
        }
        (void)m_replica.purge_if_stale(wall);
        s.fingerprint_size = begin->fingerprint_size;
        s.salt = begin->salt;
        s.peer_vv = begin->vv;
        reply_body r;
        r.root = t.root();
        r.entry_count = m_replica.size();
        if (m_replica.vv().size() <= vv_inline_max)
            r.vv = m_replica.vv();
        if (r.root == begin->root) {
            r.mode = reply_mode::equal;
            s.path = reply_mode::equal;
            f.trim(encode_reply(p, r, f.next()));
            send_flight(s, f, out);
            finish(s, true, wall);
            finished = true;
            return;
        }
        std::vector<std::pair<registry::entry_ptr, registry::dot>> delta;
        // Vectors help only when they differ; after a delta session that ended diverged the
        // pair uses Merkle until a session converges (entries learned out of band).
        if (begin->vv && r.vv && *begin->vv != *r.vv && !m_force_merkle.contains(s.peer) &&
            m_replica.delta_for(*begin->vv, m_config.delta_entries_max, delta)) {
            r.mode = reply_mode::delta;
            s.path = reply_mode::delta;
            f.trim(encode_reply(p, r, f.next()));
            for (const auto& e : delta)
                s.report.entry_bytes_sent += e.first->wire.size();
            add_entry_list(s.id, f, std::move(delta));
            send_flight(s, f, out);
            return;
        }
        r.mode = reply_mode::merkle;
        s.path = reply_mode::merkle;
        f.trim(encode_reply(p, r, f.next()));
        uint8_t depth = 0;
        auto prefixes = descend_diffs(depth);
        merkle_or_check(std::move(prefixes), depth);
        send_flight(s, f, out);
        return;
    }
    if (reply) {
        s.peer_vv = reply->vv;
        s.path = reply->mode;
        if (reply->mode == reply_mode::equal) {
            finish(s, true, wall);
            finished = true;
            return;
        }
        if (reply->mode == reply_mode::delta) {
            std::vector<std::pair<registry::entry_ptr, registry::dot>> delta;
            if (reply->vv)
                (void)m_replica.delta_for(*reply->vv, m_config.delta_entries_max, delta);
            for (const auto& e : delta)
                s.report.entry_bytes_sent += e.first->wire.size();
            add_entry_list(s.id, f, std::move(delta));
            f.trim(encode_end(p, end_body{end_status::check, root_now()}, f.next()));
            send_flight(s, f, out);
            return;
        }
    }
    if (end) {
        const bool equal = end->root == root_now();
        if (end->status == end_status::check) {
            f.trim(encode_end(p, end_body{equal ? end_status::converged : end_status::diverged,
                                          root_now()},
                              f.next()));
            send_flight(s, f, out);
            finish(s, equal, wall);
        } else {
            finish(s, end->status == end_status::converged && equal, wall);
        }
        finished = true;
        return;
    }
    if (!descends.empty()) {
        uint8_t depth = 0;
        auto prefixes = descend_diffs(depth);
        merkle_or_check(std::move(prefixes), depth);
        send_flight(s, f, out);
        return;
    }
    if (!buckets.empty()) {
        merkle::buckets_message m;
        m.fingerprint_size = buckets_fp;
        m.salt = buckets_salt;
        for (auto& [prefix_value, list] : buckets)
            m.buckets.push_back(std::move(list));
        auto d = merkle::diff_buckets(t, m);
        add_entries(s, f, d.send);
        if (!d.want.empty()) {
            if (d.want.size() > m_config.entries_per_flight_max)
                d.want.resize(m_config.entries_per_flight_max);
            const size_t per_chunk = (merkle_body_max - 2 * varint_size_max) / 8;
            for (size_t start = 0; start < d.want.size(); start += per_chunk) {
                std::vector<uint64_t> part(d.want.begin() + static_cast<ptrdiff_t>(start),
                                           d.want.begin() + static_cast<ptrdiff_t>(std::min(d.want.size(), start + per_chunk)));
                f.scratch.clear();
                (void)merkle::encode_wants(part, f.scratch);
                f.trim(encode_merkle(wire::message_type::sync_wants, p, f.scratch, f.next()));
            }
        } else {
            f.trim(encode_end(p, end_body{end_status::check, root_now()}, f.next()));
        }
        send_flight(s, f, out);
        return;
    }
    if (!wants.empty()) {
        std::sort(wants.begin(), wants.end());
        wants.erase(std::unique(wants.begin(), wants.end()), wants.end());
        add_entries(s, f, wants);
        f.trim(encode_end(p, end_body{end_status::check, root_now()}, f.next()));
        send_flight(s, f, out);
        return;
    }
    // Nothing to act on (e.g. a flight of entries alone): the session is over, undecided.
    finish(s, false, wall);
    finished = true;
}

} // namespace ainet::sync
