#include <ainet/core/counter.hpp>
#include <ainet/registry/replica.hpp>

#include <algorithm>
#include <cstring>

namespace ainet::registry {

void join(version_vector& a, const version_vector& b) {
    for (const auto& [origin, counter] : b) {
        auto& mine = a[origin];
        mine = std::max(mine, counter);
    }
}

entry_ptr make_stored(entry e) {
    auto s = std::make_shared<stored_entry>();
    s->wire = encode(e);
    s->key_hash = key_hash(e.public_key, e.name);
    s->digest = entry_digest(s->wire);
    s->value = std::move(e);
    return s;
}

bool supersedes(const stored_entry& a, const stored_entry& b) noexcept {
    if (a.value.hlc != b.value.hlc)
        return a.value.hlc > b.value.hlc;
    return std::lexicographical_compare(b.wire.begin(), b.wire.end(), a.wire.begin(),
                                        a.wire.end());
}

std::string_view to_string(drop_reason r) noexcept {
    switch (r) {
    case drop_reason::malformed:
        return "malformed";
    case drop_reason::oversized:
        return "oversized";
    case drop_reason::forged:
        return "forged";
    case drop_reason::future:
        return "future";
    case drop_reason::full:
        return "full";
    case drop_reason::count_:
        break;
    }
    return "unknown";
}

bool replica::record_less::less(const key_view& a, const key_view& b) noexcept {
    if (a.key_hash != b.key_hash)
        return a.key_hash < b.key_hash;
    const int c = std::memcmp(a.public_key->data(), b.public_key->data(), crypto::public_key_size);
    if (c != 0)
        return c < 0;
    return a.name < b.name;
}

replica::replica(const replica_config& config)
    : m_config(config),
      m_tree(merkle::tree_config{config.leaf_depth, config.entry_count_max,
                                 merkle::hash_backend::automatic}) {
    AINET_ASSERT(config.max_clock_skew_ms >= 0 && config.tombstone_horizon_ms > 0);
}

void replica::drop(drop_reason r) noexcept { bump(m_counters.dropped[static_cast<size_t>(r)]); }

bool replica::too_far_ahead(uint64_t hlc, unix_ms wall) const noexcept {
    const int64_t limit = static_cast<int64_t>(wall) + m_config.max_clock_skew_ms;
    return limit < 0 || hlc_ms(hlc) > static_cast<uint64_t>(limit);
}

void replica::index_dot(const dot& d, const entry_ptr& e) {
    if (d.counter != 0)
        m_dots[d.origin][d.counter] = e;
}

void replica::unindex_dot(const dot& d) {
    if (d.counter == 0)
        return;
    auto it = m_dots.find(d.origin);
    if (it == m_dots.end())
        return;
    it->second.erase(d.counter);
    if (it->second.empty())
        m_dots.erase(it);
}

replica::apply_result replica::apply(const entry_ptr& e, const dot& d, bool durable_log) {
    const key_view k{e->key_hash, &e->value.public_key, e->value.name};
    auto it = m_records.find(k);
    if (it != m_records.end()) {
        if (!supersedes(*e, *it->e))
            return apply_result::duplicate;
        unindex_dot(it->d);
        it->e = e;
        it->d = d;
    } else {
        if (m_records.size() >= m_config.entry_count_max)
            return apply_result::full;
        it = m_records.insert(record{e->key_hash, e, d}).first;
    }
    index_dot(d, e);
    m_clock.observe(e->value.hlc);
    // The leaf: this entry's digest, or the fold of every entry sharing its key hash.
    auto first = it;
    while (first != m_records.begin() && std::prev(first)->key_hash == e->key_hash)
        --first;
    auto last = std::next(it);
    while (last != m_records.end() && last->key_hash == e->key_hash)
        ++last;
    if (std::next(first) == last) {
        (void)m_tree.upsert(e->key_hash, e->digest);
    } else {
        std::vector<merkle::digest> digests;
        for (auto i = first; i != last; ++i)
            digests.push_back(i->e->digest);
        (void)m_tree.upsert(e->key_hash, fold_digests(digests));
    }
    if (durable_log)
        m_pending.puts.push_back(durable_put{e, d});
    return apply_result::applied;
}

void replica::erase_record(std::set<record, record_less>::iterator it, bool durable_log) {
    const uint64_t h = it->key_hash;
    unindex_dot(it->d);
    if (durable_log)
        m_pending.removes.push_back(durable_remove{it->e->value.public_key, it->e->value.name});
    auto next = m_records.erase(it);
    auto first = next;
    while (first != m_records.begin() && std::prev(first)->key_hash == h)
        --first;
    auto last = first;
    std::vector<merkle::digest> digests;
    while (last != m_records.end() && last->key_hash == h) {
        digests.push_back(last->e->digest);
        ++last;
    }
    if (digests.empty())
        m_tree.erase(h);
    else if (digests.size() == 1)
        (void)m_tree.upsert(h, digests[0]);
    else
        (void)m_tree.upsert(h, fold_digests(digests));
}

result<write_ticket> replica::write(const entry& e, unix_ms wall) {
    if (auto limits = check_limits(e); !limits)
        return fail(limits.error());
    if (too_far_ahead(e.hlc, wall))
        return fail(errc::too_far_in_future);
    if (hlc_ms(e.hlc) > hlc_ms_max)
        return fail(errc::hlc_overflow);
    if (!verify(e))
        return fail(errc::bad_signature);
    auto stored = make_stored(e);
    if (m_config.pool != nullptr)
        m_config.pool->add(stored);
    const dot d{m_config.origin, m_meta.local_counter + 1};
    switch (apply(stored, d, true)) {
    case apply_result::duplicate:
        return fail(errc::not_newer);
    case apply_result::full:
        return fail(errc::store_full);
    case apply_result::applied:
        break;
    }
    ++m_meta.local_counter;
    auto& own = m_meta.vv[m_config.origin];
    own = std::max(own, m_meta.local_counter);
    bump(m_counters.local_writes);
    const write_ticket t{m_ticket_next++};
    m_waiting.emplace_back(m_batch_sequence + 1, t);
    return t;
}

bool replica::apply_received(const entry_ptr& e, const dot& d) {
    switch (apply(e, d, true)) {
    case apply_result::applied:
        bump(m_counters.applied);
        return true;
    case apply_result::duplicate:
        bump(m_counters.duplicates);
        return false;
    case apply_result::full:
        drop(drop_reason::full);
        return false;
    }
    return false;
}

size_t replica::receive(std::span<const bytes_view> wires, std::span<const dot> dots,
                        unix_ms wall) {
    AINET_ASSERT(dots.empty() || dots.size() == wires.size());
    size_t applied = 0;
    for (size_t start = 0; start < wires.size(); start += receive_batch_max) {
        const size_t count = std::min(receive_batch_max, wires.size() - start);
        std::vector<entry_ptr> candidates;
        std::vector<dot> candidate_dots;
        std::vector<std::vector<uint8_t>> messages;
        std::vector<crypto::verify_request> requests;
        candidates.reserve(count);
        for (size_t i = start; i < start + count; ++i) {
            bump(m_counters.received);
            const bytes_view w = wires[i];
            if (m_config.pool != nullptr) {
                if (entry_ptr hit = m_config.pool->find(w)) {
                    if (too_far_ahead(hit->value.hlc, wall)) {
                        drop(drop_reason::future);
                        continue;
                    }
                    if (apply_received(hit, dots.empty() ? dot{} : dots[i]))
                        ++applied;
                    continue;
                }
            }
            if (w.size() > entry_wire_size_max) {
                drop(drop_reason::oversized);
                continue;
            }
            auto decoded = decode(w);
            if (!decoded) {
                drop(decoded.error() == errc::oversized ? drop_reason::oversized
                                                         : drop_reason::malformed);
                continue;
            }
            if (too_far_ahead(decoded->hlc, wall)) {
                drop(drop_reason::future);
                continue;
            }
            auto stored = make_stored(std::move(*decoded));
            // Already stored (the common duplicate in anti-entropy): no signature check needed.
            if (auto existing = m_records.find(
                    key_view{stored->key_hash, &stored->value.public_key, stored->value.name});
                existing != m_records.end() && !supersedes(*stored, *existing->e)) {
                bump(m_counters.duplicates);
                continue;
            }
            messages.push_back(crypto::signed_message(crypto::sig_domain::registry_entry,
                                                      bytes_view(stored->wire).first(
                                                          stored->wire.size() -
                                                          crypto::signature_size)));
            candidates.push_back(std::move(stored));
            candidate_dots.push_back(dots.empty() ? dot{} : dots[i]);
        }
        requests.reserve(candidates.size());
        for (size_t i = 0; i < candidates.size(); ++i)
            requests.push_back(crypto::verify_request{candidates[i]->value.public_key,
                                                      bytes_view(messages[i]),
                                                      candidates[i]->value.signature});
        std::unique_ptr<bool[]> verdicts(new bool[requests.size() + 1]);
        crypto::verify_batch(requests, std::span<bool>(verdicts.get(), requests.size()));
        for (size_t i = 0; i < candidates.size(); ++i) {
            if (!verdicts[i]) {
                drop(drop_reason::forged);
                continue;
            }
            if (m_config.pool != nullptr)
                m_config.pool->add(candidates[i]);
            if (apply_received(candidates[i], candidate_dots[i]))
                ++applied;
        }
    }
    return applied;
}

size_t replica::receive_verified(std::span<const entry_ptr> entries, std::span<const dot> dots,
                                 unix_ms wall) {
    AINET_ASSERT(dots.empty() || dots.size() == entries.size());
    size_t applied = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
        bump(m_counters.received);
        if (too_far_ahead(entries[i]->value.hlc, wall)) {
            drop(drop_reason::future);
            continue;
        }
        if (apply_received(entries[i], dots.empty() ? dot{} : dots[i]))
            ++applied;
    }
    return applied;
}

