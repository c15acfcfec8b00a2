// Goal: both io backends deliver exactly what was sent over loopback (sources, payloads, per
// destination order), split GRO trains, build GSO trains, forward zero-copy from lent receive
// buffers (falling back to copies, never leaking a buffer, allocating nothing), count every
// drop by reason, and wake from another thread. The same cases run against each backend.
#define AINET_COUNT_ALLOCATIONS_DEFINE
#include "../support/allocation_counter.hpp"

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

// Forwards what it receives as a relay would: payload[0] even goes to a, odd to b; payload[1]
// is the "hop limit", forwarded as payload[1] - 1, and a datagram that arrives with 0 there is
// dropped (inside a GRO train too). Sends go through tx_queue::forward(), so from the
// backend's receive buffers where it lends them.
struct forwarder final : rx_handler {
    tx_queue& tx;
    endpoint a, b;
    size_t seen = 0;
    size_t forwarded = 0;
    forwarder(tx_queue& queue, endpoint to_a, endpoint to_b) : tx(queue), a(to_a), b(to_b) {}
    void on_datagrams(std::span<const rx_datagram> batch) noexcept override {
        for (const auto& d : batch) {
            ++seen;
            if (d.payload.size() < 2 || d.payload[1] == 0)
                continue;
            if (tx.forward(d.payload[0] % 2 ? b : a, d, 1, static_cast<uint8_t>(d.payload[1] - 1)))
                ++forwarded;
        }
    }
};

// A datagram for the forwarder: index in byte 0 (its parity picks the destination), hop in
// byte 1, the rest a pattern of the index.
std::vector<uint8_t> forward_payload(size_t index, size_t size, uint8_t hop) {
    auto p = payload_for(index, size);
    p[0] = static_cast<uint8_t>(index);
    p[1] = hop;
    return p;
}

void send_train(const udp_socket& from, const endpoint& to, const std::vector<std::vector<uint8_t>>& datagrams) {
    std::vector<uint8_t> train;
    for (const auto& d : datagrams)
        train.insert(train.end(), d.begin(), d.end());
    const socket_address address = to_sockaddr(to);
    iovec iov{train.data(), train.size()};
    msghdr message{};
    message.msg_name = const_cast<sockaddr_storage*>(&address.storage);
    message.msg_namelen = address.size;
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    uint8_t control[runtime::detail::control_size];
    runtime::detail::set_gso_control(message, control, static_cast<uint16_t>(datagrams[0].size()));
    REQUIRE(::sendmsg(from.fd(), &message, 0) == static_cast<ssize_t>(train.size()));
}

