#include <ainet/core/errc.hpp>

namespace ainet {

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::truncated: return "truncated";
    case errc::buffer_full: return "buffer full";
    case errc::varint_overlong: return "varint overlong";
    case errc::varint_noncanonical: return "varint not minimally encoded";
    case errc::length_exceeds_limit: return "length exceeds limit";
    case errc::trailing_bytes: return "trailing bytes";
    case errc::bad_hex: return "bad hex";
    case errc::bad_base64: return "bad base64";
    case errc::wrong_size: return "wrong size";
    case errc::bad_endpoint: return "bad endpoint (want ip:port or [ipv6]:port)";
    }
    return "unknown core error";
}

} // namespace ainet
