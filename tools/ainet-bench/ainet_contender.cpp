// The ainet contender of `ainet-bench reliable`: two reliability_cores (reliability/
// reliability_core.hpp), each driven by its own thread with a plain loop over a real UDP socket
// on loopback or one end of a lossy_path (poll, recv, tick, one flush per turn sent with one
// sendmmsg; on loopback, runs of equal-size datagrams as UDP_SEGMENT trains received through
// UDP_GRO, as the node's io backends do), the same loop shape as a node shard without the rest
// of the node. With persistence, each core's durable_store is the node's LMDB store
// (node/messaging_store.hpp, durable: one fdatasync per loop turn that has records) in a
// temporary directory; without, reliability::volatile_store (nothing kept, as ainetd without
// persistence).
//
// Flow: the sender keeps at most sender_window_max messages sent but not acknowledged (on top of
// the core's own congestion and receive windows, so that the outbox stays bounded); the receiver
// runs with auto_process, checks order by the index in each message's first 8 bytes and counts.
// Ping: the receiver echoes each message back as a reliable message on the same channel.
// AINET_BENCH_COUNTERS=1 in the environment prints both cores' counters after each throughput
// run (stderr), with the sender's window state and each socket's receive-buffer drops.

#include "reliable_contender.hpp"

#include <ainet/node/messaging_store.hpp>
#include <ainet/reliability/reliability_core.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

namespace ainet::bench {
namespace {

namespace rel = ainet::reliability;

// The receive window covers what is in flight while both ends' durable commits (an fdatasync
// of several ms on a shared VM disk) delay the acks: 4,096 (the core's default) caps a durable
// stream at 4,096 messages per commit cycle. The node keeps the default; the bench states it.
constexpr uint32_t receive_window = 16384;
constexpr uint64_t sender_window_max = 2 * receive_window;
// One turn may send the whole window: with persistence, each turn's messages wait for one
// commit, so what a turn takes in is what one fdatasync carries.
constexpr size_t sends_per_turn_max = sender_window_max;
constexpr size_t receives_per_turn_max = 256;
constexpr size_t datagram_size = 1400; // ENet's default MTU, so both pack alike

instant clock_now() {
    return instant{std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count()};
}

node_id id_of(uint8_t n) {
    node_id id{};
    id.bytes[0] = n;
    return id;
}

void put_u64(uint8_t* out, uint64_t v) { std::memcpy(out, &v, 8); }
uint64_t get_u64(const uint8_t* in) {
    uint64_t v;
    std::memcpy(&v, in, 8);
    return v;
}

class temp_directory {
public:
    temp_directory() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "ainet-bench-reliable-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr)
            m_path = pattern;
    }
    ~temp_directory() {
        std::error_code ec;
        if (!m_path.empty())
            std::filesystem::remove_all(m_path, ec);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

// One end: a socket, a core, a store, and the loop thread.
class side final : private rel::packet_sink {
public:
    using on_event = std::function<void(side&, const rel::event&, bytes_view payload)>;
    using on_turn = std::function<void(side&)>;

    side(uint8_t self, uint8_t peer, const path_end& end, const std::filesystem::path& store_dir,
         bool gso, std::string& error)
        : m_self(id_of(self)), m_peer(id_of(peer)), m_gso(gso) {
        {
            const netns_scope in_namespace(end.netns_fd);
            if (!in_namespace.ok()) {
                error = "setns: " + std::string(std::strerror(errno));
                return;
            }
            m_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        if (::inet_pton(AF_INET, end.ip.c_str(), &addr.sin_addr) != 1) {
            error = "bad address " + end.ip;
            return;
        }
        socklen_t len = sizeof(addr);
        int buffer = 8 << 20;
        // A receiver blocked in its fdatasync for tens of ms (ainet-lmdb on a shared disk)
        // must hold a whole window of 1 KiB datagrams meanwhile: 32 MiB where root may set it
        // past rmem_max, else what rmem_max allows.
        const int receive_buffer = 32 << 20;
        if (::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer,
                         sizeof(receive_buffer)) != 0)
            (void)::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
        (void)::setsockopt(m_fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
        {
            // The kernel reports the socket's receive-buffer drops with each datagram.
            const int on = 1;
            (void)::setsockopt(m_fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
        }
        if (m_gso) {
            // GSO trains arrive whole on loopback when the receiver asks for GRO: one receive per
            // train, as the node's io backends do (runtime/io_backend.hpp).
            const int on = 1;
            if (::setsockopt(m_fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on)) != 0)
                m_gso = false;
        }
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
            ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&m_local), &len) != 0) {
            error = "udp socket: " + std::string(std::strerror(errno));
            return;
        }
        rel::durable_store* store = &m_memory;
        if (!store_dir.empty()) {
            m_lmdb = node::messaging_store::open(store_dir, true, error);
            if (!m_lmdb)
                return;
            store = m_lmdb.get();
        }
        rel::reliability_config config;
        config.datagram_size_max = datagram_size;
        config.receive_window = receive_window;
        config.stream_epoch = self;
        config.incarnation = self;
        m_core = std::make_unique<rel::reliability_core>(config, *store, m_counters);
    }
    ~side() {
        stop();
        if (m_fd >= 0)
            ::close(m_fd);
    }

