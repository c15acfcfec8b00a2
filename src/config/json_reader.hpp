#pragma once
// Private helpers shared by the config parsers: strict JSON parsing (no duplicate keys, bounded
// nesting, a size cap) and typed field access that produces error_info naming the field as a
// JSON pointer. Start-up only; allocates; exceptions from nlohmann never leave these functions.

#include <ainet/config/errc.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace ainet::config::detail {

using json = nlohmann::json;

// Arrays and objects nest at most this deep; our formats need 3.
inline constexpr int nesting_depth_max = 8;
// Longest string field (a path) accepted, in bytes: PATH_MAX on Linux.
inline constexpr size_t string_size_max = 4096;

// The context every error of one file is made in.
struct source {
    std::string_view name;

    [[nodiscard]] error_info error(errc code, std::string field, std::string reason) const;
};

// Appends one reference token to a JSON pointer, escaping '~' and '/' (RFC 6901) and replacing
// bytes an operator's terminal should not see, so the pointer is safe to print.
[[nodiscard]] std::string pointer_append(std::string_view pointer, std::string_view token);
[[nodiscard]] std::string pointer_append(std::string_view pointer, size_t index);
// A pointer for messages: "/" stands for the whole document.
[[nodiscard]] std::string pointer_or_root(std::string_view pointer);

// Parses text strictly. Fails with file_too_large (over config_file_size_max) or syntax.
[[nodiscard]] result<json> parse_strict(std::string_view text, const source& src);

// nullopt if value is an object whose keys all appear in known; otherwise the error (wrong_type
// if it is not an object, unknown_field naming the first unknown key in document order).
[[nodiscard]] std::optional<error_info> check_object(const json& value, std::string_view pointer,
                                                     std::initializer_list<std::string_view> known,
                                                     const source& src);

// Typed readers of one field of a JSON value; they fail with wrong_type or bad_value.
[[nodiscard]] result<std::string> read_string(const json& value, std::string_view pointer,
                                              const source& src);
[[nodiscard]] result<uint32_t> read_u32(const json& value, std::string_view pointer,
                                        const source& src);
[[nodiscard]] result<int64_t> read_integer(const json& value, std::string_view pointer,
                                           const source& src);

// A JSON type's name for messages ("a string", "an array").
[[nodiscard]] std::string_view type_name(const json& value) noexcept;

} // namespace ainet::config::detail
