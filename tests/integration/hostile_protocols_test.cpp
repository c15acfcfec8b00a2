// Goal (issue #9, hostile input end to end, protocol half): a running ainetd (membership,
// registry sync and reliable messaging all running, UDP on a concrete 127.x address) is fired
// at from a stranger's loopback socket with every protocol datagram type it serves:
// membership 0x30..0x35, registry sync 0x40..0x46, reliable 0x50. Per type: random bytes behind
// a valid header, truncations of valid messages at every length (header as sent, and header
// fixed up so the protocol decoder sees the short payload), every single-bit flip of valid
// messages, oversized datagrams, forged signatures (alive claims signed by the wrong key, a
// registry entry with a bad signature inside a sync flight), replays of valid messages, and a
// flood from one source.
//
// Then: the node still serves (/healthz, a legitimate PUT + GET, a reliable message from a real
// second ainetd arrives); no reply to the stranger was larger than the datagrams that caused it
// (every reply is checked against the largest datagram sent in the preceding 500 ms); the drop
// counters of each phase moved in /metrics; registry root and entry count, the alive member
// count and the inbox are unchanged.
//
// Seeded from Catch's rng seed (printed). ainetd comes from AINETD (meson sets it).
#define CATCH_CONFIG_MAIN
#include <ainet/core/encoding.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/membership/messages.hpp>
#include <ainet/registry/entry.hpp>
#include <ainet/registry/replica.hpp>
#include <ainet/reliability/packet.hpp>
#include <ainet/sync/messages.hpp>
#include <ainet/wire/header.hpp>

#include "../unit/config/temp_dir.hpp"
#include "../unit/support/rng.hpp"
#include "ainetd_process.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <random>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace ainet;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;
using bytes = std::vector<uint8_t>;

using test::read_text;
using test::write_text;

namespace {

crypto::key_pair keys_for(uint8_t n) {
    crypto::seed s{};
    s[0] = 0x40;
    s[1] = n;
    s[2] = static_cast<uint8_t>(::getpid());
    s[3] = static_cast<uint8_t>(::getpid() >> 8);
    return crypto::key_pair::from_seed(s);
}




struct ainetd_process : test::ainetd_process {
    std::string host;
    uint16_t udp_port = 0;
    uint16_t http_port = 0;

    std::string udp() const { return host + ":" + std::to_string(udp_port); }
    std::string http() const { return host + ":" + std::to_string(http_port); }
};

std::unique_ptr<httplib::Client> client(const ainetd_process& d) {
    auto c = std::make_unique<httplib::Client>(d.host, d.http_port);
    c->set_connection_timeout(1, 0);
    c->set_read_timeout(5, 0);
    return c;
}

std::optional<std::string> http_get(const ainetd_process& d, const std::string& path) {
    auto response = client(d)->Get(path.c_str());
    if (!response || response->status != 200)
        return std::nullopt;
    return response->body;
}

// Sum of every sample of a metric (all label sets), or -1 when /metrics does not answer.
double metric_sum(const std::string& body, const std::string& name) {
    std::istringstream lines(body);
    std::string line;
    double sum = 0;
    while (std::getline(lines, line)) {
        if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
            (line[name.size()] == ' ' || line[name.size()] == '{')) {
            const auto space = line.rfind(' ');
            sum += std::stod(line.substr(space + 1));
        }
    }
    return sum;
}

// Sum of every sample whose metric name starts with prefix.
double prefix_sum(const std::string& body, const std::string& prefix) {
    std::istringstream lines(body);
    std::string line;
    double sum = 0;
    while (std::getline(lines, line))
        if (!line.empty() && line[0] != '#' && line.compare(0, prefix.size(), prefix) == 0)
            sum += std::stod(line.substr(line.rfind(' ') + 1));
    return sum;
}

// Drops a stranger's datagram can end in, whatever its type: the runtime (too large for a
// receive buffer), the relay core (bad header, type it does not take), and each service's
// first gate (membership decode and probe matching, sync's source check, messaging's sender
// check). Spoofed-as-member datagrams go further and are not in this sum.
double stranger_drops(const std::string& body) {
    double sum = prefix_sum(body, "ainet_relay_drop_") +
                 prefix_sum(body, "ainet_shard_rx_truncated_total") +
                 prefix_sum(body, "ainet_messaging_drop_unknown_sender_total") +
                 prefix_sum(body, "ainet_registry_drop_unknown_source_total");
    for (const char* m : {"drop_malformed", "drop_wrong_target", "drop_unknown_seq",
                          "drop_unknown_target", "drop_relay_table_full"})
        sum += prefix_sum(body, std::string("ainet_membership_") + m + "_total");
    return sum;
}
// Membership datagrams a stranger's bytes can also be taken as (valid by chance: processed
// and counted as received, not dropped).
double membership_received(const std::string& body) {
    double sum = 0;
    for (const char* m : {"pings", "acks", "ping_reqs", "nacks", "gossips", "push_pulls"})
        sum += prefix_sum(body, std::string("ainet_membership_") + m + "_received_total");
    return sum;
}

