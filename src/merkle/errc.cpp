#include <ainet/merkle/errc.hpp>

namespace ainet::merkle {

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::tree_full: return "tree_full";
    case errc::truncated: return "truncated";
    case errc::bad_message_type: return "bad_message_type";
    case errc::bad_depth: return "bad_depth";
    case errc::bad_fingerprint_size: return "bad_fingerprint_size";
    case errc::bad_count: return "bad_count";
    case errc::not_increasing: return "not_increasing";
    case errc::bad_position: return "bad_position";
    case errc::trailing_bytes: return "trailing_bytes";
    }
    return "unknown";
}

errc from_core(ainet::errc e) noexcept {
    switch (e) {
    case ainet::errc::trailing_bytes: return errc::trailing_bytes;
    case ainet::errc::length_exceeds_limit: return errc::bad_count;
    default: return errc::truncated;
    }
}

} // namespace ainet::merkle
