#pragma once
// ping / pong: liveness and round-trip time between two nodes.
//
//     nonce u64 LE || sender_time_ns u64 LE
//
// The pinger picks nonce (to match the pong) and sender_time_ns (nanoseconds on its own
// monotonic clock, instant::ns_since_origin); the ponger echoes both unchanged (make_pong), so
// only the pinger interprets the time and no clocks need to agree. Pure functions on bytes, no
// allocation, any thread. Spec: docs/PROTOCOL.md.

#include <ainet/core/bytes.hpp>
#include <ainet/wire/errc.hpp>
#include <ainet/wire/header.hpp>

#include <cstddef>
#include <cstdint>

namespace ainet::wire {

inline constexpr size_t ping_payload_size = 16;

struct ping {
    static constexpr message_type type = message_type::ping;
    uint64_t nonce = 0;
    uint64_t sender_time_ns = 0;

    friend bool operator==(const ping&, const ping&) = default;
};

struct pong {
    static constexpr message_type type = message_type::pong;
    uint64_t nonce = 0;          // echoed from the ping
    uint64_t sender_time_ns = 0; // echoed from the ping

    friend bool operator==(const pong&, const pong&) = default;
};

// The reply to a ping.
[[nodiscard]] constexpr pong make_pong(const ping& p) noexcept {
    return pong{p.nonce, p.sender_time_ns};
}

[[nodiscard]] size_t encoded_size(const ping& m) noexcept;
[[nodiscard]] size_t encoded_size(const pong& m) noexcept;

// Errors: buffer_full.
[[nodiscard]] result<size_t> encode(const ping& m, mutable_bytes out) noexcept;
[[nodiscard]] result<size_t> encode(const pong& m, mutable_bytes out) noexcept;

// Errors: truncated, trailing_bytes.
[[nodiscard]] result<ping> decode_ping(bytes_view payload) noexcept;
[[nodiscard]] result<pong> decode_pong(bytes_view payload) noexcept;

} // namespace ainet::wire