struct metrics_snapshot {
    std::string body;
    double operator[](const std::string& name) const { return metric_sum(body, name); }
};

metrics_snapshot metrics(const ainetd_process& d) {
    auto body = http_get(d, "/metrics");
    REQUIRE(body);
    return {*body};
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto until = clock_type::now() + limit;
    while (clock_type::now() < until) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return done();
}

std::map<std::string, std::string> peer_states(const ainetd_process& d) {
    std::map<std::string, std::string> states;
    auto body = http_get(d, "/peers");
    if (!body)
        return states;
    const auto table = nlohmann::json::parse(*body, nullptr, false);
    if (!table.is_array())
        return states;
    for (const auto& row : table)
        states[row.value("id", std::string())] = row.value("state", std::string());
    return states;
}

nlohmann::json registry_root(const ainetd_process& d) {
    auto body = http_get(d, "/registry/root");
    if (!body)
        return {};
    return nlohmann::json::parse(*body, nullptr, false);
}

int put_entry(const ainetd_process& d, const registry::entry& e) {
    const bytes_view value(reinterpret_cast<const uint8_t*>(e.value.data()), e.value.size());
    nlohmann::json body = {{"public_key", to_hex(e.public_key)},
                           {"name", e.name},
                           {"value_base64", to_base64(value)},
                           {"hlc", e.hlc},
                           {"flags", e.flags},
                           {"signature", to_hex(e.signature)}};
    auto response = client(d)->Put("/registry/entries", body.dump(), "application/json");
    return response ? response->status : -1;
}

uint64_t wall_hlc() {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    return static_cast<uint64_t>(ms) << 16;
}

// The stranger: a UDP socket on its own 127.x address. Every reply it gets is checked against
// the datagrams it sent in the preceding reply_window.
class hostile_socket {
public:
    static constexpr auto reply_window = std::chrono::milliseconds(500);

    hostile_socket(const std::string& host, const ainetd_process& target) {
        m_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        REQUIRE(m_fd >= 0);
        int size = 4 << 20;
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        sockaddr_in self{};
        self.sin_family = AF_INET;
        REQUIRE(::inet_pton(AF_INET, host.c_str(), &self.sin_addr) == 1);
        REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&self), sizeof(self)) == 0);
        m_to.sin_family = AF_INET;
        m_to.sin_port = htons(target.udp_port);
        REQUIRE(::inet_pton(AF_INET, target.host.c_str(), &m_to.sin_addr) == 1);
    }
    ~hostile_socket() { ::close(m_fd); }

    void send(const bytes& d) {
        const auto now = clock_type::now();
        for (int tries = 0; tries < 100; ++tries) {
            const auto n = ::sendto(m_fd, d.data(), d.size(), 0,
                                    reinterpret_cast<const sockaddr*>(&m_to), sizeof(m_to));
            if (n >= 0 || (errno != EAGAIN && errno != ENOBUFS))
                break;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        m_sent.emplace_back(now, d.size());
        ++sent;
        if (++m_since_pause % 64 == 0) {
            // Paced so that the kernel's receive queue of the node is not what drops them.
            drain(std::chrono::milliseconds(2));
        } else {
            drain(std::chrono::milliseconds(0));
        }
    }

    // Reads replies for up to `wait`; each is checked against the largest datagram sent in the
    // window before it arrived.
    void drain(std::chrono::milliseconds wait) {
        const auto until = clock_type::now() + wait;
        std::vector<uint8_t> buffer(70000);
        for (;;) {
            const auto n = ::recv(m_fd, buffer.data(), buffer.size(), 0);
            if (n >= 0) {
                const auto now = clock_type::now();
                while (!m_sent.empty() && m_sent.front().first + reply_window < now)
                    m_sent.pop_front();
                size_t largest = 0;
                for (const auto& s : m_sent)
                    largest = std::max(largest, s.second);
                ++replies;
                reply_bytes += static_cast<size_t>(n);
                if (n >= 3)
                    ++reply_types[buffer[3]];
                last_phase_reply_max = std::max(last_phase_reply_max, static_cast<size_t>(n));
                last_phase_reply_bytes += static_cast<size_t>(n);
                if (static_cast<size_t>(n) > largest) {
                    ++oversized_replies;
                    if (examples.size() < 8)
                        examples.push_back("reply of " + std::to_string(n) + " bytes, type 0x" +
                                           to_hex(bytes_view(buffer.data() + 3, 1)) +
                                           ", largest datagram sent before it " +
                                           std::to_string(largest));
                }
                continue;
            }
            const auto left = until - clock_type::now();
            if (left <= clock_type::duration::zero())
                return;
            pollfd p{m_fd, POLLIN, 0};
            ::poll(&p, 1,
                   static_cast<int>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(left).count()) +
                       1);
        }
    }

    size_t sent = 0;
    size_t replies = 0;
    size_t reply_bytes = 0;
    size_t oversized_replies = 0;
    std::map<uint8_t, size_t> reply_types;
    size_t last_phase_reply_max = 0;   // reset by the caller
    size_t last_phase_reply_bytes = 0; // reset by the caller
    std::vector<std::string> examples;