    void connect(const side& other) { m_remote = other.m_local; }
    void start(on_event events, on_turn turn) {
        m_events = std::move(events);
        m_turn = std::move(turn);
        m_thread = std::thread([this] { loop(); });
    }
    void stop() {
        m_stop.store(true);
        if (m_thread.joinable())
            m_thread.join();
    }

    rel::reliability_core& core() { return *m_core; }
    const rel::reliability_counters& counters() const { return m_counters; }
    const node_id& peer() const { return m_peer; }
    uint64_t datagrams_sent() const { return m_datagrams.load(); }
    uint64_t bytes_sent() const { return m_bytes.load(); }
    // Datagrams the kernel dropped because this end's socket receive buffer was full.
    uint64_t socket_drops() const { return m_socket_drops.load(); }
    // LMDB write transactions (0 without persistence); read after the loop has stopped.
    uint64_t store_commits() const { return m_lmdb ? m_lmdb->commit_count() : 0; }
    bool busy = false; // the turn callback has more to send right away

private:
    void loop() {
        std::vector<uint8_t> buffer(65536);
        bool had_events = false;
        while (!m_stop.load(std::memory_order_relaxed)) {
            instant now = clock_now();
            const instant deadline = m_core->next_deadline();
            // Events of the last turn may have given the application work (an echo, the next
            // ping), so that turn is followed by one without waiting.
            int timeout_ms = 1;
            if (busy || had_events || deadline <= now)
                timeout_ms = 0;
            pollfd p{m_fd, POLLIN, 0};
            (void)::poll(&p, 1, timeout_ms);
            now = clock_now();
            for (size_t i = 0; i < receives_per_turn_max; ++i) {
                size_t segment = 0;
                const ssize_t got = receive(buffer, segment);
                if (got <= 0)
                    break;
                const auto size = static_cast<size_t>(got);
                if (segment == 0)
                    segment = size;
                for (size_t at = 0; at < size; at += segment)
                    m_core->on_packet(now, m_peer,
                                      bytes_view(buffer.data() + at, std::min(segment, size - at)));
            }
            if (m_turn)
                m_turn(*this);
            m_core->tick(now);
            m_core->flush(now, *this);
            send_batch();
            had_events = !m_core->events().empty();
            for (const auto& e : m_core->events())
                m_events(*this, e, m_core->payload_of(e));
            m_core->clear_events();
        }
    }

