#include <ainet/core/assert.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/crypto/mac.hpp>

#include <sodium.h>

namespace ainet::crypto {

void random_bytes(mutable_bytes out) noexcept {
    AINET_ASSERT(init().has_value());
    randombytes_buf(out.data(), out.size());
}

mac_key random_mac_key() noexcept {
    mac_key key{};
    random_bytes(key);
    return key;
}

mac_tag mac(const mac_key& key, bytes_view data) noexcept {
    mac_tag tag{};
    crypto_generichash(tag.data(), tag.size(), data.data(), data.size(), key.data(), key.size());
    return tag;
}

bool tags_equal(const mac_tag& a, const mac_tag& b) noexcept {
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace ainet::crypto
