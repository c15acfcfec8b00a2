#pragma once
// relay_core: the sans-I/O heart of a relay node, one instance per shard.
//
// It authenticates peers with a stateless challenge (the relay keeps nothing for a peer until
// the peer has proven both its address and its key), keeps the sessions of the peers whose
// flows the kernel hashes to this shard, and forwards relay_data datagrams from authenticated
// peers to the current endpoint of their destination node, from a routing table that is this
// shard's own copy. Fed (now, wall clock, datagrams); writes datagrams into a datagram_sink and
// route changes into an outbox the shard broadcasts to every shard (apply_route()).
//
//   peer                          relay
//   hello_request(id, pad) ---->  cookie = MAC(key, id | source | expiry); no state kept
//        <---- hello_challenge(cookie, expiry, source)        (never larger than the request)
//   hello(id, cookie, expiry, source, sig) ---->  cookie recomputed, source matches, expiry
//                                 in the future, Ed25519 over context(relay-hello) | payload
//                                 verified in a batch with the other hellos of this batch
//        <---- hello_ack(lease, relay id); session(source -> id, lease, token bucket);
//              route(id -> source) broadcast to all shards
//   relay_data(dst, src, hop) ->  session? rate ok? src == session id? hop >= 2? route(dst)?
//                                 forwarded with hop - 1, else dropped and counted by reason
//
// Forwards go through datagram_sink::forward(), so a sink that can (the runtime's tx_queue)
// sends the received bytes from the receive buffer with only the hop limit rewritten in place.
// Unauthenticated datagrams never get a reply larger than themselves, and challenges are
// budgeted per second so the relay cannot be used to reflect floods. Forwarding allocates
// nothing (a test holds it to zero allocations); routes live in a route_table preallocated for
// route_count_max (no allocation per new peer); sessions allocate when created.
// Not thread-safe: one shard owns one instance. The counters are single-writer atomics that the
// control thread reads.

#include <ainet/core/counter.hpp>
#include <ainet/core/datagram.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/crypto/mac.hpp>
#include <ainet/relay/route_table.hpp>
#include <ainet/wire/handshake.hpp>

#include <atomic>
#include <memory>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace ainet::relay {

// X(name, help): /metrics exports ainet_relay_<name>_total{shard="i"}.
#define AINET_RELAY_COUNTERS(X)                                                                    \
    X(forwarded, "relay_data datagrams forwarded")                                                 \
    X(forwarded_bytes, "bytes of relay_data datagrams forwarded")                                  \
    X(hello_requests, "hello_request datagrams received")                                          \
    X(challenges_sent, "hello_challenge datagrams sent")                                           \
    X(sessions_opened, "hellos accepted (session opened or refreshed)")                            \
    X(pongs_sent, "pong replies to authenticated pings")                                          \
    X(drop_malformed, "dropped: header or message did not decode")                                \
    X(drop_unknown_type, "dropped: a message type a relay does not take")                         \
    X(drop_unauthenticated, "dropped: relay_data or ping from a source without a session")       \
    X(drop_rate_limited, "dropped: session over its rate limit")                                  \
    X(drop_spoofed_source, "dropped: relay_data whose source id is not the session's node")      \
    X(drop_hop_limit, "dropped: hop limit exhausted")                                              \
    X(drop_unknown_destination, "dropped: no route to the destination node")                      \
    X(drop_loop, "dropped: the route leads back to the sender")                                    \
    X(drop_tx_full, "dropped: the send queue was full")                                            \
    X(drop_challenge_budget, "hello_requests not answered: challenge budget spent")               \
    X(drop_bad_cookie, "hellos dropped: cookie does not match (forged or for another address)")  \
    X(drop_expired_cookie, "hellos dropped: challenge expired")                                   \
    X(drop_address_mismatch, "hellos dropped: signed endpoint is not the source address")        \
    X(drop_bad_signature, "hellos dropped: signature does not verify")                            \
    X(drop_verify_budget, "hellos dropped: signature-check budget spent")                         \
    X(drop_session_table_full, "hellos dropped: session table full")                              \
    X(routes_applied, "route updates applied to this shard's table")                              \
    X(routes_refused_full, "route additions refused: routing table full")                         \
    X(sessions_expired, "sessions removed after their lease ended")

struct relay_counters {
#define AINET_RELAY_DECLARE(name, help) std::atomic<uint64_t> name{0};
    AINET_RELAY_COUNTERS(AINET_RELAY_DECLARE)
#undef AINET_RELAY_DECLARE
};

