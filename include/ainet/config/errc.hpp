#pragma once
// Errors of the config module: what can be wrong with a configuration file.
//
// Config files are read once at start-up (or by `ainetctl config check`), never on the data
// path, so an error here carries text as well as a code: error_info names the FILE, the FIELD
// (a JSON pointer such as "/limits/recv_buffer_count" or "/nodes/2/udp"; empty when the whole
// file is at fault) and the REASON, and message() joins them into the one line an operator
// sees, e.g. "config/node.json: /udp_listen: bad endpoint (want ip:port or [ipv6]:port)".
// config::result<T> is the value or that error_info. Plain values; any thread.

#include <ainet/core/assert.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ainet::config {

enum class errc : uint8_t {
    file_io = 1,      // the file could not be opened or read
    file_too_large,   // the file is larger than config_file_size_max
    syntax,           // not valid JSON (or a duplicate key, or nesting too deep)
    unknown_field,    // a field this format does not define
    missing_field,    // a required field is absent
    wrong_type,       // a field has another JSON type than the format requires
    bad_value,        // a field has the right type but a value outside its allowed set or range
    bad_endpoint,     // not "ip:port" or "[ipv6]:port" with a port in 1..65535
    bad_public_key,   // not exactly 64 hex characters
    duplicate,        // a public key or endpoint listed twice
    too_many,         // more list entries than the format allows
    bad_limits,       // the limits object breaks a relation checked by validate(limits)
};
[[nodiscard]] std::string_view to_string(errc e) noexcept;

struct error_info {
    errc code = errc::syntax;
    std::string file;   // as the caller named it (the path given on the command line)
    std::string field;  // JSON pointer of the offending field; empty for the whole file
    std::string reason; // what is wrong, in words

    // "FILE: FIELD: REASON", or "FILE: REASON" when no field is at fault.
    [[nodiscard]] std::string message() const;
};

// A parsed value or the error_info saying why there is none. Accessing the wrong alternative is
// a bug and trips AINET_ASSERT.
template <class T>
class [[nodiscard]] result {
public:
    result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
    result(error_info e) : m_state(std::in_place_index<1>, std::move(e)) {}

    [[nodiscard]] bool has_value() const noexcept { return m_state.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    [[nodiscard]] T& value() & {
        AINET_ASSERT(has_value());
        return *std::get_if<0>(&m_state);
    }
    [[nodiscard]] const T& value() const& {
        AINET_ASSERT(has_value());
        return *std::get_if<0>(&m_state);
    }
    [[nodiscard]] T&& value() && {
        AINET_ASSERT(has_value());
        return std::move(*std::get_if<0>(&m_state));
    }
    [[nodiscard]] const error_info& error() const& {
        AINET_ASSERT(!has_value());
        return *std::get_if<1>(&m_state);
    }

    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, error_info> m_state;
};

} // namespace ainet::config