private:
    int m_fd = -1;
    sockaddr_in m_to{};
    std::deque<std::pair<clock_type::time_point, size_t>> m_sent;
    size_t m_since_pause = 0;
};

// Datagrams whose IPv4 source is a member's address (B's), written through a raw socket: how
// a stranger reaches the decoders that only answer members (sync, reliable). Replies go to B,
// which drops them. Needs CAP_NET_RAW; without it the spoofed phase is skipped (said so).
class spoofing_socket {
public:
    spoofing_socket(const ainetd_process& from, const ainetd_process& to) {
        m_fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
        if (m_fd < 0)
            return;
        REQUIRE(::inet_pton(AF_INET, from.host.c_str(), &m_source) == 1);
        m_source_port = from.udp_port;
        m_to.sin_family = AF_INET;
        REQUIRE(::inet_pton(AF_INET, to.host.c_str(), &m_to.sin_addr) == 1);
        m_to_port = to.udp_port;
    }
    ~spoofing_socket() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    [[nodiscard]] bool usable() const { return m_fd >= 0; }

    void send(const bytes& d) {
        bytes packet(20 + 8 + d.size());
        const auto total = static_cast<uint16_t>(packet.size());
        packet[0] = 0x45; // IPv4, 5 words of header
        packet[2] = static_cast<uint8_t>(total >> 8);
        packet[3] = static_cast<uint8_t>(total);
        packet[8] = 64; // ttl
        packet[9] = 17; // UDP; checksum and id filled in by the kernel
        std::memcpy(&packet[12], &m_source, 4);
        std::memcpy(&packet[16], &m_to.sin_addr, 4);
        const auto udp_length = static_cast<uint16_t>(8 + d.size());
        packet[20] = static_cast<uint8_t>(m_source_port >> 8);
        packet[21] = static_cast<uint8_t>(m_source_port);
        packet[22] = static_cast<uint8_t>(m_to_port >> 8);
        packet[23] = static_cast<uint8_t>(m_to_port);
        packet[24] = static_cast<uint8_t>(udp_length >> 8);
        packet[25] = static_cast<uint8_t>(udp_length);
        // UDP checksum 0: none (IPv4).
        std::copy(d.begin(), d.end(), packet.begin() + 28);
        (void)::sendto(m_fd, packet.data(), packet.size(), 0,
                       reinterpret_cast<const sockaddr*>(&m_to), sizeof(m_to));
        ++sent;
        if (sent % 64 == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    size_t sent = 0;

private:
    int m_fd = -1;
    in_addr m_source{};
    uint16_t m_source_port = 0;
    sockaddr_in m_to{};
    uint16_t m_to_port = 0;
};

bytes with_header(wire::message_type type, const bytes& payload) {
    bytes d(wire::header_size + payload.size());
    wire::header h;
    h.type = type;
    h.payload_size = static_cast<uint16_t>(payload.size());
    REQUIRE(wire::encode_header(h, mutable_bytes(d.data(), d.size())));
    std::copy(payload.begin(), payload.end(), d.begin() + wire::header_size);
    return d;
}

// A datagram with its header's payload_size set to its real length (what a decoder past the
// wire layer sees when a hostile sender truncates or pads consistently).
bytes fix_size(bytes d) {
    if (d.size() >= wire::header_size) {
        const auto n = static_cast<uint16_t>(d.size() - wire::header_size);
        d[6] = static_cast<uint8_t>(n);
        d[7] = static_cast<uint8_t>(n >> 8);
    }
    return d;
}

bytes encode_membership(const membership::message& m) {
    bytes out(membership::datagram_size_max);
    auto n = membership::encode(m, mutable_bytes(out.data(), out.size()));
    REQUIRE(n);
    out.resize(*n);
    return out;
}

endpoint endpoint_of(const ainetd_process& d) {
    auto e = parse_endpoint(d.udp());
    REQUIRE(e);
    return *e;
}

membership::claim alive_claim(const crypto::key_pair& subject_keys, const crypto::key_pair& signer,
                              uint64_t incarnation, const endpoint& address) {
    membership::claim c;
    c.kind = membership::claim_kind::alive;
    c.subject = subject_keys.id();
    c.incarnation = incarnation;
    c.address = address;
    // sign_claim wants the subject's keys: sign as the signer by pretending it is the subject,
    // then put the real subject back (the signature is then the wrong key's).
    c.subject = signer.id();
    membership::sign_claim(c, signer);
    c.subject = subject_keys.id();
    return c;
}

} // namespace

TEST_CASE("a running ainetd survives hostile membership, sync and reliable datagrams") {
    const uint64_t seed = Catch::rngSeed();
    std::cout << "hostile protocols: seed " << seed << " (rerun with --rng-seed " << seed << ")"
              << std::endl;
    std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + 9);

