// Goal: a shard group spreads flows over its shards, hands work between shards through the
// lock-free mesh, takes control messages, and stops cleanly, on either backend.
#include <ainet/runtime/shard.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <set>
#include <thread>

using namespace ainet;
using namespace ainet::runtime;

namespace {

constexpr uint32_t kind_control = 2;

std::atomic<int> control_messages{0};

// Receives a datagram and hands it to the shard chosen by its first byte, which echoes it back
// from its own socket: the handoff path a session pinned to another shard takes.
struct handoff_app final : shard_app {
    void on_datagrams(shard_context& ctx, std::span<const rx_datagram> batch) noexcept override {
        for (const auto& d : batch) {
            const uint8_t target = d.payload.empty() ? 0 : d.payload[0];
            (void)ctx.hand_over(shard_id{static_cast<uint16_t>(target % ctx.shard_count)}, d);
        }
    }
    void on_handoff(shard_context& ctx, const datagram_ref& d) noexcept override {
        (void)ctx.tx.push(d.source, d.payload);
    }
    void on_message(shard_context&, const shard_message& msg) noexcept override {
        if (msg.kind == kind_control)
            control_messages.fetch_add(1);
    }
};

void run_group(backend_choice choice) {
    shard_group_config config;
    config.shard_count = 2;
    config.listen = make_ipv4(127, 0, 0, 1, 0);
    config.backend = choice;
    shard_group group(config, [](shard_id) { return std::make_unique<handoff_app>(); });
    REQUIRE(group.start());
    if (choice == backend_choice::io_uring)
        REQUIRE(group.backend() == backend_kind::io_uring);

    // 32 client sockets (distinct source ports, so the kernel spreads them), 20 datagrams each.
    std::vector<udp_socket> clients;
    socket_options options;
    options.reuse_port = false;
    for (int i = 0; i < 32; ++i)
        clients.push_back(udp_socket::open(make_ipv4(127, 0, 0, 1, 0), options).value());
    const socket_address to = to_sockaddr(group.local_endpoint());
    for (int round = 0; round < 20; ++round)
        for (size_t c = 0; c < clients.size(); ++c) {
            // Sizes up to a full datagram: handoff copies whole datagrams, not a prefix.
            std::vector<uint8_t> payload(8 + (c * 97 + static_cast<size_t>(round) * 13) % 1400);
            payload[0] = static_cast<uint8_t>(c + round);
            payload[1] = static_cast<uint8_t>(c);
            payload[2] = static_cast<uint8_t>(round);
            payload.back() = 0xee;
            REQUIRE(::sendto(clients[c].fd(), payload.data(), payload.size(), 0,
                             reinterpret_cast<const sockaddr*>(&to.storage), to.size) ==
                    static_cast<ssize_t>(payload.size()));
        }
    size_t echoed = 0;
    for (int spins = 0; echoed < 32 * 20 && spins < 400000; ++spins) {
        bool any = false;
        for (size_t c = 0; c < clients.size(); ++c) {
            uint8_t buffer[2048];
            const ssize_t got = ::recv(clients[c].fd(), buffer, sizeof(buffer), MSG_DONTWAIT);
            if (got >= 8) {
                CHECK(buffer[1] == static_cast<uint8_t>(c));
                CHECK(static_cast<size_t>(got) == 8 + (c * 97 + buffer[2] * 13u) % 1400);
                CHECK(buffer[got - 1] == 0xee);
                ++echoed;
                any = true;
            }
        }
        if (!any)
            std::this_thread::yield();
    }
    CHECK(echoed == 32 * 20);

    control_messages = 0;
    shard_message msg;
    msg.kind = kind_control;
    CHECK(group.post_from_control(shard_id{0}, msg));
    CHECK(group.post_from_control(shard_id{1}, msg));
    for (int spins = 0; control_messages.load() < 2 && spins < 100000; ++spins)
        std::this_thread::yield();
    CHECK(control_messages.load() == 2);

    uint64_t received = 0, handed = 0, handed_in = 0;
    for (uint16_t s = 0; s < 2; ++s) {
        received += group.counters(shard_id{s}).rx_datagrams.load();
        handed += group.counters(shard_id{s}).handoffs_sent.load();
        handed_in += group.counters(shard_id{s}).handoffs_received.load();
        CHECK(group.counters(shard_id{s}).handoffs_refused.load() == 0);
    }
    CHECK(received == 32 * 20);
    CHECK(handed == 32 * 20);
    CHECK(handed_in == 32 * 20);
    group.stop();
}

} // namespace

