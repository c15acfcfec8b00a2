#pragma once
// Private helpers of the wire codecs: lifting core reader errors into wire errors, and the
// common frame of every encoder (size check, header, payload writer, postcondition).

#include <ainet/core/bytes.hpp>
#include <ainet/wire/errc.hpp>
#include <ainet/wire/header.hpp>

#include <utility>

namespace ainet::wire::detail {

// A core result (byte_reader field) as a wire result.
template <class T>
[[nodiscard]] result<T> lift(ainet::result<T, ainet::errc>&& r) noexcept {
    if (!r)
        return fail(from_core(r.error()));
    return std::move(r).value();
}

[[nodiscard]] inline result<void> lift(ainet::result<void, ainet::errc>&& r) noexcept {
    if (!r)
        return fail(from_core(r.error()));
    return {};
}

// Checks that a datagram of payload_size bytes fits in out, writes its header and returns a
// writer over exactly the payload bytes.
[[nodiscard]] inline result<byte_writer> start_datagram(message_type type, size_t payload_size,
                                                        mutable_bytes out) noexcept {
    if (payload_size > payload_size_max)
        return fail(errc::field_too_long);
    if (out.size() < header_size + payload_size)
        return fail(errc::buffer_full);
    AINET_TRY_VOID(encode_header(header{type, 0, static_cast<uint16_t>(payload_size)}, out));
    return byte_writer(out.subspan(header_size, payload_size));
}

// Postcondition of every encoder: the payload writer filled exactly the size the header claims.
[[nodiscard]] inline result<size_t> finish_datagram(const byte_writer& w) noexcept {
    AINET_ASSERT(w.ok() && w.remaining() == 0);
    return header_size + w.position();
}

} // namespace ainet::wire::detail
