// Goal: a running relay node on loopback survives hostile input on both of its ports and keeps
// serving. UDP: random datagrams, truncated and oversized ones, every message type with mutated
// fields, replayed and forged hellos, floods from one source. HTTP: an oversized request, slow
// clients, malformed request lines, a request flood from one client. After each phase the
// counters in /metrics (parsed from the text, as a scraper sees them) must have moved under the
// expected drop reason; at the end every datagram the shards received is accounted for by
// exactly one relay outcome, a legitimate relay_client still gets through and /healthz is 200.
// Every reply captured on an unauthenticated sender's socket is no larger than a datagram that
// socket sent before it (replies are matched to sends in order, one send per reply).
//
// Bounded: fixed datagram counts (phase_*_count), every wait has a deadline. Randomness comes
// from Catch's seed (printed at the top of the run; rerun with --rng-seed N).

#include "../unit/support/rng.hpp"
#include "raw_http.hpp"

#include <ainet/node/relay_client.hpp>
#include <ainet/node/relay_node.hpp>
#include <ainet/relay/relay_core.hpp>
#include <ainet/wire/handshake.hpp>
#include <ainet/wire/header.hpp>
#include <ainet/wire/ping.hpp>
#include <ainet/wire/relay_data.hpp>

#include <httplib.h>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

using namespace ainet;
using namespace ainet::node;
using namespace std::chrono_literals;
using namespace ainet::test;

namespace {

using clock_type = std::chrono::steady_clock;

constexpr size_t phase_random_count = 3000;
constexpr size_t phase_mutation_count_per_type = 300;
constexpr size_t phase_oversize_count = 40;
constexpr size_t phase_flood_count = 4000;
constexpr size_t http_flood_count_max = 3000;
// Drain replies every this many sends, so neither side's socket buffer overflows silently.
constexpr size_t drain_every = 128;

crypto::key_pair keys_for(uint8_t n) {
    crypto::seed s{};
    s[0] = 77;
    s[1] = n;
    return crypto::key_pair::from_seed(s);
}

template <class Message>
std::vector<uint8_t> encode(const Message& m) {
    std::vector<uint8_t> out(wire::encoded_size(m));
    REQUIRE(wire::encode(m, out));
    return out;
}

// ---- /metrics as a scraper sees it ----------------------------------------------------------

using metrics = std::map<std::string, uint64_t>;

std::optional<std::string> http_get(uint16_t port, const std::string& path, int* status = nullptr) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    // The flood phase may have spent this client address's bucket: wait for it to refill.
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto r = client.Get(path);
        if (r && r->status == 429) {
            std::this_thread::sleep_for(50ms);
            continue;
        }
        if (!r)
            return std::nullopt;
        if (status)
            *status = r->status;
        return r->body;
    }
    return std::nullopt;
}

// Sums every sample of a family over its labels: name{shard="0"} 3, name{shard="1"} 4 -> 7.
metrics parse_metrics(const std::string& text) {
    metrics out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        const size_t space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        std::string name = line.substr(0, space);
        if (const size_t brace = name.find('{'); brace != std::string::npos)
            name.resize(brace);
        out[name] += std::stoull(line.substr(space + 1));
    }
    return out;
}

metrics scrape(uint16_t port) {
    auto body = http_get(port, "/metrics");
    REQUIRE(body);
    return parse_metrics(*body);
}

uint64_t moved(const metrics& after, const metrics& before, const std::string& name) {
    const auto a = after.find(name);
    REQUIRE(a != after.end()); // every name the test reads must be exported
    const auto b = before.find(name);
    return a->second - (b == before.end() ? 0 : b->second);
}

std::string relay_metric(const char* reason) {
    return std::string("ainet_relay_") + reason + "_total";
}

// Waits (bounded) until the shards have taken everything in flight: rx stops moving.
metrics settle(uint16_t port) {
    metrics last = scrape(port);
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(100ms);
        metrics now = scrape(port);
        if (now["ainet_shard_rx_datagrams_total"] == last["ainet_shard_rx_datagrams_total"] &&
            now["ainet_relay_hello_requests_total"] == last["ainet_relay_hello_requests_total"])
            return now;
        last = std::move(now);
    }
    return last;
}

// ---- an attacker's UDP socket: records what it sent and every reply it captured ------------

