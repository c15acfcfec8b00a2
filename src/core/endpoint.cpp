#include <ainet/core/endpoint.hpp>

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ainet {

bool endpoint::is_loopback() const noexcept {
    if (family == address_family::ipv4)
        return address[0] == 127;
    static constexpr std::array<uint8_t, 16> loopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return address == loopback6;
}

endpoint make_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) noexcept {
    endpoint e;
    e.family = address_family::ipv4;
    e.address[0] = a;
    e.address[1] = b;
    e.address[2] = c;
    e.address[3] = d;
    e.port = port;
    return e;
}

result<endpoint, errc> parse_endpoint(std::string_view text) {
    std::string host;
    std::string_view port_text;
    endpoint e;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return fail(errc::bad_endpoint);
        host = std::string(text.substr(1, close - 1));
        port_text = text.substr(close + 2);
        e.family = address_family::ipv6;
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return fail(errc::bad_endpoint);
        host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
        e.family = address_family::ipv4;
    }
    // inet_pton is strict: no hostnames, no zone ids, no short forms like "127.1".
    const int af = e.family == address_family::ipv4 ? AF_INET : AF_INET6;
    if (host.empty() || inet_pton(af, host.c_str(), e.address.data()) != 1)
        return fail(errc::bad_endpoint);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port_text.empty() ||
        port_text.front() == '+' || port == 0 || port > 65535 ||
        (port_text.size() > 1 && port_text.front() == '0'))
        return fail(errc::bad_endpoint);
    e.port = static_cast<uint16_t>(port);
    return e;
}

std::string to_string(const endpoint& e) {
    char buffer[INET6_ADDRSTRLEN] = {};
    const int af = e.family == address_family::ipv4 ? AF_INET : AF_INET6;
    inet_ntop(af, e.address.data(), buffer, sizeof(buffer));
    if (e.family == address_family::ipv6)
        return "[" + std::string(buffer) + "]:" + std::to_string(e.port);
    return std::string(buffer) + ":" + std::to_string(e.port);
}

} // namespace ainet

size_t std::hash<ainet::endpoint>::operator()(const ainet::endpoint& e) const noexcept {
    uint64_t a;
    uint64_t b;
    std::memcpy(&a, e.address.data(), 8);
    std::memcpy(&b, e.address.data() + 8, 8);
    uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
    h ^= (uint64_t{e.port} << 8 | static_cast<uint8_t>(e.family)) * 0xff51afd7ed558ccdull;
    return static_cast<size_t>(h ^ (h >> 29));
}
