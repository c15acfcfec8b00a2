// Goal: both io backends deliver exactly what was sent over loopback (sources, payloads, per
// destination order), split GRO trains, build GSO trains, count every drop by reason, and wake
// from another thread. The same cases run against each backend.
#include <ainet/runtime/io_backend.hpp>

#include "../../../src/runtime/io_common.hpp"

#include <catch2/catch.hpp>

#include <netinet/udp.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace ainet;
using namespace ainet::runtime;

namespace {

struct collector final : rx_handler {
    std::vector<std::pair<endpoint, std::vector<uint8_t>>> received;
    void on_datagrams(std::span<const rx_datagram> batch) noexcept override {
        for (const auto& d : batch)
            received.emplace_back(d.source, std::vector<uint8_t>(d.payload.begin(), d.payload.end()));
    }
};

udp_socket open_loopback(bool gro = false) {
    socket_options options;
    options.reuse_port = false;
    options.gro = gro;
    auto s = udp_socket::open(make_ipv4(127, 0, 0, 1, 0), options);
    REQUIRE(s);
    return std::move(s).value();
}

std::unique_ptr<io_backend> open_backend(backend_kind kind, const udp_socket& socket,
                                         shard_counters& counters, backend_config config = {}) {
    auto backend = kind == backend_kind::io_uring ? make_io_uring_backend(socket, config, counters)
                                                  : make_epoll_backend(socket, config, counters);
    REQUIRE(backend);
    REQUIRE((*backend)->kind() == kind);
    return std::move(backend).value();
}

std::vector<uint8_t> payload_for(size_t index, size_t size) {
    std::vector<uint8_t> p(size);
    for (size_t i = 0; i < size; ++i)
        p[i] = static_cast<uint8_t>(index * 31 + i);
    return p;
}

void send_plain(const udp_socket& from, const endpoint& to, const std::vector<uint8_t>& payload) {
    const socket_address address = to_sockaddr(to);
    REQUIRE(::sendto(from.fd(), payload.data(), payload.size(), 0,
                     reinterpret_cast<const sockaddr*>(&address.storage), address.size) ==
            static_cast<ssize_t>(payload.size()));
}

// Polls until `want` datagrams arrived or 2000 polls passed (liveness bound, not a timing test).
void poll_until(io_backend& backend, collector& sink, size_t want) {
    for (int i = 0; i < 2000 && sink.received.size() < want; ++i)
        backend.poll(std::chrono::milliseconds(10), sink);
}

std::vector<std::vector<uint8_t>> drain_plain(const udp_socket& socket, size_t want) {
    std::vector<std::vector<uint8_t>> out;
    std::vector<uint8_t> buffer(65536);
    for (int spins = 0; out.size() < want && spins < 200000; ++spins) {
        const ssize_t got = ::recv(socket.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (got >= 0)
            out.emplace_back(buffer.begin(), buffer.begin() + got);
        else
            std::this_thread::yield();
    }
    return out;
}

void run_backend_cases(backend_kind kind) {
    SECTION("receives datagrams with their source and payload") {
        shard_counters counters;
        auto socket = open_loopback();
        auto backend = open_backend(kind, socket, counters);
        auto sender = open_loopback();
        const size_t count = 300;
        for (size_t i = 0; i < count; ++i)
            send_plain(sender, socket.local_endpoint(), payload_for(i, 1 + i % 1400));
        collector sink;
        poll_until(*backend, sink, count);
        REQUIRE(sink.received.size() == count);
        for (size_t i = 0; i < count; ++i) {
            CHECK(sink.received[i].first == sender.local_endpoint());
            CHECK(sink.received[i].second == payload_for(i, 1 + i % 1400));
        }
        CHECK(counters.rx_datagrams.load() == count);
        CHECK(counters.rx_truncated.load() == 0);
    }

    SECTION("oversize datagrams are dropped and counted as truncated") {
        shard_counters counters;
        auto socket = open_loopback();
        backend_config config;
        config.datagram_size_max = 512;
        auto backend = open_backend(kind, socket, counters, config);
        auto sender = open_loopback();
        send_plain(sender, socket.local_endpoint(), payload_for(0, 2000));
        send_plain(sender, socket.local_endpoint(), payload_for(1, 100));
        collector sink;
        poll_until(*backend, sink, 1);
        REQUIRE(sink.received.size() == 1);
        CHECK(sink.received[0].second == payload_for(1, 100));
        CHECK(counters.rx_truncated.load() == 1);
    }

    SECTION("sends keep per-destination order and form GSO trains") {
        shard_counters counters;
        auto socket = open_loopback();
        auto backend = open_backend(kind, socket, counters);
        auto a = open_loopback();
        auto b = open_loopback();
        tx_queue tx(1024, 1472, counters);
        const size_t count = 400;
        for (size_t i = 0; i < count; ++i)
            REQUIRE(tx.push(i % 2 ? b.local_endpoint() : a.local_endpoint(), payload_for(i, 200)));
        backend->flush(tx);
        collector sink;
        for (int i = 0; i < 50 && tx.free_slots() < 1024; ++i)
            backend->poll(std::chrono::milliseconds(1), sink);
        CHECK(tx.free_slots() == 1024);
        auto at_a = drain_plain(a, count / 2);
        auto at_b = drain_plain(b, count / 2);
        REQUIRE(at_a.size() == count / 2);
        REQUIRE(at_b.size() == count / 2);
        for (size_t i = 0; i < count / 2; ++i) {
            CHECK(at_a[i] == payload_for(2 * i, 200));
            CHECK(at_b[i] == payload_for(2 * i + 1, 200));
        }
        CHECK(counters.tx_datagrams.load() == count);
        CHECK(counters.tx_gso_trains.load() > 0);
        CHECK(counters.tx_syscalls.load() < count / 4);
    }

    SECTION("GRO trains are split into their datagrams") {
        shard_counters counters;
        auto socket = open_loopback(true);
        auto backend = open_backend(kind, socket, counters);
        auto sender = open_loopback();
        // One GSO send of 10 x 1000 bytes plus a 40-byte tail: far more than datagram_size_max,
        // so the backend must have sized its buffers for GRO trains.
        std::vector<uint8_t> train;
        for (size_t i = 0; i < 10; ++i) {
            auto p = payload_for(i, 1000);
            train.insert(train.end(), p.begin(), p.end());
        }
        auto tail = payload_for(10, 40);
        train.insert(train.end(), tail.begin(), tail.end());
        const socket_address to = to_sockaddr(socket.local_endpoint());
        iovec iov{train.data(), train.size()};
        msghdr message{};
        message.msg_name = const_cast<sockaddr_storage*>(&to.storage);
        message.msg_namelen = to.size;
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        uint8_t control[runtime::detail::control_size];
        runtime::detail::set_gso_control(message, control, 1000);
        REQUIRE(::sendmsg(sender.fd(), &message, 0) == static_cast<ssize_t>(train.size()));
        collector sink;
        poll_until(*backend, sink, 11);
        REQUIRE(sink.received.size() == 11);
        for (size_t i = 0; i < 10; ++i)
            CHECK(sink.received[i].second == payload_for(i, 1000));
        CHECK(sink.received[10].second == tail);
        CHECK(counters.rx_gro_trains.load() == 1);
        CHECK(counters.rx_truncated.load() == 0);
    }

    SECTION("wake ends a long sleep from another thread") {
        shard_counters counters;
        auto socket = open_loopback();
        auto backend = open_backend(kind, socket, counters);
        collector sink;
        std::atomic<bool> woke{false};
        std::thread waker([&] {
            while (!woke.load()) {
                backend->wake();
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        });
        backend->poll(std::chrono::seconds(60), sink);
        woke = true;
        waker.join();
        CHECK(counters.wakeups.load() >= 1);
    }
}

} // namespace

TEST_CASE("epoll backend", "[runtime][epoll]") { run_backend_cases(backend_kind::epoll); }

TEST_CASE("io_uring backend", "[runtime][io_uring]") { run_backend_cases(backend_kind::io_uring); }

TEST_CASE("GSO planning groups by destination and keeps each destination's order", "[runtime]") {
    shard_counters counters;
    std::vector<tx_queue::entry> pending;
    const endpoint a = make_ipv4(127, 0, 0, 1, 1);
    const endpoint b = make_ipv4(127, 0, 0, 1, 2);
    for (uint32_t i = 0; i < 10; ++i)
        pending.push_back({i % 2 ? b : a, i, 100});
    runtime::detail::destination_grouper grouper;
    grouper.group(pending);
    for (uint32_t i = 0; i < 5; ++i) {
        CHECK(pending[i].destination == a);
        CHECK(pending[i].slot == 2 * i);
        CHECK(pending[5 + i].destination == b);
        CHECK(pending[5 + i].slot == 2 * i + 1);
    }
    CHECK(runtime::detail::train_length(pending, 0, true) == 5);
    CHECK(runtime::detail::train_length(pending, 0, false) == 1);
    // A shorter datagram ends a train; a longer one starts a new train.
    std::vector<tx_queue::entry> sizes{{a, 0, 100}, {a, 1, 100}, {a, 2, 50}, {a, 3, 100}};
    CHECK(runtime::detail::train_length(sizes, 0, true) == 3);
    CHECK(runtime::detail::train_length(sizes, 3, true) == 1);
    std::vector<tx_queue::entry> growing{{a, 0, 50}, {a, 1, 100}};
    CHECK(runtime::detail::train_length(growing, 0, true) == 1);
    // Never more than 64 segments.
    std::vector<tx_queue::entry> many(100, {a, 0, 10});
    CHECK(runtime::detail::train_length(many, 0, true) == 64);
}

TEST_CASE("tx_queue refuses and counts when full or oversize", "[runtime]") {
    shard_counters counters;
    tx_queue tx(2, 100, counters);
    const endpoint a = make_ipv4(127, 0, 0, 1, 1);
    std::vector<uint8_t> small(10), big(101);
    CHECK(tx.push(a, small));
    CHECK_FALSE(tx.push(a, big));
    CHECK(counters.tx_oversize.load() == 1);
    CHECK(tx.push(a, small));
    CHECK_FALSE(tx.push(a, small));
    CHECK(counters.tx_queue_full.load() == 1);
    CHECK(tx.pending().size() == 2);
    tx.release(tx.pending()[0].slot);
    tx.consume_front(1);
    CHECK(tx.free_slots() == 1);
}

TEST_CASE("every errno lands on a named counter", "[runtime]") {
    shard_counters c;
    CHECK(runtime::detail::count_receive_error(c, ENOBUFS));
    CHECK(runtime::detail::count_receive_error(c, ECONNREFUSED));
    CHECK(runtime::detail::count_receive_error(c, EAGAIN));
    CHECK_FALSE(runtime::detail::count_receive_error(c, EBADF));
    CHECK(c.rx_buffer_exhausted.load() == 1);
    CHECK(c.rx_icmp_errors.load() == 1);
    CHECK(c.rx_errors.load() == 1);
    runtime::detail::count_send_error(c, EAGAIN, 3);
    runtime::detail::count_send_error(c, ENOBUFS, 1);
    runtime::detail::count_send_error(c, ECONNREFUSED, 2);
    runtime::detail::count_send_error(c, EMSGSIZE, 1);
    runtime::detail::count_send_error(c, ENETUNREACH, 1);
    runtime::detail::count_send_error(c, EBADF, 1);
    CHECK(c.tx_eagain.load() == 4);
    CHECK(c.tx_connection_refused.load() == 2);
    CHECK(c.tx_message_too_big.load() == 1);
    CHECK(c.tx_unreachable.load() == 1);
    CHECK(c.tx_errors.load() == 1);
}

TEST_CASE("grouping by destination is a stable partition, whatever the mix", "[runtime][property]") {
    // Property: the output holds the same entries, each destination's entries are contiguous
    // and in their original order, and destinations appear in order of first appearance.
    runtime::detail::destination_grouper grouper;
    std::mt19937_64 rng(Catch::rngSeed());
    for (int round = 0; round < 200; ++round) {
        const size_t count = rng() % 9000;
        const uint64_t destinations = 1 + rng() % (round % 2 ? 8 : 700);
        std::vector<tx_queue::entry> pending;
        for (uint32_t i = 0; i < count; ++i)
            pending.push_back({make_ipv4(10, 0, 0, 1, static_cast<uint16_t>(1 + rng() % destinations)), i, 100});
        const auto original = pending;
        grouper.group(pending);
        REQUIRE(pending.size() == original.size());
        // Within each window the grouper may close early; check per destination order and,
        // per window of 4096, contiguity of each destination.
        std::map<endpoint, uint32_t> last_slot;
        for (const auto& e : pending) {
            auto it = last_slot.find(e.destination);
            if (it != last_slot.end())
                REQUIRE(it->second < e.slot); // original order kept per destination
            last_slot[e.destination] = e.slot;
        }
        std::vector<uint32_t> slots;
        for (const auto& e : pending)
            slots.push_back(e.slot);
        std::sort(slots.begin(), slots.end());
        for (uint32_t i = 0; i < slots.size(); ++i)
            REQUIRE(slots[i] == i);
        if (destinations <= 512 && count <= 4096) {
            std::set<endpoint> closed;
            for (size_t i = 0; i < pending.size(); ++i) {
                if (i > 0 && pending[i].destination != pending[i - 1].destination)
                    closed.insert(pending[i - 1].destination);
                REQUIRE(closed.count(pending[i].destination) == 0);
            }
        }
    }
}