class sender {
public:
    explicit sender(const endpoint& relay) : m_relay(relay) {
        runtime::socket_options options;
        options.reuse_port = false;
        auto s = runtime::udp_socket::open(make_ipv4(127, 0, 0, 1, 0), options);
        REQUIRE(s);
        m_socket = std::move(s).value();
        const int buffer_size = 4 << 20;
        ::setsockopt(m_socket.fd(), SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
    }

    void send(bytes_view datagram) {
        const auto address = runtime::to_sockaddr(m_relay);
        const ssize_t sent =
            ::sendto(m_socket.fd(), datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&address.storage), address.size);
        REQUIRE(sent == static_cast<ssize_t>(datagram.size()));
        m_events.push_back({true, datagram.size()});
        m_sent_bytes += datagram.size();
        if (++m_since_drain >= drain_every) {
            m_since_drain = 0;
            // Yield to the node now and then: a flood that only fills the kernel's buffers
            // would test the kernel, not the node.
            drain(1ms);
        }
    }
    void send(const std::vector<uint8_t>& datagram) {
        send(bytes_view(datagram.data(), datagram.size()));
    }

    // Collects replies until none arrives for quiet.
    void drain(duration quiet) {
        std::array<uint8_t, 65536> buffer{};
        for (;;) {
            pollfd p{m_socket.fd(), POLLIN, 0};
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count();
            if (::poll(&p, 1, static_cast<int>(ms)) <= 0)
                return;
            take_one(buffer);
        }
    }

    // The next reply within timeout (and records it).
    std::optional<std::vector<uint8_t>> receive(duration timeout) {
        std::array<uint8_t, 65536> buffer{};
        const auto deadline = clock_type::now() + timeout;
        while (clock_type::now() < deadline) {
            pollfd p{m_socket.fd(), POLLIN, 0};
            if (::poll(&p, 1, 10) <= 0)
                continue;
            if (auto got = take_one(buffer))
                return got;
        }
        return std::nullopt;
    }

    // Every reply maps to a distinct earlier send at least as large, in order (the relay
    // answers one flow on one shard, in arrival order), and the replies never add up to more
    // bytes than were sent.
    void check_no_amplification() const {
        INFO("sender " << to_string(local()) << ": " << m_replies << " replies, " << m_reply_bytes
                       << " bytes for " << m_sent_bytes << " bytes sent");
        CHECK(m_reply_bytes <= m_sent_bytes);
        size_t next_send = 0;
        std::vector<size_t> sends;
        for (const auto& e : m_events) {
            if (e.sent) {
                sends.push_back(e.size);
                continue;
            }
            // A reply may only pair with a send that happened before it was captured.
            while (next_send < sends.size() && sends[next_send] < e.size)
                ++next_send;
            INFO("a " << e.size << "-byte reply has no earlier unmatched send at least as large");
            REQUIRE(next_send < sends.size());
            ++next_send;
        }
    }

    [[nodiscard]] endpoint local() const { return m_socket.local_endpoint(); }
    [[nodiscard]] size_t replies() const noexcept { return m_replies; }

private:
    std::optional<std::vector<uint8_t>> take_one(std::array<uint8_t, 65536>& buffer) {
        runtime::socket_address address;
        address.size = sizeof(address.storage);
        const ssize_t got =
            ::recvfrom(m_socket.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                       reinterpret_cast<sockaddr*>(&address.storage), &address.size);
        endpoint source;
        if (got < 0 || !runtime::from_sockaddr(reinterpret_cast<const sockaddr*>(&address.storage),
                                               address.size, source))
            return std::nullopt;
        CHECK(source == m_relay); // nobody else talks to these sockets
        m_events.push_back({false, static_cast<size_t>(got)});
        ++m_replies;
        m_reply_bytes += static_cast<size_t>(got);
        return std::vector<uint8_t>(buffer.begin(), buffer.begin() + got);
    }

    struct event {
        bool sent;
        size_t size;
    };
    runtime::udp_socket m_socket;
    endpoint m_relay;
    std::vector<event> m_events;
    size_t m_sent_bytes = 0;
    size_t m_reply_bytes = 0;
    size_t m_replies = 0;
    size_t m_since_drain = 0;
};

