#pragma once
// Field codecs shared by several messages: endpoints and node ids.
//
// Endpoint encoding (docs/PROTOCOL.md, "Endpoint"):
//     family u8 (4 or 6) || address (4 or 16 bytes, network order) || port u16 LE
// so an IPv4 endpoint takes 7 bytes and an IPv6 one 19. One encoding per address: port 0, a
// family other than 4/6, and IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, which must travel as
// family 4) are rejected with bad_endpoint, on encode and on decode alike.
//
// Pure functions over a caller's byte_reader/byte_writer: no allocation, any thread.

#include <ainet/core/bytes.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/wire/errc.hpp>

#include <cstddef>

namespace ainet::wire {

inline constexpr size_t endpoint_ipv4_encoded_size = 1 + 4 + 2;
inline constexpr size_t endpoint_ipv6_encoded_size = 1 + 16 + 2;
inline constexpr size_t endpoint_encoded_size_max = endpoint_ipv6_encoded_size;

// Bytes the endpoint's encoding takes (7 or 19).
[[nodiscard]] size_t endpoint_encoded_size(const endpoint& e) noexcept;

// True for ::ffff:a.b.c.d.
[[nodiscard]] bool is_ipv4_mapped(const endpoint& e) noexcept;

// Whether the endpoint has an encoding: family 4 or 6, port not 0, not IPv4-mapped, and for
// IPv4 the 12 unused address bytes zero (the endpoint type's own invariant). bad_endpoint if not.
[[nodiscard]] result<void> check_endpoint(const endpoint& e) noexcept;

// Precondition: check_endpoint(e) succeeded. Overflow is reported by the writer (sticky).
void write_endpoint(byte_writer& w, const endpoint& e) noexcept;
[[nodiscard]] result<endpoint> read_endpoint(byte_reader& r) noexcept;

void write_node_id(byte_writer& w, const node_id& id) noexcept;
[[nodiscard]] result<node_id> read_node_id(byte_reader& r) noexcept;

} // namespace ainet::wire
