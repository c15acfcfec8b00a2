#include <ainet/wire/handshake.hpp>

#include "codec_impl.hpp"

#include <algorithm>

namespace ainet::wire {

using detail::finish_datagram;
using detail::lift;
using detail::start_datagram;

namespace {

constexpr size_t expiry_size = 8;

// Expiry travels as a u64 but must fit unix_ms (int64): values with the top bit set are
// rejected so that every expiry has exactly one encoding.
result<void> check_expiry(unix_ms expiry) noexcept {
    if (static_cast<int64_t>(expiry) < 0)
        return fail(errc::bad_field);
    return {};
}

void write_expiry(byte_writer& w, unix_ms expiry) noexcept {
    w.u64(static_cast<uint64_t>(static_cast<int64_t>(expiry)));
}

result<unix_ms> read_expiry(byte_reader& r) noexcept {
    AINET_TRY(raw, lift(r.u64()));
    if (raw > static_cast<uint64_t>(INT64_MAX))
        return fail(errc::bad_field);
    return unix_ms{static_cast<int64_t>(raw)};
}

result<void> check_lease(uint32_t lease_ms) noexcept {
    if (lease_ms == 0)
        return fail(errc::bad_field);
    return {};
}

size_t challenge_payload_size(const endpoint& observed) noexcept {
    return hello_nonce_size + expiry_size + endpoint_encoded_size(observed);
}

size_t hello_payload_size(const hello& m) noexcept {
    return node_id_size + hello_nonce_size + expiry_size + endpoint_encoded_size(m.observed) +
           signature_size;
}

} // namespace

size_t encoded_size(const hello_request&) noexcept {
    return header_size + hello_request_payload_size;
}

size_t encoded_size(const hello_challenge& m) noexcept {
    return header_size + challenge_payload_size(m.observed);
}

size_t encoded_size(const hello& m) noexcept {
    return header_size + hello_payload_size(m);
}

size_t encoded_size(const hello_ack&) noexcept {
    return header_size + hello_ack_payload_size;
}

// hello_request

result<size_t> encode(const hello_request& m, mutable_bytes out) noexcept {
    AINET_TRY(w, start_datagram(hello_request::type, hello_request_payload_size, out));
    write_node_id(w, m.sender);
    static constexpr std::array<uint8_t, hello_request_padding_size> padding{};
    w.bytes(bytes_view(padding));
    return finish_datagram(w);
}

result<hello_request> decode_hello_request(bytes_view payload) noexcept {
    byte_reader r(payload);
    hello_request m;
    AINET_TRY(sender, read_node_id(r));
    m.sender = sender;
    AINET_TRY(padding, lift(r.bytes(hello_request_padding_size)));
    if (!std::all_of(padding.begin(), padding.end(), [](uint8_t b) { return b == 0; }))
        return fail(errc::bad_padding);
    AINET_TRY_VOID(lift(r.expect_end()));
    return m;
}

// hello_challenge

result<size_t> encode(const hello_challenge& m, mutable_bytes out) noexcept {
    AINET_TRY_VOID(check_endpoint(m.observed));
    AINET_TRY_VOID(check_expiry(m.expiry));
    AINET_TRY(w, start_datagram(hello_challenge::type, challenge_payload_size(m.observed), out));
    w.bytes(bytes_view(m.nonce));
    write_expiry(w, m.expiry);
    write_endpoint(w, m.observed);
    return finish_datagram(w);
}

result<hello_challenge> decode_hello_challenge(bytes_view payload) noexcept {
    byte_reader r(payload);
    hello_challenge m;
    AINET_TRY(nonce, lift(r.fixed<hello_nonce_size>()));
    m.nonce = nonce;
    AINET_TRY(expiry, read_expiry(r));
    m.expiry = expiry;
    AINET_TRY(observed, read_endpoint(r));
    m.observed = observed;
    AINET_TRY_VOID(lift(r.expect_end()));
    return m;
}

// hello

result<size_t> encode(const hello& m, mutable_bytes out) noexcept {
    AINET_TRY_VOID(check_endpoint(m.observed));
    AINET_TRY_VOID(check_expiry(m.expiry));
    AINET_TRY(w, start_datagram(hello::type, hello_payload_size(m), out));
    write_node_id(w, m.sender);
    w.bytes(bytes_view(m.nonce));
    write_expiry(w, m.expiry);
    write_endpoint(w, m.observed);
    w.bytes(bytes_view(m.signature));
    return finish_datagram(w);
}

result<hello> decode_hello(bytes_view payload) noexcept {
    byte_reader r(payload);
    hello m;
    AINET_TRY(sender, read_node_id(r));
    m.sender = sender;
    AINET_TRY(nonce, lift(r.fixed<hello_nonce_size>()));
    m.nonce = nonce;
    AINET_TRY(expiry, read_expiry(r));
    m.expiry = expiry;
    AINET_TRY(observed, read_endpoint(r));
    m.observed = observed;
    AINET_TRY(signature, lift(r.fixed<signature_size>()));
    m.signature = signature;
    AINET_TRY_VOID(lift(r.expect_end()));
    return m;
}

result<size_t> hello_signed_payload(const hello& m, mutable_bytes out) noexcept {
    AINET_TRY_VOID(check_endpoint(m.observed));
    AINET_TRY_VOID(check_expiry(m.expiry));
    const size_t size =
        hello_nonce_size + expiry_size + endpoint_encoded_size(m.observed) + node_id_size;
    if (out.size() < size)
        return fail(errc::buffer_full);
    byte_writer w(out.first(size));
    w.bytes(bytes_view(m.nonce));
    write_expiry(w, m.expiry);
    write_endpoint(w, m.observed);
    write_node_id(w, m.sender);
    AINET_ASSERT(w.ok() && w.remaining() == 0);
    return size;
}

// hello_ack

result<size_t> encode(const hello_ack& m, mutable_bytes out) noexcept {
    AINET_TRY_VOID(check_lease(m.lease_ms));
    AINET_TRY(w, start_datagram(hello_ack::type, hello_ack_payload_size, out));
    w.u32(m.lease_ms);
    write_node_id(w, m.relay);
    return finish_datagram(w);
}

result<hello_ack> decode_hello_ack(bytes_view payload) noexcept {
    byte_reader r(payload);
    hello_ack m;
    AINET_TRY(lease_ms, lift(r.u32()));
    AINET_TRY_VOID(check_lease(lease_ms));
    m.lease_ms = lease_ms;
    AINET_TRY(relay, read_node_id(r));
    m.relay = relay;
    AINET_TRY_VOID(lift(r.expect_end()));
    return m;
}

} // namespace ainet::wire
