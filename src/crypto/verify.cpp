// The verification predicate (see verify_impl.hpp): the only place ainet decides whether one
// Ed25519 signature is valid. The batch verifier (batch_verify.cpp) evaluates the same
// predicate for many signatures at once.
#include "verify_impl.hpp"

#include "edwards.hpp"
#include "scalar25519.hpp"

#include <sodium.h>

namespace ainet::crypto::detail {

bool verify_predicate(const public_key& key, bytes_view message, const signature& sig) noexcept {
    const uint8_t* r_bytes = sig.data();
    const uint8_t* s_bytes = sig.data() + 32;
    // Rule 1: S < L.
    if (!scalar_is_canonical(s_bytes))
        return false;
    // Rules 2 and 3: canonical encodings of curve points, neither of small order.
    // Both decoded together: their exponentiations interleave (ge_decode_many).
    ge_p3 points[2];
    bool ok[2];
    const uint8_t* encodings[2] = {key.data(), r_bytes};
    ge_decoding scratch[2];
    ge_decode_many(points, ok, encodings, 2, scratch);
    if (!ok[0] || encoding_is_small_order(key.data()) || !ok[1] ||
        encoding_is_small_order(r_bytes))
        return false;
    const ge_p3& a = points[0];
    const ge_p3& r = points[1];
    // Rule 4: [8]([S]B - [k]A - R) = identity.
    const scalar k = challenge(r_bytes, key.data(), message);
    const ge_p3 q = ge_double_scalarmult_vartime(s_bytes, a, k.data());
    return ge_is_small_order(ge_to_p3(ge_sub(q, ge_to_cached(r))));
}

bool libsodium_verify(const public_key& key, bytes_view message, const signature& sig) noexcept {
    // libsodium reads message.data() only for message.size() bytes; an empty span may carry a
    // null pointer, which it never dereferences.
    return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.data()) == 0;
}

} // namespace ainet::crypto::detail
