// Goal: the membership service runs one core per node on shard 0 of a real relay_node (two
// shards, so datagrams landing on shard 1 must be handed over), joins through a seed posted
// from the control side, publishes both members alive in the peer_directory and in /metrics,
// and marks a peer that stopped as no longer alive. Real loopback sockets; bounded waits.
#include <ainet/node/membership_service.hpp>
#include <ainet/node/relay_node.hpp>
#include <ainet/runtime/udp_socket.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

using namespace ainet;
using namespace ainet::node;

namespace {

crypto::key_pair keys_for(uint8_t n) {
    crypto::seed s{};
    s[0] = 0x3e;
    s[1] = n;
    return crypto::key_pair::from_seed(s);
}

// A port the kernel just handed out (the core must announce its address before start()).
uint16_t free_udp_port() {
    auto socket = runtime::udp_socket::open(make_ipv4(127, 0, 0, 1, 0), runtime::socket_options{});
    REQUIRE(socket);
    return socket->local_endpoint().port;
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
}

struct member_node {
    crypto::key_pair keys;
    std::unique_ptr<membership_service> membership;
    std::unique_ptr<relay_node> node;

    explicit member_node(uint8_t n) : keys(keys_for(n)) {
        config::node_config c;
        c.udp_listen = make_ipv4(127, 0, 0, 1, free_udp_port());
        c.http_listen = make_ipv4(127, 0, 0, 1, 0);
        c.shard_count = 2;
        membership_service_options o;
        o.advertise = c.udp_listen;
        o.seed = n;
        o.core.probe_interval = std::chrono::milliseconds(200);
        o.core.probe_timeout = std::chrono::milliseconds(100);
        membership = std::make_unique<membership_service>(keys, o);
        node = std::make_unique<relay_node>(c, keys);
        membership->attach(*node);
        std::string error;
        REQUIRE(node->start(error));
    }

    [[nodiscard]] std::optional<peer_state> state_of(const member_node& other) const {
        const auto snapshot = membership->directory().snapshot();
        const peer_info* p = snapshot->find(other.keys.id());
        return p ? std::optional(p->state) : std::nullopt;
    }
};

} // namespace

TEST_CASE("membership service: two nodes join through a seed, see each other, notice a stop") {
    REQUIRE(crypto::init());
    member_node a(1), b(2);
    REQUIRE(a.membership->seed(b.node->udp_endpoint()));
    const bool joined = wait_until(
        [&] {
            return a.state_of(b) == peer_state::alive && b.state_of(a) == peer_state::alive;
        },
        std::chrono::seconds(20));
    REQUIRE(joined);
    CHECK(a.membership->gauges().alive.load() == 1);
    CHECK(a.membership->counters().pings_sent.load() + b.membership->counters().pings_sent.load() > 0);
    const auto snapshot = a.membership->directory().snapshot();
    REQUIRE(snapshot->peers.size() == 1);
    CHECK(snapshot->peers[0].udp == b.node->udp_endpoint());
    CHECK(snapshot->peers[0].incarnation > 0);
    CHECK_FALSE(snapshot->partition_suspected);
    const std::string metrics = a.node->render_metrics();
    CHECK(metrics.find("ainet_membership_members_alive 1\n") != std::string::npos);
    CHECK(metrics.find("ainet_membership_acks_received_total") != std::string::npos);

    b.node->stop();
    const bool noticed = wait_until(
        [&] {
            const auto s = a.state_of(b);
            return s && *s != peer_state::alive;
        },
        std::chrono::seconds(30));
    CHECK(noticed);
    a.node->stop();
}