    // One received datagram, or with GRO a train of segment-byte datagrams (segment 0: one).
    ssize_t receive(std::vector<uint8_t>& buffer, size_t& segment) noexcept {
        iovec v{buffer.data(), buffer.size()};
        alignas(cmsghdr) std::array<uint8_t, 2 * CMSG_SPACE(sizeof(int))> control{};
        msghdr h{};
        h.msg_iov = &v;
        h.msg_iovlen = 1;
        h.msg_control = control.data();
        h.msg_controllen = control.size();
        const ssize_t got = ::recvmsg(m_fd, &h, 0);
        if (got <= 0)
            return got;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
                int size = 0;
                std::memcpy(&size, CMSG_DATA(c), sizeof(size));
                segment = size > 0 ? static_cast<size_t>(size) : 0;
            } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
                uint32_t dropped = 0;
                std::memcpy(&dropped, CMSG_DATA(c), sizeof(dropped));
                m_socket_drops.store(dropped, std::memory_order_relaxed);
            }
        }
        return got;
    }

    // Datagrams of one loop turn go out in one sendmmsg, as a node shard submits its sends
    // once per turn (a full batch goes out early). They are built back to back in one buffer so
    // that, with GSO, a run of equal-size datagrams (the last may be shorter) leaves as one
    // UDP_SEGMENT train, as the node's io backends build them.
    mutable_bytes prepare(const node_id&) noexcept override {
        if (m_batch_count == send_batch_max || m_tx_used + datagram_size > m_tx.size())
            send_batch();
        return mutable_bytes(m_tx.data() + m_tx_used, datagram_size);
    }
    void commit(size_t size) noexcept override {
        m_batch_sizes[m_batch_count++] = size;
        m_tx_used += size;
    }
    void abandon() noexcept override {}

    void send_batch() noexcept {
        std::array<mmsghdr, send_batch_max> headers{};
        std::array<iovec, send_batch_max> vectors{};
        std::array<std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))>, send_batch_max> controls{};
        std::array<size_t, send_batch_max> train_datagrams{};
        size_t trains = 0;
        size_t offset = 0;
        for (size_t i = 0; i < m_batch_count;) {
            const size_t segment = m_batch_sizes[i];
            size_t j = i + 1;
            size_t total = segment;
            if (m_gso) {
                while (j < m_batch_count && m_batch_sizes[j] <= segment &&
                       total + m_batch_sizes[j] <= gso_bytes_max && j - i < gso_segments_max) {
                    total += m_batch_sizes[j];
                    ++j;
                    if (m_batch_sizes[j - 1] < segment)
                        break; // only the last of a train may be shorter
                }
            }
            vectors[trains] = iovec{m_tx.data() + offset, total};
            msghdr& h = headers[trains].msg_hdr;
            h.msg_iov = &vectors[trains];
            h.msg_iovlen = 1;
            h.msg_name = &m_remote;
            h.msg_namelen = sizeof(m_remote);
            if (j - i > 1) {
                h.msg_control = controls[trains].data();
                h.msg_controllen = controls[trains].size();
                cmsghdr* c = CMSG_FIRSTHDR(&h);
                c->cmsg_level = SOL_UDP;
                c->cmsg_type = UDP_SEGMENT;
                c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                const auto size16 = static_cast<uint16_t>(segment);
                std::memcpy(CMSG_DATA(c), &size16, sizeof(size16));
            }
            train_datagrams[trains] = j - i;
            ++trains;
            offset += total;
            i = j;
        }
        // Every datagram is handed to the kernel exactly once, as one sendmsg each would: on
        // the lossy path nft drops one by failing its send (EPERM), and sendmmsg stops at a
        // failed entry, reporting only the ones before it (or the error, when it is the first).
        // The failed entry is lost, as the path meant; the rest still go. Only a full socket
        // buffer (EAGAIN) drops the rest of the batch.
        size_t done = 0;
        while (done < trains) {
            const int sent =
                ::sendmmsg(m_fd, headers.data() + done, static_cast<unsigned>(trains - done), 0);
            if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            const size_t ok = sent < 0 ? 0 : static_cast<size_t>(sent);
            for (size_t i = done; i < done + ok; ++i) {
                m_datagrams.fetch_add(train_datagrams[i], std::memory_order_relaxed);
                m_bytes.fetch_add(vectors[i].iov_len, std::memory_order_relaxed);
            }
            done += ok;
            if (done < trains) {
                // The entry at `done` failed (attempted once: it counts as sent and lost).
                m_datagrams.fetch_add(train_datagrams[done], std::memory_order_relaxed);
                m_bytes.fetch_add(vectors[done].iov_len, std::memory_order_relaxed);
                ++done;
            }
        }
        m_batch_count = 0;
        m_tx_used = 0;
    }

    node_id m_self, m_peer;
    int m_fd = -1;
    sockaddr_in m_local{}, m_remote{};
    rel::volatile_store m_memory;
    std::unique_ptr<node::messaging_store> m_lmdb;
    rel::reliability_counters m_counters;
    std::unique_ptr<rel::reliability_core> m_core;
    static constexpr size_t send_batch_max = 64;
    // The kernel's limits on one UDP_SEGMENT train (64 KiB of payload, UDP_MAX_SEGMENTS).
    static constexpr size_t gso_bytes_max = 65000;
    static constexpr size_t gso_segments_max = 64;
    bool m_gso;
    std::vector<uint8_t> m_tx = std::vector<uint8_t>(send_batch_max * datagram_size);
    size_t m_tx_used = 0;
    std::array<size_t, send_batch_max> m_batch_sizes{};
    size_t m_batch_count = 0;
    std::atomic<uint64_t> m_datagrams{0}, m_bytes{0}, m_socket_drops{0};
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    on_event m_events;
    on_turn m_turn;
};

