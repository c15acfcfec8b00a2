// The ENet baseline of `ainet-bench reliable`: a server host on the receiver's address (a free
// port the kernel picks) serviced by its own thread, and a client host on the calling thread;
// each host's socket is made in its end's network namespace (lossy_path.hpp).
//
// Throughput: the client keeps ENet's outgoing queue non-empty (it adds a burst of messages
// whenever the queue has drained into the window), so ENet's own window and throttle decide
// the rate and memory stays bounded by the burst; the server checks the 8-byte sequence at the
// front of every message. Ping: the server echoes each message on the same reliable channel and
// flushes at once; both sides wait in enet_host_service(..., 1 ms), ENet's usual blocking
// service call, not a busy loop.
#include "reliable_contender.hpp"

#include <enet/enet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace ainet::bench {

namespace {

using steady = std::chrono::steady_clock;

// Message bytes added to ENet's queue at once when it has drained (at least 256 messages): large
// enough that the queue never runs dry between two service calls, small enough to bound memory.
constexpr uint64_t send_burst_bytes = 256 * 1024;
constexpr uint64_t send_burst_messages_min = 256;
constexpr uint32_t connect_timeout_ms = 5000;

void put_u64(uint8_t* out, uint64_t value) {
    std::memcpy(out, &value, sizeof value);
}
uint64_t get_u64(const uint8_t* in) {
    uint64_t value = 0;
    std::memcpy(&value, in, sizeof value);
    return value;
}

// One ENet server host on loopback, serviced by a thread until stopped.
class server {
public:
    enum class mode { count, echo };

    server(mode m, uint64_t expected) : m_mode(m), m_expected(expected) {}
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server() { stop(); }

    bool start(const path_end& end, std::string& error) {
        ENetAddress address{};
        enet_address_set_host_ip(&address, end.ip.c_str());
        address.port = 0;
        {
            const netns_scope in_namespace(end.netns_fd);
            if (in_namespace.ok())
                m_host = enet_host_create(&address, 1, 1, 0, 0);
        }
        if (m_host == nullptr) {
            error = "enet_host_create (server) failed";
            return false;
        }
        ENetAddress bound{};
        if (enet_socket_get_address(m_host->socket, &bound) != 0) {
            error = "enet_socket_get_address failed";
            return false;
        }
        m_port = bound.port;
        m_thread = std::thread([this] { loop(); });
        return true;
    }

    void stop() {
        m_stop.store(true);
        if (m_thread.joinable())
            m_thread.join();
        if (m_host != nullptr) {
            enet_host_destroy(m_host);
            m_host = nullptr;
        }
    }

    [[nodiscard]] uint16_t port() const { return m_port; }
    [[nodiscard]] uint64_t received() const { return m_received.load(std::memory_order_acquire); }
    [[nodiscard]] steady::time_point last_receive() const {
        std::lock_guard lock(m_mutex);
        return m_last_receive;
    }
    [[nodiscard]] bool disordered() const { return m_disordered.load(); }
    // Only after stop().
    [[nodiscard]] uint64_t datagrams_sent() const { return m_datagrams_sent; }

private:
    void loop() {
        ENetEvent event{};
        while (!m_stop.load(std::memory_order_relaxed)) {
            int rc = enet_host_service(m_host, &event, 1);
            while (rc > 0) {
                if (event.type == ENET_EVENT_TYPE_RECEIVE) {
                    on_receive(event.peer, event.packet);
                    enet_packet_destroy(event.packet);
                }
                rc = enet_host_check_events(m_host, &event);
            }
            if (m_mode == mode::echo)
                enet_host_flush(m_host);
        }
        m_datagrams_sent = m_host->totalSentPackets;
    }

    void on_receive(ENetPeer* peer, ENetPacket* packet) {
        const uint64_t index = m_received.load(std::memory_order_relaxed);
        if (packet->dataLength < 8 || get_u64(packet->data) != index)
            m_disordered.store(true);
        if (m_mode == mode::echo) {
            ENetPacket* echo =
                enet_packet_create(packet->data, packet->dataLength, ENET_PACKET_FLAG_RELIABLE);
            if (echo != nullptr && enet_peer_send(peer, 0, echo) != 0)
                enet_packet_destroy(echo);
        }
        if (index + 1 == m_expected) {
            std::lock_guard lock(m_mutex);
            m_last_receive = steady::now();
        }
        m_received.store(index + 1, std::memory_order_release);
    }

    mode m_mode;
    uint64_t m_expected;
    ENetHost* m_host = nullptr;
    uint16_t m_port = 0;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<uint64_t> m_received{0};
    std::atomic<bool> m_disordered{false};
    mutable std::mutex m_mutex;
    steady::time_point m_last_receive{};
    uint64_t m_datagrams_sent = 0;
};

// A connected client host and its one peer.
struct client {
    ENetHost* host = nullptr;
    ENetPeer* peer = nullptr;

    client() = default;
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() {
        if (host != nullptr)
            enet_host_destroy(host);
    }

    bool connect(const path_end& self, const std::string& server_ip, uint16_t port,
                 std::string& error) {
        {
            const netns_scope in_namespace(self.netns_fd);
            if (in_namespace.ok())
                host = enet_host_create(nullptr, 1, 1, 0, 0);
        }
        if (host == nullptr) {
            error = "enet_host_create (client) failed";
            return false;
        }
        ENetAddress address{};
        enet_address_set_host_ip(&address, server_ip.c_str());
        address.port = port;
        peer = enet_host_connect(host, &address, 1, 0);
        if (peer == nullptr) {
            error = "enet_host_connect failed";
            return false;
        }
        ENetEvent event{};
        const auto deadline = steady::now() + std::chrono::milliseconds(connect_timeout_ms);
        while (steady::now() < deadline) {
            if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_CONNECT)
                return true;
        }
        error = "ENet connect timed out";
        return false;
    }
};

