// Scalars mod L and the challenge hash on top of libsodium (see scalar25519.hpp).
#include "scalar25519.hpp"

#include <sodium.h>

#include <cstring>

namespace ainet::crypto::detail {

namespace {
// L little-endian.
constexpr uint8_t group_order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                     0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
} // namespace

bool scalar_is_canonical(const uint8_t s[32]) noexcept {
    for (int i = 31; i >= 0; --i) {
        if (s[i] != group_order[i])
            return s[i] < group_order[i];
    }
    return false; // s == L
}

scalar challenge(const uint8_t r[32], const uint8_t a[32], bytes_view message) noexcept {
    crypto_hash_sha512_state state;
    crypto_hash_sha512_init(&state);
    crypto_hash_sha512_update(&state, r, 32);
    crypto_hash_sha512_update(&state, a, 32);
    // libsodium reads message.data() only for message.size() bytes (none for an empty span).
    crypto_hash_sha512_update(&state, message.data(), message.size());
    uint8_t digest[crypto_hash_sha512_BYTES];
    crypto_hash_sha512_final(&state, digest);
    scalar k{};
    crypto_core_ed25519_scalar_reduce(k.data(), digest);
    return k;
}

scalar scalar_mul(const scalar& x, const scalar& y) noexcept {
    scalar out{};
    crypto_core_ed25519_scalar_mul(out.data(), x.data(), y.data());
    return out;
}

scalar scalar_add(const scalar& x, const scalar& y) noexcept {
    scalar out{};
    crypto_core_ed25519_scalar_add(out.data(), x.data(), y.data());
    return out;
}

scalar scalar_negate(const scalar& x) noexcept {
    scalar out{};
    crypto_core_ed25519_scalar_negate(out.data(), x.data());
    return out;
}

void scalar_wide_add_product(scalar_wide& acc, const scalar& x, const scalar& y) noexcept {
    __extension__ typedef unsigned __int128 u128;
    uint64_t xw[2];
    uint64_t yw[4];
    std::memcpy(xw, x.data(), 16); // little-endian words on every target ainet builds for
    std::memcpy(yw, y.data(), 32);
    for (size_t i = 0; i < 2; ++i) {
        uint64_t carry = 0;
        for (size_t j = 0; j < 4; ++j) {
            const u128 t = u128{xw[i]} * yw[j] + acc.words[i + j] + carry;
            acc.words[i + j] = static_cast<uint64_t>(t);
            carry = static_cast<uint64_t>(t >> 64);
        }
        for (size_t k = i + 4; k < 8 && carry != 0; ++k) {
            const u128 t = u128{acc.words[k]} + carry;
            acc.words[k] = static_cast<uint64_t>(t);
            carry = static_cast<uint64_t>(t >> 64);
        }
    }
}

scalar scalar_wide_reduce(const scalar_wide& acc) noexcept {
    uint8_t bytes[64];
    std::memcpy(bytes, acc.words, 64);
    scalar out{};
    crypto_core_ed25519_scalar_reduce(out.data(), bytes);
    return out;
}

} // namespace ainet::crypto::detail