    test::temp_dir tmp;
    const uint16_t base = test::free_port_base(8);
    // Distinct 127.x/16 netgroups per node and one for the stranger; x varies with the pid so
    // that concurrent runs (release and ASan) do not share addresses.
    const int x = 100 + static_cast<int>(::getpid() % 50) * 2;
    const auto key_a = keys_for(1);
    const auto key_b = keys_for(2);
    const auto key_h = keys_for(3);      // the stranger's own key
    const auto key_writer = keys_for(4); // a legitimate registry writer

    ainetd_process a, b;
    a.host = "127." + std::to_string(x) + ".0.1";
    b.host = "127." + std::to_string(x + 1) + ".0.1";
    const std::string hostile_host = "127." + std::to_string(x) + ".0.9";
    a.udp_port = base;
    a.http_port = base + 1;
    b.udp_port = base + 2;
    b.http_port = base + 3;
    const std::string bootstrap = "{\"version\":1,\"nodes\":[{\"public_key\":\"" +
                                  to_hex(key_a.id().bytes) + "\",\"udp\":\"" + a.udp() +
                                  "\",\"http\":\"" + a.http() + "\"},{\"public_key\":\"" +
                                  to_hex(key_b.id().bytes) + "\",\"udp\":\"" + b.udp() +
                                  "\",\"http\":\"" + b.http() + "\"}]}";
    for (auto* d : {&a, &b}) {
        d->dir = tmp.path() / (d == &a ? "a" : "b");
        fs::create_directories(d->dir);
        REQUIRE(crypto::save_key_file(d->dir / "node.key", d == &a ? key_a : key_b));
        write_text(d->dir / "bootstrap.json", bootstrap);
        write_text(d->dir / "node.json",
                   "{\"key_file\":\"node.key\",\"udp_listen\":\"" + d->udp() +
                       "\",\"http_listen\":\"" + d->http() +
                       "\",\"data_dir\":\"data\",\"shard_count\":2,"
                       "\"bootstrap_file\":\"bootstrap.json\",\"log_level\":\"info\"}");
        d->start();
    }
    auto logs = [&] {
        return "--- a log:\n" + read_text(a.dir / "log") + "--- b log:\n" +
               read_text(b.dir / "log");
    };

    // --- a legitimate cluster of two, with one registry entry synced ------------------------
    REQUIRE(wait_until([&] { return http_get(a, "/healthz") && http_get(b, "/healthz"); },
                       std::chrono::seconds(20)));
    const std::string id_a = to_hex(key_a.id().bytes);
    const std::string id_b = to_hex(key_b.id().bytes);
    const bool joined = wait_until(
        [&] { return peer_states(a)[id_b] == "alive" && peer_states(b)[id_a] == "alive"; },
        std::chrono::seconds(30));
    INFO(logs());
    REQUIRE(joined);
    const auto first = registry::make_entry(key_writer, "svc/first", "one", wall_hlc());
    REQUIRE(put_entry(a, first) == 201);
    REQUIRE(wait_until(
        [&] {
            const auto ra = registry_root(a), rb = registry_root(b);
            return ra.is_object() && rb.is_object() && ra.value("entries", 0) == 1 &&
                   ra.value("root", "") == rb.value("root", "");
        },
        std::chrono::seconds(30)));

    const auto root_before = registry_root(a);
    const auto metrics_before = metrics(a);
    const double alive_before = metrics_before["ainet_membership_members_alive"];
    REQUIRE(metrics_before["ainet_messaging_inbox_messages"] == 0);

    hostile_socket hostile(hostile_host, a);
    const endpoint ep_b = endpoint_of(b);
    const endpoint ep_h = *parse_endpoint(hostile_host + ":9");

    // --- valid messages of every type (the seeds of truncation, flips and replays) -----------
    membership::claim b_alive; // what B itself says (a replay: incarnation 0 is not news)
    b_alive.kind = membership::claim_kind::alive;
    b_alive.subject = key_b.id();
    b_alive.incarnation = 0;
    b_alive.address = ep_b;
    membership::sign_claim(b_alive, key_b);
    // Forged: the stranger's own id claimed alive but signed by B; B claimed alive at a higher
    // incarnation but signed by the stranger.
    const auto forged_new = alive_claim(key_h, key_b, 1, ep_h);
    const auto forged_b = alive_claim(key_b, key_h, 1000, ep_h);

