#pragma once
// Helpers for the store tests: string <-> bytes views.

#include <ainet/core/bytes.hpp>

#include <string>
#include <string_view>

namespace ainet::test {

inline bytes_view as_bytes(std::string_view text) {
    return bytes_view(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

inline std::string as_string(bytes_view bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

} // namespace ainet::test