TEST_CASE("shard group on epoll", "[runtime][epoll][shard]") { run_group(backend_choice::epoll); }

TEST_CASE("shard group on io_uring", "[runtime][io_uring][shard]") { run_group(backend_choice::io_uring); }

TEST_CASE("a bind failure is reported by start, not by a thread", "[runtime][shard]") {
    socket_options options;
    options.reuse_port = false;
    auto taken = udp_socket::open(make_ipv4(127, 0, 0, 1, 0), options).value();
    shard_group_config config;
    config.listen = taken.local_endpoint();
    config.socket.reuse_port = false;
    shard_group group(config, [](shard_id) { return std::make_unique<handoff_app>(); });
    auto started = group.start();
    REQUIRE_FALSE(started);
    CHECK(started.error() == runtime::errc::address_in_use);
}

namespace {

std::atomic<int> timer_fires{0};

// Arms a periodic timer on start; each firing re-arms it until it has fired five times.
struct periodic_app final : shard_app {
    void on_start(shard_context& ctx) override {
        REQUIRE(ctx.timers.arm(ctx.now + std::chrono::milliseconds(2), 7));
    }
    void on_datagrams(shard_context&, std::span<const rx_datagram>) noexcept override {}
    void on_timer(shard_context& ctx, timer::timer_id, uint64_t cookie) noexcept override {
        if (cookie != 7)
            return;
        if (timer_fires.fetch_add(1) + 1 < 5)
            (void)ctx.timers.arm(ctx.now + std::chrono::milliseconds(2), 7);
    }
};

} // namespace

TEST_CASE("shard timers fire from the loop and can re-arm", "[runtime][shard]") {
    timer_fires = 0;
    shard_group_config config;
    config.listen = make_ipv4(127, 0, 0, 1, 0);
    config.backend = backend_choice::automatic;
    config.idle_sleep_max = std::chrono::seconds(5); // the wheel's deadline must cut the sleep
    shard_group group(config, [](shard_id) { return std::make_unique<periodic_app>(); });
    REQUIRE(group.start());
    for (int spins = 0; timer_fires.load() < 5 && spins < 2000; ++spins)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(timer_fires.load() == 5);
    group.stop();
}

TEST_CASE("handoff buffers come back to the shard that lent them", "[runtime][shard]") {
    // Two buffers per shard, 200 sequential round trips: without returns the third would fail.
    shard_group_config config;
    config.shard_count = 2;
    config.listen = make_ipv4(127, 0, 0, 1, 0);
    config.handoff_buffer_count = 2;
    shard_group group(config, [](shard_id) { return std::make_unique<handoff_app>(); });
    REQUIRE(group.start());
    socket_options options;
    options.reuse_port = false;
    auto client = udp_socket::open(make_ipv4(127, 0, 0, 1, 0), options).value();
    const socket_address to = to_sockaddr(group.local_endpoint());
    int echoed = 0;
    for (int i = 0; i < 200; ++i) {
        uint8_t payload[4] = {static_cast<uint8_t>(i), 1, 2, 3};
        REQUIRE(::sendto(client.fd(), payload, sizeof(payload), 0,
                         reinterpret_cast<const sockaddr*>(&to.storage), to.size) == 4);
        uint8_t buffer[16];
        for (int spins = 0; spins < 100000; ++spins) {
            if (::recv(client.fd(), buffer, sizeof(buffer), MSG_DONTWAIT) == 4) {
                ++echoed;
                break;
            }
            std::this_thread::yield();
        }
    }
    CHECK(echoed == 200);
    for (uint16_t s = 0; s < 2; ++s)
        CHECK(group.counters(shard_id{s}).handoffs_refused.load() == 0);
    group.stop();
}
