// Goal: the fault injector is deterministic for a seed and does what its settings say: random
// drops near the configured ratio, an exact block list both ways, holds released in order at
// the right virtual time, a bounded hold queue that counts what it cannot take, and no effect
// at all when inactive. Virtual time only (instants passed in), fixed seeds.
#include <ainet/runtime/fault_injector.hpp>
#include <ainet/runtime/shard.hpp>

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>
#include <vector>

using namespace ainet;
using namespace ainet::runtime;

namespace {

constexpr uint32_t slot_size = 256;

// Datagrams whose payload is a 4-byte sequence number, from one source.
struct traffic {
    explicit traffic(size_t count, endpoint from = make_ipv4(127, 0, 0, 2, 7000)) {
        bytes.resize(count * 4);
        for (uint32_t i = 0; i < count; ++i) {
            std::memcpy(bytes.data() + size_t{i} * 4, &i, 4);
            datagrams.push_back(rx_datagram{bytes_view(bytes.data() + size_t{i} * 4, 4), from});
        }
    }
    std::vector<uint8_t> bytes;
    std::vector<rx_datagram> datagrams;
};

uint32_t sequence_of(const rx_datagram& d) {
    uint32_t v = 0;
    REQUIRE(d.payload.size() == 4);
    std::memcpy(&v, d.payload.data(), 4);
    return v;
}

// Feeds every datagram at now in chunks; returns what was delivered at once.
std::vector<rx_datagram> feed(fault_injector& f, instant now, std::span<const rx_datagram> all) {
    std::vector<rx_datagram> out;
    out.reserve(all.size() * 2);
    while (!all.empty()) {
        const size_t take = std::min(all.size(), fault_injector::receive_chunk_max);
        f.filter_receive(now, all.first(take), out);
        all = all.subspan(take);
    }
    return out;
}

instant at_ms(int64_t ms) { return instant{} + std::chrono::milliseconds(ms); }

} // namespace

TEST_CASE("inactive settings pass every datagram unchanged", "[faults]") {
    fault_counters counters;
    fault_injector f(counters, slot_size);
    f.configure(config::fault_config{}, 1);
    CHECK_FALSE(f.active());
    traffic t(100);
    const auto out = feed(f, at_ms(0), t.datagrams);
    REQUIRE(out.size() == 100);
    for (uint32_t i = 0; i < 100; ++i)
        CHECK(sequence_of(out[i]) == i);
    CHECK(counters.rx_dropped == 0);
}

TEST_CASE("drop ratio stays near the probability and replays for a seed", "[faults]") {
    config::fault_config settings;
    settings.drop_probability = 0.2;
    settings.seed = 12345;
    constexpr size_t count = 20000;
    traffic t(count);
    fault_counters c1, c2;
    fault_injector a(c1, slot_size), b(c2, slot_size);
    a.configure(settings, 7);
    b.configure(settings, 7);
    const auto out_a = feed(a, at_ms(0), t.datagrams);
    const auto out_b = feed(b, at_ms(0), t.datagrams);
    INFO("dropped " << c1.rx_dropped.load() << " of " << count);
    // Binomial(20000, 0.2): sd ~57; +-600 is more than 10 sd.
    CHECK(c1.rx_dropped >= 3400);
    CHECK(c1.rx_dropped <= 4600);
    CHECK(out_a.size() + c1.rx_dropped == count);
    // Same seed and label: the same datagrams are dropped.
    REQUIRE(out_a.size() == out_b.size());
    for (size_t i = 0; i < out_a.size(); ++i)
        CHECK(sequence_of(out_a[i]) == sequence_of(out_b[i]));
    // Another label: another stream.
    fault_counters c3;
    fault_injector other(c3, slot_size);
    other.configure(settings, 8);
    const auto out_c = feed(other, at_ms(0), t.datagrams);
    bool differs = out_c.size() != out_a.size();
    for (size_t i = 0; !differs && i < out_a.size(); ++i)
        differs = sequence_of(out_a[i]) != sequence_of(out_c[i]);
    CHECK(differs);
}

TEST_CASE("duplicates are delivered twice", "[faults]") {
    config::fault_config settings;
    settings.duplicate_probability = 1.0;
    fault_counters counters;
    fault_injector f(counters, slot_size);
    f.configure(settings, 1);
    traffic t(10);
    const auto out = feed(f, at_ms(0), t.datagrams);
    REQUIRE(out.size() == 20);
    CHECK(sequence_of(out[0]) == 0);
    CHECK(sequence_of(out[1]) == 0);
    CHECK(counters.duplicated == 10);
}