struct relay_config {
    duration challenge_lifetime = std::chrono::seconds(30);
    duration session_lease = std::chrono::seconds(300);
    uint32_t session_count_max = 65536;
    uint32_t route_count_max = 65536;
    // Per session: sustained datagrams per second and burst.
    double session_rate_per_second = 1'000'000;
    double session_burst = 100'000;
    // Per shard: challenges and signature checks per second (burst = one second's worth).
    double challenges_per_second = 20'000;
    double verifications_per_second = 20'000;
};

// The peer's side of the handshake: the hello that answers challenge, signed with keys under
// sig_domain::relay_hello. Used by every client of a relay (relay_client, tests, the simulator).
[[nodiscard]] wire::hello sign_hello(const crypto::key_pair& keys,
                                     const wire::hello_challenge& challenge);

// A route change for every shard's table: node is reachable at endpoint (or no longer).
struct route_update {
    node_id node;
    endpoint at;
    bool remove = false;
};

class relay_core {
public:
    // identity and cookie_key are read-only and may be shared by every shard's core.
    relay_core(const relay_config& config, const crypto::key_pair& identity,
               const crypto::mac_key& cookie_key, relay_counters& counters);

    // Handles a batch of received datagrams. Hellos in the batch are verified together.
    void on_datagrams(instant now, unix_ms wall, std::span<const datagram_ref> batch,
                      datagram_sink& out) noexcept;

    // Periodic upkeep (expired sessions), bounded work per call.
    void on_tick(instant now) noexcept;

    // Route changes made by this core since the last call; the caller broadcasts them and
    // clears the outbox with clear_route_outbox().
    [[nodiscard]] std::span<const route_update> route_outbox() const noexcept { return m_outbox; }
    void clear_route_outbox() noexcept { m_outbox.clear(); }

    // Applies a route change from any shard (this one included).
    void apply_route(const route_update& update);

    [[nodiscard]] size_t session_count() const noexcept { return m_sessions.size(); }
    [[nodiscard]] size_t route_count() const noexcept { return m_routes.size(); }
    [[nodiscard]] const crypto::key_pair& identity() const noexcept { return m_identity; }

    // The cookie a relay with this key issues to (sender at source, expiring at expiry). Exposed
    // so tests and benchmarks can build hellos without a round trip.
    [[nodiscard]] static crypto::mac_tag cookie(const crypto::mac_key& key, const node_id& sender,
                                                const endpoint& source, unix_ms expiry) noexcept;

private:
    struct session {
        node_id node;
        instant lease_end;
        double tokens;
        instant refilled;
    };
    struct token_bucket {
        double tokens;
        instant refilled;
    };
    struct pending_hello {
        endpoint source;
        node_id sender;
        size_t message_offset;
        size_t message_size;
        std::array<uint8_t, 64> signature;
    };

    void on_hello_request(instant now, unix_ms wall, const datagram_ref& d, bytes_view payload,
                          datagram_sink& out) noexcept;
    void on_hello(instant now, unix_ms wall, const datagram_ref& d, bytes_view payload) noexcept;
    void on_relay_data(instant now, const datagram_ref& d, bytes_view payload,
                       datagram_sink& out) noexcept;
    void on_ping(instant now, const datagram_ref& d, bytes_view payload, datagram_sink& out) noexcept;
    void finish_hellos(instant now, datagram_sink& out) noexcept;
    session* find_session(instant now, const endpoint& source) noexcept;
    static bool take(token_bucket& bucket, instant now, double rate, double capacity) noexcept;

    relay_config m_config;
    const crypto::key_pair& m_identity;
    const crypto::mac_key& m_cookie_key;
    relay_counters& m_counters;

    std::unordered_map<endpoint, session> m_sessions;
    route_table m_routes;
    std::vector<route_update> m_outbox;
    size_t m_expiry_bucket = 0; // where the next on_tick expiry scan starts

    token_bucket m_challenge_budget;
    token_bucket m_verify_budget;

    // Hellos of the current batch, waiting for one batched signature check. The signed
    // messages live in m_hello_messages (preallocated; no allocation per hello).
    std::vector<pending_hello> m_pending_hellos;
    std::vector<uint8_t> m_hello_messages;
    std::vector<crypto::verify_request> m_verify_requests;
    std::unique_ptr<bool[]> m_verdicts;
};

} // namespace ainet::relay
