#pragma once
// registry::entry: one signed registry entry, its canonical encoding, limits and digests.
//
// An entry is (public_key, name, value, hlc, flags, signature). Its key is (public_key, name):
// only the holder of a private key can write under its own public key. The signature is
// Ed25519 over the domain-separated canonical payload (crypto::sig_domain::registry_entry,
// context "ainet/v1/registry-entry", docs/protocol/signing.md):
//
//     payload = public_key (32) || u64 hlc (LE) || u8 flags || varint name_size || name
//               || varint value_size || value
//     wire    = payload || signature (64)
//
// Limits (documented in docs/PROTOCOL.md, "Registry and sync"): name 1..name_size_max bytes,
// value 0..value_size_max bytes, flags only bits in flags_defined_mask, a tombstone (flag
// tombstone) has an empty value. The largest entry is entry_wire_size_max = 1,132 bytes, so one
// entry plus the sync framing and the 8-byte datagram header fits a 1,200-byte datagram.
//
// Digests. key_hash (64 bits) places the key in the Merkle tree; digest (16 bytes) is the
// entry's Merkle leaf digest. Both are BLAKE2b (crypto::mac with fixed, public,
// purpose-specific keys; libsodium stays inside crypto) truncated: the leaf digest covers every
// wire byte of the entry (key, content, version, flags and signature), so an attacker who
// grinds entries cannot make two different entries share a leaf digest short of a 2^64
// birthday search (see the threat model in merkle/tree.hpp).
//
// Decoding is pure and bounds-checked, never asserts on input, and accepts exactly one
// encoding per entry (minimal varints, no trailing bytes). It does not verify the signature:
// replica::receive() does that, batched. Any thread; encode/decode allocate the entry's
// strings.

#include <ainet/core/bytes.hpp>
#include <ainet/core/result.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/merkle/hash.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ainet::registry {

enum class errc : uint8_t {
    truncated = 1,      // the encoding ended early
    trailing_bytes,     // bytes after a complete entry
    bad_varint,         // an overlong or non-minimal varint
    name_size,          // name empty or above name_size_max
    value_size,         // value above value_size_max
    oversized,          // more than entry_wire_size_max bytes
    bad_flags,          // a flag bit outside flags_defined_mask
    tombstone_value,    // a tombstone with a non-empty value
    bad_signature,      // the signature does not verify
    too_far_in_future,  // hlc more than max_clock_skew ahead of the local clock
    not_newer,          // a local write that does not supersede the stored entry
    store_full,         // entry_count_max reached
    hlc_overflow,       // the clock would pass 2^48 ms
};
[[nodiscard]] std::string_view to_string(errc e) noexcept;
template <class T>
using result = ainet::result<T, errc>;

inline constexpr size_t name_size_max = 64;
inline constexpr size_t value_size_max = 960;
inline constexpr uint8_t flag_tombstone = 0x01;
inline constexpr uint8_t flags_defined_mask = flag_tombstone;
// 32 key + 8 hlc + 1 flags + 1 name size + 64 name + 2 value size + 960 value + 64 signature.
inline constexpr size_t entry_wire_size_max =
    crypto::public_key_size + 8 + 1 + 1 + name_size_max + 2 + value_size_max +
    crypto::signature_size;
static_assert(entry_wire_size_max == 1132);

struct entry {
    crypto::public_key public_key{};
    std::string name;
    std::string value;
    uint64_t hlc = 0;  // hlc.hpp: 48-bit unix ms << 16 | 16-bit logical counter
    uint8_t flags = 0;
    crypto::signature signature{};

    [[nodiscard]] bool tombstone() const noexcept { return (flags & flag_tombstone) != 0; }
    friend bool operator==(const entry&, const entry&) = default;
};

// Checks the limits above (not the signature).
[[nodiscard]] result<void> check_limits(const entry& e) noexcept;
// The signed payload. Precondition: check_limits(e).
[[nodiscard]] std::vector<uint8_t> encode_payload(const entry& e);
// The wire form (payload || signature). Precondition: check_limits(e).
[[nodiscard]] std::vector<uint8_t> encode(const entry& e);
[[nodiscard]] result<entry> decode(bytes_view wire);

// A signed entry (tests, tools, the simulator; a node signs with its key file).
[[nodiscard]] entry make_entry(const crypto::key_pair& keys, std::string name, std::string value,
                               uint64_t hlc, uint8_t flags = 0);
// Verifies e's signature alone (the batched path is replica::receive()).
[[nodiscard]] bool verify(const entry& e);

// BLAKE2b of (public_key || name), the first 8 bytes little-endian.
[[nodiscard]] uint64_t key_hash(const crypto::public_key& key, std::string_view name) noexcept;
// BLAKE2b of the whole wire encoding, first 16 bytes: the Merkle leaf digest.
[[nodiscard]] merkle::digest entry_digest(bytes_view wire) noexcept;
// Leaf digest of several entries sharing one key_hash: BLAKE2b of their digests in key order.
[[nodiscard]] merkle::digest fold_digests(std::span<const merkle::digest> digests) noexcept;

} // namespace ainet::registry
