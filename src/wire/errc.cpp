#include <ainet/wire/errc.hpp>

namespace ainet::wire {

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::truncated:
        return "truncated";
    case errc::trailing_bytes:
        return "trailing bytes";
    case errc::buffer_full:
        return "buffer full";
    case errc::bad_magic:
        return "bad magic";
    case errc::unsupported_version:
        return "unsupported version";
    case errc::unknown_type:
        return "unknown message type";
    case errc::bad_flags:
        return "undefined flag bits set";
    case errc::bad_reserved:
        return "reserved byte not zero";
    case errc::size_mismatch:
        return "payload size does not match datagram size";
    case errc::datagram_too_large:
        return "datagram too large";
    case errc::field_too_long:
        return "field too long";
    case errc::non_canonical:
        return "non-canonical encoding";
    case errc::bad_padding:
        return "padding not zero";
    case errc::bad_endpoint:
        return "bad endpoint";
    case errc::bad_field:
        return "field out of range";
    }
    return "unknown wire error";
}

errc from_core(ainet::errc e) noexcept {
    switch (e) {
    case ainet::errc::truncated:
        return errc::truncated;
    case ainet::errc::buffer_full:
        return errc::buffer_full;
    case ainet::errc::trailing_bytes:
        return errc::trailing_bytes;
    case ainet::errc::varint_overlong:
    case ainet::errc::varint_noncanonical:
        return errc::non_canonical;
    case ainet::errc::length_exceeds_limit:
        return errc::field_too_long;
    case ainet::errc::bad_endpoint:
        return errc::bad_endpoint;
    case ainet::errc::bad_hex:
    case ainet::errc::bad_base64:
    case ainet::errc::wrong_size:
        return errc::bad_field;
    }
    return errc::bad_field;
}

} // namespace ainet::wire
