#include <ainet/wire/fields.hpp>
#include <ainet/wire/relay_data.hpp>

#include "codec_impl.hpp"

namespace ainet::wire {

using detail::finish_datagram;
using detail::lift;
using detail::start_datagram;

namespace {

result<void> check_hop_limit(uint8_t hop_limit) noexcept {
    if (hop_limit == 0 || hop_limit > hop_limit_max)
        return fail(errc::bad_field);
    return {};
}

} // namespace

size_t encoded_size(const relay_data& m) noexcept {
    return header_size + relay_data_fixed_size + m.payload.size();
}

result<size_t> encode(const relay_data& m, mutable_bytes out) noexcept {
    AINET_TRY_VOID(check_hop_limit(m.hop_limit));
    if (m.payload.size() > relay_payload_size_max)
        return fail(errc::field_too_long);
    AINET_TRY(w, start_datagram(relay_data::type, relay_data_fixed_size + m.payload.size(), out));
    write_node_id(w, m.destination);
    write_node_id(w, m.source);
    w.u8(m.hop_limit);
    w.bytes(m.payload);
    return finish_datagram(w);
}

result<relay_data> decode_relay_data(bytes_view payload) noexcept {
    byte_reader r(payload);
    relay_data m;
    AINET_TRY(destination, read_node_id(r));
    m.destination = destination;
    AINET_TRY(source, read_node_id(r));
    m.source = source;
    AINET_TRY(hop_limit, lift(r.u8()));
    AINET_TRY_VOID(check_hop_limit(hop_limit));
    m.hop_limit = hop_limit;
    if (r.remaining() > relay_payload_size_max)
        return fail(errc::field_too_long);
    m.payload = r.rest();
    return m;
}

} // namespace ainet::wire
