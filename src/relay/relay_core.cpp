#include <ainet/relay/relay_core.hpp>

#include <ainet/core/assert.hpp>
#include <ainet/wire/handshake.hpp>
#include <ainet/wire/header.hpp>
#include <ainet/wire/ping.hpp>
#include <ainet/wire/relay_data.hpp>

#include <algorithm>
#include <cstring>

namespace ainet::relay {

namespace {

// Hellos verified together per batch; a larger batch is verified in several rounds.
constexpr size_t hello_batch_max = 128;
constexpr size_t signed_message_size_max = 1 + 64 + wire::hello_signed_payload_size_max;
// Sessions examined per on_tick for expiry, so upkeep never stalls a loop turn.
constexpr size_t expiry_scan_per_tick = 256;

double seconds_between(instant later, instant earlier) noexcept {
    return std::chrono::duration<double>(later - earlier).count();
}

int64_t to_ms(unix_ms t) noexcept { return static_cast<int64_t>(t); }

} // namespace

wire::hello sign_hello(const crypto::key_pair& keys, const wire::hello_challenge& challenge) {
    wire::hello h;
    h.sender = keys.id();
    h.nonce = challenge.nonce;
    h.expiry = challenge.expiry;
    h.observed = challenge.observed;
    std::array<uint8_t, wire::hello_signed_payload_size_max> payload{};
    // The challenge decoded, so its fields encode: a failure here is a bug.
    const size_t size = wire::hello_signed_payload(h, payload).value();
    h.signature = keys.sign(crypto::sig_domain::relay_hello, bytes_view(payload.data(), size));
    return h;
}

relay_core::relay_core(const relay_config& config, const crypto::key_pair& identity,
                       const crypto::mac_key& cookie_key, relay_counters& counters)
    : m_config(config), m_identity(identity), m_cookie_key(cookie_key), m_counters(counters),
      m_routes(config.route_count_max),
      m_challenge_budget{config.challenges_per_second, instant{}},
      m_verify_budget{config.verifications_per_second, instant{}} {
    m_sessions.reserve(std::min<uint32_t>(config.session_count_max, 4096));
    m_pending_hellos.reserve(hello_batch_max);
    m_hello_messages.resize(hello_batch_max * signed_message_size_max);
    m_verify_requests.reserve(hello_batch_max);
    m_verdicts = std::make_unique<bool[]>(hello_batch_max);
}

crypto::mac_tag relay_core::cookie(const crypto::mac_key& key, const node_id& sender,
                                   const endpoint& source, unix_ms expiry) noexcept {
    // Fixed layout: sender (32) | family (1) | address (16) | port (2) | expiry (8).
    std::array<uint8_t, 32 + 1 + 16 + 2 + 8> input{};
    byte_writer w(input);
    w.bytes(sender.bytes);
    w.u8(static_cast<uint8_t>(source.family));
    w.bytes(source.address);
    w.u16(source.port);
    w.u64(static_cast<uint64_t>(to_ms(expiry)));
    AINET_ASSERT(w.finish().has_value());
    return crypto::mac(key, input);
}

bool relay_core::take(token_bucket& bucket, instant now, double rate, double capacity) noexcept {
    bucket.tokens = std::min(capacity, bucket.tokens + seconds_between(now, bucket.refilled) * rate);
    bucket.refilled = now;
    if (bucket.tokens < 1.0)
        return false;
    bucket.tokens -= 1.0;
    return true;
}

void relay_core::on_datagrams(instant now, unix_ms wall, std::span<const datagram_ref> batch,
                              datagram_sink& out) noexcept {
    for (const datagram_ref& d : batch) {
        auto view = wire::decode_datagram(d.payload);
        if (!view) {
            bump(m_counters.drop_malformed);
            continue;
        }
        switch (view->head.type) {
        case wire::message_type::relay_data:
            on_relay_data(now, d, view->payload, out);
            break;
        case wire::message_type::hello_request:
            on_hello_request(now, wall, d, view->payload, out);
            break;
        case wire::message_type::hello:
            on_hello(now, wall, d, view->payload);
            if (m_pending_hellos.size() == hello_batch_max)
                finish_hellos(now, out);
            break;
        case wire::message_type::ping:
            on_ping(now, d, view->payload, out);
            break;
        default:
            bump(m_counters.drop_unknown_type);
            break;
        }
    }
    finish_hellos(now, out);
}

relay_core::session* relay_core::find_session(instant now, const endpoint& source) noexcept {
    auto it = m_sessions.find(source);
    if (it == m_sessions.end())
        return nullptr;
    if (it->second.lease_end <= now)
        return nullptr; // expired: on_tick removes it, a new hello replaces it
    return &it->second;
}

void relay_core::on_relay_data(instant now, const datagram_ref& d, bytes_view payload,
                               datagram_sink& out) noexcept {
    session* s = find_session(now, d.source);
    if (s == nullptr) {
        bump(m_counters.drop_unauthenticated);
        return;
    }
    token_bucket bucket{s->tokens, s->refilled};
    const bool allowed = take(bucket, now, m_config.session_rate_per_second, m_config.session_burst);
    s->tokens = bucket.tokens;
    s->refilled = bucket.refilled;
    if (!allowed) {
        bump(m_counters.drop_rate_limited);
        return;
    }
    auto message = wire::decode_relay_data(payload);
    if (!message) {
        bump(m_counters.drop_malformed);
        return;
    }
    if (message->source != s->node) {
        bump(m_counters.drop_spoofed_source);
        return;
    }
    // The next receiver needs hop_limit >= 1 after our decrement.
    if (message->hop_limit < 2) {
        bump(m_counters.drop_hop_limit);
        return;
    }
    const endpoint* route = m_routes.find(message->destination);
    if (route == nullptr) {
        bump(m_counters.drop_unknown_destination);
        return;
    }
    if (*route == d.source) {
        bump(m_counters.drop_loop);
        return;
    }
    // Zero copy where the sink can: the runtime sends these bytes from the receive buffer.
    if (!out.forward(*route, d, wire::relay_data_hop_limit_offset,
                     static_cast<uint8_t>(message->hop_limit - 1))) {
        bump(m_counters.drop_tx_full);
        return;
    }
    bump(m_counters.forwarded);
    bump(m_counters.forwarded_bytes, d.payload.size());
}

void relay_core::on_hello_request(instant now, unix_ms wall, const datagram_ref& d,
                                  bytes_view payload, datagram_sink& out) noexcept {
    bump(m_counters.hello_requests);
    auto request = wire::decode_hello_request(payload);
    if (!request) {
        bump(m_counters.drop_malformed);
        return;
    }
    if (!take(m_challenge_budget, now, m_config.challenges_per_second,
              m_config.challenges_per_second)) {
        bump(m_counters.drop_challenge_budget);
        return;
    }
    wire::hello_challenge challenge;
    challenge.expiry = unix_ms{to_ms(wall) + std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  m_config.challenge_lifetime)
                                                  .count()};
    challenge.observed = d.source;
    challenge.nonce = cookie(m_cookie_key, request->sender, d.source, challenge.expiry);
    mutable_bytes buffer = out.prepare(d.source);
    if (buffer.empty()) {
        bump(m_counters.drop_tx_full);
        return;
    }
    auto size = wire::encode(challenge, buffer);
    // Anti-amplification, checked on every reply rather than trusted to a static_assert alone.
    if (!size || *size > d.payload.size()) {
        out.abandon();
        bump(m_counters.drop_malformed);
        return;
    }
    out.commit(*size);
    bump(m_counters.challenges_sent);
}

