// ainet-bench relay: the relay data path under load on loopback, against a plain
// recvmmsg -> sendmmsg relay (batch 64, same socket buffer sizes) measured in the same run.
//
// Per (shape, size, relay): a sender thread blasts relay_data datagrams at the relay for a
// bounded time and count, a sink thread counts what arrives, and the relay's own threads are
// timed with their CPU clocks. Reported: delivered datagrams/s, loss %, relay CPU ns per relayed
// datagram, relay system calls per relayed datagram, and ainet's ratio to the baseline.
//
// Shapes: one-flow (one source socket, one destination) and many-flows (256 source sockets on
// 16 addresses 127.1.0.x to 16 destination sockets on 127.2.0.x, interleaved). Sizes are the
// relay_data payload; each datagram carries 73 more bytes of header and ids. --gso makes the
// sender send GSO trains, the relay receive with GRO (and send GSO trains, which it always
// does where datagrams line up) and the sink receive with GRO; the baseline stays plain.
#include "commands.hpp"

#include <ainet/core/encoding.hpp>
#include <ainet/node/relay_client.hpp>
#include <ainet/node/relay_node.hpp>
#include <ainet/wire/relay_data.hpp>

#include <netinet/udp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <thread>
#include <unordered_map>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace ainet::bench {

namespace {

using steady = std::chrono::steady_clock;
constexpr size_t batch = 64;

struct options {
    std::string shape = "both";
    std::vector<size_t> sizes{64, 512, 1200};
    uint32_t duration_ms = 1500;
    uint64_t count_max = 20'000'000;
    uint16_t shards = 1;
    bool gso = false;
    bool pin = false;
    bool json = false;
    bool dump_metrics = false;
    std::string backend = "auto";
};

struct measurement {
    std::string shape;
    size_t size = 0;
    std::string relay;
    uint64_t sent = 0;
    uint64_t delivered = 0;
    uint64_t relayed = 0;
    double seconds = 0;
    double cpu_ns_per_datagram = 0;
    double syscalls_per_datagram = 0;
    // The harness's own cost (shared by both relays): sender CPU per datagram sent, sink CPU
    // per datagram delivered.
    double sender_ns_per_datagram = 0;
    double sink_ns_per_datagram = 0;
    double delivered_per_second() const { return seconds > 0 ? double(delivered) / seconds : 0; }
    double loss_percent() const { return sent ? 100.0 * double(sent - std::min(sent, delivered)) / double(sent) : 0; }
};

void pin_to(int cpu) {
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int last_cpu() {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    int last = -1;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &allowed))
                last = cpu;
    return last;
}

duration thread_cpu_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// User + system CPU of the whole process: the relay's cost includes kernel helper threads
// (io_uring's io-wq workers run on behalf of the ring, outside the shard's own CPU clock).
duration process_cpu_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

void set_gro(int fd) {
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one));
}

