#pragma once
// Hex and base64 (RFC 4648, standard alphabet, padded) for keys, signatures and JSON fields.
//
// Decoders are strict, so that every byte string has one accepted text form: hex takes either
// case but rejects odd lengths and stray characters; base64 rejects missing or extra padding,
// characters outside the alphabet, whitespace, and non-zero bits in the last group's unused
// tail. Not for the data path (they allocate strings); any thread.

#include <ainet/core/bytes.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ainet {

[[nodiscard]] std::string to_hex(bytes_view data);
[[nodiscard]] result<std::vector<uint8_t>, errc> from_hex(std::string_view text);
// Decodes exactly out.size() bytes; wrong_size if the text holds another number of bytes.
[[nodiscard]] result<void, errc> from_hex_into(std::string_view text, mutable_bytes out) noexcept;

[[nodiscard]] std::string to_base64(bytes_view data);
[[nodiscard]] result<std::vector<uint8_t>, errc> from_base64(std::string_view text);

} // namespace ainet