void relay_core::on_hello(instant now, unix_ms wall, const datagram_ref& d, bytes_view payload) noexcept {
    auto h = wire::decode_hello(payload);
    if (!h) {
        bump(m_counters.drop_malformed);
        return;
    }
    if (h->observed != d.source) {
        bump(m_counters.drop_address_mismatch);
        return;
    }
    if (to_ms(h->expiry) <= to_ms(wall)) {
        bump(m_counters.drop_expired_cookie);
        return;
    }
    if (!crypto::tags_equal(h->nonce, cookie(m_cookie_key, h->sender, d.source, h->expiry))) {
        bump(m_counters.drop_bad_cookie);
        return;
    }
    if (!take(m_verify_budget, now, m_config.verifications_per_second,
              m_config.verifications_per_second)) {
        bump(m_counters.drop_verify_budget);
        return;
    }
    // Build context(relay-hello) || signed payload in this hello's preallocated slot.
    const size_t index = m_pending_hellos.size();
    AINET_ASSERT(index < hello_batch_max);
    uint8_t* slot = m_hello_messages.data() + index * signed_message_size_max;
    const std::string_view context = crypto::context_string(crypto::sig_domain::relay_hello);
    slot[0] = static_cast<uint8_t>(context.size());
    std::memcpy(slot + 1, context.data(), context.size());
    auto signed_size = wire::hello_signed_payload(
        *h, mutable_bytes(slot + 1 + context.size(), signed_message_size_max - 1 - context.size()));
    if (!signed_size) {
        bump(m_counters.drop_malformed);
        return;
    }
    m_pending_hellos.push_back(pending_hello{d.source, h->sender, index * signed_message_size_max,
                                             1 + context.size() + *signed_size, h->signature});
}