void set_buffers(int fd) {
    const int size = 4 << 20;
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

// The traffic: per source socket, the datagrams it sends each round (one per destination).
struct traffic {
    std::vector<node::relay_client> sources;
    std::vector<node::relay_client> sinks;
    std::vector<std::vector<std::vector<uint8_t>>> datagrams; // [source][k]
};

std::vector<uint8_t> make_datagram(const node_id& from, const node_id& to, size_t payload_size) {
    std::vector<uint8_t> payload(payload_size, 0xab);
    wire::relay_data m;
    m.destination = to;
    m.source = from;
    m.hop_limit = 8;
    m.payload = payload;
    std::vector<uint8_t> out(wire::encoded_size(m));
    (void)wire::encode(m, out);
    return out;
}

crypto::key_pair bench_keys(uint32_t n) {
    crypto::seed s{};
    s[0] = 0xbe;
    std::memcpy(s.data() + 1, &n, sizeof(n));
    return crypto::key_pair::from_seed(s);
}

bool build_traffic(traffic& t, const std::string& shape, size_t size, const endpoint& relay_at,
                   std::string& error) {
    const bool many = shape == "many-flows";
    const uint32_t source_count = many ? 256 : 1;
    const uint32_t sink_count = many ? 16 : 1;
    for (uint32_t i = 0; i < sink_count; ++i) {
        const endpoint at = many ? make_ipv4(127, 2, 0, static_cast<uint8_t>(1 + i), 0) : make_ipv4(127, 0, 0, 1, 0);
        auto c = node::relay_client::connect(bench_keys(1000 + i), relay_at, at, std::chrono::seconds(5), error);
        if (!c)
            return false;
        set_buffers(c->socket().fd());
        t.sinks.push_back(std::move(*c));
    }
    for (uint32_t i = 0; i < source_count; ++i) {
        const endpoint at = many ? make_ipv4(127, 1, 0, static_cast<uint8_t>(1 + i / 16), 0) : make_ipv4(127, 0, 0, 1, 0);
        auto c = node::relay_client::connect(bench_keys(i), relay_at, at, std::chrono::seconds(5), error);
        if (!c)
            return false;
        set_buffers(c->socket().fd());
        std::vector<std::vector<uint8_t>> per_source;
        for (uint32_t k = 0; k < sink_count; ++k)
            per_source.push_back(make_datagram(c->id(), t.sinks[(i + k) % sink_count].id(), size));
        t.datagrams.push_back(std::move(per_source));
        t.sources.push_back(std::move(*c));
    }
    return true;
}

// One source's GSO train: all its datagrams, repeated up to 64 segments, built once before
// the clock starts (the datagrams never change, so rebuilding them per call only cost the
// shared sender a 64 KiB copy per train).
struct gso_train {
    std::vector<uint8_t> bytes;
    size_t segments = 0;
    uint16_t segment_size = 0;
};

gso_train build_train(const std::vector<std::vector<uint8_t>>& ds) {
    gso_train train;
    const size_t segment = ds[0].size();
    train.segments = std::min<size_t>(64, 65000 / segment);
    train.segment_size = static_cast<uint16_t>(segment);
    for (size_t k = 0; k < train.segments; ++k)
        train.bytes.insert(train.bytes.end(), ds[k % ds.size()].begin(), ds[k % ds.size()].end());
    return train;
}

// Sends every source's datagrams round-robin until count_max or the deadline. With gso, each
// source sends one UDP_SEGMENT train per call (its prebuilt gso_train).
uint64_t run_sender(const traffic& t, const endpoint& to, const options& o, steady::time_point deadline) {
    const runtime::socket_address address = runtime::to_sockaddr(to);
    uint64_t sent = 0;
    std::vector<mmsghdr> messages(batch);
    std::vector<iovec> iovecs(batch);
    std::vector<gso_train> trains;
    if (o.gso)
        for (const auto& ds : t.datagrams)
            trains.push_back(build_train(ds));
    while (sent < o.count_max && steady::now() < deadline) {
        for (size_t s = 0; s < t.sources.size(); ++s) {
            const auto& ds = t.datagrams[s];
            const int fd = t.sources[s].socket().fd();
            if (o.gso) {
                gso_train& train = trains[s];
                iovec iov{train.bytes.data(), train.bytes.size()};
                msghdr m{};
                m.msg_name = const_cast<sockaddr_storage*>(&address.storage);
                m.msg_namelen = address.size;
                m.msg_iov = &iov;
                m.msg_iovlen = 1;
                alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(uint16_t))] = {};
                m.msg_control = control;
                m.msg_controllen = sizeof(control);
                cmsghdr* c = CMSG_FIRSTHDR(&m);
                c->cmsg_level = SOL_UDP;
                c->cmsg_type = UDP_SEGMENT;
                c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                std::memcpy(CMSG_DATA(c), &train.segment_size, sizeof(train.segment_size));
                if (::sendmsg(fd, &m, 0) > 0)
                    sent += train.segments;
            } else {
                const size_t count = t.sources.size() == 1 ? batch : ds.size();
                for (size_t k = 0; k < count; ++k) {
                    const auto& d = ds[k % ds.size()];
                    iovecs[k] = iovec{const_cast<uint8_t*>(d.data()), d.size()};
                    messages[k].msg_hdr = msghdr{};
                    messages[k].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&address.storage);
                    messages[k].msg_hdr.msg_namelen = address.size;
                    messages[k].msg_hdr.msg_iov = &iovecs[k];
                    messages[k].msg_hdr.msg_iovlen = 1;
                }
                const int n = ::sendmmsg(fd, messages.data(), static_cast<unsigned>(count), 0);
                if (n > 0)
                    sent += static_cast<uint64_t>(n);
            }
        }
    }
    return sent;
}

