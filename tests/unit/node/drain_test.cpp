// Goal: relay_node::drain_and_stop (ainetd's SIGTERM) closes the HTTP listener, runs every
// service's drain hook on every shard until all report done, sends what the hooks flushed, and
// then stops; a hook that never finishes is cut off at the deadline and the node stops anyway.
#include <ainet/node/relay_node.hpp>
#include <ainet/runtime/udp_socket.hpp>

#include <httplib.h>

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>

using namespace ainet;
using namespace ainet::node;
using namespace std::chrono_literals;

namespace {

struct drain_log {
    std::atomic<uint64_t> drain_calls{0};
    std::atomic<uint64_t> flushed{0};
    std::atomic<uint64_t> stopped_after_drain{0};
    std::atomic<uint64_t> stopped_undrained{0};
};

// An "outbox" of outbox_size datagrams per shard, sent one per drain call to `to`.
class outbox_service final : public shard_service {
public:
    outbox_service(drain_log& log, endpoint to, uint32_t outbox_size)
        : m_log(log), m_to(to), m_left(outbox_size) {}
    void on_datagram(runtime::shard_context&, const datagram_ref&) noexcept override {}
    bool on_drain(runtime::shard_context& ctx) noexcept override {
        m_log.drain_calls++;
        if (m_left == 0)
            return true;
        if (mutable_bytes out = ctx.tx.prepare(m_to); !out.empty()) {
            std::memcpy(out.data(), "last", 4);
            ctx.tx.commit(4);
            --m_left;
            m_log.flushed++;
        }
        return m_left == 0;
    }
    void on_stop(runtime::shard_context&) override {
        (m_left == 0 ? m_log.stopped_after_drain : m_log.stopped_undrained)++;
    }

private:
    drain_log& m_log;
    endpoint m_to;
    uint32_t m_left;
};

config::node_config loopback_config() {
    config::node_config c;
    c.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    c.http_listen = make_ipv4(127, 0, 0, 1, 0);
    c.shard_count = 2;
    return c;
}

crypto::key_pair node_keys() {
    crypto::seed s{};
    s[0] = 91;
    return crypto::key_pair::from_seed(s);
}

void add_outbox(relay_node& node, drain_log& log, endpoint to, uint32_t outbox_size) {
    shard_service_registration r;
    r.name = "outbox";
    r.type_first = 0x70;
    r.type_last = 0x70;
    r.make = [&log, to, outbox_size](shard_id, uint16_t, service_slot) {
        return std::make_unique<outbox_service>(log, to, outbox_size);
    };
    node.add_service(std::move(r));
}

size_t receive_all(const runtime::udp_socket& s, duration quiet) {
    size_t count = 0;
    char buffer[64];
    for (;;) {
        pollfd p{s.fd(), POLLIN, 0};
        if (::poll(&p, 1,
                   static_cast<int>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count())) <= 0)
            return count;
        if (::recv(s.fd(), buffer, sizeof buffer, MSG_DONTWAIT) == 4)
            ++count;
    }
}

} // namespace

TEST_CASE("drain_and_stop flushes every shard's outbox, then stops", "[node][drain]") {
    REQUIRE(crypto::init());
    auto sink = runtime::udp_socket::open(make_ipv4(127, 0, 0, 1, 0), runtime::socket_options{});
    REQUIRE(sink);
    drain_log log;
    constexpr uint32_t outbox_size = 5;
    relay_node node(loopback_config(), node_keys());
    add_outbox(node, log, sink->local_endpoint(), outbox_size);
    std::string error;
    REQUIRE(node.start(error));
    const uint16_t http_port = node.http_endpoint().port;
    {
        httplib::Client client("127.0.0.1", http_port);
        auto r = client.Get("/healthz");
        REQUIRE(r);
        CHECK(r->status == 200);
    }

    CHECK(node.drain_and_stop(5s));
    CHECK(log.flushed == uint64_t{outbox_size} * node.shard_count());
    CHECK(log.drain_calls >= uint64_t{outbox_size} * node.shard_count());
    CHECK(log.stopped_after_drain == node.shard_count());
    CHECK(log.stopped_undrained == 0);
    CHECK(receive_all(*sink, 200ms) == size_t{outbox_size} * node.shard_count());
    {
        httplib::Client client("127.0.0.1", http_port);
        client.set_connection_timeout(1);
        CHECK_FALSE(client.Get("/healthz")); // no longer accepting
    }
    node.stop(); // a no-op now
}

TEST_CASE("drain_and_stop gives up at the deadline when a hook never finishes", "[node][drain]") {
    REQUIRE(crypto::init());
    drain_log log;
    relay_node node(loopback_config(), node_keys());
    // More than the send queue can ever hold in the time given: never drained.
    add_outbox(node, log, make_ipv4(127, 0, 0, 1, 9), 100'000'000);
    std::string error;
    REQUIRE(node.start(error));
    CHECK_FALSE(node.drain_and_stop(200ms));
    CHECK(log.stopped_undrained == node.shard_count());
    CHECK(log.drain_calls > 0);
}