void relay_core::finish_hellos(instant now, datagram_sink& out) noexcept {
    if (m_pending_hellos.empty())
        return;
    m_verify_requests.clear();
    for (const pending_hello& p : m_pending_hellos) {
        crypto::verify_request r;
        r.key = p.sender.bytes;
        r.message = bytes_view(m_hello_messages.data() + p.message_offset, p.message_size);
        r.sig = p.signature;
        m_verify_requests.push_back(r);
    }
    crypto::verify_batch(m_verify_requests, std::span<bool>(m_verdicts.get(), m_pending_hellos.size()));
    for (size_t i = 0; i < m_pending_hellos.size(); ++i) {
        const pending_hello& p = m_pending_hellos[i];
        if (!m_verdicts[i]) {
            bump(m_counters.drop_bad_signature);
            continue;
        }
        auto existing = m_sessions.find(p.source);
        if (existing == m_sessions.end() && m_sessions.size() >= m_config.session_count_max) {
            bump(m_counters.drop_session_table_full);
            continue;
        }
        const bool fresh = existing == m_sessions.end();
        session& s = fresh ? m_sessions[p.source] : existing->second;
        if (!fresh && s.node != p.sender) {
            // This address now belongs to another key: the old node's route must not outlive
            // its session, or one address cycling through keys would fill every route table.
            m_outbox.push_back(route_update{s.node, p.source, true});
        }
        if (fresh || s.node != p.sender) {
            // A refresh by the same node keeps its token bucket: replaying one's own hello
            // must not buy a fresh burst.
            s.tokens = m_config.session_burst;
            s.refilled = now;
        }
        s.node = p.sender;
        s.lease_end = now + m_config.session_lease;
        // Announce whenever the routing table does not already say sender -> source (it may
        // point at an older address of the same node).
        const endpoint* route = m_routes.find(p.sender);
        if (route == nullptr || *route != p.source)
            m_outbox.push_back(route_update{p.sender, p.source, false});
        bump(m_counters.sessions_opened);

        wire::hello_ack ack;
        ack.lease_ms = static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(m_config.session_lease).count());
        ack.relay = m_identity.id();
        mutable_bytes buffer = out.prepare(p.source);
        if (buffer.empty()) {
            bump(m_counters.drop_tx_full);
            continue;
        }
        if (auto size = wire::encode(ack, buffer))
            out.commit(*size);
        else
            out.abandon();
    }
    m_pending_hellos.clear();
}

void relay_core::on_ping(instant now, const datagram_ref& d, bytes_view payload, datagram_sink& out) noexcept {
    // Only peers with a session get pongs: an open echo would be a reflector.
    if (find_session(now, d.source) == nullptr) {
        bump(m_counters.drop_unauthenticated);
        return;
    }
    auto p = wire::decode_ping(payload);
    if (!p) {
        bump(m_counters.drop_malformed);
        return;
    }
    mutable_bytes buffer = out.prepare(d.source);
    if (buffer.empty()) {
        bump(m_counters.drop_tx_full);
        return;
    }
    if (auto size = wire::encode(wire::make_pong(*p), buffer)) {
        out.commit(*size);
        bump(m_counters.pongs_sent);
    } else {
        out.abandon();
    }
}

void relay_core::on_tick(instant now) noexcept {
    // Walk a few buckets per tick, resuming where the last tick stopped, so every session is
    // looked at eventually and no tick does unbounded work.
    // At most one visit per bucket per tick, so no key is collected twice.
    const size_t buckets = m_sessions.bucket_count();
    const size_t steps = std::min(expiry_scan_per_tick, buckets);
    std::array<endpoint, expiry_scan_per_tick> expired;
    size_t expired_count = 0;
    for (size_t step = 0; step < steps && expired_count < expired.size(); ++step) {
        const size_t bucket = m_expiry_bucket++ % buckets;
        for (auto it = m_sessions.begin(bucket); it != m_sessions.end(bucket); ++it) {
            if (it->second.lease_end <= now && expired_count < expired.size())
                expired[expired_count++] = it->first;
        }
    }
    for (size_t i = 0; i < expired_count; ++i) {
        auto it = m_sessions.find(expired[i]);
        if (it == m_sessions.end())
            continue;
        // Withdraw the route only if it still points at this session's address (apply_route).
        m_outbox.push_back(route_update{it->second.node, it->first, true});
        m_sessions.erase(it);
        bump(m_counters.sessions_expired);
    }
}

void relay_core::apply_route(const route_update& update) {
    bump(m_counters.routes_applied);
    if (update.remove) {
        const endpoint* at = m_routes.find(update.node);
        if (at != nullptr && *at == update.at)
            (void)m_routes.erase(update.node);
        return;
    }
    if (m_routes.put(update.node, update.at) == route_table::put_result::full)
        bump(m_counters.routes_refused_full);
}

} // namespace ainet::relay