struct enet_library {
    bool ok = enet_initialize() == 0;
    ~enet_library() {
        if (ok)
            enet_deinitialize();
    }
};

class enet_contender final : public contender {
public:
    explicit enet_contender(bench_path path) : m_path(std::move(path)) {}
    [[nodiscard]] std::string name() const override { return "enet"; }

    throughput_result run_throughput(const throughput_params& p) override {
        throughput_result r;
        if (p.message_size < 8) {
            r.error = "message_size must be at least 8 (sequence number)";
            return r;
        }
        server srv(server::mode::count, p.message_count);
        client cli;
        if (!srv.start(m_path.receiver, r.error) ||
            !cli.connect(m_path.sender, m_path.receiver.ip, srv.port(), r.error))
            return r;
        std::vector<uint8_t> message(p.message_size, 0x5a);
        const uint32_t sent_before = cli.host->totalSentPackets;
        const uint32_t bytes_before = cli.host->totalSentData;
        const auto start = steady::now();
        const auto deadline = start + std::chrono::milliseconds(p.duration_ms_max);
        uint64_t sent = 0;
        ENetEvent event{};
        while (srv.received() < p.message_count && steady::now() < deadline) {
            if (sent < p.message_count && enet_list_empty(&cli.peer->outgoingCommands)) {
                const uint64_t burst =
                    std::max(send_burst_messages_min, send_burst_bytes / p.message_size);
                const uint64_t burst_end = std::min(p.message_count, sent + burst);
                for (; sent < burst_end; ++sent) {
                    put_u64(message.data(), sent);
                    ENetPacket* packet = enet_packet_create(message.data(), message.size(),
                                                            ENET_PACKET_FLAG_RELIABLE);
                    if (packet == nullptr || enet_peer_send(cli.peer, 0, packet) != 0) {
                        if (packet != nullptr)
                            enet_packet_destroy(packet);
                        r.error = "enet_peer_send failed";
                        return r;
                    }
                }
            }
            // Sends what the window allows and takes in acks; no events arrive but the
            // connection's own.
            while (enet_host_service(cli.host, &event, 0) > 0) {
                if (event.type == ENET_EVENT_TYPE_RECEIVE)
                    enet_packet_destroy(event.packet);
            }
        }
        r.messages_delivered = srv.received();
        r.complete = r.messages_delivered == p.message_count;
        const auto end = r.complete ? srv.last_receive() : steady::now();
        r.seconds = std::chrono::duration<double>(end - start).count();
        r.datagrams_sent = cli.host->totalSentPackets - sent_before;
        r.bytes_sent = cli.host->totalSentData - bytes_before;
        // ENet keeps no cumulative retransmission count (packetsLost is reset every loss
        // interval for its throttle), so retransmissions stays -1 (unknown).
        const bool disordered = srv.disordered();
        srv.stop();
        r.datagrams_returned = srv.datagrams_sent();
        if (disordered)
            r.error = "ENet delivered a message out of order";
        return r;
    }

    ping_result run_ping(const ping_params& p) override {
        ping_result r;
        if (p.message_size < 8) {
            r.error = "message_size must be at least 8 (sequence number)";
            return r;
        }
        server srv(server::mode::echo, p.ping_count);
        client cli;
        if (!srv.start(m_path.receiver, r.error) ||
            !cli.connect(m_path.sender, m_path.receiver.ip, srv.port(), r.error))
            return r;
        r.rtt_ns.reserve(p.ping_count);
        std::vector<uint8_t> message(p.message_size, 0x5a);
        const auto deadline = steady::now() + std::chrono::milliseconds(p.duration_ms_max);
        ENetEvent event{};
        for (uint64_t i = 0; i < p.ping_count && steady::now() < deadline; ++i) {
            put_u64(message.data(), i);
            ENetPacket* packet =
                enet_packet_create(message.data(), message.size(), ENET_PACKET_FLAG_RELIABLE);
            const auto sent_at = steady::now();
            if (packet == nullptr || enet_peer_send(cli.peer, 0, packet) != 0) {
                if (packet != nullptr)
                    enet_packet_destroy(packet);
                r.error = "enet_peer_send failed";
                return r;
            }
            enet_host_flush(cli.host);
            bool echoed = false;
            while (!echoed && steady::now() < deadline) {
                if (enet_host_service(cli.host, &event, 1) <= 0)
                    continue;
                if (event.type != ENET_EVENT_TYPE_RECEIVE)
                    continue;
                const auto now = steady::now();
                const bool match =
                    event.packet->dataLength == message.size() && get_u64(event.packet->data) == i;
                enet_packet_destroy(event.packet);
                if (!match) {
                    r.error = "ENet echoed the wrong message";
                    return r;
                }
                r.rtt_ns.push_back(static_cast<uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent_at).count()));
                echoed = true;
            }
        }
        r.complete = r.rtt_ns.size() == p.ping_count;
        if (srv.disordered())
            r.error = "ENet delivered a ping out of order";
        return r;
    }

private:
    enet_library m_library;
    bench_path m_path;
};

} // namespace

std::unique_ptr<contender> make_enet_contender(const bench_path& path) {
    return std::make_unique<enet_contender>(path);
}

} // namespace ainet::bench