// Counts datagrams arriving at the sinks until `stop` and then 100 ms of silence. It reads
// with MSG_TRUNC into a small buffer: the kernel then copies only that much of each datagram
// (or GRO train) and still returns its full length, from which (with the UDP_GRO segment
// size) the segments are counted. Both relays meet the same sink.
uint64_t run_sink(const traffic& t, bool gro, std::atomic<bool>& stop) {
    const int ep = ::epoll_create1(0);
    for (const auto& s : t.sinks) {
        if (gro)
            set_gro(s.socket().fd());
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.fd = s.socket().fd();
        ::epoll_ctl(ep, EPOLL_CTL_ADD, s.socket().fd(), &e);
    }
    constexpr size_t buffer_size = 64;
    std::vector<uint8_t> buffers(batch * buffer_size);
    std::vector<mmsghdr> messages(batch);
    std::vector<iovec> iovecs(batch);
    std::vector<std::array<uint8_t, 64>> controls(batch);
    uint64_t delivered = 0;
    auto quiet_since = steady::now();
    for (;;) {
        epoll_event events[32];
        const int ready = ::epoll_wait(ep, events, 32, 10);
        if (ready <= 0) {
            if (stop.load() && steady::now() - quiet_since > std::chrono::milliseconds(100))
                break;
            continue;
        }
        quiet_since = steady::now();
        for (int i = 0; i < ready; ++i) {
            for (;;) {
                for (size_t k = 0; k < batch; ++k) {
                    iovecs[k] = iovec{&buffers[k * buffer_size], buffer_size};
                    messages[k].msg_hdr = msghdr{};
                    messages[k].msg_hdr.msg_iov = &iovecs[k];
                    messages[k].msg_hdr.msg_iovlen = 1;
                    messages[k].msg_hdr.msg_control = controls[k].data();
                    messages[k].msg_hdr.msg_controllen = controls[k].size();
                }
                const int n = ::recvmmsg(events[i].data.fd, messages.data(), batch,
                                         MSG_DONTWAIT | MSG_TRUNC, nullptr);
                if (n <= 0)
                    break;
                for (int k = 0; k < n; ++k) {
                    uint64_t segments = 1;
                    msghdr& m = messages[static_cast<size_t>(k)].msg_hdr;
                    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
                        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                            int segment = 0;
                            std::memcpy(&segment, CMSG_DATA(c), sizeof(segment));
                            const uint64_t length = messages[static_cast<size_t>(k)].msg_len;
                            if (segment > 0)
                                segments = (length + static_cast<uint64_t>(segment) - 1) / static_cast<uint64_t>(segment);
                        }
                    }
                    delivered += segments;
                }
            }
        }
    }
    ::close(ep);
    return delivered;
}

// The baseline: recvmmsg (batch 64) -> look up the destination id -> hop limit - 1 ->
// sendmmsg to the destination's address. No authentication, no GRO/GSO.
struct baseline_relay {
    runtime::udp_socket socket;
    std::unordered_map<node_id, endpoint> routes;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> relayed{0};
    std::atomic<uint64_t> syscalls{0};
    std::atomic<int64_t> cpu_ns{0};
    std::thread thread;