// The full handshake on a raw socket; returns the hello the relay accepted (for replays).
wire::hello authenticate(sender& s, const crypto::key_pair& keys) {
    wire::hello_request request;
    request.sender = keys.id();
    for (int attempt = 0; attempt < 20; ++attempt) {
        s.send(encode(request));
        auto reply = s.receive(500ms);
        if (!reply)
            continue;
        auto datagram = wire::decode_datagram(*reply);
        REQUIRE(datagram);
        REQUIRE(datagram->head.type == wire::message_type::hello_challenge);
        auto challenge = wire::decode_hello_challenge(datagram->payload);
        REQUIRE(challenge);
        const wire::hello h = relay::sign_hello(keys, *challenge);
        s.send(encode(h));
        auto ack = s.receive(2s);
        REQUIRE(ack);
        auto ack_datagram = wire::decode_datagram(*ack);
        REQUIRE(ack_datagram);
        REQUIRE(ack_datagram->head.type == wire::message_type::hello_ack);
        return h;
    }
    FAIL("no hello_challenge within 20 attempts");
    return {};
}

// One valid datagram of every message type (the relay takes 4 of them; the others it must
// refuse as unknown to it).
std::vector<std::vector<uint8_t>> valid_datagrams(const wire::hello& signed_hello,
                                                  const node_id& to, const node_id& from) {
    std::vector<std::vector<uint8_t>> out;
    wire::hello_request request;
    request.sender = from;
    out.push_back(encode(request));
    wire::hello_challenge challenge;
    challenge.expiry = unix_ms{1'900'000'000'000};
    challenge.observed = make_ipv4(127, 0, 0, 1, 9);
    out.push_back(encode(challenge));
    out.push_back(encode(signed_hello));
    wire::hello_ack ack;
    ack.lease_ms = 1000;
    ack.relay = to;
    out.push_back(encode(ack));
    static const std::array<uint8_t, 100> payload{1, 2, 3};
    wire::relay_data data;
    data.destination = to;
    data.source = from;
    data.hop_limit = 4;
    data.payload = bytes_view(payload.data(), payload.size());
    out.push_back(encode(data));
    wire::ping ping;
    ping.nonce = 7;
    out.push_back(encode(ping));
    wire::pong pong;
    out.push_back(encode(pong));
    return out;
}

// ---- HTTP on a raw TCP socket: raw_http.hpp ------------------------------------------

bool healthz_ok(uint16_t port) {
    int status = 0;
    auto body = http_get(port, "/healthz", &status);
    return body && status == 200 && *body == "ok\n";
}

} // namespace

