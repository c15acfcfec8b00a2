#include <ainet/membership/membership_core.hpp>

#include <ainet/core/assert.hpp>

#include <algorithm>
#include <cmath>

namespace ainet::membership {

namespace {

struct batch_claim_verifier final : claim_verifier {
    void verify(std::span<const crypto::verify_request> requests,
                std::span<bool> verdicts) noexcept override {
        crypto::verify_batch(requests, verdicts);
    }
};

// The netgroup of an address: IPv4 /16, IPv6 /32 (Bitcoin Core's addrman groups).
bool same_netgroup(const endpoint& a, const endpoint& b) noexcept {
    if (a.family != b.family)
        return false;
    const size_t prefix = a.family == address_family::ipv4 ? 2 : 4;
    return std::equal(a.address.begin(), a.address.begin() + static_cast<std::ptrdiff_t>(prefix),
                      b.address.begin());
}

bool is_live(member_state s) noexcept {
    return s == member_state::alive || s == member_state::suspect || s == member_state::unreachable;
}

// Largest incarnation jump a suspicion about us may force (see would_change()): bounds how far
// forged accusations can push our incarnation per message.
constexpr uint64_t incarnation_jump_max = uint64_t{1} << 20;

} // namespace

std::string_view to_string(member_state s) noexcept {
    switch (s) {
    case member_state::alive:
        return "alive";
    case member_state::suspect:
        return "suspect";
    case member_state::dead:
        return "dead";
    case member_state::left:
        return "left";
    case member_state::unreachable:
        return "unreachable";
    }
    return "unknown";
}

std::string_view to_string(event_kind k) noexcept {
    switch (k) {
    case event_kind::joined:
        return "joined";
    case event_kind::alive:
        return "alive";
    case event_kind::suspect:
        return "suspect";
    case event_kind::dead:
        return "dead";
    case event_kind::left:
        return "left";
    case event_kind::unreachable:
        return "unreachable";
    case event_kind::refuted:
        return "refuted";
    case event_kind::partition_suspected:
        return "partition_suspected";
    case event_kind::partition_healed:
        return "partition_healed";
    }
    return "unknown";
}

claim_verifier& default_claim_verifier() noexcept {
    static batch_claim_verifier verifier;
    return verifier;
}

// --- construction and helpers ------------------------------------------------------------------

membership_core::membership_core(const membership_config& config, const crypto::key_pair& identity,
                                 const endpoint& address, uint64_t seed,
                                 membership_counters& counters, claim_verifier* verifier)
    : m_config(config), m_identity(identity), m_counters(counters),
      m_verifier(verifier != nullptr ? *verifier : default_claim_verifier()), m_random_state(seed) {
    AINET_ASSERT(config.probe_interval.count() > 0 && config.probe_timeout.count() > 0);
    AINET_ASSERT(config.probe_timeout <= config.probe_interval);
    AINET_ASSERT(config.gossip_interval.count() > 0 && config.push_pull_interval.count() > 0);
    AINET_ASSERT(config.suspicion_mult >= 1 && config.suspicion_max_mult >= 1);
    AINET_ASSERT(config.partition_fraction > 0 && config.partition_fraction <= 1);
    AINET_ASSERT(config.heal_fraction > 0 && config.heal_fraction <= 1);
    AINET_ASSERT(config.member_count_max >= 1 && config.broadcast_queue_max >= 1);
    AINET_ASSERT(config.relay_count_max >= 1 && config.event_count_max >= 1);
    AINET_ASSERT(config.dead_retention >= config.gossip_to_the_dead);
    AINET_ASSERT(config.tombstone_count_max >= 1);
    m_self_claim.kind = claim_kind::alive;
    m_self_claim.subject = identity.id();
    m_self_claim.incarnation = config.initial_incarnation;
    m_self_claim.address = address;
    sign_claim(m_self_claim, identity);
    m_buffer.resize(datagram_size_max);
}

uint64_t membership_core::next_random() noexcept {
    // splitmix64: a seeded stream of our own, no global randomness.
    m_random_state += 0x9e3779b97f4a7c15ull;
    uint64_t z = m_random_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t membership_core::random_below(uint32_t bound) noexcept {
    AINET_ASSERT(bound > 0);
    return static_cast<uint32_t>((next_random() >> 32) * bound >> 32);
}

duration membership_core::scaled(duration d) const noexcept {
    return d * (m_awareness + 1);
}

void membership_core::emit(membership_event e) {
    if (m_events.size() >= m_config.event_count_max) {
        bump(m_counters.events_dropped);
        return;
    }
    m_events.push_back(std::move(e));
}

bool membership_core::send(const endpoint& to, const message& m, datagram_sink& out) {
    auto size = encode(m, m_buffer);
    AINET_ASSERT_MSG(size.has_value(), "a membership message failed to encode");
    if (!out.send(to, bytes_view(m_buffer).first(*size))) {
        bump(m_counters.drop_tx_full);
        return false;
    }
    bump(m_counters.bytes_sent, *size);
    return true;
}

std::pair<duration, duration> membership_core::suspicion_bounds(const membership_config& config,
                                                                size_t member_count) noexcept {
    const double nodes = static_cast<double>(std::max<size_t>(member_count, 1));
    const double scale = std::max(1.0, std::log10(nodes));
    const auto min = duration{static_cast<int64_t>(
        config.suspicion_mult * scale * static_cast<double>(config.probe_interval.count()))};
    return {min, min * config.suspicion_max_mult};
}

uint32_t membership_core::retransmit_limit(const membership_config& config,
                                           size_t member_count) noexcept {
    const double scale = std::ceil(std::log10(static_cast<double>(member_count) + 1.0));
    return config.retransmit_mult * std::max(1u, static_cast<uint32_t>(scale));
}

size_t membership_core::live_count() const noexcept {
    size_t count = 0;
    for (const member& m : m_members)
        count += (m.state == member_state::alive || m.state == member_state::suspect) ? 1 : 0;
    return count;
}

uint32_t membership_core::index_of(const node_id& id) const noexcept {
    auto it = m_index.find(id);
    return it == m_index.end() ? none : it->second;
}

void membership_core::set_state(instant now, member& m, member_state s) {
    m.state = s;
    m.state_since = now;
    if (m.in_episode && !m.episode_resolved &&
        (s == member_state::alive || s == member_state::dead || s == member_state::left)) {
        m.episode_resolved = true;
        ++m_episode_resolved;
        m_episode_back += s == member_state::alive ? 1 : 0;
    }
}

claim membership_core::claim_of(const member& m) const {
    claim c;
    c.subject = m.id;
    c.incarnation = m.incarnation;
    switch (m.state) {
    case member_state::alive:
    case member_state::left:
        c.kind = m.state == member_state::alive ? claim_kind::alive : claim_kind::left;
        c.address = m.address;
        c.signature = m.signature;
        break;
    case member_state::suspect:
    case member_state::unreachable:
        // Unreachable is our local judgement; on the wire it is the suspicion it came from.
        c.kind = claim_kind::suspect;
        c.accuser = m.accuser;
        break;
    case member_state::dead:
        c.kind = claim_kind::dead;
        c.accuser = m.accuser;
        break;
    }
    return c;
}

// --- public entry points -----------------------------------------------------------------------

void membership_core::start(instant now) {
    AINET_ASSERT(!m_started);
    m_started = true;
    // Random phases, so that nodes started together do not probe and gossip in lockstep.
    const auto phase = [this](duration d) {
        return duration{static_cast<int64_t>(next_random() % static_cast<uint64_t>(d.count()))};
    };
    m_next_probe = now + phase(m_config.probe_interval);
    m_next_gossip = now + phase(m_config.gossip_interval);
    m_next_push_pull = now + phase(m_config.push_pull_interval);
    m_next_heal_push_pull = now;
    m_next_reap = now + m_config.probe_interval;
}

void membership_core::add_seed(instant, const endpoint& seed, datagram_sink& out) {
    if (seed == m_self_claim.address)
        return;
    send_push_pull(seed, true, datagram_size_max, out);
}

void membership_core::learn(instant now, const claim& c, bool rebroadcast) {
    m_now = now;
    std::vector<claim> claims{c};
    m_quiet = !rebroadcast;
    apply_claims(now, claims);
    m_quiet = false;
    m_corrections.clear();
    m_notices.clear();
}

void membership_core::learn(instant now, std::span<const claim> claims, bool rebroadcast) {
    m_now = now;
    m_quiet = !rebroadcast;
    std::vector<claim> chunk;
    for (size_t at = 0; at < claims.size(); at += update_count_max) {
        const auto part = claims.subspan(at, std::min(update_count_max, claims.size() - at));
        chunk.assign(part.begin(), part.end());
        apply_claims(now, chunk);
    }
    m_quiet = false;
    m_corrections.clear();
    m_notices.clear();
}

std::vector<claim> membership_core::alive_claims() const {
    std::vector<claim> claims;
    claims.reserve(m_members.size());
    for (const member& m : m_members) {
        if (m.state != member_state::alive && m.state != member_state::suspect &&
            m.state != member_state::unreachable)
            continue;
        claim c;
        c.kind = claim_kind::alive;
        c.subject = m.id;
        c.incarnation = m.incarnation;
        c.address = m.address;
        c.signature = m.signature;
        claims.push_back(c);
    }
    return claims;
}

void membership_core::leave(instant now, datagram_sink& out) {
    if (m_left)
        return;
    m_left = true;
    m_self_claim.kind = claim_kind::left;
    sign_claim(m_self_claim, m_identity);
    enqueue(m_self_claim);
    m_probe.active = false;
    gossip_round(now, out);
}

std::vector<member_info> membership_core::snapshot() const {
    std::vector<member_info> rows;
    rows.reserve(m_members.size());
    for (const member& m : m_members) {
        member_info row{m.id,          m.address,    m.state,     m.incarnation,
                        m.state_since, std::nullopt, std::nullopt};
        if (m.contacted) {
            row.last_contact = m.last_contact;
            if (m.rtt.count() > 0)
                row.rtt = m.rtt;
        }
        rows.push_back(row);
    }
    return rows;
}

std::optional<member_info> membership_core::find(const node_id& id) const {
    const uint32_t index = index_of(id);
    if (index == none)
        return std::nullopt;
    const member& m = m_members[index];
    member_info row{m.id,          m.address,    m.state,     m.incarnation,
                    m.state_since, std::nullopt, std::nullopt};
    if (m.contacted) {
        row.last_contact = m.last_contact;
        if (m.rtt.count() > 0)
            row.rtt = m.rtt;
    }
    return row;
}

// --- claims ------------------------------------------------------------------------------------

bool membership_core::would_change(const claim& c) const noexcept {
    if (c.subject == m_self_claim.subject) {
        const uint64_t ours = m_self_claim.incarnation;
        switch (c.kind) {
        case claim_kind::alive:
            return c.incarnation > ours;
        case claim_kind::suspect:
        case claim_kind::dead:
        case claim_kind::left:
            return !m_left && c.incarnation >= ours && c.incarnation - ours <= incarnation_jump_max;
        }
        return false;
    }
    const uint32_t index = index_of(c.subject);
    if (index == none) {
        if (c.kind != claim_kind::alive)
            return false;
        // A reaped member returns only above the incarnation it died at.
        const claim* dead = tombstone_of(c.subject);
        return dead == nullptr || c.incarnation > dead->incarnation;
    }
    const member& m = m_members[index];
    switch (c.kind) {
    case claim_kind::alive:
        return c.incarnation > m.incarnation;
    case claim_kind::suspect:
        // First-hand evidence beats hearsay: it answered our probe a moment ago.
        if (m.state == member_state::alive && m.contacted &&
            m_now - m.last_contact < m_config.probe_interval && c.accuser != m_self_claim.subject)
            return false;
        return c.incarnation == m.incarnation &&
               (m.state == member_state::alive || m.state == member_state::suspect);
    case claim_kind::dead:
        // During a partition the other side's deaths are not ours to believe.
        if (m.state == member_state::unreachable && m.in_episode && m_partition_active &&
            c.accuser != m_self_claim.subject)
            return false;
        return c.incarnation == m.incarnation && is_live(m.state);
    case claim_kind::left:
        return c.incarnation >= m.incarnation && m.state != member_state::left;
    }
    return false;
}

void membership_core::apply_claims(instant now, std::vector<claim>& claims) {
    bump(m_counters.claims_received, claims.size());
    // Signed claims that would change the table are verified together, in one batch.
    std::array<std::vector<uint8_t>, update_count_max> messages;
    std::array<crypto::verify_request, update_count_max> requests;
    std::array<uint32_t, update_count_max> positions{};
    std::array<bool, update_count_max> verdicts{};
    std::array<bool, update_count_max> rejected{};
    size_t count = 0;
    for (size_t i = 0; i < claims.size() && i < update_count_max; ++i) {
        const claim& c = claims[i];
        if (c.kind != claim_kind::alive && c.kind != claim_kind::left)
            continue;
        if (!would_change(c))
            continue;
        std::array<uint8_t, signed_payload_size_max> payload{};
        const size_t size = claim_signed_payload(c, payload);
        messages[count] = crypto::signed_message(crypto::sig_domain::membership_alive,
                                                 bytes_view(payload).first(size));
        requests[count] = crypto::verify_request{c.subject.bytes, messages[count], c.signature};
        positions[count] = static_cast<uint32_t>(i);
        ++count;
    }
    if (count > 0) {
        m_verifier.verify(std::span(requests).first(count), std::span(verdicts).first(count));
        bump(m_counters.signatures_checked, count);
        for (size_t k = 0; k < count; ++k) {
            if (!verdicts[k]) {
                rejected[positions[k]] = true;
                bump(m_counters.drop_bad_signature);
            }
        }
    }
    for (size_t i = 0; i < claims.size() && i < update_count_max; ++i) {
        if (rejected[i])
            continue;
        if (partition_artifact(claims[i])) {
            bump(m_counters.drop_partition_artifact);
            continue;
        }
        apply(now, claims[i]);
    }
}

bool membership_core::partition_artifact(const claim& c) const {
    // Only suspicions: nobody declares a death during a partition, so a death is the end of a
    // suspicion confirmed after the heal (through this same filter) and news worth believing.
    if (c.kind != claim_kind::suspect)
        return false;
    // Our own accusations count too: one that comes back from the network is an echo of a
    // suspicion we raised across the cut (and dropped at the heal), never a fresh one.
    if (m_healed.empty() || m_now >= m_healed_until || c.subject == m_self_claim.subject)
        return false;
    // Across the healed cut: one of them was in the set we could not reach, the other was not.
    return m_healed.contains(c.accuser) != m_healed.contains(c.subject);
}

void membership_core::apply(instant now, const claim& c) {
    if (!would_change(c)) {
        note_correction(c);
        if (c.subject == m_self_claim.subject) {
            if ((c.kind == claim_kind::suspect || c.kind == claim_kind::dead) &&
                c.incarnation < m_self_claim.incarnation && c.accuser != c.subject)
                notice_accuser(now, c.accuser);
            bump(m_counters.drop_self_claim);
            return;
        }
        const uint32_t index = index_of(c.subject);
        if (index == none && c.kind != claim_kind::alive)
            bump(m_counters.drop_unknown_subject);
        else if (index == none)
            bump(m_counters.drop_reaped_alive);
        else if (index != none && (c.kind == claim_kind::suspect || c.kind == claim_kind::dead) &&
                 c.incarnation > m_members[index].incarnation)
            bump(m_counters.drop_future_incarnation);
        else
            bump(m_counters.claims_stale);
        return;
    }
    switch (c.kind) {
    case claim_kind::alive:
        apply_alive(now, c);
        break;
    case claim_kind::suspect:
    case claim_kind::dead:
        apply_accusation(now, c);
        break;
    case claim_kind::left:
        apply_left(now, c);
        break;
    }
}

void membership_core::apply_alive(instant now, const claim& c) {
    if (c.subject == m_self_claim.subject) {
        // A claim of ours from an earlier life (we restarted without our incarnation).
        refute(now, c.incarnation);
        return;
    }
    uint32_t index = index_of(c.subject);
    if (index == none) {
        if (m_members.size() >= m_config.member_count_max) {
            // A live newcomer is worth more than the memory of an old death.
            const uint32_t victim = eviction_candidate();
            if (victim == none) {
                bump(m_counters.drop_member_table_full);
                return;
            }
            remove_member(now, victim);
        }
        m_tombstones.erase(c.subject); // its order entry goes stale
        index = static_cast<uint32_t>(m_members.size());
        member m;
        m.id = c.subject;
        m.address = c.address;
        m.signature = c.signature;
        m.incarnation = c.incarnation;
        m.state = member_state::alive;
        m.state_since = now;
        m_members.push_back(m);
        m_index.emplace(c.subject, index);
        // Into the probe rotation at a random place (memberlist does the same).
        const auto at = static_cast<std::ptrdiff_t>(
            random_below(static_cast<uint32_t>(m_probe_order.size() + 1)));
        m_probe_order.insert(m_probe_order.begin() + at, index);
        if (static_cast<size_t>(at) < m_probe_cursor)
            ++m_probe_cursor;
        bump(m_counters.claims_applied);
        emit({event_kind::joined, now, c.subject, c.incarnation, {}});
        enqueue(c);
        return;
    }
    member& m = m_members[index];
    const member_state before = m.state;
    end_suspicion(index);
    m.address = c.address;
    m.signature = c.signature;
    m.incarnation = c.incarnation;
    set_state(now, m, member_state::alive);
    bump(m_counters.claims_applied);
    if (before != member_state::alive)
        emit({event_kind::alive, now, c.subject, c.incarnation, {}});
    enqueue(c);
    if (m.in_episode)
        member_back(now, m);
}

void membership_core::apply_accusation(instant now, const claim& c) {
    if (c.accuser == c.subject) {
        bump(m_counters.drop_accuser);
        return;
    }
    if (c.subject == m_self_claim.subject) {
        refute(now, c.incarnation);
        notice_accuser(now, c.accuser);
        return;
    }
    const uint32_t index = index_of(c.subject);
    member& m = m_members[index];
    bump(m_counters.claims_applied);
    if (c.kind == claim_kind::suspect) {
        if (m.state == member_state::alive) {
            set_state(now, m, member_state::suspect);
            m.accuser = c.accuser;
            start_suspicion(now, index, c.accuser);
            bump(m_counters.suspicions);
            emit({event_kind::suspect, now, m.id, m.incarnation, {}});
            enqueue(c);
            return;
        }
        if (m.suspicion_slot != none) {
            suspicion& s = m_suspicions[m.suspicion_slot];
            const size_t before = s.accusers.size();
            confirm_suspicion(now, s, c.accuser);
            if (s.accusers.size() != before)
                enqueue(c); // memberlist re-gossips confirmations so others count them too
        }
        return;
    }
    // dead
    end_suspicion(index);
    set_state(now, m, member_state::dead);
    m.accuser = c.accuser;
    bump(m_counters.deaths);
    emit({event_kind::dead, now, m.id, m.incarnation, {}});
    enqueue(c);
}

void membership_core::apply_left(instant now, const claim& c) {
    if (c.subject == m_self_claim.subject) {
        refute(now, c.incarnation);
        return;
    }
    const uint32_t index = index_of(c.subject);
    if (index == none) {
        bump(m_counters.drop_unknown_subject);
        return;
    }
    member& m = m_members[index];
    end_suspicion(index);
    m.incarnation = c.incarnation;
    m.address = c.address;
    m.signature = c.signature;
    set_state(now, m, member_state::left);
    bump(m_counters.claims_applied);
    emit({event_kind::left, now, m.id, m.incarnation, {}});
    enqueue(c);
}

void membership_core::note_correction(const claim& stale) {
    if (m_corrections.size() >= update_count_max)
        return;
    std::optional<claim> newer;
    if (stale.subject == m_self_claim.subject) {
        if (stale.incarnation < m_self_claim.incarnation)
            newer = m_self_claim;
    } else {
        const uint32_t index = index_of(stale.subject);
        if (index != none && stale.incarnation < m_members[index].incarnation) {
            newer = claim_of(m_members[index]);
        } else if (index == none && stale.kind == claim_kind::alive) {
            // A reaped member's old alive claim: its death, so the subject can refute.
            const claim* dead = tombstone_of(stale.subject);
            if (dead != nullptr && stale.incarnation <= dead->incarnation)
                newer = *dead;
        }
    }
    if (!newer)
        return;
    for (const claim& c : m_corrections) {
        if (c.subject == newer->subject)
            return;
    }
    m_corrections.push_back(*newer);
}

void membership_core::notice_accuser(instant now, const node_id& accuser) {
    const uint32_t index = index_of(accuser);
    if (index == none || m_notices.size() >= 4 || m_left)
        return;
    for (notified& n : m_notified) {
        if (n.accuser == accuser) {
            if (now - n.at < m_config.probe_timeout)
                return;
            n.at = now;
            m_notices.push_back(m_members[index].address);
            return;
        }
    }
    if (m_notified.size() >= 64)
        m_notified.erase(m_notified.begin());
    m_notified.push_back({accuser, now});
    m_notices.push_back(m_members[index].address);
}

void membership_core::send_corrections(const endpoint& to, size_t size_max, datagram_sink& out) {
    if (m_corrections.empty())
        return;
    gossip g;
    size_t size = encoded_size(message{gossip{}});
    for (const claim& c : m_corrections) {
        if (size + encoded_size(c) > size_max)
            continue;
        g.updates.push_back(c);
        size += encoded_size(c);
    }
    m_corrections.clear();
    if (!g.updates.empty() && send(to, g, out))
        bump(m_counters.corrections_sent);
}

void membership_core::refute(instant now, uint64_t accused_incarnation) {
    m_self_claim.incarnation = std::max(m_self_claim.incarnation, accused_incarnation) + 1;
    m_self_claim.kind = claim_kind::alive;
    sign_claim(m_self_claim, m_identity);
    enqueue(m_self_claim);
    // Lifeguard: being suspected is a hint that we are the slow one.
    m_awareness = std::min(m_awareness + 1, m_config.awareness_max);
    bump(m_counters.refutations);
    emit({event_kind::refuted, now, m_self_claim.subject, m_self_claim.incarnation, {}});
}

void membership_core::enqueue(const claim& c) {
    if (m_quiet)
        return;
    // A newer claim about a subject replaces the queued one (the old entry goes stale).
    const uint64_t order = ++m_broadcast_order;
    const bool replaced = m_live.contains(c.subject);
    m_live.insert_or_assign(c.subject, order);
    if (m_buckets.empty())
        m_buckets.resize(1);
    m_buckets[0].push_back({c, 0, order});
    if (replaced || m_live.size() <= m_config.broadcast_queue_max)
        return;
    // Full: evict the oldest of the most-sent claims.
    for (size_t t = m_buckets.size(); t-- > 0;) {
        auto& bucket = m_buckets[t];
        while (!bucket.empty()) {
            const broadcast b = bucket.front();
            bucket.erase(bucket.begin());
            auto it = m_live.find(b.c.subject);
            if (it != m_live.end() && it->second == b.order) {
                m_live.erase(it);
                bump(m_counters.broadcasts_evicted);
                return;
            }
        }
    }
}

void membership_core::piggyback(std::vector<claim>& updates, size_t size_budget,
                                const claim* buddy) {
    size_t used = 0;
    if (buddy != nullptr && encoded_size(*buddy) <= size_budget) {
        updates.push_back(*buddy);
        used += encoded_size(*buddy);
    }
    if (m_live.empty())
        return;
    const uint32_t limit = retransmit_limit(m_config, m_members.size() + 1);
    if (m_buckets.size() < limit + 1)
        m_buckets.resize(limit + 1);
    // Least-sent first, newest first among equals; a taken claim moves one bucket up after the
    // scan (so it is not taken twice), or leaves the queue at the limit.
    std::vector<broadcast> moved;
    for (size_t t = 0; t < m_buckets.size() && updates.size() < update_count_max; ++t) {
        auto& bucket = m_buckets[t];
        while (!bucket.empty() && updates.size() < update_count_max) {
            broadcast& b = bucket.back();
            auto it = m_live.find(b.c.subject);
            if (it == m_live.end() || it->second != b.order) {
                bucket.pop_back(); // replaced or evicted
                continue;
            }
            if (buddy != nullptr && b.c.subject == buddy->subject) {
                m_live.erase(it); // the buddy claim went out in its place
                bucket.pop_back();
                continue;
            }
            const size_t size = encoded_size(b.c);
            if (used + size > size_budget)
                break;
            updates.push_back(b.c);
            used += size;
            broadcast next = b;
            bucket.pop_back();
            ++next.transmits;
            if (next.transmits >= limit || t + 1 >= m_buckets.size())
                m_live.erase(next.c.subject);
            else
                moved.push_back(next);
        }
    }
    for (const broadcast& b : moved)
        m_buckets[b.transmits].push_back(b);
}

// --- suspicion and partitions --------------------------------------------------------------------

void membership_core::start_suspicion(instant now, uint32_t index, const node_id& accuser) {
    const size_t nodes = m_members.size() + 1;
    auto [min, max] = suspicion_bounds(m_config, nodes);
    uint32_t expected = m_config.suspicion_mult > 2 ? m_config.suspicion_mult - 2 : 0;
    if (nodes < 2 + size_t{expected})
        expected = 0;
    AINET_ASSERT(m_members[index].suspicion_slot == none);
    suspicion s{index, now, min, max, expected, {accuser}, now + (expected == 0 ? min : max)};
    m_members[index].suspicion_slot = static_cast<uint32_t>(m_suspicions.size());
    m_suspicions.push_back(std::move(s));
}

void membership_core::confirm_suspicion(instant, suspicion& s, const node_id& accuser) {
    if (s.accusers.size() >= size_t{s.expected} + 1)
        return;
    if (std::find(s.accusers.begin(), s.accusers.end(), accuser) != s.accusers.end())
        return;
    s.accusers.push_back(accuser);
    const double confirmations = static_cast<double>(s.accusers.size() - 1);
    const double fraction =
        std::log(confirmations + 1.0) / std::log(static_cast<double>(s.expected) + 1.0);
    const auto span = static_cast<double>((s.max - s.min).count());
    const auto timeout = std::max(s.min, s.max - duration{static_cast<int64_t>(span * fraction)});
    s.deadline = s.start + timeout;
}

void membership_core::end_suspicion(uint32_t index) {
    const uint32_t slot = m_members[index].suspicion_slot;
    if (slot == none)
        return;
    m_members[index].suspicion_slot = none;
    if (slot + 1 != m_suspicions.size()) {
        m_suspicions[slot] = std::move(m_suspicions.back());
        m_members[m_suspicions[slot].member].suspicion_slot = slot;
    }
    m_suspicions.pop_back();
}

bool membership_core::partition_anomaly(instant now, const member& subject) const {
    size_t population = 0;
    size_t failing = 0;
    size_t group = 0;
    size_t group_failing = 0;
    for (const member& m : m_members) {
        if (!is_live(m.state))
            continue;
        ++population;
        const bool fails =
            m.state == member_state::suspect || (m.state == member_state::unreachable &&
                                                 now - m.state_since <= m_config.partition_window);
        failing += fails ? 1 : 0;
        if (same_netgroup(m.address, subject.address)) {
            ++group;
            group_failing += (m.state != member_state::alive) ? 1 : 0;
        }
    }
    const auto share = static_cast<size_t>(
        std::ceil(m_config.partition_fraction * static_cast<double>(population)));
    if (failing >= std::max<size_t>(m_config.partition_count_min, share))
        return true;
    return group >= m_config.netgroup_size_min && group_failing == group;
}

void membership_core::suspicion_expired(instant now, uint32_t index, bool confirmed) {
    member& m = m_members[index];
    AINET_ASSERT(m.state == member_state::suspect);
    const bool unhealthy = m_awareness * 2 >= m_config.awareness_max && m_config.awareness_max > 0;
    const bool anomaly = unhealthy || m_partition_active || partition_anomaly(now, m);
    if (!anomaly && !confirmed) {
        end_suspicion(index);
        set_state(now, m, member_state::unreachable);
        bump(m_counters.unconfirmed_withheld);
        emit({event_kind::unreachable, now, m.id, m.incarnation, {}});
        // Probe it next: only we could not reach it, so one answer brings it back (otherwise it
        // would wait a whole probe round, N probe intervals).
        if (m_probe_cursor <= m_probe_order.size())
            m_probe_order.insert(
                m_probe_order.begin() + static_cast<std::ptrdiff_t>(m_probe_cursor), index);
        return;
    }
    if (!anomaly) {
        end_suspicion(index);
        set_state(now, m, member_state::dead);
        m.accuser = m_self_claim.subject;
        bump(m_counters.deaths);
        emit({event_kind::dead, now, m.id, m.incarnation, {}});
        enqueue(claim_of(m));
        return;
    }
    if (!m_partition_active) {
        // Every failing member joins the set at once: one event, no storm of deaths.
        m_partition_active = true;
        m_episode_start = now;
        m_episode.clear();
        m_episode_back = 0;
        m_episode_resolved = 0;
        for (uint32_t i = 0; i < m_members.size(); ++i) {
            member& x = m_members[i];
            if (x.state == member_state::suspect || x.state == member_state::unreachable) {
                end_suspicion(i);
                if (x.state == member_state::suspect)
                    bump(m_counters.deaths_withheld);
                set_state(now, x, member_state::unreachable);
                x.in_episode = true;
                x.episode_resolved = false;
                m_episode.push_back(x.id);
            }
        }
        bump(m_counters.partitions_suspected);
        emit({event_kind::partition_suspected, now, node_id{}, 0, m_episode});
        return;
    }
    end_suspicion(index);
    set_state(now, m, member_state::unreachable);
    bump(m_counters.deaths_withheld);
    if (!m.in_episode) {
        m.in_episode = true;
        m.episode_resolved = false;
        m_episode.push_back(m.id);
    }
    emit({event_kind::unreachable, now, m.id, m.incarnation, {}});
}

void membership_core::member_back(instant now, member& m) {
    if (!m_partition_active || !m.in_episode)
        return;
    const auto needed = static_cast<size_t>(
        std::ceil(m_config.heal_fraction * static_cast<double>(m_episode.size())));
    if (m_episode_back < needed && m_episode_resolved < m_episode.size())
        return;
    // Most of the set is back: the cut is gone. The rest of the set is taken back as alive too
    // (our own probes re-suspect any that really died meanwhile); waiting for each one's
    // refutation to be gossiped to everyone would take a minute at N = 1,000 (1,000 signed
    // claims through every node's gossip). Members that others declared dead stay dead.
    // A probe still running was sent across the cut: its silence says nothing now.
    if (m_probe.active && !m_probe.acked)
        m_probe.active = false;
    std::vector<node_id> returned;
    m_healed.clear();
    m_healed_until = now + m_config.heal_grace;
    for (const node_id& id : m_episode) {
        const uint32_t index = index_of(id);
        if (index == none)
            continue; // reaped: it died during the episode
        member& x = m_members[index];
        m_healed.insert(id);
        if (x.state == member_state::unreachable) {
            set_state(now, x, member_state::alive);
            emit({event_kind::alive, now, x.id, x.incarnation, {}});
        }
        if (x.state == member_state::alive)
            returned.push_back(id);
        x.in_episode = false;
        x.episode_resolved = false;
    }
    m_partition_active = false;
    m_episode.clear();
    m_episode_back = 0;
    m_episode_resolved = 0;
    // Suspicions only we raised while cut off, or raised at all during the episode, say more
    // about the cut than about their subjects: drop them (a probe that fails again raises a
    // fresh one), so they can neither run out as deaths nor as a new "partition".
    for (size_t i = 0; i < m_suspicions.size();) {
        const suspicion& s = m_suspicions[i];
        if ((s.accusers.size() == 1 && s.accusers[0] == m_self_claim.subject) ||
            s.start >= m_episode_start) {
            const uint32_t index = s.member;
            end_suspicion(index); // moves the last one into slot i
            set_state(now, m_members[index], member_state::alive);
        } else {
            ++i;
        }
    }
    bump(m_counters.partitions_healed);
    emit({event_kind::partition_healed, now, node_id{}, 0, std::move(returned)});
}

// --- reaping -----------------------------------------------------------------------------------

const claim* membership_core::tombstone_of(const node_id& id) const noexcept {
    auto it = m_tombstones.find(id);
    return it == m_tombstones.end() ? nullptr : &it->second.c;
}

uint32_t membership_core::eviction_candidate() const noexcept {
    uint32_t best = none;
    for (uint32_t i = 0; i < m_members.size(); ++i) {
        const member& m = m_members[i];
        if (m.state != member_state::dead && m.state != member_state::left)
            continue;
        if (m_probe.active && m_probe.member == i)
            continue;
        if (best == none || m.state_since < m_members[best].state_since)
            best = i;
    }
    return best;
}

void membership_core::remove_member(instant now, uint32_t index) {
    AINET_ASSERT(index < m_members.size());
    const member& m = m_members[index];
    AINET_ASSERT(m.state == member_state::dead || m.state == member_state::left);
    AINET_ASSERT(m.suspicion_slot == none);
    AINET_ASSERT(!(m_probe.active && m_probe.member == index));
    m_tombstones.insert_or_assign(m.id, tombstone{claim_of(m), now});
    m_tombstone_order.emplace_back(now, m.id);
    m_index.erase(m.id);
    bump(m_counters.members_reaped);
    // Swap-remove: the last member takes the freed index.
    const auto last = static_cast<uint32_t>(m_members.size() - 1);
    if (index != last) {
        m_members[index] = m_members[last];
        member& moved = m_members[index];
        m_index.insert_or_assign(moved.id, index);
        if (moved.suspicion_slot != none)
            m_suspicions[moved.suspicion_slot].member = index;
        if (m_probe.member == last)
            m_probe.member = index;
    }
    m_members.pop_back();
    for (size_t k = 0; k < m_probe_order.size();) {
        if (m_probe_order[k] == index) {
            m_probe_order.erase(m_probe_order.begin() + static_cast<std::ptrdiff_t>(k));
            if (k < m_probe_cursor)
                --m_probe_cursor;
            continue;
        }
        if (m_probe_order[k] == last)
            m_probe_order[k] = index;
        ++k;
    }
    trim_tombstones(now);
}

void membership_core::reap(instant now) {
    for (uint32_t i = 0; i < m_members.size();) {
        const member& m = m_members[i];
        if ((m.state == member_state::dead || m.state == member_state::left) &&
            now - m.state_since >= m_config.dead_retention &&
            !(m_probe.active && m_probe.member == i)) {
            remove_member(now, i); // the last member moved into i: look at it next
        } else {
            ++i;
        }
    }
    trim_tombstones(now);
    if (!m_healed.empty() && now >= m_healed_until)
        m_healed.clear();
}

void membership_core::trim_tombstones(instant now) {
    // Oldest first; an entry whose tombstone was dropped or renewed is skipped.
    const size_t order_max = size_t{2} * m_config.tombstone_count_max;
    while (!m_tombstone_order.empty() &&
           (now - m_tombstone_order.front().first >= m_config.tombstone_retention ||
            m_tombstones.size() > m_config.tombstone_count_max ||
            m_tombstone_order.size() > order_max)) {
        const auto [at, id] = m_tombstone_order.front();
        m_tombstone_order.pop_front();
        auto it = m_tombstones.find(id);
        if (it != m_tombstones.end() && it->second.reaped_at == at)
            m_tombstones.erase(it);
    }
}

// --- timers ------------------------------------------------------------------------------------

instant membership_core::next_deadline() const noexcept {
    instant next = m_next_gossip;
    next = std::min(next, m_next_push_pull);
    if (m_probe.active) {
        next = std::min(next, m_probe.end_at);
        if (!m_probe.acked && !m_probe.indirect_sent)
            next = std::min(next, m_probe.timeout_at);
    } else {
        next = std::min(next, m_next_probe);
    }
    for (const relay& r : m_relays)
        next = std::min(next, r.nack_at);
    for (const suspicion& s : m_suspicions)
        next = std::min(next, s.deadline);
    return next;
}

void membership_core::tick(instant now, datagram_sink& out) {
    m_now = now;
    if (!m_started)
        return;
    // Relays whose target stayed silent: nack (Lifeguard), so the origin knows we are alive.
    for (size_t i = 0; i < m_relays.size();) {
        if (m_relays[i].nack_at <= now) {
            send(m_relays[i].origin, nack{m_relays[i].origin_seq, {}}, out);
            bump(m_counters.nacks_sent);
            m_relays[i] = m_relays.back();
            m_relays.pop_back();
        } else {
            ++i;
        }
    }
    if (m_probe.active && !m_probe.acked && !m_probe.indirect_sent && now >= m_probe.timeout_at)
        probe_timeout(now, out);
    if (m_probe.active && now >= m_probe.end_at)
        probe_end(now);
    if (!m_probe.active && now >= m_next_probe && !m_left)
        start_probe(now, out);
    if (!m_probe.active && now >= m_next_probe)
        m_next_probe = now + scaled(m_config.probe_interval);

    // Suspicions that ran out (each decision may end others, so look again after each).
    std::vector<std::pair<uint32_t, bool>> due;
    for (const suspicion& s : m_suspicions) {
        if (s.deadline <= now)
            due.emplace_back(s.member, s.expected == 0 || s.accusers.size() > 1);
    }
    for (const auto& [index, confirmed] : due) {
        if (m_members[index].suspicion_slot != none &&
            m_members[index].state == member_state::suspect)
            suspicion_expired(now, index, confirmed);
    }

    if (now >= m_next_gossip) {
        gossip_round(now, out);
        m_next_gossip = now + m_config.gossip_interval;
    }
    if (now >= m_next_push_pull) {
        push_pull_round(now, out);
        m_next_push_pull = now + m_config.push_pull_interval;
    }
    // Not a deadline of its own: ticks come at least every gossip_interval.
    if (now >= m_next_reap) {
        reap(now);
        m_next_reap = now + m_config.probe_interval;
    }
}

uint32_t membership_core::pick_member(bool include_recently_failed, instant now, uint32_t exclude) {
    if (m_members.empty())
        return none;
    for (int attempt = 0; attempt < 32; ++attempt) {
        const uint32_t i = random_below(static_cast<uint32_t>(m_members.size()));
        if (i == exclude)
            continue;
        const member& m = m_members[i];
        if (m.state == member_state::alive || m.state == member_state::suspect)
            return i;
        if (include_recently_failed &&
            (m.state == member_state::dead || m.state == member_state::unreachable) &&
            now - m.state_since <= m_config.gossip_to_the_dead)
            return i;
    }
    return none;
}

void membership_core::start_probe(instant now, datagram_sink& out) {
    uint32_t index = none;
    for (size_t tries = 0; tries <= m_probe_order.size() + 1 && index == none; ++tries) {
        if (m_probe_cursor >= m_probe_order.size()) {
            m_probe_order.clear();
            for (uint32_t i = 0; i < m_members.size(); ++i) {
                if (is_live(m_members[i].state))
                    m_probe_order.push_back(i);
            }
            for (size_t i = m_probe_order.size(); i > 1; --i)
                std::swap(m_probe_order[i - 1],
                          m_probe_order[random_below(static_cast<uint32_t>(i))]);
            m_probe_cursor = 0;
            if (m_probe_order.empty())
                break;
        }
        const uint32_t candidate = m_probe_order[m_probe_cursor++];
        if (is_live(m_members[candidate].state))
            index = candidate;
    }
    m_next_probe = now + scaled(m_config.probe_interval);
    if (index == none)
        return;
    const member& m = m_members[index];
    m_probe = probe{};
    m_probe.active = true;
    m_probe.seq = static_cast<uint32_t>(next_random());
    m_probe.member = index;
    m_probe.target = m.id;
    m_probe.sent = now;
    m_probe.timeout_at = now + scaled(m_config.probe_timeout);
    m_probe.end_at = m_next_probe;
    bump(m_counters.probes);

    ping p{m_probe.seq, m.id, {}};
    // Lifeguard's buddy system: a suspect learns of its suspicion from the probe itself.
    std::optional<claim> buddy;
    if (m.state != member_state::alive)
        buddy = claim_of(m);
    piggyback(p.updates, datagram_size_max - encoded_size(message{ping{}}),
              buddy ? &*buddy : nullptr);
    if (send(m.address, p, out))
        bump(m_counters.pings_sent);
}

void membership_core::probe_timeout(instant now, datagram_sink& out) {
    m_probe.indirect_sent = true;
    const member& target = m_members[m_probe.member];
    std::vector<uint32_t> chosen;
    for (uint32_t attempt = 0;
         attempt < 4 * m_config.indirect_probes && chosen.size() < m_config.indirect_probes;
         ++attempt) {
        const uint32_t i = pick_member(false, now, m_probe.member);
        if (i == none)
            break;
        if (m_members[i].state != member_state::alive ||
            std::find(chosen.begin(), chosen.end(), i) != chosen.end())
            continue;
        chosen.push_back(i);
    }
    for (uint32_t i : chosen) {
        ping_req r{m_probe.seq, target.id, target.address, {}};
        r.updates.clear();
        if (send(m_members[i].address, r, out)) {
            bump(m_counters.ping_reqs_sent);
            ++m_probe.expected_nacks;
        }
    }
}

void membership_core::probe_end(instant now) {
    m_probe.active = false;
    if (m_probe.acked)
        return;
    bump(m_counters.probes_failed);
    // Lifeguard: each missing nack is evidence that our own network or process is the problem.
    const uint32_t delta =
        m_probe.expected_nacks > 0
            ? m_probe.expected_nacks - std::min(m_probe.nacks, m_probe.expected_nacks)
            : 1;
    m_awareness = std::min(m_awareness + delta, m_config.awareness_max);
    const uint32_t index = index_of(m_probe.target);
    if (index == none)
        return;
    member& m = m_members[index];
    if (m.state != member_state::alive && m.state != member_state::suspect)
        return;
    claim c;
    c.kind = claim_kind::suspect;
    c.subject = m.id;
    c.incarnation = m.incarnation;
    c.accuser = m_self_claim.subject;
    apply(now, c);
}

void membership_core::gossip_round(instant now, datagram_sink& out) {
    if (m_live.empty())
        return;
    std::vector<uint32_t> chosen;
    for (uint32_t attempt = 0;
         attempt < 4 * m_config.gossip_fanout && chosen.size() < m_config.gossip_fanout;
         ++attempt) {
        const uint32_t i = pick_member(true, now, none);
        if (i == none)
            break;
        if (std::find(chosen.begin(), chosen.end(), i) == chosen.end())
            chosen.push_back(i);
    }
    for (uint32_t i : chosen) {
        gossip g;
        piggyback(g.updates, datagram_size_max - encoded_size(message{gossip{}}), nullptr);
        if (g.updates.empty())
            break;
        if (send(m_members[i].address, g, out))
            bump(m_counters.gossips_sent);
    }
}

void membership_core::push_pull_round(instant now, datagram_sink& out) {
    if (m_left)
        return;
    const uint32_t i = pick_member(false, now, none);
    if (i == none)
        return;
    send_push_pull(m_members[i].address, true, datagram_size_max, out);
}

void membership_core::send_push_pull(const endpoint& to, bool reply_wanted, size_t size_max,
                                     datagram_sink& out, const claim* first) {
    push_pull p;
    p.flags = reply_wanted ? push_pull::flag_reply_wanted : 0;
    size_t size = encoded_size(message{push_pull{}});
    if (size > size_max)
        return;
    const auto add = [&](const claim& c) {
        const size_t claim_size = encoded_size(c);
        if (p.updates.size() >= update_count_max || size + claim_size > size_max)
            return false;
        p.updates.push_back(c);
        size += claim_size;
        return true;
    };
    if (first != nullptr)
        (void)add(*first);
    if (!m_left)
        (void)add(m_self_claim);
    // A rotating window over the table: successive exchanges cover all of it.
    const size_t count = m_members.size();
    for (size_t k = 0; k < count; ++k) {
        if (m_push_pull_cursor >= count)
            m_push_pull_cursor = 0;
        if (!add(claim_of(m_members[m_push_pull_cursor])))
            break;
        ++m_push_pull_cursor;
    }
    if (reply_wanted && size < size_max) {
        // Padding lets the answer (never larger than the request) be a full datagram.
        const size_t room = size_max - size;
        size_t pad = room > 0 ? room - 1 : 0; // the varint grows from 1 to 2 bytes at 128
        while (pad > 0 && size + varint_size(pad) - 1 + pad > size_max)
            --pad;
        p.pad_size = static_cast<uint32_t>(pad);
    }
    if (send(to, p, out))
        bump(m_counters.push_pulls_sent);
}

// --- datagrams ---------------------------------------------------------------------------------

void membership_core::on_datagram(instant now, const datagram_ref& d, datagram_sink& out) {
    bump(m_counters.bytes_received, d.payload.size());
    m_now = now;
    m_corrections.clear();
    m_notices.clear();
    auto decoded = decode(d.payload);
    if (!decoded) {
        bump(m_counters.drop_malformed);
        return;
    }
    std::visit(
        [&](auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, ping>) {
                on_ping(now, d, m, out);
            } else if constexpr (std::is_same_v<T, ack>) {
                on_ack(now, d, m, out);
            } else if constexpr (std::is_same_v<T, ping_req>) {
                on_ping_req(now, d, m, out);
            } else if constexpr (std::is_same_v<T, nack>) {
                on_nack(now, m);
            } else if constexpr (std::is_same_v<T, gossip>) {
                bump(m_counters.gossips_received);
                apply_claims(now, m.updates);
            } else {
                bump(m_counters.push_pulls_received);
                // A requester leads with its own alive claim. If we hold it as failed at that
                // incarnation or later, our verdict leads the answer, so it can refute (a node
                // that was cut off learns this way that it was declared dead).
                std::optional<claim> verdict;
                if (!m.updates.empty() && m.updates[0].kind == claim_kind::alive) {
                    const uint32_t index = index_of(m.updates[0].subject);
                    const claim* dead =
                        index == none ? tombstone_of(m.updates[0].subject) : nullptr;
                    if (index != none && m_members[index].state != member_state::alive &&
                        m_members[index].incarnation >= m.updates[0].incarnation)
                        verdict = claim_of(m_members[index]);
                    else if (dead != nullptr && dead->incarnation >= m.updates[0].incarnation)
                        verdict = *dead;
                }
                apply_claims(now, m.updates);
                if ((m.flags & push_pull::flag_reply_wanted) != 0 && m_started)
                    send_push_pull(d.source, false, d.payload.size(), out,
                                   verdict ? &*verdict : nullptr);
            }
        },
        *decoded);
    // Whatever stale claims the datagram carried (a ping's were answered in its ack).
    send_corrections(d.source, d.payload.size(), out);
    for (const endpoint& accuser : m_notices) {
        if (send(accuser, gossip{{m_self_claim}}, out))
            bump(m_counters.corrections_sent);
    }
    m_notices.clear();
}

void membership_core::on_ping(instant now, const datagram_ref& d, ping& m, datagram_sink& out) {
    if (m.target != m_self_claim.subject) {
        bump(m_counters.drop_wrong_target);
        return;
    }
    bump(m_counters.pings_received);
    apply_claims(now, m.updates);
    // The answer is never larger than the ping (no amplification).
    ack a{m.seq, {}};
    const size_t base = encoded_size(message{ack{}});
    size_t used = base;
    for (const claim& c : m_corrections) {
        if (used + encoded_size(c) <= d.payload.size()) {
            a.updates.push_back(c);
            used += encoded_size(c);
        }
    }
    m_corrections.clear();
    if (d.payload.size() > used)
        piggyback(a.updates, d.payload.size() - used, nullptr);
    if (send(d.source, a, out))
        bump(m_counters.acks_sent);
}

void membership_core::on_ack(instant now, const datagram_ref& d, ack& m, datagram_sink& out) {
    bump(m_counters.acks_received);
    if (m_probe.active && !m_probe.acked && m.seq == m_probe.seq) {
        m_probe.acked = true;
        m_awareness = m_awareness > 0 ? m_awareness - 1 : 0;
        const uint32_t index = index_of(m_probe.target);
        if (index != none) {
            member& target = m_members[index];
            target.contacted = true;
            target.last_contact = now;
            if (!m_probe.indirect_sent && d.source == target.address) {
                const duration sample = now - m_probe.sent;
                target.rtt =
                    target.rtt.count() == 0 ? sample : target.rtt + (sample - target.rtt) / 8;
            }
            if (target.state == member_state::unreachable) {
                // Contact is back: alive again locally; the target refutes the suspicion our
                // ping carried, and a push-pull with it speeds up the exchange of what each side
                // missed.
                set_state(now, target, member_state::alive);
                emit({event_kind::alive, now, target.id, target.incarnation, {}});
                member_back(now, target);
                if (now >= m_next_heal_push_pull) {
                    m_next_heal_push_pull = now + m_config.probe_interval;
                    send_push_pull(target.address, true, datagram_size_max, out);
                }
            }
        }
        apply_claims(now, m.updates);
        return;
    }
    for (size_t i = 0; i < m_relays.size(); ++i) {
        if (m_relays[i].seq != m.seq)
            continue;
        const relay r = m_relays[i];
        m_relays[i] = m_relays.back();
        m_relays.pop_back();
        apply_claims(now, m.updates);
        ack forward{r.origin_seq, {}};
        const size_t base = encoded_size(message{ack{}});
        if (r.size_max > base)
            piggyback(forward.updates, r.size_max - base, nullptr);
        if (send(r.origin, forward, out))
            bump(m_counters.acks_sent);
        return;
    }
    bump(m_counters.drop_unknown_seq);
    apply_claims(now, m.updates);
}

void membership_core::on_ping_req(instant now, const datagram_ref& d, ping_req& m,
                                  datagram_sink& out) {
    bump(m_counters.ping_reqs_received);
    apply_claims(now, m.updates);
    const uint32_t index = index_of(m.target);
    if (index == none || m_members[index].address != m.target_address ||
        !is_live(m_members[index].state)) {
        bump(m_counters.drop_unknown_target);
        return;
    }
    if (m_relays.size() >= m_config.relay_count_max) {
        bump(m_counters.drop_relay_table_full);
        return;
    }
    relay r{static_cast<uint32_t>(next_random()), m.seq, d.source, d.payload.size(),
            now + m_config.probe_timeout * 8 / 10};
    ping p{r.seq, m.target, {}};
    const size_t base = encoded_size(message{ping{}});
    if (d.payload.size() < base)
        return; // cannot happen: a ping_req is larger than a bare ping; kept for the invariant
    piggyback(p.updates, d.payload.size() - base, nullptr);
    m_relays.push_back(r);
    if (send(m.target_address, p, out))
        bump(m_counters.pings_sent);
}

void membership_core::on_nack(instant now, nack& m) {
    bump(m_counters.nacks_received);
    if (m_probe.active && m.seq == m_probe.seq)
        ++m_probe.nacks;
    else
        bump(m_counters.drop_unknown_seq);
    apply_claims(now, m.updates);
}

} // namespace ainet::membership