TEST_CASE("the block list drops exactly the listed peers, both ways", "[faults]") {
    config::fault_config settings;
    settings.block.push_back({make_ipv4(127, 0, 0, 3, 0), true});
    settings.block.push_back({make_ipv4(127, 0, 0, 4, 7004), false});
    fault_counters counters;
    fault_injector f(counters, slot_size);
    f.configure(settings, 1);
    REQUIRE(f.active());

    traffic from2(5, make_ipv4(127, 0, 0, 2, 7002));
    traffic from3(5, make_ipv4(127, 0, 0, 3, 9999));
    traffic from4(5, make_ipv4(127, 0, 0, 4, 7004));
    traffic from4b(5, make_ipv4(127, 0, 0, 4, 7005));
    CHECK(feed(f, at_ms(0), from2.datagrams).size() == 5);
    CHECK(feed(f, at_ms(0), from3.datagrams).empty());
    CHECK(feed(f, at_ms(0), from4.datagrams).empty());
    CHECK(feed(f, at_ms(0), from4b.datagrams).size() == 5);
    CHECK(counters.rx_blocked == 10);

    shard_counters shard;
    tx_queue tx(16, slot_size, shard);
    const uint8_t byte = 1;
    for (auto to : {make_ipv4(127, 0, 0, 2, 1), make_ipv4(127, 0, 0, 3, 1),
                    make_ipv4(127, 0, 0, 4, 7004), make_ipv4(127, 0, 0, 4, 7005)})
        REQUIRE(tx.push(to, bytes_view(&byte, 1)));
    CHECK(f.filter_sends(tx) == 2);
    REQUIRE(tx.pending().size() == 2);
    CHECK(tx.pending()[0].destination == make_ipv4(127, 0, 0, 2, 1));
    CHECK(tx.pending()[1].destination == make_ipv4(127, 0, 0, 4, 7005));
    CHECK(tx.free_slots() == 14);
    CHECK(counters.tx_blocked == 2);

    // Cleared: everything passes again.
    f.configure(config::fault_config{}, 1);
    CHECK_FALSE(f.active());
    CHECK(feed(f, at_ms(0), from3.datagrams).size() == 5);
}

TEST_CASE("delayed datagrams are released in order at their virtual time", "[faults]") {
    config::fault_config settings;
    settings.delay_ms = 10;
    fault_counters counters;
    fault_injector f(counters, slot_size);
    f.configure(settings, 1);
    traffic first(3), second(3);
    CHECK(feed(f, at_ms(100), first.datagrams).empty());
    CHECK(feed(f, at_ms(103), second.datagrams).empty());
    CHECK(f.held_count() == 6);
    REQUIRE(f.next_release());
    CHECK(*f.next_release() == at_ms(110));

    std::vector<rx_datagram> out;
    out.reserve(fault_injector::held_count_max);
    f.release_due(at_ms(109), out);
    CHECK(out.empty());
    f.release_due(at_ms(110), out);
    REQUIRE(out.size() == 3);
    for (uint32_t i = 0; i < 3; ++i)
        CHECK(sequence_of(out[i]) == i);
    f.recycle();
    out.clear();
    CHECK(*f.next_release() == at_ms(113));
    f.release_due(at_ms(200), out);
    CHECK(out.size() == 3);
    f.recycle();
    CHECK(f.held_count() == 0);
    CHECK(counters.released == 6);
    CHECK(counters.held_now == 0);
}

TEST_CASE("jitter and reorder let later datagrams overtake earlier ones", "[faults]") {
    config::fault_config settings;
    settings.reorder_probability = 0.5;
    settings.reorder_window_ms = 20;
    settings.seed = 99;
    fault_counters counters;
    fault_injector f(counters, slot_size);
    f.configure(settings, 1);
    traffic t(200);
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < 200; ++i) {
        // One datagram per virtual millisecond; release what is due first.
        std::vector<rx_datagram> out;
        out.reserve(fault_injector::held_count_max);
        f.release_due(at_ms(i), out);
        f.filter_receive(at_ms(i), std::span(t.datagrams).subspan(i, 1), out);
        for (const auto& d : out)
            order.push_back(sequence_of(d));
        f.recycle();
    }
    std::vector<rx_datagram> rest;
    rest.reserve(fault_injector::held_count_max);
    f.release_due(at_ms(1000), rest);
    for (const auto& d : rest)
        order.push_back(sequence_of(d));
    f.recycle();
    REQUIRE(order.size() == 200);
    CHECK(counters.reordered > 50);
    CHECK(counters.reordered < 150);
    size_t inversions = 0;
    for (size_t i = 1; i < order.size(); ++i)
        inversions += order[i] < order[i - 1] ? 1 : 0;
    CHECK(inversions > 0);
      CHECK(f.held_count() == 0);
    CHECK(f.active()); // the settings stay until cleared
}

