// Goal (hostile protocols, issue #9): the registry node answers sync only to sources it knows.
// A sync begin from a stranger used to open a responder session whose flight (reply, then a
// merkle step) was larger than the begin: an amplifier. Now a stranger's sync datagram is
// dropped and counted (drop_unknown_source) with no answer, while the same begin from a member
// of the peer directory is answered. Waits are bounded polls.

#include "../config/temp_dir.hpp"
#include "../support/wall_clock.hpp"

#include <ainet/node/registry_service.hpp>
#include <ainet/registry/hlc.hpp>
#include <ainet/sync/messages.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace ainet;

namespace {

// A UDP socket on 127.0.0.1 with an ephemeral port.
struct udp_socket {
    int fd = -1;
    uint16_t port = 0;
    udp_socket() {
        fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
        socklen_t len = sizeof(a);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port = ntohs(a.sin_port);
    }
    ~udp_socket() { ::close(fd); }
    void send_to(uint16_t to, const std::vector<uint8_t>& d) const {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(to);
        REQUIRE(::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)) ==
                static_cast<ssize_t>(d.size()));
    }
    // Bytes of every datagram received within `wait`.
    size_t received_bytes(std::chrono::milliseconds wait) const {
        size_t total = 0;
        const auto until = std::chrono::steady_clock::now() + wait;
        uint8_t buffer[2048];
        while (std::chrono::steady_clock::now() < until) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 20) > 0) {
                const auto n = ::recv(fd, buffer, sizeof(buffer), 0);
                if (n > 0)
                    total += static_cast<size_t>(n);
            }
        }
        return total;
    }
};

std::vector<uint8_t> begin(uint64_t session) {
    std::vector<uint8_t> out(sync::sync_datagram_size_max);
    sync::begin_body body; // root zero: differs from the node's, so a responder would answer
    out.resize(sync::encode_begin({session, 0, 0, 1}, body, mutable_bytes(out.data(), out.size())));
    return out;
}

template <class Pred>
bool eventually(Pred pred) {
    for (int i = 0; i < 300; ++i) {
        if (pred())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

} // namespace

TEST_CASE("registry_node: sync answers members only, a stranger's begin is dropped and counted",
          "[node][registry][hostile]") {
    test::temp_dir dir;
    const auto node_keys = crypto::key_pair::generate();
    const auto writer = crypto::key_pair::generate();
    node::peer_directory directory;
    udp_socket member, stranger;
    {
        node::peer_snapshot s;
        node::peer_info p;
        p.id.bytes[0] = 1;
        p.udp = make_ipv4(127, 0, 0, 1, member.port);
        p.state = node::peer_state::alive;
        s.peers = {p};
        directory.publish(std::move(s));
    }
    node::registry_node_options o;
    o.store_directory = dir.path() / "store";
    o.peers = &directory;
    o.sync_peer_refresh = std::chrono::milliseconds(10);
    node::registry_node registry(o, node_keys);
    config::node_config c;
    c.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    c.http_listen = make_ipv4(127, 0, 0, 1, 0);
    c.shard_count = 2;
    node::relay_node relay(c, node_keys);
    registry.attach(relay);
    std::string error;
    REQUIRE(relay.start(error));
    const uint64_t now_ms = test::wall_ms_now();
    REQUIRE(registry
                .put(registry::make_entry(writer, "svc/a", "hello",
                                          registry::hlc_make(now_ms, 0)))
                .status == 201);
    const uint16_t port = relay.udp_endpoint().port;

    const auto d = begin(0x1234);
    for (int i = 0; i < 10; ++i)
        stranger.send_to(port, begin(0x1000 + static_cast<uint64_t>(i)));
    CHECK(eventually([&] { return registry.counters().drop_unknown_source.load() == 10; }));
    CHECK(stranger.received_bytes(std::chrono::milliseconds(200)) == 0);

    // The same begin from a member is answered (the check is on the source, not the bytes).
    member.send_to(port, d);
    CHECK(member.received_bytes(std::chrono::milliseconds(500)) > 0);
    CHECK(registry.counters().drop_unknown_source.load() == 10);
    relay.stop();
}
