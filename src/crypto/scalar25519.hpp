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

// An unreduced sum of products, 512 bits little-endian, for sums like sum z_j S_j that
// would otherwise cost a reduction mod L per term: the products are added with plain integer
// arithmetic and reduced once.
struct scalar_wide {
    uint64_t words[8];
};
// acc += x * y for x below 2^128 (bytes 16..31 zero) and y below 2^256. The caller keeps the
// sum below 2^512 (up to 2^128 such products).
void scalar_wide_add_product(scalar_wide& acc, const scalar& x, const scalar& y) noexcept;
// acc mod L.
[[nodiscard]] scalar scalar_wide_reduce(const scalar_wide& acc) noexcept;

} // namespace ainet::crypto::detail
