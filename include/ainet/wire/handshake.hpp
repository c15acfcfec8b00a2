#pragma once
// The relay handshake messages: how a peer proves its key to a relay, bound to the address the
// relay sees it at, without the relay keeping state for unauthenticated peers.
//
//     peer  -> relay  hello_request    node id + zero padding (unauthenticated)
//     relay -> peer   hello_challenge  stateless nonce (cookie), expiry, observed endpoint
//     peer  -> relay  hello            node id, the echoed challenge, Ed25519 signature
//     relay -> peer   hello_ack        session lease and the relay's node id
//
// Anti-amplification: hello_request is padded so that it is never smaller than the largest
// hello_challenge (static_assert below); an unauthenticated datagram never triggers a larger
// reply. The signature in hello covers hello_signed_payload() under the crypto module's
// sig_domain::relay_hello context ("ainet/v1/relay-hello"), which crypto prepends itself; wire
// only carries the bytes and does not verify them (wire depends on core only).
//
// Codecs are pure functions on bytes: encode() writes header + payload into a caller's buffer
// and returns the datagram size; decode_<name>() takes the payload that decode_datagram()
// returned. No allocation, no state, any thread. Decoders reject trailing bytes and every
// non-canonical form, so each message has exactly one encoding. Spec: docs/PROTOCOL.md.

#include <ainet/core/bytes.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>
#include <ainet/wire/errc.hpp>
#include <ainet/wire/fields.hpp>
#include <ainet/wire/header.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace ainet::wire {

inline constexpr size_t hello_nonce_size = 32;
// Ed25519 signature size; equal to crypto::signature_size (checked in the wire unit tests, since
// wire may not include crypto).
inline constexpr size_t signature_size = 64;
using hello_nonce = std::array<uint8_t, hello_nonce_size>;
using signature_bytes = std::array<uint8_t, signature_size>;

// peer -> relay: "I am sender; challenge me". Unauthenticated.
struct hello_request {
    static constexpr message_type type = message_type::hello_request;
    node_id sender;

    friend bool operator==(const hello_request&, const hello_request&) = default;
};

// relay -> peer: a nonce the relay can recheck without state (a MAC over the peer's id,
// endpoint and expiry, computed by the relay), its expiry, and the endpoint the request came from.
struct hello_challenge {
    static constexpr message_type type = message_type::hello_challenge;
    hello_nonce nonce{};
    unix_ms expiry{}; // 0..INT64_MAX; negative values have no encoding (bad_field)
    endpoint observed;

    friend bool operator==(const hello_challenge&, const hello_challenge&) = default;
};

// peer -> relay: the challenge echoed and signed with the key whose public half is sender.
struct hello {
    static constexpr message_type type = message_type::hello;
    node_id sender;
    hello_nonce nonce{};
    unix_ms expiry{};
    endpoint observed;
    signature_bytes signature{};

    friend bool operator==(const hello&, const hello&) = default;
};

// relay -> peer: the session is accepted for lease_ms milliseconds (at least 1).
struct hello_ack {
    static constexpr message_type type = message_type::hello_ack;
    uint32_t lease_ms = 0;
    node_id relay;

    friend bool operator==(const hello_ack&, const hello_ack&) = default;
};

// Sizes (payload bytes unless named _datagram_).
inline constexpr size_t hello_request_padding_size = 32;
inline constexpr size_t hello_request_payload_size = node_id_size + hello_request_padding_size;
inline constexpr size_t hello_challenge_payload_size_max =
    hello_nonce_size + 8 + endpoint_encoded_size_max;
inline constexpr size_t hello_payload_size_max =
    node_id_size + hello_nonce_size + 8 + endpoint_encoded_size_max + signature_size;
inline constexpr size_t hello_ack_payload_size = 4 + node_id_size;
inline constexpr size_t hello_signed_payload_size_max =
    hello_nonce_size + 8 + endpoint_encoded_size_max + node_id_size;

static_assert(hello_request_payload_size == 64);
static_assert(hello_challenge_payload_size_max == 59);
static_assert(hello_payload_size_max == 155);
static_assert(hello_ack_payload_size == 36);
// Anti-amplification: the request is at least as large as any challenge it can trigger.
static_assert(header_size + hello_request_payload_size >=
              header_size + hello_challenge_payload_size_max);

// Datagram sizes (header included) of each message.
[[nodiscard]] size_t encoded_size(const hello_request& m) noexcept;
[[nodiscard]] size_t encoded_size(const hello_challenge& m) noexcept;
[[nodiscard]] size_t encoded_size(const hello& m) noexcept;
[[nodiscard]] size_t encoded_size(const hello_ack& m) noexcept;

// Write header + payload to the front of out and return the datagram size. Errors: buffer_full
// (out too small; out is then left partly written), bad_endpoint, bad_field (negative expiry,
// lease_ms 0). Nothing is written that the matching decoder would reject.
[[nodiscard]] result<size_t> encode(const hello_request& m, mutable_bytes out) noexcept;
[[nodiscard]] result<size_t> encode(const hello_challenge& m, mutable_bytes out) noexcept;
[[nodiscard]] result<size_t> encode(const hello& m, mutable_bytes out) noexcept;
[[nodiscard]] result<size_t> encode(const hello_ack& m, mutable_bytes out) noexcept;

// Parse a payload (the bytes after the header). Errors: truncated, trailing_bytes, bad_padding,
// bad_endpoint, bad_field.
[[nodiscard]] result<hello_request> decode_hello_request(bytes_view payload) noexcept;
[[nodiscard]] result<hello_challenge> decode_hello_challenge(bytes_view payload) noexcept;
[[nodiscard]] result<hello> decode_hello(bytes_view payload) noexcept;
[[nodiscard]] result<hello_ack> decode_hello_ack(bytes_view payload) noexcept;

// Writes the canonical bytes the hello signature covers and returns their size:
//     nonce (32) || expiry u64 LE || observed endpoint (7 or 19) || sender node id (32)
// The crypto module prepends the sig_domain::relay_hello context before signing or verifying.
// Errors: buffer_full (out shorter than the result; hello_signed_payload_size_max always fits),
// bad_endpoint, bad_field.
[[nodiscard]] result<size_t> hello_signed_payload(const hello& m, mutable_bytes out) noexcept;

} // namespace ainet::wire