TEST_CASE("the hold queue is bounded and counts what it cannot take", "[faults]") {
    config::fault_config settings;
    settings.delay_ms = 5;
    fault_counters counters;
    fault_injector f(counters, slot_size);
    f.configure(settings, 1);
    traffic t(fault_injector::held_count_max + 100);
    CHECK(feed(f, at_ms(0), t.datagrams).empty());
    CHECK(f.held_count() == fault_injector::held_count_max);
    CHECK(counters.held_queue_full == 100);
    // Turning delay off keeps the held ones until their time, then the injector goes idle.
    f.configure(config::fault_config{}, 1);
    CHECK(f.active());
    std::vector<rx_datagram> out;
    out.reserve(fault_injector::held_count_max);
    f.release_due(at_ms(5), out);
    CHECK(out.size() == fault_injector::held_count_max);
    f.recycle();
    CHECK_FALSE(f.active());
}

namespace {

// Echoes every datagram back to its source.
struct echo_app final : shard_app {
    void on_datagrams(shard_context& ctx, std::span<const rx_datagram> batch) noexcept override {
        for (const auto& d : batch)
            (void)ctx.tx.push(d.source, d.payload);
    }
};

// Sends one datagram from client to the group and waits (bounded, by spinning, not by time)
// until the echo comes back; returns whether it did.
bool echoed(const udp_socket& client, const shard_group& group, uint8_t tag) {
    const socket_address to = to_sockaddr(group.local_endpoint());
    REQUIRE(::sendto(client.fd(), &tag, 1, 0, reinterpret_cast<const sockaddr*>(&to.storage),
                     to.size) == 1);
    for (int spins = 0; spins < 2000; ++spins) {
        uint8_t buffer[16];
        pollfd p{client.fd(), POLLIN, 0};
        if (::poll(&p, 1, 5) == 1 && ::recv(client.fd(), buffer, sizeof(buffer), 0) == 1)
            return buffer[0] == tag;
    }
    return false;
}

template <class Pred>
void spin_until(Pred pred) {
    for (int spins = 0; !pred() && spins < 1'000'000; ++spins)
        std::this_thread::yield();
}

} // namespace

namespace {

void run_faults_in_shard(backend_choice backend) {
    shard_group_config config;
    config.shard_count = 1;
    config.listen = make_ipv4(127, 0, 0, 1, 0);
    config.backend = backend;
    config.faults.delay_ms = 20;
    shard_group group(config, [](shard_id) { return std::make_unique<echo_app>(); });
    REQUIRE(group.start());
    socket_options options;
    options.reuse_port = false;
    auto client = udp_socket::open(make_ipv4(127, 0, 0, 1, 0), options).value();
    const fault_counters& counters = group.fault_counters_of(shard_id{0});

    // From the config: held, then released by the shard's loop and echoed.
    CHECK(echoed(client, group, 1));
    CHECK(counters.held.load() == 1);
    CHECK(counters.released.load() == 1);
    CHECK(counters.active.load() == 1);

    // Block the client: nothing comes back, the drop is counted.
    config::fault_config block;
    block.block.push_back({client.local_endpoint(), false});
    REQUIRE(group.set_faults(block));
    spin_until([&] { return counters.settings_applied.load() == 2; });
    REQUIRE(counters.settings_applied.load() == 2);
    const socket_address to = to_sockaddr(group.local_endpoint());
    const uint8_t tag = 2;
    REQUIRE(::sendto(client.fd(), &tag, 1, 0, reinterpret_cast<const sockaddr*>(&to.storage),
                     to.size) == 1);
    spin_until([&] { return counters.rx_blocked.load() == 1; });
    CHECK(counters.rx_blocked.load() == 1);
    CHECK(group.faults() == block);

    // Cleared: echoes again, the injector is off.
    REQUIRE(group.set_faults(config::fault_config{}));
    spin_until([&] { return counters.settings_applied.load() == 3; });
    CHECK(echoed(client, group, 3));
    CHECK(counters.active.load() == 0);
    group.stop();
}

} // namespace

