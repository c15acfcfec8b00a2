#pragma once
// Every wire message, and one entry point that decodes any datagram into the message it holds.
//
// The receive path can either call decode_datagram() (header.hpp) and switch on the type to the
// per-message decoder, or call decode_message() here, which does both and returns a variant.
// Messages that borrow (relay_data) borrow from the datagram passed in. No allocation, no
// state, any thread. Spec: docs/PROTOCOL.md.

#include <ainet/wire/handshake.hpp>
#include <ainet/wire/header.hpp>
#include <ainet/wire/ping.hpp>
#include <ainet/wire/relay_data.hpp>

#include <variant>

namespace ainet::wire {

using message =
    std::variant<hello_request, hello_challenge, hello, hello_ack, relay_data, ping, pong>;

// The message type of the variant's alternative.
[[nodiscard]] message_type type_of(const message& m) noexcept;

// Decodes the payload of a datagram whose header said type.
[[nodiscard]] result<message> decode_payload(message_type type, bytes_view payload) noexcept;

// decode_datagram() then decode_payload(): the whole datagram, validated, as a message.
[[nodiscard]] result<message> decode_message(bytes_view datagram) noexcept;

// Encodes whichever message the variant holds (see the per-message encode()).
[[nodiscard]] size_t encoded_size(const message& m) noexcept;
[[nodiscard]] result<size_t> encode(const message& m, mutable_bytes out) noexcept;

} // namespace ainet::wire