entry_ptr replica::get(const crypto::public_key& key, std::string_view name) const {
    auto it = m_records.find(key_view{key_hash(key, name), &key, name});
    return it == m_records.end() ? nullptr : it->e;
}

void replica::find_by_key_hash(uint64_t h, std::vector<std::pair<entry_ptr, dot>>& out) const {
    static const crypto::public_key lowest{};
    for (auto it = m_records.lower_bound(key_view{h, &lowest, {}});
         it != m_records.end() && it->key_hash == h; ++it)
        out.emplace_back(it->e, it->d);
}

bool replica::delta_for(const version_vector& peer, size_t limit,
                        std::vector<std::pair<entry_ptr, dot>>& out) const {
    for (const auto& [origin, by_counter] : m_dots) {
        auto seen = peer.find(origin);
        const uint64_t from = seen == peer.end() ? 0 : seen->second;
        for (auto it = by_counter.upper_bound(from); it != by_counter.end(); ++it) {
            if (out.size() >= limit)
                return false;
            out.emplace_back(it->second, dot{origin, it->first});
        }
    }
    return true;
}

void replica::for_each(const std::function<void(const entry_ptr&, const dot&)>& fn) const {
    for (const auto& r : m_records)
        fn(r.e, r.d);
}

const merkle::tree& replica::tree() {
    if (m_tree.dirty())
        m_tree.rehash();
    return m_tree;
}