// Polls (forwarding) and flushes, as a shard turn does, until `want` datagrams were seen and
// every send completed (slots and lent buffers back).
void forward_until(io_backend& backend, tx_queue& tx, forwarder& fw, size_t want, uint32_t slots) {
    for (int i = 0; i < 2000 && (fw.seen < want || tx.free_slots() < slots || tx.lent_count() > 0 ||
                                 !tx.empty());
         ++i) {
        backend.poll(std::chrono::milliseconds(1), fw);
        backend.flush(tx);
    }
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
        std::vector<std::vector<uint8_t>> train;
        for (size_t i = 0; i < 10; ++i)
            train.push_back(payload_for(i, 1000));
        const auto tail = payload_for(10, 40);
        train.push_back(tail);
        send_train(sender, socket.local_endpoint(), train);
        collector sink;
        poll_until(*backend, sink, 11);
        REQUIRE(sink.received.size() == 11);
        for (size_t i = 0; i < 10; ++i)
            CHECK(sink.received[i].second == payload_for(i, 1000));
        CHECK(sink.received[10].second == tail);
        CHECK(counters.rx_gro_trains.load() == 1);
        CHECK(counters.rx_truncated.load() == 0);
    }

    SECTION("zero-copy forwards: trains split across destinations, mixed sizes, hop drops") {
        shard_counters counters;
        auto socket = open_loopback(true);
        auto backend = open_backend(kind, socket, counters);
        REQUIRE(backend->lender() != nullptr);
        tx_queue tx(1024, 1472, counters);
        tx.set_lender(backend->lender());
        auto sender = open_loopback();
        auto a = open_loopback();
        auto b = open_loopback();
        // Three GRO trains (alternating destinations, a shorter tail, hop-0 datagrams inside)
        // and single datagrams of other sizes between them.
        std::vector<std::vector<uint8_t>> sent;
        auto train = [&](size_t count, size_t size, size_t tail) {
            std::vector<std::vector<uint8_t>> t;
            for (size_t k = 0; k < count; ++k) {
                const size_t index = sent.size();
                t.push_back(forward_payload(index, k + 1 == count && tail ? tail : size,
                                            index % 7 == 3 ? 0 : 5));
                sent.push_back(t.back());
            }
            send_train(sender, socket.local_endpoint(), t);
        };
        auto single = [&](size_t size) {
            sent.push_back(forward_payload(sent.size(), size, 9));
            send_plain(sender, socket.local_endpoint(), sent.back());
        };
        train(20, 300, 0);
        single(1400);
        train(11, 1000, 40);
        single(17);
        train(30, 64, 0);
        forwarder fw(tx, a.local_endpoint(), b.local_endpoint());
        // Receiving, forwarding from lent buffers, sending and giving the buffers back
        // allocate nothing.
        const uint64_t allocations_before = test::allocation_count();
        forward_until(*backend, tx, fw, sent.size(), 1024);
        CHECK(test::allocation_count() == allocations_before);
        REQUIRE(fw.seen == sent.size());
        CHECK(tx.free_slots() == 1024);
        CHECK(tx.lent_count() == 0);
        std::vector<std::vector<uint8_t>> want_a, want_b;
        for (const auto& d : sent) {
            if (d[1] == 0)
                continue;
            auto expected = d;
            expected[1] = static_cast<uint8_t>(d[1] - 1);
            (d[0] % 2 ? want_b : want_a).push_back(expected);
        }
        CHECK(fw.forwarded == want_a.size() + want_b.size());
        CHECK(drain_plain(a, want_a.size()) == want_a);
        CHECK(drain_plain(b, want_b.size()) == want_b);
        // Every forward went out of its receive buffer, none was copied.
        CHECK(counters.tx_lent_forwards.load() == fw.forwarded);
        CHECK(counters.tx_copied_forwards.load() == 0);
        CHECK(counters.rx_gro_trains.load() >= 1);
        CHECK(counters.tx_datagrams.load() == fw.forwarded);
    }

    SECTION("zero-copy forwards fall back to copying when too many buffers are out") {
        shard_counters counters;
        auto socket = open_loopback();
        backend_config config;
        config.recv_buffer_count = 8; // io_uring lends at most half of them
        config.batch_size = 8;
        auto backend = open_backend(kind, socket, counters, config);
        // At most 6 lent forwards (the queue's limit is its slot count) and 6 copies per turn.
        tx_queue tx(6, 1472, counters);
        tx.set_lender(backend->lender());
        auto sender = open_loopback();
        auto a = open_loopback();
        auto b = open_loopback();
        forwarder fw(tx, a.local_endpoint(), b.local_endpoint());
        std::vector<std::vector<uint8_t>> want_a, want_b;
        size_t index = 0;
        // Four rounds: a buffer that did not come back after its send would leave the 8-buffer
        // ring short, and after a few rounds dry (nothing received).
        for (int round = 0; round < 4; ++round) {
            const uint64_t copied_before = counters.tx_copied_forwards.load();
            const size_t first = index;
            for (; index < first + 8; ++index) {
                auto d = forward_payload(index, 100 + index, 3);
                send_plain(sender, socket.local_endpoint(), d);
                d[1] = 2;
                (index % 2 ? want_b : want_a).push_back(d);
            }
            forward_until(*backend, tx, fw, index, 6);
            REQUIRE(fw.seen == index);
            // The eight arrive in one delivery (they were queued before the poll), more than
            // either limit lets lend: some went by copy.
            CHECK(counters.tx_copied_forwards.load() > copied_before);
        }
        CHECK(fw.forwarded == 32);
        CHECK(counters.tx_lent_forwards.load() > 0);
        CHECK(counters.tx_lent_forwards.load() + counters.tx_copied_forwards.load() == 32);
        CHECK(tx.free_slots() == 6);
        CHECK(tx.lent_count() == 0);
        CHECK(drain_plain(a, want_a.size()) == want_a);
        CHECK(drain_plain(b, want_b.size()) == want_b);
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

namespace {

// Lends from one buffer it owns, up to `budget` datagrams out at a time.
struct fake_lender final : rx_buffer_lender {
    std::array<uint8_t, 4096> buffer{};
    uint32_t budget = 0;
    uint32_t out = 0;
    uint8_t* lend(const uint8_t* data, uint32_t& id) noexcept override {
        if (data < buffer.data() || data >= buffer.data() + buffer.size() || out == budget)
            return nullptr;
        ++out;
        id = 7;
        return buffer.data() + (data - buffer.data());
    }
    void give_back(uint32_t id) noexcept override {
        REQUIRE(id == 7);
        REQUIRE(out > 0);
        --out;
    }
};

} // namespace

TEST_CASE("tx_queue forwards lent bytes in place, copies the rest, and gives lent ones back", "[runtime]") {
    shard_counters counters;
    tx_queue tx(4, 100, counters);
    fake_lender lender;
    lender.budget = 3;
    tx.set_lender(&lender);
    const endpoint a = make_ipv4(127, 0, 0, 1, 1);
    for (size_t i = 0; i < lender.buffer.size(); ++i)
        lender.buffer[i] = static_cast<uint8_t>(i);
    auto in_buffer = [&](size_t offset, size_t size) {
        return datagram_ref{bytes_view(lender.buffer.data() + offset, size), a};
    };
    // Three lent (the lender's budget), then copies; the copy leaves the buffer as it was.
    for (size_t i = 0; i < 5; ++i)
        REQUIRE(tx.forward(a, in_buffer(i * 50, 50), 2, 0xee));
    CHECK(counters.tx_lent_forwards.load() == 3);
    CHECK(counters.tx_copied_forwards.load() == 2);
    CHECK(tx.lent_count() == 3);
    CHECK(tx.free_slots() == 2);
    REQUIRE(tx.pending().size() == 5);
    for (size_t i = 0; i < 5; ++i) {
        const auto& e = tx.pending()[i];
        CHECK(e.size == 50);
        CHECK(e.data[2] == 0xee);
        CHECK(e.data[3] == static_cast<uint8_t>(i * 50 + 3));
        CHECK(((e.slot & tx_queue::lent_bit) != 0) == (i < 3));
        CHECK((e.data == lender.buffer.data() + i * 50) == (i < 3));
    }
    CHECK(lender.buffer[3 * 50 + 2] == static_cast<uint8_t>(3 * 50 + 2));
    // Not lendable (outside the lender's buffer) or lending off: a copy.
    std::vector<uint8_t> elsewhere(50, 1);
    tx.set_lending(false);
    lender.budget = 100;
    CHECK(tx.forward(a, datagram_ref{elsewhere, a}, 0, 9));
    CHECK(counters.tx_copied_forwards.load() == 3);
    CHECK(tx.free_slots() == 1);
    // The lent count never exceeds the slot count, whatever the lender allows.
    tx.set_lending(true);
    CHECK(tx.forward(a, in_buffer(1000, 50), 0, 1));
    CHECK(tx.lent_count() == 4);
    CHECK(tx.forward(a, in_buffer(1100, 50), 0, 1)); // copied into the last slot
    CHECK(tx.lent_count() == 4);
    CHECK_FALSE(tx.forward(a, in_buffer(1200, 50), 0, 1)); // no lend, no slot: refused
    CHECK(counters.tx_queue_full.load() == 1);
    for (const auto& e : tx.pending())
        tx.release(e.slot);
    tx.consume_front(tx.pending().size());
    CHECK(lender.out == 0);
    CHECK(tx.lent_count() == 0);
    CHECK(tx.free_slots() == 4);
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
