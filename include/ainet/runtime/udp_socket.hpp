#pragma once
// A bound, non-blocking UDP socket (RAII) and conversions between ainet::endpoint and sockaddr.
//
// Every shard opens its own socket on the shared port with SO_REUSEPORT, so the kernel spreads
// flows across shards by 4-tuple hash: one source always lands on the same shard, which is what
// lets per-peer state (sessions, rate limits) live in one shard without locks. Called at
// start-up only (may fail; the caller reports and exits).

#include <ainet/core/endpoint.hpp>
#include <ainet/runtime/errc.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

namespace ainet::runtime {

struct socket_options {
    bool reuse_port = true;
    // Ask the kernel to coalesce same-flow datagrams into one receive (UDP_GRO); receivers then
    // split them by the reported segment size.
    bool gro = false;
    int receive_buffer_size = 4 << 20;
    int send_buffer_size = 4 << 20;
};

class udp_socket {
public:
    udp_socket() = default;
    explicit udp_socket(int fd) noexcept : m_fd(fd) {}
    udp_socket(udp_socket&& other) noexcept : m_fd(other.release()), m_gro(other.m_gro) {}
    udp_socket& operator=(udp_socket&& other) noexcept;
    udp_socket(const udp_socket&) = delete;
    udp_socket& operator=(const udp_socket&) = delete;
    ~udp_socket();

    [[nodiscard]] int fd() const noexcept { return m_fd; }
    [[nodiscard]] bool valid() const noexcept { return m_fd >= 0; }
    [[nodiscard]] bool gro_enabled() const noexcept { return m_gro; }
    int release() noexcept;

    // The address the socket is bound to (resolves port 0 to the kernel's choice).
    [[nodiscard]] endpoint local_endpoint() const;

    [[nodiscard]] static result<udp_socket> open(const endpoint& bind_to, const socket_options& options);

private:
    int m_fd = -1;
    bool m_gro = false;
};

// sockaddr storage big enough for IPv4 and IPv6, with its used length.
struct socket_address {
    sockaddr_storage storage{};
    socklen_t size = 0;
};

[[nodiscard]] socket_address to_sockaddr(const endpoint& e) noexcept;
// Writes into out; false for an unsupported family (the datagram is then dropped and counted).
[[nodiscard]] bool from_sockaddr(const sockaddr* address, socklen_t size, endpoint& out) noexcept;

} // namespace ainet::runtime