    std::vector<bytes> membership_valid = {
        encode_membership(membership::ping{7, key_a.id(), {b_alive}}),
        encode_membership(membership::ack{8, {}}),
        encode_membership(membership::ping_req{9, key_b.id(), ep_b, {}}),
        encode_membership(membership::nack{10, {}}),
        encode_membership(membership::gossip{{b_alive}}),
        encode_membership(membership::push_pull{membership::push_pull::flag_reply_wanted, 64, {}}),
    };
    std::vector<bytes> membership_forged = {
        encode_membership(membership::gossip{{forged_new}}),
        encode_membership(membership::gossip{{forged_b}}),
        encode_membership(membership::ping{11, key_a.id(), {forged_new, forged_b}}),
        encode_membership(
            membership::push_pull{membership::push_pull::flag_reply_wanted, 0, {forged_b}}),
    };

    // Sync: a begin (flight 0 of a new session), and a begin + entries flight carrying the
    // registry entry that is already there (replay) or one with a bad signature (forged).
    auto sync_begin = [&](uint64_t session, uint16_t chunks) {
        bytes out(sync::sync_datagram_size_max);
        sync::begin_body body;
        body.root = {};
        body.entry_count = 0;
        const size_t n = sync::encode_begin({session, 0, 0, chunks}, body,
                                            mutable_bytes(out.data(), out.size()));
        out.resize(n);
        return out;
    };
    auto sync_entries = [&](uint64_t session, const registry::entry& e) {
        bytes out(sync::sync_datagram_size_max);
        std::vector<std::pair<registry::entry_ptr, registry::dot>> list = {
            {registry::make_stored(e), registry::dot{registry::origin_id{42}, 1}}};
        const size_t n =
            sync::encode_entries({session, 0, 1, 2}, list, mutable_bytes(out.data(), out.size()));
        out.resize(n);
        return out;
    };
    auto sync_end = [&](uint64_t session) {
        bytes out(sync::sync_datagram_size_max);
        const size_t n = sync::encode_end({session, 0, 0, 1}, {sync::end_status::check, {}},
                                          mutable_bytes(out.data(), out.size()));
        out.resize(n);
        return out;
    };
    auto sync_merkle = [&](wire::message_type type, uint64_t session) {
        bytes out(sync::sync_datagram_size_max);
        const bytes body = {0x00, 0x01, 0x02, 0x03};
        const size_t n =
            sync::encode_merkle(type, {session, 0, 0, 1}, bytes_view(body.data(), body.size()),
                                mutable_bytes(out.data(), out.size()));
        out.resize(n);
        return out;
    };
    auto forged_entry = registry::make_entry(key_writer, "svc/forged", "evil", wall_hlc());
    forged_entry.value = "EVIL"; // the signature no longer matches
    std::vector<bytes> sync_valid = {
        sync_begin(rng(), 1),
        sync_entries(rng(), first),
        sync_end(rng()),
        sync_merkle(wire::message_type::sync_descend, rng()),
        sync_merkle(wire::message_type::sync_buckets, rng()),
        sync_merkle(wire::message_type::sync_wants, rng()),
    };
    {
        bytes out(sync::sync_datagram_size_max);
        const size_t n =
            sync::encode_reply({rng(), 1, 0, 1}, {}, mutable_bytes(out.data(), out.size()));
        out.resize(n);
        sync_valid.push_back(out);
    }

    auto reliable = [&](uint64_t seq, const std::string& text) {
        bytes out(1200);
        reliability::packet_writer w(mutable_bytes(out.data(), out.size()), {0x1234, 0x5678, 0});
        reliability::data_frame f;
        f.channel = channel_id{77};
        f.seq = seq;
        f.base_delta = 0;
        f.payload = bytes_view(reinterpret_cast<const uint8_t*>(text.data()), text.size());
        REQUIRE(w.add_data(f));
        reliability::ack_frame ack;
        ack.channel = channel_id{77};
        ack.cumulative = 3;
        ack.window = 100;
        REQUIRE(w.add_ack(ack));
        out.resize(w.finish());
        return out;
    };
    std::vector<bytes> reliable_valid = {reliable(1, "hostile"), reliable(2, "more")};

    const std::vector<wire::message_type> types = {
        wire::message_type::membership_ping,
        wire::message_type::membership_ack,
        wire::message_type::membership_ping_req,
        wire::message_type::membership_nack,
        wire::message_type::membership_gossip,
        wire::message_type::membership_push_pull,
        wire::message_type::sync_begin,
        wire::message_type::sync_reply,
        wire::message_type::sync_descend,
        wire::message_type::sync_buckets,
        wire::message_type::sync_wants,
        wire::message_type::sync_entries,
        wire::message_type::sync_end,
        wire::message_type::reliable,
    };
    std::vector<bytes> all_valid;
    for (const auto* set : {&membership_valid, &sync_valid, &reliable_valid})
        all_valid.insert(all_valid.end(), set->begin(), set->end());

