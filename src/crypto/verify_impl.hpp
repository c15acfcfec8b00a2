#pragma once
// The one verification predicate that verify(), verify_raw() and verify_batch() share.
//
// Private to src/crypto. Today it is libsodium 1.0.18's crypto_sign_verify_detached
// (cofactorless, rejects small-order A and R, non-canonical A and S >= L); issue 7 replaces it
// with ainet's own predicate and a batch verifier that must agree with it. Keeping it in one
// function in one file (verify.cpp) is what makes that swap a local change. Any thread; no
// allocation.

#include <ainet/crypto/ed25519.hpp>

namespace ainet::crypto::detail {

// True when sig is a valid signature by key over exactly message.
[[nodiscard]] bool verify_predicate(const public_key& key, bytes_view message,
                                    const signature& sig) noexcept;

} // namespace ainet::crypto::detail
