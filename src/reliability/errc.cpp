#include <ainet/reliability/errc.hpp>

namespace ainet::reliability {

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::truncated:
        return "truncated";
    case errc::trailing_bytes:
        return "trailing_bytes";
    case errc::non_canonical:
        return "non_canonical";
    case errc::field_too_long:
        return "field_too_long";
    case errc::bad_field:
        return "bad_field";
    case errc::unknown_frame:
        return "unknown_frame";
    case errc::too_many_ranges:
        return "too_many_ranges";
    case errc::not_reliable:
        return "not_reliable";
    case errc::message_too_large:
        return "message_too_large";
    case errc::outbox_full:
        return "outbox_full";
    case errc::peer_table_full:
        return "peer_table_full";
    case errc::channel_table_full:
        return "channel_table_full";
    case errc::store_failed:
        return "store_failed";
    case errc::bad_state:
        return "bad_state";
    }
    return "unknown";
}

errc from_core(ainet::errc e) noexcept {
    switch (e) {
    case ainet::errc::varint_overlong:
    case ainet::errc::varint_noncanonical:
        return errc::non_canonical;
    case ainet::errc::length_exceeds_limit:
        return errc::field_too_long;
    case ainet::errc::trailing_bytes:
        return errc::trailing_bytes;
    default:
        return errc::truncated;
    }
}

} // namespace ainet::reliability
