#pragma once
// endpoint: an IPv4 or IPv6 address with a UDP/TCP port, as plain bytes (no sockaddr), so that
// wire codecs, config and protocol cores can carry addresses without including OS headers.
// The runtime converts to and from sockaddr. Text forms: "1.2.3.4:5000" and "[::1]:5000";
// parsing is strict (no hostnames, no zone ids, port 1..65535).

#include <ainet/core/errc.hpp>
#include <ainet/core/result.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace ainet {

enum class address_family : uint8_t { ipv4 = 4, ipv6 = 6 };

struct endpoint {
    address_family family = address_family::ipv4;
    // IPv4 uses the first 4 bytes; the rest stay zero so that comparison and hashing work.
    std::array<uint8_t, 16> address{};
    uint16_t port = 0;

    friend constexpr auto operator<=>(const endpoint&, const endpoint&) = default;
    friend constexpr bool operator==(const endpoint&, const endpoint&) = default;

    [[nodiscard]] size_t address_size() const noexcept {
        return family == address_family::ipv4 ? 4 : 16;
    }
    [[nodiscard]] bool is_loopback() const noexcept;
};

[[nodiscard]] endpoint make_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) noexcept;

// Parses "1.2.3.4:5000" or "[2001:db8::1]:5000". Fails with bad_endpoint.
[[nodiscard]] result<endpoint, errc> parse_endpoint(std::string_view text);
[[nodiscard]] std::string to_string(const endpoint& e);

} // namespace ainet

template <>
struct std::hash<ainet::endpoint> {
    size_t operator()(const ainet::endpoint& e) const noexcept;
};