    // Each phase: fire, wait for the node to drain, then the counters it must have moved.
    auto settle = [&] { hostile.drain(std::chrono::milliseconds(600)); };
    // Prints every drop-like counter a phase moved (what the report of a run shows).
    int phase = 0;
    size_t sent_before_phase = hostile.sent;
    auto print_moved = [&](const metrics_snapshot& before, const metrics_snapshot& after) {
        std::istringstream lines(after.body);
        std::string line;
        std::cout << "phase " << ++phase << " (" << hostile.sent - sent_before_phase
                  << " sent, rx +"
                  << after["ainet_shard_rx_datagrams_total"] -
                         before["ainet_shard_rx_datagrams_total"]
                  << ") moved:";
        sent_before_phase = hostile.sent;
        while (std::getline(lines, line)) {
            if (line.empty() || line[0] == '#')
                continue;
            const auto space = line.rfind(' ');
            const std::string sample = line.substr(0, space);
            if (sample.find("drop") == std::string::npos &&
                sample.find("malformed") == std::string::npos &&
                sample.find("unknown") == std::string::npos &&
                sample.find("stale") == std::string::npos &&
                sample.find("refused") == std::string::npos &&
                sample.find("rejected") == std::string::npos &&
                sample.find("duplicates") == std::string::npos &&
                sample.find("bad_") == std::string::npos &&
                sample.find("truncated") == std::string::npos)
                continue;
            const double delta =
                std::stod(line.substr(space + 1)) - metric_sum(before.body, sample);
            if (delta != 0)
                std::cout << " " << sample << "+" << delta;
        }
        std::cout << std::endl;
    };
    auto counters_moved = [&](const metrics_snapshot& before, std::vector<std::string> names) {
        const auto after = metrics(a);
        print_moved(before, after);
        for (const auto& n : names) {
            INFO("counter " << n << " before " << before[n] << " after " << after[n]);
            CHECK(after[n] > before[n]);
        }
        return after;
    };

    // 0. Amplification probe: each valid message alone, then every reply it caused. None may
    //    be larger than the datagram (the window check below covers the later phases too).
    {
        std::vector<bytes> probes = all_valid;
        probes.insert(probes.end(), membership_forged.begin(), membership_forged.end());
        for (const auto& v : probes) {
            hostile.drain(std::chrono::milliseconds(0));
            hostile.last_phase_reply_max = 0;
            hostile.last_phase_reply_bytes = 0;
            hostile.send(v);
            hostile.drain(std::chrono::milliseconds(250));
            INFO("probe type 0x" << to_hex(bytes_view(v.data() + 3, 1)) << " of " << v.size()
                                 << " bytes: largest reply " << hostile.last_phase_reply_max
                                 << ", replies total " << hostile.last_phase_reply_bytes);
            CHECK(hostile.last_phase_reply_max <= v.size());
            std::cout << "probe 0x" << to_hex(bytes_view(v.data() + 3, 1)) << " " << v.size()
                      << " B -> replies " << hostile.last_phase_reply_bytes << " B (largest "
                      << hostile.last_phase_reply_max << ")" << std::endl;
        }
    }

    // 1. Random bytes behind a valid header of each type.
    hostile.drain(std::chrono::milliseconds(300));
    sent_before_phase = hostile.sent;
    auto m0 = metrics(a);
    for (const auto type : types)
        for (int i = 0; i < 150; ++i) {
            const size_t size = std::uniform_int_distribution<size_t>(0, 1192)(rng);
            hostile.send(with_header(type, test::random_bytes(rng, size)));
        }
    settle();
    const size_t phase1_sent = hostile.sent - sent_before_phase;
    auto m1 = counters_moved(m0, {"ainet_membership_drop_malformed_total",
                                  "ainet_registry_drop_unknown_source_total",
                                  "ainet_messaging_drop_unknown_sender_total"});

    // 2. Truncations at every length: header as sent (the wire layer refuses the size
    //    mismatch) and header fixed up (the protocol decoders see the short payload).
    for (const auto& v : all_valid)
        for (size_t len = 0; len < v.size(); ++len) {
            const bytes cut(v.begin(), v.begin() + static_cast<ptrdiff_t>(len));
            hostile.send(cut);
            if (len >= wire::header_size)
                hostile.send(fix_size(cut));
        }
    settle();
    const size_t phase2_sent = hostile.sent - sent_before_phase;
    auto m2 = counters_moved(m1, {"ainet_membership_drop_malformed_total",
                                  "ainet_registry_drop_unknown_source_total",
                                  "ainet_messaging_drop_unknown_sender_total"});

