#pragma once
// Error codes of the merkle module: a full tree, and malformed reconciliation messages.

#include <ainet/core/errc.hpp>
#include <ainet/core/result.hpp>

#include <cstdint>
#include <string_view>

namespace ainet::merkle {

enum class errc : uint8_t {
    tree_full = 1,        // upsert of a new key beyond tree_config::entry_count_max
    truncated,            // a message ended inside a field
    bad_message_type,     // unknown message type byte
    bad_depth,            // a depth or level count outside the tree's shape
    bad_fingerprint_size, // not 4, 8 or 16
    bad_count,            // a count above its limit or inconsistent with the message size
    not_increasing,       // positions or key hashes not strictly increasing (one encoding only)
    bad_position,         // a position outside its depth, or a key outside its bucket
    trailing_bytes,       // bytes after a complete message
};

[[nodiscard]] std::string_view to_string(errc e) noexcept;

template <class T>
using result = ainet::result<T, errc>;

// Maps core's byte_reader errors (truncated, varint problems) into this module's codes.
[[nodiscard]] errc from_core(ainet::errc e) noexcept;

} // namespace ainet::merkle