    void start(int cpu) {
        thread = std::thread([this, cpu] {
            pin_to(cpu);
            const duration cpu_start = thread_cpu_now();
            std::vector<uint8_t> buffers(batch * 2048);
            std::vector<mmsghdr> in(batch), out(batch);
            std::vector<iovec> in_iov(batch), out_iov(batch);
            std::vector<runtime::socket_address> to(batch);
            uint64_t local_relayed = 0, local_syscalls = 0;
            timeval timeout{0, 20'000};
            ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
            while (!stop.load(std::memory_order_relaxed)) {
                for (size_t k = 0; k < batch; ++k) {
                    in_iov[k] = iovec{&buffers[k * 2048], 2048};
                    in[k].msg_hdr = msghdr{};
                    in[k].msg_hdr.msg_iov = &in_iov[k];
                    in[k].msg_hdr.msg_iovlen = 1;
                }
                // Blocking until one datagram, then whatever else is queued (MSG_WAITFORONE).
                const int n = ::recvmmsg(socket.fd(), in.data(), batch, MSG_WAITFORONE, nullptr);
                ++local_syscalls;
                if (n <= 0)
                    continue;
                size_t forward = 0;
                for (int k = 0; k < n; ++k) {
                    uint8_t* d = &buffers[static_cast<size_t>(k) * 2048];
                    const size_t size = in[static_cast<size_t>(k)].msg_len;
                    if (size < wire::header_size + wire::relay_data_fixed_size)
                        continue;
                    node_id destination;
                    std::memcpy(destination.bytes.data(), d + wire::header_size, node_id_size);
                    auto route = routes.find(destination);
                    if (route == routes.end())
                        continue;
                    d[wire::relay_data_hop_limit_offset] = static_cast<uint8_t>(d[wire::relay_data_hop_limit_offset] - 1);
                    to[forward] = runtime::to_sockaddr(route->second);
                    out_iov[forward] = iovec{d, size};
                    out[forward].msg_hdr = msghdr{};
                    out[forward].msg_hdr.msg_name = &to[forward].storage;
                    out[forward].msg_hdr.msg_namelen = to[forward].size;
                    out[forward].msg_hdr.msg_iov = &out_iov[forward];
                    out[forward].msg_hdr.msg_iovlen = 1;
                    ++forward;
                }
                size_t done = 0;
                while (done < forward) {
                    const int sent = ::sendmmsg(socket.fd(), &out[done], static_cast<unsigned>(forward - done), MSG_DONTWAIT);
                    ++local_syscalls;
                    if (sent <= 0)
                        break;
                    done += static_cast<size_t>(sent);
                }
                local_relayed += done;
                relayed.store(local_relayed, std::memory_order_relaxed);
                syscalls.store(local_syscalls, std::memory_order_relaxed);
                cpu_ns.store((thread_cpu_now() - cpu_start).count(), std::memory_order_relaxed);
            }
            cpu_ns.store((thread_cpu_now() - cpu_start).count());
        });
    }
};

struct load_result {
    uint64_t sent = 0;
    uint64_t delivered = 0;
    double seconds = 0;
    // Process CPU during the run minus the sender's and the sink's own threads: the relay's
    // threads plus any kernel helper threads working for them.
    duration other_cpu{};
    duration sender_cpu{};
    duration sink_cpu{};
};

// Runs sender (this thread) and sink (a helper thread) against the relay at `to`.
load_result drive_load(const traffic& t, const endpoint& to, const options& o) {
    load_result r;
    std::atomic<bool> stop{false};
    duration sink_cpu{};
    const int helper_cpu = o.pin ? last_cpu() : -1;
    // This thread becomes the sender; its affinity is restored afterwards, or threads started
    // later from it (the next relay's shards) would inherit the sender's CPU.
    cpu_set_t saved;
    CPU_ZERO(&saved);
    (void)pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
    pin_to(helper_cpu);
    const duration process0 = process_cpu_now();
    std::thread sink([&] {
        pin_to(helper_cpu);
        const duration c0 = thread_cpu_now();
        r.delivered = run_sink(t, o.gso, stop);
        sink_cpu = thread_cpu_now() - c0;
    });
    const duration sender0 = thread_cpu_now();
    const auto start = steady::now();
    r.sent = run_sender(t, to, o, start + std::chrono::milliseconds(o.duration_ms));
    r.seconds = std::chrono::duration<double>(steady::now() - start).count();
    const duration sender_cpu = thread_cpu_now() - sender0;
    stop = true;
    sink.join();
    r.other_cpu = process_cpu_now() - process0 - sender_cpu - sink_cpu;
    r.sender_cpu = sender_cpu;
    r.sink_cpu = sink_cpu;
    (void)pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
    return r;
}

void set_harness_cost(measurement& m, const load_result& load) {
    if (m.sent > 0)
        m.sender_ns_per_datagram = double(load.sender_cpu.count()) / double(m.sent);
    if (m.delivered > 0)
        m.sink_ns_per_datagram = double(load.sink_cpu.count()) / double(m.delivered);
}

measurement run_ainet(const options& o, const std::string& shape, size_t size, std::string& error) {
    measurement m{shape, size, "ainet"};
    config::node_config config;
    config.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    config.http_listen = make_ipv4(127, 0, 0, 1, 0);
    config.shard_count = o.shards;
    node::relay_node_options ro;
    ro.backend = o.backend == "epoll" ? runtime::backend_choice::epoll
                 : o.backend == "io_uring" ? runtime::backend_choice::io_uring
                                           : runtime::backend_choice::automatic;
    ro.pin_threads = o.pin;
    ro.gro = o.gso;
    // The bench measures capacity: no per-session rate limit in the way.
    ro.relay.session_rate_per_second = 1e12;
    ro.relay.session_burst = 1e12;
    node::relay_node relay(config, crypto::key_pair::from_seed(crypto::seed{9}), ro);
    if (!relay.start(error))
        return m;
    m.relay = std::string("ainet/") + std::string(runtime::to_string(relay.backend()));
    traffic t;
    if (!build_traffic(t, shape, size, relay.udp_endpoint(), error))
        return m;
    // Routes reach every shard asynchronously; give the mesh a moment before measuring.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

    auto totals = [&] {
        uint64_t relayed = 0, syscalls = 0;
        for (uint16_t s = 0; s < relay.shard_count(); ++s) {
            relayed += relay.relay_counters(s).forwarded.load();
            const auto& c = relay.shards().counters(shard_id{s});
            syscalls += c.rx_syscalls.load() + c.tx_syscalls.load();
        }
        return std::pair{relayed, syscalls};
    };
    const auto [relayed0, syscalls0] = totals();
    const load_result load = drive_load(t, relay.udp_endpoint(), o);
    const auto [relayed1, syscalls1] = totals();
    if (o.dump_metrics)
        std::cerr << relay.render_metrics();
    m.sent = load.sent;
    m.delivered = load.delivered;
    m.relayed = relayed1 - relayed0;
    m.seconds = load.seconds;
    set_harness_cost(m, load);
    if (m.relayed > 0) {
        m.cpu_ns_per_datagram = double(load.other_cpu.count()) / double(m.relayed);
        m.syscalls_per_datagram = double(syscalls1 - syscalls0) / double(m.relayed);
    }
    relay.stop();
    return m;
}

measurement run_baseline(const options& o, const std::string& shape, size_t size, std::string& error) {
    measurement m{shape, size, "baseline"};
    // The sources and sinks authenticate against an ainet relay only to get the same sockets
    // and ids as the ainet run; the baseline then relays for them without any check.
    config::node_config config;
    config.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    config.http_listen = make_ipv4(127, 0, 0, 1, 0);
    config.shard_count = 1;
    node::relay_node setup(config, crypto::key_pair::from_seed(crypto::seed{9}));
    if (!setup.start(error))
        return m;
    traffic t;
    if (!build_traffic(t, shape, size, setup.udp_endpoint(), error))
        return m;
    setup.stop();

    baseline_relay base;
    runtime::socket_options so;
    so.reuse_port = false;
    auto socket = runtime::udp_socket::open(make_ipv4(127, 0, 0, 1, 0), so);
    if (!socket) {
        error = "baseline socket";
        return m;
    }
    base.socket = std::move(socket).value();
    for (const auto& s : t.sinks)
        base.routes[s.id()] = s.local_endpoint();
    base.start(o.pin ? 0 : -1);
    const load_result load = drive_load(t, base.socket.local_endpoint(), o);
    base.stop = true;
    base.thread.join();
    m.sent = load.sent;
    m.delivered = load.delivered;
    m.relayed = base.relayed.load();
    m.seconds = load.seconds;
    set_harness_cost(m, load);
    if (m.relayed > 0) {
        m.cpu_ns_per_datagram = double(load.other_cpu.count()) / double(m.relayed);
        m.syscalls_per_datagram = double(base.syscalls.load()) / double(m.relayed);
    }
    return m;
}

int run(const options& o) {
    if (!crypto::init()) {
        std::cerr << "ainet-bench: libsodium init failed\n";
        return 1;
    }
    std::vector<std::string> shapes;
    if (o.shape == "both" || o.shape == "one-flow")
        shapes.push_back("one-flow");
    if (o.shape == "both" || o.shape == "many-flows")
        shapes.push_back("many-flows");
    std::vector<std::pair<measurement, measurement>> rows;
    for (const auto& shape : shapes) {
        for (size_t size : o.sizes) {
            std::string error;
            measurement base = run_baseline(o, shape, size, error);
            measurement ours = run_ainet(o, shape, size, error);
            if (!error.empty()) {
                std::cerr << "ainet-bench relay: " << shape << " " << size << " B: " << error << "\n";
                return 1;
            }
            rows.emplace_back(ours, base);
            if (!o.json)
                std::cerr << "  measured " << shape << " " << size << " B\n";
        }
    }
    if (o.json) {
        std::ostringstream out;
        out << "{\"benchmark\":\"relay\",\"gso\":" << (o.gso ? "true" : "false") << ",\"pin\":"
            << (o.pin ? "true" : "false") << ",\"shards\":" << o.shards << ",\"results\":[";
        bool first = true;
        for (const auto& [ours, base] : rows) {
            for (const measurement* m : {&ours, &base}) {
                out << (first ? "" : ",") << "{\"shape\":\"" << m->shape << "\",\"payload_bytes\":"
                    << m->size << ",\"relay\":\"" << m->relay << "\",\"sent\":" << m->sent
                    << ",\"delivered\":" << m->delivered << ",\"relayed\":" << m->relayed
                    << ",\"seconds\":" << m->seconds << ",\"delivered_per_second\":"
                    << m->delivered_per_second() << ",\"loss_percent\":" << m->loss_percent()
                    << ",\"cpu_ns_per_datagram\":" << m->cpu_ns_per_datagram
                    << ",\"syscalls_per_datagram\":" << m->syscalls_per_datagram
                    << ",\"sender_ns_per_datagram\":" << m->sender_ns_per_datagram
                    << ",\"sink_ns_per_datagram\":" << m->sink_ns_per_datagram << "}";
                first = false;
            }
        }
        out << "]}";
        std::cout << out.str() << "\n";
        return 0;
    }
    std::printf("ainet-bench relay: %s, %u shard(s)%s%s, %u ms per run\n",
                o.gso ? "sender GSO, relay GRO in/GSO out, sink GRO" : "plain datagrams", o.shards,
                o.pin ? ", pinned" : "", "", o.duration_ms);
    std::printf("%-11s %6s %-16s %12s %7s %12s %10s %8s %8s %9s %9s\n", "shape", "bytes", "relay",
                "delivered/s", "loss%", "cpu ns/dgram", "sys/dgram", "send ns", "sink ns",
                "cpu ratio", "rate ratio");
    for (const auto& [ours, base] : rows) {
        for (const measurement* m : {&base, &ours}) {
            const bool is_ours = m == &ours;
            std::printf("%-11s %6zu %-16s %12.0f %7.2f %12.0f %10.3f %8.0f %8.0f", m->shape.c_str(),
                        m->size, m->relay.c_str(), m->delivered_per_second(), m->loss_percent(),
                        m->cpu_ns_per_datagram, m->syscalls_per_datagram,
                        m->sender_ns_per_datagram, m->sink_ns_per_datagram);
            if (is_ours && base.cpu_ns_per_datagram > 0 && base.delivered_per_second() > 0)
                std::printf(" %9.2f %9.2f\n", m->cpu_ns_per_datagram / base.cpu_ns_per_datagram,
                            m->delivered_per_second() / base.delivered_per_second());
            else
                std::printf(" %9s %9s\n", "", "");
        }
    }
    std::printf("cpu ratio = ainet CPU per relayed datagram / baseline's (lower is better); "
                "rate ratio = ainet delivered/s / baseline's; send ns / sink ns = the harness's "
                "sender CPU per datagram sent and sink CPU per datagram delivered\n");
    return 0;
}

} // namespace

