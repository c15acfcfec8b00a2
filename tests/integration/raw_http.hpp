#pragma once
// HTTP on a raw loopback TCP socket, for tests that must send what no HTTP client would
// (malformed, partial, dripped requests) and see exactly when the server closes.

#include <ainet/core/time.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace ainet::test {

inline int tcp_connect(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    return fd;
}

// Reads until the server closes or timeout; returns what it sent. closed (if given) says
// whether the server closed (true) or the timeout ended the wait.
inline std::string read_until_closed(int fd, std::chrono::steady_clock::duration timeout,
                                     bool* closed = nullptr) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    if (closed != nullptr)
        *closed = false;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0)
            continue;
        const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
        if (got <= 0) {
            if (closed != nullptr)
                *closed = true;
            break;
        }
        out.append(buffer, static_cast<size_t>(got));
    }
    return out;
}

// Sends request raw, half-closes, and returns the server's answer (maybe empty: it closed).
inline std::string raw_exchange(uint16_t port, const std::string& request) {
    using namespace std::chrono_literals;
    const int fd = tcp_connect(port);
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    std::string answer = read_until_closed(fd, 10s);
    ::close(fd);
    return answer;
}

} // namespace ainet::test
