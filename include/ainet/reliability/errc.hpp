#pragma once
// Error codes of the reliability module: why a reliable packet, a persisted state blob or an
// application's send was refused. Decoders return one of these for malformed input (never
// assert, never throw); reliability_core counts each refused packet. Pure values, any thread.

#include <ainet/core/errc.hpp>
#include <ainet/core/result.hpp>

#include <cstdint>
#include <string_view>

namespace ainet::reliability {

enum class errc : uint8_t {
    truncated = 1,      // the packet or blob ended before a field did
    trailing_bytes,     // bytes left after the last field of a blob
    non_canonical,      // a varint that is overlong or not minimally encoded
    field_too_long,     // a length above its documented maximum
    bad_field,          // a value outside its documented range (seq 0, zero-length range, ...)
    unknown_frame,      // a frame type this version does not define
    too_many_ranges,    // an ack or NACK with more than ranges_max ranges
    not_reliable,       // the datagram header is not a valid `reliable` datagram
    message_too_large,  // send: the message does not fit one datagram (see message_size_max())
    outbox_full,        // send: the outbox holds outbox_message_count_max or _bytes_max already
    peer_table_full,    // send or receive: peer_count_max peers have sessions
    channel_table_full, // send or receive: channels_per_peer_max channels with this peer
    store_failed,       // the durable store refused a commit (retried at the next flush)
    bad_state,          // a persisted state blob that contradicts itself
};

[[nodiscard]] std::string_view to_string(errc e) noexcept;

// The reliability error a core byte_reader error stands for.
[[nodiscard]] errc from_core(ainet::errc e) noexcept;

template <class T>
using result = ainet::result<T, errc>;

} // namespace ainet::reliability
