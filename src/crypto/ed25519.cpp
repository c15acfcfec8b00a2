// Ed25519 keys and domain-separated signing on top of libsodium (see ed25519.hpp).
#include <ainet/crypto/ed25519.hpp>

#include "batch_impl.hpp"
#include "verify_impl.hpp"

#include <sodium.h>

#include <cstring>

namespace ainet::crypto {

namespace {

// Every context string is shorter than this, so its size fits the u8 prefix with room to spare.
constexpr size_t context_size_max = 64;

// Signed messages up to this size (prefix included) are built in a stack buffer, so verifying
// or signing an object that fits one datagram allocates nothing; larger ones use the heap.
constexpr size_t stack_message_size_max = 2048;

static_assert(crypto_sign_PUBLICKEYBYTES == public_key_size);
static_assert(crypto_sign_SEEDBYTES == seed_size);
static_assert(crypto_sign_BYTES == signature_size);
static_assert(crypto_sign_SECRETKEYBYTES == 64);

size_t signed_message_size(std::string_view context, bytes_view payload) noexcept {
    return 1 + context.size() + payload.size();
}

void write_signed_message(std::string_view context, bytes_view payload,
                          mutable_bytes out) noexcept {
    AINET_ASSERT(context.size() < context_size_max);
    AINET_ASSERT(out.size() == signed_message_size(context, payload));
    byte_writer writer(out);
    writer.u8(static_cast<uint8_t>(context.size()));
    writer.bytes(context);
    writer.bytes(payload);
    AINET_ASSERT(writer.ok() && writer.position() == out.size());
}

// Calls fn(bytes_view message) with message = u8 size || context(domain) || payload.
template <class Fn>
auto with_signed_message(sig_domain domain, bytes_view payload, Fn&& fn) {
    const std::string_view context = context_string(domain);
    const size_t size = signed_message_size(context, payload);
    if (size <= stack_message_size_max) {
        std::array<uint8_t, stack_message_size_max> buffer; // filled below, up to size
        const mutable_bytes message(buffer.data(), size);
        write_signed_message(context, payload, message);
        return fn(bytes_view(message));
    }
    std::vector<uint8_t> heap(size);
    write_signed_message(context, payload, heap);
    return fn(bytes_view(heap));
}

} // namespace

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::init_failed:
        return "libsodium could not initialise";
    case errc::key_file_io:
        return "key file could not be read or written";
    case errc::key_file_permissions:
        return "key file is accessible by group or others";
    case errc::key_file_malformed:
        return "key file is malformed";
    case errc::key_file_key_mismatch:
        return "key file public key does not match its seed";
    case errc::bad_public_key:
        return "bad public key";
    case errc::bad_signature:
        return "bad signature";
    }
    return "unknown crypto error";
}

std::string_view context_string(sig_domain domain) noexcept {
    switch (domain) {
    case sig_domain::relay_hello:
        return "ainet/v1/relay-hello";
    case sig_domain::node_record:
        return "ainet/v1/node-record";
    case sig_domain::bootstrap_list:
        return "ainet/v1/bootstrap-list";
    case sig_domain::registry_entry:
        return "ainet/v1/registry-entry";
    case sig_domain::membership_alive:
        return "ainet/v1/membership-alive";
    case sig_domain::cli_message:
        return "ainet/v1/cli-message";
    }
    // A domain value outside the enum is a bug in the caller, never untrusted input: domains
    // are chosen by code, not read off the wire.
    AINET_UNREACHABLE();
}

result<void> init() noexcept {
    // sodium_init returns 0 on first success, 1 when already initialised, -1 on failure.
    if (sodium_init() < 0)
        return fail(errc::init_failed);
    return {};
}

key_pair key_pair::generate() {
    // init() is idempotent; the CSPRNG must be ready before the seed is drawn.
    const bool ready = init().has_value();
    AINET_ASSERT_MSG(ready, "libsodium could not initialise");
    seed fresh{};
    randombytes_buf(fresh.data(), fresh.size());
    key_pair keys = from_seed(fresh);
    sodium_memzero(fresh.data(), fresh.size());
    return keys;
}

key_pair key_pair::from_seed(const seed& secret_seed) noexcept {
    key_pair keys;
    keys.m_seed = secret_seed;
    const int rc =
        crypto_sign_seed_keypair(keys.m_public.data(), keys.m_secret.data(), secret_seed.data());
    AINET_ASSERT(rc == 0);
    // libsodium's secret key is seed || public key; sign() depends on that layout.
    AINET_ASSERT(std::memcmp(keys.m_secret.data(), secret_seed.data(), seed_size) == 0);
    AINET_ASSERT(
        std::memcmp(keys.m_secret.data() + seed_size, keys.m_public.data(), public_key_size) == 0);
    return keys;
}

key_pair::~key_pair() {
    sodium_memzero(m_seed.data(), m_seed.size());
    sodium_memzero(m_secret.data(), m_secret.size());
}

signature key_pair::sign(sig_domain domain, bytes_view payload) const {
    return with_signed_message(domain, payload,
                               [this](bytes_view message) { return sign_raw(message); });
}

signature key_pair::sign_raw(bytes_view message) const noexcept {
    signature sig{};
    const int rc =
        crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), m_secret.data());
    AINET_ASSERT(rc == 0);
    return sig;
}

bool verify(const public_key& key, sig_domain domain, bytes_view payload,
            const signature& sig) noexcept {
    return with_signed_message(domain, payload, [&](bytes_view message) {
        return detail::verify_predicate(key, message, sig);
    });
}

bool verify_raw(const public_key& key, bytes_view message, const signature& sig) noexcept {
    return detail::verify_predicate(key, message, sig);
}

void verify_batch(std::span<const verify_request> requests, std::span<bool> verdicts) noexcept {
    AINET_ASSERT(verdicts.size() == requests.size());
    if (requests.empty())
        return;
    // One signature gains nothing from batching; the single path is the predicate itself.
    if (requests.size() == 1) {
        verdicts[0] = detail::verify_predicate(requests[0].key, requests[0].message, requests[0].sig);
        return;
    }
    // One workspace per thread, allocated on the thread's first batch and reused after: the
    // data path allocates nothing in steady state.
    thread_local detail::batch_workspace_ptr workspace;
    if (!workspace)
        workspace = detail::make_batch_workspace();
    detail::batch_verify(*workspace, requests, verdicts);
}

std::vector<uint8_t> signed_message(sig_domain domain, bytes_view payload) {
    const std::string_view context = context_string(domain);
    std::vector<uint8_t> message(signed_message_size(context, payload));
    write_signed_message(context, payload, message);
    return message;
}

} // namespace ainet::crypto
