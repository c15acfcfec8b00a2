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

constexpr uint32_t kind_echo = 1;
constexpr uint32_t kind_control = 2;

std::atomic<int> control_messages{0};

// Receives a datagram, hands it to the shard chosen by its first byte, which echoes it back.
struct handoff_app final : shard_app {
    void on_datagrams(shard_context& ctx, std::span<const rx_datagram> batch) noexcept override {
        for (const auto& d : batch) {
            shard_message msg;
            msg.kind = kind_echo;
            msg.size = static_cast<uint16_t>(std::min<size_t>(d.payload.size(), 64));
            std::memcpy(msg.body.data(), &d.source, sizeof(endpoint));
            std::memcpy(msg.body.data() + sizeof(endpoint), d.payload.data(), msg.size);
            const uint8_t target = d.payload.empty() ? 0 : d.payload[0];
            (void)ctx.post(shard_id{static_cast<uint16_t>(target % ctx.shard_count)}, msg);
        }
    }
    void on_message(shard_context& ctx, const shard_message& msg) noexcept override {
        if (msg.kind == kind_control) {
            control_messages.fetch_add(1);
            return;
        }
        endpoint source;
        std::memcpy(&source, msg.body.data(), sizeof(endpoint));
        (void)ctx.tx.push(source, bytes_view(msg.body.data() + sizeof(endpoint), msg.size));
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
            uint8_t payload[8] = {static_cast<uint8_t>(c + round), static_cast<uint8_t>(c),
                                  static_cast<uint8_t>(round)};
            REQUIRE(::sendto(clients[c].fd(), payload, sizeof(payload), 0,
                             reinterpret_cast<const sockaddr*>(&to.storage), to.size) == 8);
        }
    size_t echoed = 0;
    for (int spins = 0; echoed < 32 * 20 && spins < 400000; ++spins) {
        bool any = false;
        for (size_t c = 0; c < clients.size(); ++c) {
            uint8_t buffer[64];
            const ssize_t got = ::recv(clients[c].fd(), buffer, sizeof(buffer), MSG_DONTWAIT);
            if (got == 8) {
                CHECK(buffer[1] == static_cast<uint8_t>(c));
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

    uint64_t received = 0, handed = 0;
    for (uint16_t s = 0; s < 2; ++s) {
        received += group.counters(shard_id{s}).rx_datagrams.load();
        handed += group.counters(shard_id{s}).cross_shard_received.load();
    }
    CHECK(received == 32 * 20);
    CHECK(handed == 32 * 20 + 2);
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
