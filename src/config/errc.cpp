#include <ainet/config/errc.hpp>

namespace ainet::config {

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::file_io: return "cannot read file";
    case errc::file_too_large: return "file too large";
    case errc::syntax: return "not valid JSON";
    case errc::unknown_field: return "unknown field";
    case errc::missing_field: return "missing field";
    case errc::wrong_type: return "wrong type";
    case errc::bad_value: return "bad value";
    case errc::bad_endpoint: return "bad endpoint (want ip:port or [ipv6]:port)";
    case errc::bad_public_key: return "bad public key (want 64 hex characters)";
    case errc::duplicate: return "duplicate";
    case errc::too_many: return "too many entries";
    case errc::bad_limits: return "bad limits";
    }
    return "unknown config error";
}

std::string error_info::message() const {
    std::string out = file;
    if (!field.empty()) {
        out += ": ";
        out += field;
    }
    out += ": ";
    out += reason.empty() ? std::string(to_string(code)) : reason;
    return out;
}

} // namespace ainet::config
