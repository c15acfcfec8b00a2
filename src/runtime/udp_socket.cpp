#include <ainet/runtime/udp_socket.hpp>

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace ainet::runtime {

udp_socket& udp_socket::operator=(udp_socket&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0)
            ::close(m_fd);
        m_gro = other.m_gro;
        m_fd = other.release();
    }
    return *this;
}

udp_socket::~udp_socket() {
    if (m_fd >= 0)
        ::close(m_fd);
}

int udp_socket::release() noexcept {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
}

endpoint udp_socket::local_endpoint() const {
    socket_address address;
    address.size = sizeof(address.storage);
    endpoint e;
    if (::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address.storage), &address.size) == 0)
        (void)from_sockaddr(reinterpret_cast<const sockaddr*>(&address.storage), address.size, e);
    return e;
}

result<udp_socket> udp_socket::open(const endpoint& bind_to, const socket_options& options) {
    const int family = bind_to.family == address_family::ipv4 ? AF_INET : AF_INET6;
    udp_socket s(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.valid())
        return fail(errc::socket_failed);
    const int one = 1;
    if (options.reuse_port && ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        return fail(errc::socket_failed);
    if (family == AF_INET6)
        (void)::setsockopt(s.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    // Buffer sizes are capped by net.core.[rw]mem_max; a smaller buffer is not fatal.
    (void)::setsockopt(s.fd(), SOL_SOCKET, SO_RCVBUF, &options.receive_buffer_size,
                       sizeof(options.receive_buffer_size));
    (void)::setsockopt(s.fd(), SOL_SOCKET, SO_SNDBUF, &options.send_buffer_size,
                       sizeof(options.send_buffer_size));
    if (options.gro)
        s.m_gro = ::setsockopt(s.fd(), IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
    const socket_address address = to_sockaddr(bind_to);
    if (::bind(s.fd(), reinterpret_cast<const sockaddr*>(&address.storage), address.size) != 0)
        return fail(errno == EADDRINUSE ? errc::address_in_use : errc::socket_failed);
    return s;
}

socket_address to_sockaddr(const endpoint& e) noexcept {
    socket_address out;
    if (e.family == address_family::ipv4) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(e.port);
        std::memcpy(&v4->sin_addr, e.address.data(), 4);
        out.size = sizeof(sockaddr_in);
    } else {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(e.port);
        std::memcpy(&v6->sin6_addr, e.address.data(), 16);
        out.size = sizeof(sockaddr_in6);
    }
    return out;
}

bool from_sockaddr(const sockaddr* address, socklen_t size, endpoint& out) noexcept {
    if (address->sa_family == AF_INET && size >= sizeof(sockaddr_in)) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
        out.family = address_family::ipv4;
        out.address = {};
        std::memcpy(out.address.data(), &v4->sin_addr, 4);
        out.port = ntohs(v4->sin_port);
        return true;
    }
    if (address->sa_family == AF_INET6 && size >= sizeof(sockaddr_in6)) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
        out.family = address_family::ipv6;
        std::memcpy(out.address.data(), &v6->sin6_addr, 16);
        out.port = ntohs(v6->sin6_port);
        return true;
    }
    return false;
}

} // namespace ainet::runtime