// Both ends of one measurement, connected to each other, with their store directory.
struct connected_ends {
    temp_directory dir; // declared first: the sides' stores close before it is removed
    std::unique_ptr<side> sender;
    std::unique_ptr<side> receiver;
};

class ainet_contender final : public contender {
public:
    ainet_contender(bool persist, bench_path path, bool gso)
        : m_persist(persist), m_path(std::move(path)), m_gso(gso) {}
    [[nodiscard]] std::string name() const override { return m_persist ? "ainet-lmdb" : "ainet"; }

    throughput_result run_throughput(const throughput_params& params) override {
        throughput_result r;
        const auto ends = make_ends(r.error);
        if (!ends)
            return r;
        side& a = *ends->sender;
        side& b = *ends->receiver;
        std::atomic<uint64_t> received{0};
        std::atomic<int64_t> last_ns{0};
        std::atomic<bool> disordered{false};
        uint64_t sent = 0, acked = 0;
        std::vector<uint8_t> message(params.message_size, 0x5a);
        const instant start = clock_now();
        b.start(
            [&](side&, const rel::event& e, bytes_view payload) {
                if (e.kind != rel::event_kind::delivered)
                    return;
                const uint64_t index = received.load(std::memory_order_relaxed);
                if (payload.size() != params.message_size || get_u64(payload.data()) != index)
                    disordered.store(true);
                received.store(index + 1, std::memory_order_release);
                last_ns.store(clock_now().ns_since_origin, std::memory_order_release);
            },
            nullptr);
        a.start(
            [&](side&, const rel::event& e, bytes_view) {
                if (e.kind == rel::event_kind::acknowledged)
                    ++acked;
            },
            [&](side& s) {
                const instant now = clock_now();
                size_t burst = 0;

                while (sent < params.message_count && sent - acked < sender_window_max &&
                       burst < sends_per_turn_max) {
                    put_u64(message.data(), sent);
                    if (!s.core().send(now, s.peer(), channel_id{1}, message))
                        break;
                    ++sent;
                    ++burst;
                }
                s.busy = sent < params.message_count && sent - acked < sender_window_max;
            });
        const auto limit = std::chrono::steady_clock::now() +
                           std::chrono::milliseconds(params.duration_ms_max);
        while (received.load(std::memory_order_acquire) < params.message_count &&
               !disordered.load() && std::chrono::steady_clock::now() < limit)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        a.stop();
        b.stop();
        r.messages_delivered = received.load();
        r.complete = r.messages_delivered == params.message_count && !disordered.load();
        r.seconds = static_cast<double>(last_ns.load() - start.ns_since_origin) / 1e9;
        r.datagrams_sent = a.datagrams_sent();
        r.datagrams_returned = b.datagrams_sent();
        r.bytes_sent = a.bytes_sent();
        r.retransmissions = static_cast<int64_t>(a.counters().retransmissions.load());
        r.repeats = static_cast<int64_t>(a.counters().retransmissions_repeat.load());
        if (std::getenv("AINET_BENCH_COUNTERS") != nullptr) {
            std::fprintf(stderr, "cwnd %.1f in_flight %u outbox %zu suspect %d\n",
                         a.core().congestion_window(a.peer()), a.core().in_flight(a.peer()),
                         a.core().outbox_count(), int(a.core().is_suspect(a.peer())));
            for (const side* end : {&a, &b}) {
#define AINET_PRINT(name, help) std::fprintf(stderr, " %s=%llu", #name, static_cast<unsigned long long>(end->counters().name.load()));
                AINET_RELIABILITY_COUNTERS(AINET_PRINT)
#undef AINET_PRINT
                std::fprintf(stderr, " socket_drops=%llu store_commits=%llu\n",
                             static_cast<unsigned long long>(end->socket_drops()),
                             static_cast<unsigned long long>(end->store_commits()));
            }
        }
        if (disordered.load())
            r.error = "ainet delivered a message out of order";
        return r;
    }

