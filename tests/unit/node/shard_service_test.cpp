// Goal: a service registered on a relay_node gets exactly the datagrams of its type range (on
// whichever shard the kernel picked, or after a hand-over), its timers and its messages, while
// the relay keeps everything else.
#include <ainet/node/relay_node.hpp>
#include <ainet/runtime/udp_socket.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace ainet;
using namespace ainet::node;

namespace {

struct observed {
    std::atomic<uint64_t> datagrams{0};
    std::atomic<uint64_t> handoffs{0};
    std::atomic<uint64_t> timers{0};
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> wrong_type{0};
};

// Answers every datagram of type 0x3f with "echo" and forwards a copy to shard 0 by hand-over;
// shard 0 counts what it is handed. A periodic timer posts a tagged message to itself.
class echo_service final : public shard_service {
public:
    echo_service(shard_id shard, service_slot slot, observed& seen)
        : m_shard(shard), m_slot(slot), m_seen(seen) {}

    void on_start(runtime::shard_context& ctx) override {
        REQUIRE(ctx.timers.arm(ctx.now + std::chrono::milliseconds(5), m_slot.cookie(7)));
    }
    void on_datagram(runtime::shard_context& ctx, const datagram_ref& d) noexcept override {
        m_seen.datagrams++;
        if (d.payload.size() < 4 || d.payload[3] != 0x3f)
            m_seen.wrong_type++;
        if (mutable_bytes out = ctx.tx.prepare(d.source); !out.empty()) {
            std::memcpy(out.data(), "echo", 4);
            ctx.tx.commit(4);
        }
        (void)ctx.hand_over(shard_id{0}, d);
    }
    void on_handoff(runtime::shard_context&, const datagram_ref& d) noexcept override {
        if (to_index(m_shard) == 0 && d.payload.size() >= 4 && d.payload[3] == 0x3f)
            m_seen.handoffs++;
    }
    void on_timer(runtime::shard_context& ctx, uint64_t own_cookie) noexcept override {
        if (own_cookie != 7)
            return;
        m_seen.timers++;
        runtime::shard_message msg;
        msg.kind = m_slot.kind(3);
        (void)ctx.post(ctx.id, msg);
    }
    void on_message(runtime::shard_context&, uint32_t own_kind,
                    const runtime::shard_message&) noexcept override {
        if (own_kind == 3)
            m_seen.messages++;
    }

private:
    shard_id m_shard;
    service_slot m_slot;
    observed& m_seen;
};

} // namespace

TEST_CASE("a registered service receives its type range, timers and messages", "[node][service]") {
    REQUIRE(crypto::init());
    config::node_config c;
    c.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    c.http_listen = make_ipv4(127, 0, 0, 1, 0);
    c.shard_count = 2;
    crypto::seed s{};
    s[0] = 9;
    relay_node node(c, crypto::key_pair::from_seed(s));
    observed seen;
    node.add_service({"echo", 0x3f, 0x3f, [&seen](shard_id shard, uint16_t, service_slot slot) {
                          return std::make_unique<echo_service>(shard, slot, seen);
                      }});
    node.handle_http("GET", "/echo", [](const http_request&) {
        return http_response{200, "text/plain", "echo\n"};
    });
    std::string error;
    REQUIRE(node.start(error));

    runtime::socket_options plain;
    plain.reuse_port = false;
    auto client = runtime::udp_socket::open(make_ipv4(127, 0, 0, 1, 0), plain).value();
    const auto to = runtime::to_sockaddr(node.udp_endpoint());
    const uint8_t mine[8] = {0xA1, 0x4E, 1, 0x3f, 0, 0, 0, 0};
    const uint8_t relays[8] = {0xA1, 0x4E, 1, 0x20, 0, 0, 0, 0}; // a stranger's ping: the relay's
    int echoes = 0;
    for (int i = 0; i < 50; ++i) {
        REQUIRE(::sendto(client.fd(), mine, sizeof mine, 0,
                         reinterpret_cast<const sockaddr*>(&to.storage), to.size) == 8);
        REQUIRE(::sendto(client.fd(), relays, sizeof relays, 0,
                         reinterpret_cast<const sockaddr*>(&to.storage), to.size) == 8);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    char buffer[64];
    while (echoes < 50 && std::chrono::steady_clock::now() < deadline) {
        const ssize_t n = ::recv(client.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n == 4 && std::memcmp(buffer, "echo", 4) == 0)
            ++echoes;
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    while ((seen.handoffs < 50 || seen.messages == 0) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    node.stop();

    CHECK(echoes == 50);
    CHECK(seen.datagrams == 50);
    CHECK(seen.wrong_type == 0);
    CHECK(seen.handoffs == 50);
    CHECK(seen.timers >= 1);
    CHECK(seen.messages >= 1);
    uint64_t relay_dropped = 0;
    for (uint16_t i = 0; i < node.shard_count(); ++i)
        relay_dropped += node.relay_counters(i).drop_unauthenticated.load();
    CHECK(relay_dropped == 50);
}