std::function<int()> add_relay_command(CLI::App& app) {
    auto o = std::make_shared<options>();
    CLI::App* cmd = app.add_subcommand("relay", "relay data path vs a plain recvmmsg/sendmmsg relay");
    cmd->add_option("--shape", o->shape, "one-flow, many-flows or both")
        ->check(CLI::IsMember({"one-flow", "many-flows", "both"}));
    cmd->add_option("--sizes", o->sizes, "relay_data payload sizes in bytes")->delimiter(',');
    cmd->add_option("--duration-ms", o->duration_ms, "sending time per run (bounded)")
        ->check(CLI::Range(50u, 60000u));
    cmd->add_option("--count-max", o->count_max, "datagrams sent per run at most");
    cmd->add_option("--shards", o->shards, "relay shards")->check(CLI::Range(1, 64));
    cmd->add_option("--backend", o->backend, "auto, io_uring or epoll")
        ->check(CLI::IsMember({"auto", "io_uring", "epoll"}));
    cmd->add_flag("--gso", o->gso, "sender GSO trains; relay GRO in / GSO out; sink GRO");
    cmd->add_flag("--pin", o->pin, "relay threads on the first CPU, sender and sink on the last");
    cmd->add_flag("--json", o->json, "JSON output for scripts");
    cmd->add_flag("--dump-metrics", o->dump_metrics, "print the relay's /metrics after each run (stderr)");
    return [o] {
        for (size_t s : o->sizes)
            if (s > 1300) {
                std::cerr << "ainet-bench relay: sizes must be at most 1300 bytes\n";
                return 2;
            }
        return run(*o);
    };
}

} // namespace ainet::bench