    // Every datagram of the phases above (each one malformed for its type, or from a stranger
    // where only members are served) is counted by one drop reason, or was by chance a valid
    // membership message and counted as received.
    auto accounted = [&](const metrics_snapshot& before, const metrics_snapshot& after,
                         size_t sent) {
        const double drops = stranger_drops(after.body) - stranger_drops(before.body);
        const double received = membership_received(after.body) - membership_received(before.body);
        INFO("sent " << sent << ", counted drops " << drops << ", membership received "
                     << received);
        CHECK(drops + received >= static_cast<double>(sent));
        CHECK(drops <= static_cast<double>(sent));
    };
    accounted(m0, m1, phase1_sent);
    accounted(m1, m2, phase2_sent);

    // 3. Every single-bit flip of every valid message.
    for (const auto& v : all_valid)
        for (size_t bit = 0; bit < v.size() * 8; ++bit) {
            bytes flipped = v;
            flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
            hostile.send(flipped);
        }
    settle();
    auto m3 = counters_moved(m2, {"ainet_membership_drop_malformed_total",
                                  "ainet_membership_drop_bad_signature_total",
                                  "ainet_membership_drop_wrong_target_total",
                                  "ainet_registry_drop_unknown_source_total"});

    // 4. Oversized: each type above its protocol's 1,200 bytes (header consistent), valid
    //    messages with trailing bytes, and datagrams up to the UDP maximum.
    for (const auto type : types)
        for (const size_t size : {1193, 1400, 4000, 9000, 65507 - 8}) {
            hostile.send(with_header(type, test::random_bytes(rng, size)));
        }
    for (const auto& v : all_valid) {
        bytes longer = v;
        longer.resize(v.size() + 1 + rng() % 64);
        hostile.send(fix_size(longer));
    }
    settle();
    const size_t phase4_sent = hostile.sent - sent_before_phase;
    auto m4 = counters_moved(
        m3, {"ainet_membership_drop_malformed_total", "ainet_registry_drop_unknown_source_total"});

    accounted(m3, m4, phase4_sent);

    // 5. Forged signatures: alive claims signed by the wrong key; a registry entry with a bad
    //    signature inside a sync flight (begin + entries, so the entries reach the replica).
    for (int i = 0; i < 20; ++i)
        for (const auto& f : membership_forged)
            hostile.send(f);
    for (int i = 0; i < 5; ++i) {
        const uint64_t session = rng();
        hostile.send(sync_begin(session, 2));
        hostile.send(sync_entries(session, forged_entry));
    }
    settle();
    auto m5 = counters_moved(m4, {"ainet_membership_drop_bad_signature_total"});
    // 6. Replays of valid messages (B's own alive claim, the entry already held, the same
    //    sync session twice, the same reliable data).
    for (int i = 0; i < 30; ++i)
        for (const auto& v : all_valid)
            hostile.send(v);
    {
        const uint64_t session = rng();
        for (int i = 0; i < 3; ++i) {
            hostile.send(sync_begin(session, 2));
            hostile.send(sync_entries(session, first));
        }
    }
    settle();
    auto m6 = counters_moved(
        m5, {"ainet_membership_claims_stale_total", "ainet_messaging_drop_unknown_sender_total"});

