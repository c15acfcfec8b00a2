#include <ainet/wire/messages.hpp>

namespace ainet::wire {

namespace {

template <class T>
result<message> widen(result<T>&& r) noexcept {
    if (!r)
        return fail(r.error());
    return message{std::move(r).value()};
}

} // namespace

message_type type_of(const message& m) noexcept {
    return std::visit([](const auto& alternative) { return alternative.type; }, m);
}

result<message> decode_payload(message_type type, bytes_view payload) noexcept {
    switch (type) {
    case message_type::hello_request:
        return widen(decode_hello_request(payload));
    case message_type::hello_challenge:
        return widen(decode_hello_challenge(payload));
    case message_type::hello:
        return widen(decode_hello(payload));
    case message_type::hello_ack:
        return widen(decode_hello_ack(payload));
    case message_type::relay_data:
        return widen(decode_relay_data(payload));
    case message_type::ping:
        return widen(decode_ping(payload));
    case message_type::pong:
        return widen(decode_pong(payload));
    case message_type::membership_ping:
    case message_type::membership_ack:
    case message_type::membership_ping_req:
    case message_type::membership_nack:
    case message_type::membership_gossip:
    case message_type::membership_push_pull:
        break; // the membership module's own codecs (include/ainet/membership/messages.hpp)
    case message_type::sync_begin:
    case message_type::sync_reply:
    case message_type::sync_descend:
    case message_type::sync_buckets:
    case message_type::sync_wants:
    case message_type::sync_entries:
    case message_type::sync_end:
        break; // decoded by the sync module (include/ainet/sync/messages.hpp)
    case message_type::reliable:
        // Decoded by reliability/packet.hpp (a module above wire); not a wire::message.
        return fail(errc::unknown_type);
    }
    return fail(errc::unknown_type);
}

result<message> decode_message(bytes_view datagram) noexcept {
    AINET_TRY(view, decode_datagram(datagram));
    return decode_payload(view.head.type, view.payload);
}

size_t encoded_size(const message& m) noexcept {
    return std::visit([](const auto& alternative) { return encoded_size(alternative); }, m);
}

result<size_t> encode(const message& m, mutable_bytes out) noexcept {
    return std::visit([out](const auto& alternative) { return encode(alternative, out); }, m);
}

} // namespace ainet::wire
