#pragma once
// Keyed hashing and randomness for things that are not signatures: stateless cookies (a relay
// proves a peer owns its address without keeping state per unauthenticated peer, as SYN
// cookies do), and secrets drawn at start-up. Keyed BLAKE2b (libsodium crypto_generichash) and
// libsodium's CSPRNG. Any thread; no allocation.

#include <ainet/core/bytes.hpp>

#include <array>
#include <cstdint>

namespace ainet::crypto {

inline constexpr size_t mac_key_size = 32;
inline constexpr size_t mac_size = 32;
using mac_key = std::array<uint8_t, mac_key_size>;
using mac_tag = std::array<uint8_t, mac_size>;

// Fills out with bytes from the CSPRNG.
void random_bytes(mutable_bytes out) noexcept;
[[nodiscard]] mac_key random_mac_key() noexcept;

// BLAKE2b-256 of data keyed with key.
[[nodiscard]] mac_tag mac(const mac_key& key, bytes_view data) noexcept;

// Constant-time comparison (a cookie check must not leak how many bytes matched).
[[nodiscard]] bool tags_equal(const mac_tag& a, const mac_tag& b) noexcept;

} // namespace ainet::crypto
