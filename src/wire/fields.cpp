#include <ainet/wire/fields.hpp>

#include "codec_impl.hpp"

#include <algorithm>

namespace ainet::wire {

namespace {

constexpr uint16_t port_none = 0;

} // namespace

size_t endpoint_encoded_size(const endpoint& e) noexcept {
    return e.family == address_family::ipv4 ? endpoint_ipv4_encoded_size
                                            : endpoint_ipv6_encoded_size;
}

bool is_ipv4_mapped(const endpoint& e) noexcept {
    if (e.family != address_family::ipv6)
        return false;
    const auto& a = e.address;
    return std::all_of(a.begin(), a.begin() + 10, [](uint8_t b) { return b == 0; }) &&
           a[10] == 0xff && a[11] == 0xff;
}

result<void> check_endpoint(const endpoint& e) noexcept {
    if (e.family != address_family::ipv4 && e.family != address_family::ipv6)
        return fail(errc::bad_endpoint);
    if (e.port == port_none || is_ipv4_mapped(e))
        return fail(errc::bad_endpoint);
    if (e.family == address_family::ipv4 &&
        !std::all_of(e.address.begin() + 4, e.address.end(), [](uint8_t b) { return b == 0; }))
        return fail(errc::bad_endpoint);
    return {};
}

void write_endpoint(byte_writer& w, const endpoint& e) noexcept {
    AINET_ASSERT(check_endpoint(e).has_value());
    w.u8(static_cast<uint8_t>(e.family));
    w.bytes(bytes_view(e.address).first(e.address_size()));
    w.u16(e.port);
}

result<endpoint> read_endpoint(byte_reader& r) noexcept {
    AINET_TRY(family, detail::lift(r.u8()));
    endpoint e;
    if (family == static_cast<uint8_t>(address_family::ipv4))
        e.family = address_family::ipv4;
    else if (family == static_cast<uint8_t>(address_family::ipv6))
        e.family = address_family::ipv6;
    else
        return fail(errc::bad_endpoint);
    AINET_TRY(address, detail::lift(r.bytes(e.address_size())));
    std::copy(address.begin(), address.end(), e.address.begin());
    AINET_TRY(port, detail::lift(r.u16()));
    e.port = port;
    AINET_TRY_VOID(check_endpoint(e));
    return e;
}

void write_node_id(byte_writer& w, const node_id& id) noexcept {
    w.bytes(bytes_view(id.bytes));
}

result<node_id> read_node_id(byte_reader& r) noexcept {
    AINET_TRY(bytes, detail::lift(r.fixed<node_id_size>()));
    return node_id{bytes};
}

} // namespace ainet::wire
