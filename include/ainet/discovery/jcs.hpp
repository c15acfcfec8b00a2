#pragma once
// Strict JSON parsing and RFC 8785 (JCS, JSON Canonicalization Scheme) serialization of the
// JSON subset ainet signs: objects, arrays, strings, integers, true, false, null.
//
// Signed JSON objects (bootstrap node records and lists, docs/PROTOCOL.md "Bootstrap node
// lists (HTTP)") are signed over the JCS form of the object without its "signature" member, so
// a signature depends on the values only, never on key order, spacing or escaping choices.
//
// The subset, and why:
// - Numbers must be integers in +-(2^53 - 1): JCS serializes numbers as ECMAScript does IEEE
//   doubles, and only those integers survive a double exactly, in every language. Fractions and
//   exponents ("1.0", "1e3") are rejected (not_integer), even when their value is integral, so
//   a signer can never be tricked into a value a verifier reads differently. "-0" is the
//   integer 0.
// - Text must be valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF); a \u escape
//   naming a lone surrogate is rejected (bad_utf8). JCS would otherwise have no defined output.
// - Object keys must be unique (duplicate_key): a parser that kept the first and one that kept
//   the last would otherwise see different signed values.
// - Nesting is bounded (json_depth_max), so parsing uses bounded recursion.
//
// JCS output (RFC 8785 section 3.2): no whitespace; object members sorted by their keys as
// arrays of UTF-16 code units (section 3.2.3, implemented in full, not only for ASCII);
// strings escaped with \" \\ \b \f \n \r \t, other control characters below U+0020 as \u00xx
// with lowercase hex, everything else (including '/', DEL and non-ASCII) as literal UTF-8;
// integers in plain decimal; true, false, null.
//
// Not for the data path: parsing and serializing allocate. Pure functions; any thread.

#include <ainet/discovery/errc.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ainet::discovery {

// The largest magnitude of an integer in signed JSON: 2^53 - 1 (Number.MAX_SAFE_INTEGER).
inline constexpr int64_t json_integer_max = (int64_t{1} << 53) - 1;
// Arrays and objects nest at most this deep (a bootstrap list needs 3).
inline constexpr size_t json_depth_max = 16;

struct json_member;

// A parsed JSON value. Objects keep their members in document order; keys are unique.
struct json_value {
    enum class kind : uint8_t { null, boolean, integer, string, array, object };

    // Declared here, defaulted below json_member: the members use it while it is incomplete.
    json_value();
    json_value(const json_value&);
    json_value(json_value&&) noexcept;
    json_value& operator=(const json_value&);
    json_value& operator=(json_value&&) noexcept;
    ~json_value();

    kind type = kind::null;
    bool boolean = false;
    int64_t integer = 0;             // within +-json_integer_max
    std::string string;              // valid UTF-8
    std::vector<json_value> array;
    std::vector<json_member> object; // unique keys, document order

    [[nodiscard]] static json_value make_bool(bool value);
    // Precondition: |value| <= json_integer_max.
    [[nodiscard]] static json_value make_integer(int64_t value);
    // Precondition: text is valid UTF-8.
    [[nodiscard]] static json_value make_string(std::string text);
    [[nodiscard]] static json_value make_array(std::vector<json_value> items = {});
    [[nodiscard]] static json_value make_object();

    // Appends a member. Precondition: this is an object without that key, key is valid UTF-8.
    json_value& add(std::string key, json_value value);
    // The member named key, or nullptr (also when this is not an object).
    [[nodiscard]] const json_value* find(std::string_view key) const noexcept;
};

struct json_member {
    std::string key;
    json_value value;
};

inline json_value::json_value() = default;
inline json_value::json_value(const json_value&) = default;
inline json_value::json_value(json_value&&) noexcept = default;
inline json_value& json_value::operator=(const json_value&) = default;
inline json_value& json_value::operator=(json_value&&) noexcept = default;
inline json_value::~json_value() = default;

// Parses one JSON value (RFC 8259, whitespace allowed around tokens) restricted to the subset
// above. Fails with too_large when text has more than text_size_max bytes, else with the first
// problem found. Never throws, never asserts on its input.
[[nodiscard]] result<json_value> parse_json(std::string_view text, size_t text_size_max);

// The JCS serialization of value. Precondition: value satisfies the subset's invariants (as
// every value from parse_json or the make_* builders does).
[[nodiscard]] std::string canonicalize(const json_value& value);

// The JCS serialization of the object value without its member named excluded_key (if any):
// what a signature stored in that member covers. Precondition: value is an object.
[[nodiscard]] std::string canonicalize_without(const json_value& value,
                                               std::string_view excluded_key);

// parse_json then canonicalize.
[[nodiscard]] result<std::string> canonicalize(std::string_view text, size_t text_size_max);

// true when a sorts before b as arrays of UTF-16 code units (RFC 8785 section 3.2.3).
// Precondition: both are valid UTF-8.
[[nodiscard]] bool utf16_less(std::string_view a, std::string_view b) noexcept;

// true when text is valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

} // namespace ainet::discovery