TEST_CASE("hostile input: the relay node keeps serving and counts every drop", "[hostile]") {
    REQUIRE(crypto::init());
    auto rng = test::seeded_rng(9);

    config::node_config config;
    config.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    config.http_listen = make_ipv4(127, 0, 0, 1, 0);
    config.shard_count = 2;
    relay_node_options options;
    // Small budgets so a test-sized flood reaches them; legitimate clients retry within them.
    options.relay.challenges_per_second = 500;
    options.relay.session_rate_per_second = 2000;
    options.relay.session_burst = 500;
    const auto relay_keys = keys_for(0);
    relay_node node(config, relay_keys, options);
    std::string error;
    REQUIRE(node.start(error));
    INFO("backend " << runtime::to_string(node.backend()));
    const endpoint relay_at = node.udp_endpoint();
    const uint16_t http_port = node.http_endpoint().port;
    const size_t datagram_size_max = config.limits.datagram_size_max;

    // A session of our own (a "mallory" who is authenticated) and its accepted hello.
    sender mallory(relay_at);
    const auto mallory_keys = keys_for(1);
    const wire::hello mallory_hello = authenticate(mallory, mallory_keys);
    const auto victim_keys = keys_for(2);
    std::vector<std::unique_ptr<sender>> strangers;
    auto stranger = [&]() -> sender& {
        return *strangers.emplace_back(std::make_unique<sender>(relay_at));
    };

    metrics before = settle(http_port);

    {
        // 1. Random datagrams: random bytes, and random payloads behind a valid-looking header
        // of any type code.
        sender& s = stranger();
        for (size_t i = 0; i < phase_random_count; ++i) {
            const size_t size = std::uniform_int_distribution<size_t>(0, datagram_size_max)(rng);
            auto bytes = test::random_bytes(rng, size);
            if (i % 4 == 0 && size >= wire::header_size) {
                bytes[0] = wire::magic_byte_0;
                bytes[1] = wire::magic_byte_1;
                bytes[2] = wire::protocol_version;
                bytes[4] = 0;
                bytes[5] = 0;
                const auto payload_size = static_cast<uint16_t>(size - wire::header_size);
                bytes[6] = static_cast<uint8_t>(payload_size);
                bytes[7] = static_cast<uint8_t>(payload_size >> 8);
            }
            s.send(bytes);
        }
        s.drain(50ms);
        metrics after = settle(http_port);
        CHECK(moved(after, before, relay_metric("drop_malformed")) > 0);
        CHECK(moved(after, before, "ainet_relay_forwarded_total") == 0);
        CHECK(moved(after, before, "ainet_relay_sessions_opened_total") == 0);
        before = after;
    }
    {
        // 2. Truncated, padded and oversized datagrams of every type.
        sender& s = stranger();
        for (const auto& valid :
             valid_datagrams(mallory_hello, victim_keys.id(), mallory_keys.id())) {
            for (size_t cut = 0; cut < valid.size(); ++cut)
                s.send(bytes_view(valid.data(), cut));
            for (size_t extra = 1; extra <= 3; ++extra) {
                auto padded = valid;
                padded.resize(valid.size() + extra, 0);
                s.send(padded);
            }
        }
        for (size_t i = 0; i < phase_oversize_count; ++i) {
            const size_t sizes[] = {datagram_size_max + 1, 4096, 9000, wire::datagram_size_max};
            auto bytes = test::random_bytes(rng, sizes[i % 4]);
            bytes[0] = wire::magic_byte_0;
            bytes[1] = wire::magic_byte_1;
            s.send(bytes);
        }
        s.drain(50ms);
        metrics after = settle(http_port);
        CHECK(moved(after, before, relay_metric("drop_malformed")) > 0);
        CHECK(moved(after, before, "ainet_shard_rx_truncated_total") >= phase_oversize_count / 2);
        CHECK(moved(after, before, "ainet_relay_sessions_opened_total") == 0);
        before = after;
    }
    {
        // 3. Whole valid datagrams of the types a relay does not take, and every type with
        // mutated fields (1..4 random bytes changed, header included). The hello carries a
        // cookie the relay issued to this very socket, so mutations past the cookie reach the
        // signature check.
        sender& s = stranger();
        const auto stranger_keys = keys_for(3);
        wire::hello_request request;
        request.sender = stranger_keys.id();
        s.send(encode(request));
        auto reply = s.receive(2s);
        REQUIRE(reply);
        auto challenge = wire::decode_hello_challenge(wire::decode_datagram(*reply)->payload);
        REQUIRE(challenge);
        const wire::hello own_hello = relay::sign_hello(stranger_keys, *challenge);
        for (const auto& valid :
             valid_datagrams(own_hello, mallory_keys.id(), stranger_keys.id())) {
            const auto type = static_cast<wire::message_type>(valid[3]);
            if (type != wire::message_type::hello_request && type != wire::message_type::hello)
                s.send(valid); // unknown to a relay, or (relay_data, ping) unauthenticated
            for (size_t i = 0; i < phase_mutation_count_per_type; ++i) {
                auto mutated = valid;
                const size_t changes = std::uniform_int_distribution<size_t>(1, 4)(rng);
                for (size_t c = 0; c < changes; ++c) {
                    const size_t at =
                        std::uniform_int_distribution<size_t>(0, mutated.size() - 1)(rng);
                    mutated[at] ^= static_cast<uint8_t>(1 + rng() % 255);
                }
                s.send(mutated);
            }
        }
        s.drain(50ms);
        metrics after = settle(http_port);
        for (const char* reason : {"drop_malformed", "drop_unknown_type", "drop_unauthenticated",
                                   "drop_bad_signature", "drop_bad_cookie"})
            CHECK(moved(after, before, relay_metric(reason)) > 0);
        // Nothing a stranger sent may open a session.
        CHECK(moved(after, before, "ainet_relay_sessions_opened_total") == 0);
        before = after;
    }
    {
        // 4. Replayed and forged hellos, and an authenticated peer that lies.
        sender& other = stranger();
        other.send(encode(mallory_hello)); // replay from another address
        wire::hello moved_hello = mallory_hello;
        moved_hello.observed = other.local(); // claims the new address: cookie no longer matches
        other.send(encode(moved_hello));
        wire::hello stale = mallory_hello;
        stale.observed = other.local();
        stale.expiry = unix_ms{1}; // long expired
        other.send(encode(stale));
        wire::hello impostor = mallory_hello;
        impostor.sender = victim_keys.id(); // another node's id on mallory's cookie
        mallory.send(encode(impostor));
        wire::hello forged = mallory_hello;
        forged.signature[5] ^= 0x40; // cookie fine, signature not
        mallory.send(encode(forged));
        // Unauthenticated traffic claiming mallory's identity.
        static const std::array<uint8_t, 32> payload{};
        wire::relay_data data;
        data.destination = victim_keys.id();
        data.source = mallory_keys.id();
        data.hop_limit = 4;
        data.payload = bytes_view(payload.data(), payload.size());
        other.send(encode(data));
        other.send(encode(wire::ping{}));
        // Mallory's session lies: spoofed source, exhausted hop limit, unknown destination,
        // destination = itself.
        wire::relay_data spoofed = data;
        spoofed.source = victim_keys.id();
        mallory.send(encode(spoofed));
        wire::relay_data last_hop = data;
        last_hop.hop_limit = 1;
        mallory.send(encode(last_hop));
        mallory.send(encode(data)); // victim has no session: unknown destination
        wire::relay_data loop = data;
        loop.destination = mallory_keys.id();
        mallory.send(encode(loop));
        other.drain(100ms);
        mallory.drain(100ms);
        metrics after = settle(http_port);
        for (const char* reason :
             {"drop_address_mismatch", "drop_bad_cookie", "drop_expired_cookie",
              "drop_bad_signature", "drop_unauthenticated", "drop_spoofed_source", "drop_hop_limit",
              "drop_unknown_destination", "drop_loop"})
            CHECK(moved(after, before, relay_metric(reason)) > 0);
        CHECK(moved(after, before, "ainet_relay_sessions_opened_total") == 0);
        CHECK(other.replies() == 0);
        before = after;
    }
    {
        // 5. Floods from one source: hello_requests past the challenge budget, and an
        // authenticated session past its rate.
        sender& s = stranger();
        wire::hello_request request;
        request.sender = keys_for(4).id();
        const auto bytes = encode(request);
        for (size_t i = 0; i < phase_flood_count; ++i)
            s.send(bytes);
        static const std::array<uint8_t, 16> payload{};
        wire::relay_data data;
        data.destination = victim_keys.id();
        data.source = mallory_keys.id();
        data.hop_limit = 4;
        data.payload = bytes_view(payload.data(), payload.size());
        const auto flood = encode(data);
        for (size_t i = 0; i < phase_flood_count; ++i)
            mallory.send(flood);
        s.drain(100ms);
        mallory.drain(100ms);
        metrics after = settle(http_port);
        CHECK(moved(after, before, relay_metric("drop_challenge_budget")) > 0);
        CHECK(moved(after, before, relay_metric("drop_rate_limited")) > 0);
        CHECK(s.replies() < phase_flood_count);
        before = after;
    }

    // HTTP.
    {
        httplib::Client client("127.0.0.1", http_port);
        client.set_read_timeout(10);
        auto big = client.Post(
            "/healthz", std::string(config.limits.http_request_size_max * 2, 'x'), "text/plain");
        REQUIRE(big);
        CHECK(big->status == 413);
    }
    {
        // Malformed request lines and headers: answered with a 4xx or closed, never served.
        const std::string bad_requests[] = {
            "GARBAGE\r\n\r\n",
            "GET\r\n\r\n",
            "GET /healthz HTTP/9.9\r\n\r\n",
            std::string("\x00\x01\x02\xff binary\r\n\r\n", 16),
            "GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\n\r\n",
            "POST /healthz HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            "POST /healthz HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "GET /healthz HTTP/1.1\r\n" + std::string(200 * 1024, 'h') + "\r\n\r\n",
        };
        const metrics refused_before = scrape(http_port);
        size_t answered = 0;
        for (const std::string& request : bad_requests) {
            const std::string answer = raw_exchange(http_port, request);
            INFO("request starting " << request.substr(0, 40) << " got " << answer.substr(0, 60));
            CHECK((answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0));
            answered += answer.empty() ? 0 : 1;
        }
        // Every 4xx that came back is counted under a refusal reason (operations). At least:
        // an answer written just before the server closes on unread input can be lost to the
        // reset, so some counted refusals may have reached no one.
        const metrics refused_after = scrape(http_port);
        CHECK(moved(refused_after, refused_before, "ainet_http_rejected_bad_request_total") +
                  moved(refused_after, refused_before, "ainet_http_rejected_too_large_total") >=
              answered);
        CHECK(moved(refused_after, refused_before, "ainet_http_rejected_bad_request_total") > 0);
        // A header line without a colon: cpp-httplib sometimes skips the line and serves the
        // otherwise well-formed GET (seen in release, not under ASan). Serving a read-only
        // /healthz is harmless; what must never happen is a crash or a non-HTTP answer.
        {
            const std::string answer =
                raw_exchange(http_port, "GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n");
            INFO("header without a colon got " << answer.substr(0, 60));
            CHECK((answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0 ||
                   answer.rfind("HTTP/1.1 200", 0) == 0));
        }
        CHECK(healthz_ok(http_port));
    }
    {
        // Slow clients: one that pauses longer than the read timeout is cut off; one that drips
        // its headers a byte at a time holds one worker, and the node still answers others.
        const int paused = tcp_connect(http_port);
        const std::string start = "GET /healthz HTTP/1.1\r\nHo";
        REQUIRE(::send(paused, start.data(), start.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(start.size()));
        const auto t0 = clock_type::now();
        const std::string answer = read_until_closed(paused, 20s);
        CHECK(clock_type::now() - t0 < 20s); // closed by the server, not by our deadline
        CHECK(answer.find(" 200 ") == std::string::npos);
        ::close(paused);
        CHECK(scrape(http_port).at("ainet_http_rejected_read_timeout_total") >= 1);

        const int drip = tcp_connect(http_port);
        const std::string request = "GET /healthz HTTP/1.1\r\nX-Slow: ";
        bool still_serving = true;
        for (size_t i = 0; i < 40; ++i) {
            const char byte = i < request.size() ? request[i] : 'a';
            if (::send(drip, &byte, 1, MSG_NOSIGNAL) != 1)
                break; // the server gave up on us: also fine
            std::this_thread::sleep_for(150ms);
            if (i % 10 == 9)
                still_serving = still_serving && healthz_ok(http_port);
        }
        ::close(drip);
        CHECK(still_serving);
    }
    {
        // A request flood from one client: 429 appears, and the node serves again afterwards.
        const metrics http_before = scrape(http_port);
        httplib::Client client("127.0.0.1", http_port);
        bool limited = false;
        for (size_t i = 0; i < http_flood_count_max && !limited; ++i) {
            auto r = client.Get("/healthz");
            REQUIRE(r);
            limited = r->status == 429;
        }
        CHECK(limited);
        const metrics http_after = scrape(http_port);
        CHECK(moved(http_after, http_before, "ainet_http_rejected_rate_limited_total") > 0);
        CHECK(moved(http_after, http_before, "ainet_http_rejected_too_large_total") == 0);
    }

    // After all that: a legitimate client still gets through, /healthz is 200, and every
    // datagram the shards received has exactly one outcome.
    {
        const endpoint bind_any = make_ipv4(127, 0, 0, 1, 0);
        auto alice = relay_client::connect(keys_for(10), relay_at, bind_any, 5s, error);
        REQUIRE(alice);
        auto bob = relay_client::connect(keys_for(11), relay_at, bind_any, 5s, error);
        REQUIRE(bob);
        const std::vector<uint8_t> hello_bob{'h', 'i'};
        std::optional<relay_client::message> got;
        for (int i = 0; i < 50 && !got; ++i) {
            REQUIRE(alice->send(bob->id(), hello_bob));
            got = bob->receive(100ms);
        }
        REQUIRE(got);
        CHECK(got->source == alice->id());
        CHECK(got->payload == hello_bob);
    }
    CHECK(healthz_ok(http_port));

    for (const auto& s : strangers)
        s->check_no_amplification();

    const metrics final_metrics = settle(http_port);
    uint64_t outcomes = final_metrics.at("ainet_relay_forwarded_total") +
                        final_metrics.at("ainet_relay_challenges_sent_total") +
                        final_metrics.at("ainet_relay_sessions_opened_total") +
                        final_metrics.at("ainet_relay_pongs_sent_total");
    for (const auto& [name, value] : final_metrics)
        if (name.rfind("ainet_relay_drop_", 0) == 0)
            outcomes += value;
    const uint64_t received = final_metrics.at("ainet_shard_rx_datagrams_total");
    INFO("received " << received << ", outcomes " << outcomes);
    // A session opened whose ack found the send queue full counts twice (opened, drop_tx_full).
    CHECK(received <= outcomes);
    CHECK(received + final_metrics.at("ainet_relay_drop_tx_full_total") >= outcomes);
    node.stop();
}
