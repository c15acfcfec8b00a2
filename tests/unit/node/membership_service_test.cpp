// Goal: the membership service runs one core per node on shard 0 of a real relay_node (two
// shards, so datagrams landing on shard 1 must be handed over), joins through a seed posted
// from the control side, publishes both members alive in the peer_directory and in /metrics,
// and marks a peer that stopped as no longer alive. Real loopback sockets; bounded waits.
#include <ainet/config/file.hpp>
#include <ainet/membership/state.hpp>
#include <ainet/node/membership_service.hpp>
#include <ainet/node/relay_node.hpp>
#include <ainet/runtime/udp_socket.hpp>

#include "../config/temp_dir.hpp"

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

    explicit member_node(uint8_t n, std::filesystem::path members_file = {},
                         std::chrono::milliseconds restore_max_age = std::chrono::seconds(60))
        : keys(keys_for(n)) {
        config::node_config c;
        c.udp_listen = make_ipv4(127, 0, 0, 1, free_udp_port());
        c.http_listen = make_ipv4(127, 0, 0, 1, 0);
        c.shard_count = 2;
        membership_service_options o;
        o.advertise = c.udp_listen;
        o.seed = n;
        o.core.probe_interval = std::chrono::milliseconds(200);
        o.core.probe_timeout = std::chrono::milliseconds(100);
        o.members_file = std::move(members_file);
        o.members_restore_max_age = restore_max_age;
        o.persist_check_interval = std::chrono::milliseconds(50);
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

TEST_CASE("membership service: a restarted node takes back every member it knew from its "
          "snapshot, and ignores a snapshot that is too old") {
    REQUIRE(crypto::init());
    test::temp_dir dir;
    const auto file = dir.path() / "membership.members";
    member_node b(2), c(3);
    {
        member_node a(1, file);
        REQUIRE(a.membership->seed(b.node->udp_endpoint()));
        REQUIRE(a.membership->seed(c.node->udp_endpoint()));
        REQUIRE(wait_until(
            [&] {
                return a.state_of(b) == peer_state::alive && a.state_of(c) == peer_state::alive &&
                       a.membership->gauges().members_writes.load() > 0;
            },
            std::chrono::seconds(20)));
        // The persister writes within persist_check_interval of the change.
        REQUIRE(wait_until(
            [&] {
                auto text = config::read_config_file(file, membership::members_snapshot_size_max);
                if (!text)
                    return false;
                auto snapshot = membership::decode_members(
                    bytes_view(reinterpret_cast<const uint8_t*>(text->data()), text->size()));
                return snapshot && snapshot->members.size() == 2;
            },
            std::chrono::seconds(10)));
        a.node->stop();
    }

    // Restarted without any seed: it knows b and c at once and probes them.
    member_node again(1, file);
    CHECK(again.membership->gauges().members_snapshot_claims.load() == 2);
    REQUIRE(wait_until([&] { return again.membership->gauges().members_restored.load() == 2; },
                       std::chrono::seconds(10)));
    CHECK(wait_until(
        [&] {
            return again.state_of(b) == peer_state::alive &&
                   again.state_of(c) == peer_state::alive &&
                   again.membership->counters().acks_received.load() > 0;
        },
        std::chrono::seconds(20)));
    again.node->stop();

    // The same file read with a horizon it has outlived: ignored, the node starts alone.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    member_node late(1, file, std::chrono::milliseconds(1));
    CHECK(late.membership->gauges().members_snapshot_ignored.load() == 1);
    CHECK(late.membership->gauges().members_snapshot_claims.load() == 0);
    CHECK_FALSE(late.state_of(b).has_value());
    late.node->stop();
    b.node->stop();
    c.node->stop();
}