    ping_result run_ping(const ping_params& params) override {
        ping_result r;
        const auto ends = make_ends(r.error);
        if (!ends)
            return r;
        side& a = *ends->sender;
        side& b = *ends->receiver;
        std::vector<uint8_t> message(params.message_size, 0x33);
        std::vector<uint8_t> echo;
        bool echo_pending = false;
        std::atomic<uint64_t> done{0};
        std::atomic<bool> disordered{false};
        bool in_flight = false;
        uint64_t sent = 0;
        instant sent_at{};
        r.rtt_ns.reserve(params.ping_count);
        b.start(
            [&](side&, const rel::event& e, bytes_view payload) {
                if (e.kind == rel::event_kind::delivered) {
                    echo.assign(payload.begin(), payload.end());
                    echo_pending = true;
                }
            },
            [&](side& s) {
                if (echo_pending) {
                    echo_pending = !s.core().send(clock_now(), s.peer(), channel_id{1}, echo);
                }
                s.busy = echo_pending;
            });
        a.start(
            [&](side&, const rel::event& e, bytes_view payload) {
                if (e.kind != rel::event_kind::delivered)
                    return;
                if (payload.size() < 8 || get_u64(payload.data()) != sent - 1)
                    disordered.store(true);
                r.rtt_ns.push_back(static_cast<uint64_t>((clock_now() - sent_at).count()));
                in_flight = false;
                done.fetch_add(1, std::memory_order_release);
            },
            [&](side& s) {
                if (!in_flight && sent < params.ping_count) {
                    put_u64(message.data(), sent);
                    sent_at = clock_now();
                    if (s.core().send(sent_at, s.peer(), channel_id{1}, message)) {
                        ++sent;
                        in_flight = true;
                    }
                }
            });
        const auto limit = std::chrono::steady_clock::now() +
                           std::chrono::milliseconds(params.duration_ms_max);
        while (done.load(std::memory_order_acquire) < params.ping_count && !disordered.load() &&
               std::chrono::steady_clock::now() < limit)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        a.stop();
        b.stop();
        r.complete = done.load() == params.ping_count && !disordered.load();
        if (disordered.load())
            r.error = "ainet delivered a ping out of order";
        return r;
    }

private:
    // Sender (id 1) and receiver (id 2) on the path's two ends; nullptr with error set when a
    // socket or store cannot be made.
    std::unique_ptr<connected_ends> make_ends(std::string& error) const {
        auto ends = std::make_unique<connected_ends>();
        const auto store = [&](const char* name) {
            return m_persist ? ends->dir.path() / name : std::filesystem::path{};
        };
        ends->sender = std::make_unique<side>(1, 2, m_path.sender, store("a"), m_gso, error);
        ends->receiver = std::make_unique<side>(2, 1, m_path.receiver, store("b"), m_gso, error);
        if (!error.empty())
            return nullptr;
        ends->sender->connect(*ends->receiver);
        ends->receiver->connect(*ends->sender);
        return ends;
    }

    bool m_persist;
    bench_path m_path;
    bool m_gso;
};

} // namespace

std::unique_ptr<contender> make_ainet_contender(bool persist, const bench_path& path, bool gso) {
    return std::make_unique<ainet_contender>(persist, path, gso);
}

} // namespace ainet::bench
