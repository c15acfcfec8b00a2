// The verification predicate (see verify_impl.hpp): the only place ainet decides whether an
// Ed25519 signature is valid.
#include "verify_impl.hpp"

#include <sodium.h>

namespace ainet::crypto::detail {

bool verify_predicate(const public_key& key, bytes_view message, const signature& sig) noexcept {
    // libsodium reads message.data() only for message.size() bytes; an empty span may carry a
    // null pointer, which it never dereferences.
    return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.data()) == 0;
}

} // namespace ainet::crypto::detail
