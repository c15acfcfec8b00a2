#include <ainet/wire/ping.hpp>

#include "codec_impl.hpp"

namespace ainet::wire {

using detail::finish_datagram;
using detail::lift;
using detail::start_datagram;

namespace {

// ping and pong share one layout; Message is either.
template <class Message>
result<size_t> encode_echo(const Message& m, mutable_bytes out) noexcept {
    AINET_TRY(w, start_datagram(Message::type, ping_payload_size, out));
    w.u64(m.nonce);
    w.u64(m.sender_time_ns);
    return finish_datagram(w);
}

template <class Message>
result<Message> decode_echo(bytes_view payload) noexcept {
    byte_reader r(payload);
    Message m;
    AINET_TRY(nonce, lift(r.u64()));
    m.nonce = nonce;
    AINET_TRY(sender_time_ns, lift(r.u64()));
    m.sender_time_ns = sender_time_ns;
    AINET_TRY_VOID(lift(r.expect_end()));
    return m;
}

} // namespace

size_t encoded_size(const ping&) noexcept {
    return header_size + ping_payload_size;
}
size_t encoded_size(const pong&) noexcept {
    return header_size + ping_payload_size;
}

result<size_t> encode(const ping& m, mutable_bytes out) noexcept {
    return encode_echo(m, out);
}
result<size_t> encode(const pong& m, mutable_bytes out) noexcept {
    return encode_echo(m, out);
}

result<ping> decode_ping(bytes_view payload) noexcept {
    return decode_echo<ping>(payload);
}
result<pong> decode_pong(bytes_view payload) noexcept {
    return decode_echo<pong>(payload);
}

} // namespace ainet::wire