void replica::on_converged(const version_vector& peer_vv, unix_ms wall) {
    join(m_meta.vv, peer_vv);
    m_meta.last_converged_ms = static_cast<int64_t>(wall);
}

size_t replica::collect(unix_ms wall) {
    const int64_t cutoff = static_cast<int64_t>(wall) - m_config.tombstone_horizon_ms;
    if (cutoff <= 0)
        return 0;
    size_t collected = 0;
    for (auto it = m_records.begin(); it != m_records.end();) {
        auto next = std::next(it);
        if (it->e->value.tombstone() && hlc_ms(it->e->value.hlc) < uint64_t(cutoff)) {
            const uint64_t h = it->key_hash;
            erase_record(it, true);
            ++collected;
            static const crypto::public_key lowest{};
            next = m_records.lower_bound(key_view{h, &lowest, {}});
        }
        it = next;
    }
    for (size_t i = 0; i < collected; ++i)
        bump(m_counters.tombstones_collected);
    return collected;
}

size_t replica::purge_if_stale(unix_ms wall) {
    const int64_t now_ms = static_cast<int64_t>(wall);
    if (m_meta.last_converged_ms < 0 || now_ms - m_meta.last_converged_ms <= m_config.tombstone_horizon_ms)
        return 0;
    const int64_t cutoff = now_ms - m_config.tombstone_horizon_ms;
    size_t purged = 0;
    static const crypto::public_key lowest{};
    for (auto it = m_records.begin(); it != m_records.end();) {
        if (hlc_ms(it->e->value.hlc) < uint64_t(cutoff)) {
            const uint64_t h = it->key_hash;
            erase_record(it, true);
            ++purged;
            it = m_records.lower_bound(key_view{h, &lowest, {}});
        } else {
            ++it;
        }
    }
    // The vector described entries just dropped: start over (deltas become full; Merkle finds
    // the rest). The last converged time moves so the purge runs once per stale period.
    m_meta.vv.clear();
    m_meta.vv[m_config.origin] = m_meta.local_counter;
    m_meta.last_converged_ms = now_ms;
    bump(m_counters.purged_stale, purged);
    return purged;
}

durable_batch replica::take_batch() {
    durable_batch b;
    if (m_pending.empty()) {
        b.sequence = m_batch_sequence;
        b.meta = meta();
        return b;
    }
    b = std::move(m_pending);
    m_pending = durable_batch{};
    b.sequence = ++m_batch_sequence;
    b.meta = meta();
    return b;
}

std::vector<write_ticket> replica::on_durable(uint64_t sequence) {
    std::vector<write_ticket> out;
    auto it = m_waiting.begin();
    while (it != m_waiting.end() && it->first <= sequence) {
        out.push_back(it->second);
        ++it;
    }
    m_waiting.erase(m_waiting.begin(), it);
    return out;
}

void replica::restore(const replica_meta& meta, std::span<const durable_put> entries) {
    AINET_ASSERT(m_records.empty());
    for (const auto& p : entries)
        (void)apply(p.e, p.d, false);
    m_meta = meta;
    m_clock.restore(meta.hlc);
}

const replica_meta& replica::meta() const noexcept {
    m_meta.hlc = m_clock.persist();
    return m_meta;
}

} // namespace ainet::registry