    // 7. A flood from one source: valid and mutated messages back to back, no pacing.
    {
        std::vector<bytes> pool = all_valid;
        pool.insert(pool.end(), membership_forged.begin(), membership_forged.end());
        for (int i = 0; i < 20000; ++i) {
            bytes d = pool[rng() % pool.size()];
            if (i % 3 == 1)
                d[rng() % d.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
            hostile.send(d);
        }
    }
    settle();
    const auto m7 = metrics(a);
    print_moved(m6, m7);

    // 8. Spoofed as B (a member): the sync decoders and the replica see the hostile bytes now.
    //    Random bytes behind each sync header, truncations (header fixed up) and bit flips of
    //    the sync messages, flights carrying a forged entry (bad signature) and the held entry
    //    (replay); reliable datagrams too short for their head. Not sent: well-formed reliable
    //    heads, which a spoofer of a member's address can use to reset that member's session
    //    (reliable datagrams are not authenticated; see the report).
    metrics_snapshot m8 = m7;
    spoofing_socket spoof(b, a);
    if (!spoof.usable()) {
        std::cout << "hostile protocols: no raw socket (CAP_NET_RAW), spoofed phase skipped"
                  << std::endl;
    } else {
        // First, while the responder's session table has room (the flips below fill it:
        // sessions_max, counted as refused_full, until session_timeout frees them).
        for (int i = 0; i < 5; ++i) {
            const uint64_t session = rng();
            spoof.send(sync_begin(session, 2));
            spoof.send(sync_entries(session, forged_entry));
            const uint64_t replay = rng();
            spoof.send(sync_begin(replay, 2));
            spoof.send(sync_entries(replay, first));
        }
        for (const auto& v : sync_valid) {
            for (int i = 0; i < 100; ++i) {
                const size_t size = std::uniform_int_distribution<size_t>(0, 600)(rng);
                bytes d = v;
                d.resize(wire::header_size);
                const auto r = test::random_bytes(rng, size);
                d.insert(d.end(), r.begin(), r.end());
                spoof.send(fix_size(d));
            }
            for (size_t len = wire::header_size; len < v.size(); ++len)
                spoof.send(fix_size(bytes(v.begin(), v.begin() + static_cast<ptrdiff_t>(len))));
            for (size_t bit = 0; bit < v.size() * 8; ++bit) {
                bytes flipped = v;
                flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
                spoof.send(flipped);
            }
        }
        for (const auto& v : reliable_valid)
            for (size_t len = wire::header_size;
                 len < wire::header_size + reliability::packet_head_size; ++len)
                spoof.send(fix_size(bytes(v.begin(), v.begin() + static_cast<ptrdiff_t>(len))));
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        m8 = counters_moved(m7, {"ainet_registry_sync_malformed_total",
                                 "ainet_registry_sync_unknown_session_total",
                                 "ainet_registry_duplicates_total", "ainet_registry_received_total",
                                 "ainet_messaging_reliability_drop_malformed_total"});
        const auto forged_after = m8["ainet_registry_dropped_total{reason=\"forged\"}"];
        const auto forged_before = m7["ainet_registry_dropped_total{reason=\"forged\"}"];
        INFO("registry forged drops " << forged_before << " -> " << forged_after);
        CHECK(forged_after > forged_before);
        std::cout << "hostile protocols: " << spoof.sent << " datagrams spoofed as B" << std::endl;
    }

    // --- the verdict -----------------------------------------------------------------------
    std::cout << "hostile protocols: " << hostile.sent << " datagrams sent, " << hostile.replies
              << " replies (" << hostile.reply_bytes << " bytes) by type:";
    for (const auto& [type, count] : hostile.reply_types)
        std::cout << " 0x" << to_hex(bytes_view(&type, 1)) << "=" << count;
    std::cout << std::endl;
    INFO(logs());
    REQUIRE(a.running());
    REQUIRE(b.running());
    CHECK(http_get(a, "/healthz"));
    for (const auto& e : hostile.examples)
        UNSCOPED_INFO(e);
    CHECK(hostile.oversized_replies == 0);

    // No state changed: registry root and count, alive members, the inbox, no new member.
    const auto root_after = registry_root(a);
    CHECK(root_after.value("root", "x") == root_before.value("root", "y"));
    CHECK(root_after.value("entries", -1) == root_before.value("entries", -2));
    CHECK(root_after.value("version_vector", nlohmann::json()) ==
          root_before.value("version_vector", nlohmann::json()));
    CHECK(m8["ainet_membership_members_alive"] == alive_before);
    CHECK(m8["ainet_membership_members_suspect"] == 0);
    CHECK(m8["ainet_messaging_inbox_messages"] == 0);
    CHECK(m8["ainet_registry_applied_total"] == metrics_before["ainet_registry_applied_total"]);
    CHECK(m8["ainet_messaging_delivered_total"] ==
          metrics_before["ainet_messaging_delivered_total"]);
    {
        const auto states = peer_states(a);
        CHECK(states.count(to_hex(key_h.id().bytes)) == 0);
        CHECK(states.at(id_b) == "alive");
    }
    {
        auto inbox = http_get(a, "/messages?channel=77");
        REQUIRE(inbox);
        CHECK(nlohmann::json::parse(*inbox)["messages"].empty());
    }

    // Still serving: a legitimate PUT + GET, and a reliable message from B arrives.
    const auto second = registry::make_entry(key_writer, "svc/second", "two", wall_hlc());
    CHECK(put_entry(a, second) == 201);
    CHECK(
        http_get(a, "/registry/entries/" + to_hex(key_writer.public_key_bytes()) + "/svc/second"));
    {
        const std::string text = "legitimate";
        nlohmann::json body = {
            {"to", id_a},
            {"channel", 78},
            {"body",
             to_base64(bytes_view(reinterpret_cast<const uint8_t*>(text.data()), text.size()))}};
        auto response = client(b)->Post("/messages", body.dump(), "application/json");
        REQUIRE(response);
        CHECK(response->status == 202);
        bool arrived = wait_until(
            [&] {
                auto inbox = http_get(a, "/messages?channel=78");
                if (!inbox)
                    return false;
                const auto j = nlohmann::json::parse(*inbox, nullptr, false);
                return j.is_object() && j["messages"].size() == 1 &&
                       j["messages"][0].value("from", "") == id_b;
            },
            std::chrono::seconds(20));
        CHECK(arrived);
    }
    CHECK(a.running());
    const auto all_logs = logs();
    CHECK(all_logs.find("runtime error:") == std::string::npos);
    CHECK(all_logs.find("Sanitizer") == std::string::npos);
}
