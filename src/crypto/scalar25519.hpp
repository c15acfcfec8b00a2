#pragma once
// Scalars modulo L = 2^252 + 27742317777372353535851937790883648493, the order of the
// edwards25519 base point, as 32-byte little-endian strings, and the Ed25519 challenge hash.
//
// Private to src/crypto. Arithmetic is libsodium's crypto_core_ed25519_scalar_* (this file's
// .cpp is one of the few that include sodium.h); SHA-512 is libsodium's. Any thread, no
// allocation.

#include <ainet/core/bytes.hpp>

#include <array>
#include <cstdint>

namespace ainet::crypto::detail {

using scalar = std::array<uint8_t, 32>;

// True when s, read as a 256-bit little-endian integer, is below L (predicate rule 1).
[[nodiscard]] bool scalar_is_canonical(const uint8_t s[32]) noexcept;
// k = SHA-512(R || A || M) mod L.
[[nodiscard]] scalar challenge(const uint8_t r[32], const uint8_t a[32],
                               bytes_view message) noexcept;
// (x * y) mod L, (x + y) mod L, (-x) mod L; inputs below L (or below 2^253 for mul).
[[nodiscard]] scalar scalar_mul(const scalar& x, const scalar& y) noexcept;
[[nodiscard]] scalar scalar_add(const scalar& x, const scalar& y) noexcept;
[[nodiscard]] scalar scalar_negate(const scalar& x) noexcept;

} // namespace ainet::crypto::detail
