#pragma once
// Errors of the discovery module: why a JSON text, or a bootstrap node list fetched from
// another node (GET /bootstrap/nodes), was rejected as a whole. Each value is a counter name in
// discovery_counters (bootstrap_document.hpp), so every rejected list is counted by reason.
// Verdicts on single records inside an accepted list are record_verdict, not errc.

#include <ainet/core/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ainet::discovery {

enum class errc : uint8_t {
    // The JSON text itself (jcs.hpp).
    too_large = 1,        // more bytes than the caller's limit
    syntax,               // not JSON (RFC 8259), or text after the value
    too_deep,             // arrays/objects nested deeper than json_depth_max
    bad_utf8,             // invalid UTF-8, or a \u escape naming a lone surrogate
    duplicate_key,        // one object holds the same key twice
    not_integer,          // a number with a fraction or an exponent (ainet signs integers only)
    integer_out_of_range, // an integer outside +-(2^53 - 1), which IEEE doubles cannot hold exactly
    // The document's structure (bootstrap_document.hpp).
    wrong_type,           // a field of another JSON type than the format requires
    unknown_field,        // a field the format does not define
    missing_field,        // a required field is absent
    bad_value,            // right type, bad value: version, hex, endpoint text, negative time
    too_many_records,     // more records than document_limits::records_max
    // The document's signer and signature.
    wrong_signer,         // signed by another node than the one asked
    not_yet_valid,        // the list's issued_at lies beyond now + the allowed clock skew
    bad_signature,        // the list's own signature does not verify
};
inline constexpr size_t errc_count = static_cast<size_t>(errc::bad_signature) + 1;

[[nodiscard]] std::string_view to_string(errc e) noexcept;

template <class T>
using result = ainet::result<T, errc>;

} // namespace ainet::discovery
