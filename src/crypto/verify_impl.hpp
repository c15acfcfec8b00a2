#pragma once
// The one verification predicate that verify(), verify_raw(), verify_batch() and
// batch_verifier share (docs/protocol/signing.md, "The verification predicate").
//
// Private to src/crypto (tests, benchmarks and fuzz targets include it through
// ainet_crypto_internal_dep). A signature (R || S) by A over M is valid iff S < L, A and R are
// canonical encodings of curve points, neither has small order, and
// [8]([S]B - R - [k]A) = identity with k = SHA-512(R || A || M) mod L. verify_predicate is its
// single-signature form; batch_verify_impl gives the same verdict for every request (the
// cofactored equation is what makes that provable). Any thread; no allocation.

#include <ainet/crypto/ed25519.hpp>

namespace ainet::crypto::detail {

// True when sig is a valid signature by key over exactly message, under the predicate.
[[nodiscard]] bool verify_predicate(const public_key& key, bytes_view message,
                                    const signature& sig) noexcept;

// libsodium 1.0.18's crypto_sign_verify_detached, ainet's predicate before issue 7. Kept only
// as the oracle of differential tests and the baseline of benchmarks: nothing in ainet decides
// validity with it.
[[nodiscard]] bool libsodium_verify(const public_key& key, bytes_view message,
                                    const signature& sig) noexcept;

} // namespace ainet::crypto::detail