TEST_CASE("a running shard applies fault settings posted from control (epoll)",
          "[faults][shard][epoll]") {
    run_faults_in_shard(backend_choice::epoll);
}

TEST_CASE("a running shard applies fault settings posted from control (io_uring)",
          "[faults][shard][io_uring]") {
    run_faults_in_shard(backend_choice::io_uring);
}

namespace {

// Forwards every datagram to `to` with byte 1 (a hop limit) decremented, through
// tx_queue::forward(): zero copy where the backend lends the receive buffer.
struct forward_app final : shard_app {
    endpoint to;
    explicit forward_app(endpoint destination) : to(destination) {}
    void on_datagrams(shard_context& ctx, std::span<const rx_datagram> batch) noexcept override {
        for (const auto& d : batch)
            if (d.payload.size() >= 2)
                (void)ctx.tx.forward(to, d, 1, static_cast<uint8_t>(d.payload[1] - 1));
    }
};

// Receives `count` datagrams on socket (bounded spinning) and returns their second bytes.
std::vector<uint8_t> hops_received(const udp_socket& socket, size_t count) {
    std::vector<uint8_t> hops;
    for (int spins = 0; hops.size() < count && spins < 4000; ++spins) {
        uint8_t buffer[64];
        pollfd p{socket.fd(), POLLIN, 0};
        if (::poll(&p, 1, 5) == 1) {
            const ssize_t got = ::recv(socket.fd(), buffer, sizeof(buffer), 0);
            if (got >= 2)
                hops.push_back(buffer[1]);
        }
    }
    return hops;
}

void run_duplicates_forwarded(backend_choice backend) {
    // Goal: a datagram the fault injector duplicates is forwarded twice; lent, both forwards
    // would share (and patch twice) one buffer's bytes. While faults are on the shard copies,
    // so each copy carries its own hop limit - 1; once faults are cleared it lends again.
    socket_options options;
    options.reuse_port = false;
    auto client = udp_socket::open(make_ipv4(127, 0, 0, 1, 0), options).value();
    auto sink = udp_socket::open(make_ipv4(127, 0, 0, 1, 0), options).value();
    shard_group_config config;
    config.shard_count = 1;
    config.listen = make_ipv4(127, 0, 0, 1, 0);
    config.backend = backend;
    config.faults.duplicate_probability = 1.0;
    const endpoint sink_at = sink.local_endpoint();
    shard_group group(config, [sink_at](shard_id) { return std::make_unique<forward_app>(sink_at); });
    REQUIRE(group.start());
    const socket_address to = to_sockaddr(group.local_endpoint());
    auto send = [&](uint8_t index) {
        const uint8_t datagram[8] = {index, 5, 0, 0, 0, 0, 0, 0};
        REQUIRE(::sendto(client.fd(), datagram, sizeof(datagram), 0,
                         reinterpret_cast<const sockaddr*>(&to.storage), to.size) == 8);
    };
    for (uint8_t i = 0; i < 10; ++i)
        send(i);
    const auto hops = hops_received(sink, 20);
    REQUIRE(hops.size() == 20);
    for (uint8_t hop : hops)
        CHECK(hop == 4);
    const shard_counters& counters = group.counters(shard_id{0});
    CHECK(counters.tx_lent_forwards.load() == 0);
    CHECK(counters.tx_copied_forwards.load() == 20);

    const fault_counters& faults = group.fault_counters_of(shard_id{0});
    REQUIRE(group.set_faults(config::fault_config{}));
    spin_until([&] { return faults.settings_applied.load() == 2; });
    REQUIRE(faults.settings_applied.load() == 2);
    send(10);
    const auto after = hops_received(sink, 1);
    REQUIRE(after.size() == 1);
    CHECK(after[0] == 4);
    CHECK(counters.tx_lent_forwards.load() == 1);
    group.stop();
}

} // namespace

TEST_CASE("duplicated datagrams are forwarded as copies while faults are on (epoll)",
          "[faults][shard][epoll]") {
    run_duplicates_forwarded(backend_choice::epoll);
}

TEST_CASE("duplicated datagrams are forwarded as copies while faults are on (io_uring)",
          "[faults][shard][io_uring]") {
    run_duplicates_forwarded(backend_choice::io_uring);
}
