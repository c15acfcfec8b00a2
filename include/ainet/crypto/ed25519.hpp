#pragma once
// Ed25519 keys, domain-separated signing and verification: the crypto module's public API.
//
// This module is the only one that includes libsodium (enforced by tools/check_layering.py).
// Signing is libsodium's; verification is ainet's own predicate (docs/protocol/signing.md, "The
// verification predicate": S < L, canonical A and R of non-small order, cofactored equation),
// which verify(), verify_raw(), verify_batch() and batch_verifier (batch_verifier.hpp) share.
//
// Signed objects: what is signed is never the raw payload but
//     u8 context_size || context (ASCII, e.g. "ainet/v1/relay-hello") || payload
// where each object type has its own context, so a signature made for one type can never verify
// as another. The payload itself is the object's canonical binary encoding (fixed field order,
// explicit lengths) built with byte_writer by the module that owns the object.
//
// Thread safety: key_pair is immutable after construction and may be read from any thread.
// init() must run once before anything else (it is cheap and idempotent).

#include <ainet/core/bytes.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/result.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ainet::crypto {

enum class errc : uint8_t {
    init_failed = 1,          // libsodium could not initialise (no entropy source)
    key_file_io,              // could not open, read, write, fsync or rename the key file
    key_file_permissions,     // the key file is readable or writable by group or others
    key_file_malformed,       // not a key file of this format, or a bad field in it
    key_file_key_mismatch,    // the public key in the file does not belong to its secret seed
    bad_public_key,           // a public key that is not a valid curve point encoding
    bad_signature,            // the signature does not verify
};
[[nodiscard]] std::string_view to_string(errc e) noexcept;
template <class T>
using result = ainet::result<T, errc>;

inline constexpr size_t public_key_size = 32;
inline constexpr size_t seed_size = 32;
inline constexpr size_t signature_size = 64;

using public_key = std::array<uint8_t, public_key_size>;
using signature = std::array<uint8_t, signature_size>;
using seed = std::array<uint8_t, seed_size>;

// Object types that carry signatures. Values are stable: they never change meaning. The
// context strings are tabled in docs/protocol/signing.md.
enum class sig_domain : uint8_t {
    relay_hello = 1,      // a peer proving its key to a relay, bound to its address
    node_record = 2,      // a node's self-signed record in bootstrap discovery
    bootstrap_list = 3,   // a node's signed list of records (GET /bootstrap/nodes)
    registry_entry = 4,   // a registry entry
    membership_alive = 5, // a node's own alive/incarnation claim
    cli_message = 6,      // `ainetctl sign --domain cli` messages
};
// The ASCII context string of a domain, e.g. "ainet/v1/relay-hello".
[[nodiscard]] std::string_view context_string(sig_domain domain) noexcept;

// Initialises libsodium. Safe to call many times, from any thread.
[[nodiscard]] result<void> init() noexcept;

class key_pair {
public:
    // A fresh key pair from libsodium's CSPRNG.
    [[nodiscard]] static key_pair generate();
    // The key pair an RFC 8032 seed determines (tests, vectors, deterministic simulations).
    [[nodiscard]] static key_pair from_seed(const seed& secret_seed) noexcept;

    key_pair(const key_pair&) = default;
    key_pair& operator=(const key_pair&) = default;
    ~key_pair();

    [[nodiscard]] const public_key& public_key_bytes() const noexcept { return m_public; }
    [[nodiscard]] node_id id() const noexcept { return node_id{m_public}; }
    [[nodiscard]] const seed& secret_seed() const noexcept { return m_seed; }

    // Signs context(domain) || payload.
    [[nodiscard]] signature sign(sig_domain domain, bytes_view payload) const;
    // Signs exactly message (no domain prefix): for test vectors and `ainetctl sign --raw`.
    [[nodiscard]] signature sign_raw(bytes_view message) const noexcept;

private:
    key_pair() = default;
    seed m_seed{};
    std::array<uint8_t, 64> m_secret{}; // libsodium's expanded form: seed || public key
    public_key m_public{};
};

// Verifies a signature over context(domain) || payload. Allocates nothing while the signed
// message (1 + context + payload) fits 2048 bytes; larger payloads use a heap buffer.
[[nodiscard]] bool verify(const public_key& key, sig_domain domain, bytes_view payload,
                          const signature& sig) noexcept;
// Verifies a signature over exactly message.
[[nodiscard]] bool verify_raw(const public_key& key, bytes_view message,
                              const signature& sig) noexcept;

// One signature to check in a batch; message is the exact signed bytes (domain prefix
// included, see signed_message()), borrowed for the duration of the call.
struct verify_request {
    public_key key;
    bytes_view message;
    signature sig;
};
// Verifies every request; verdicts[i] is the verdict of requests[i], identical to verify_raw's
// (batched: random linear combination + bisection, see docs/protocol/signing.md). Allocates a
// workspace (about 0.4 MiB) on a thread's first batch of two or more, nothing after.
// Precondition: verdicts.size() == requests.size().
void verify_batch(std::span<const verify_request> requests, std::span<bool> verdicts) noexcept;

// The exact bytes signed for (domain, payload), for callers that batch.
[[nodiscard]] std::vector<uint8_t> signed_message(sig_domain domain, bytes_view payload);

// Key files: text, mode 0600, written atomically (temp file + fsync + rename + fsync of the
// directory). The format is documented in docs/protocol/signing.md ("Key files").
[[nodiscard]] result<void> save_key_file(const std::filesystem::path& path, const key_pair& keys);
// Fails with key_file_permissions if group or others may read or write the file, and with
// key_file_malformed on anything but the exact format.
[[nodiscard]] result<key_pair> load_key_file(const std::filesystem::path& path);
// Parses key file text (no permission check): the part of load_key_file that is fuzzed.
[[nodiscard]] result<key_pair> parse_key_file(std::string_view text);
[[nodiscard]] std::string format_key_file(const key_pair& keys);
// "key file /x/y.key: the key file is readable by group or others (run chmod 600 /x/y.key)".
[[nodiscard]] std::string describe_key_file_error(const std::filesystem::path& path, errc e);

} // namespace ainet::crypto
