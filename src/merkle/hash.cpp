// Backend selection for XXH3-128 (hash.hpp). The inline backends live in xxh3_<isa>.cpp.
#include <ainet/merkle/hash.hpp>

#include "xxh3_impl.hpp"

#include <xxhash.h>

#include <cstring>

// Exported by Debian's shared libxxhash (built with xxh_x86dispatch.c). Declared here rather than
// through xxh_x86dispatch.h, which may redirect XXH3_128bits itself.
extern "C" XXH128_hash_t XXH3_128bits_dispatch(const void* input, size_t len);

namespace ainet::merkle {
namespace {

template <void (*Impl)(const void*, size_t, uint8_t*) noexcept>
digest inline_backend(const void* data, size_t size) noexcept {
    digest out;
    Impl(data, size, out.bytes.data());
    return out;
}

digest from_xxh128(XXH128_hash_t hash) noexcept {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, hash);
    digest out;
    static_assert(sizeof(canonical.digest) == digest_size);
    std::memcpy(out.bytes.data(), canonical.digest, digest_size);
    return out;
}

digest library_backend(const void* data, size_t size) noexcept {
    return from_xxh128(XXH3_128bits(data, size));
}

digest library_dispatch_backend(const void* data, size_t size) noexcept {
    return from_xxh128(XXH3_128bits_dispatch(data, size));
}

} // namespace

std::string_view to_string(hash_backend backend) noexcept {
    switch (backend) {
    case hash_backend::automatic: return "automatic";
    case hash_backend::scalar: return "scalar";
    case hash_backend::sse2: return "sse2";
    case hash_backend::avx2: return "avx2";
    case hash_backend::avx512: return "avx512";
    case hash_backend::library: return "library";
    case hash_backend::library_dispatch: return "library_dispatch";
    }
    return "unknown";
}

bool backend_supported(hash_backend backend) noexcept {
    switch (backend) {
    case hash_backend::avx2: return __builtin_cpu_supports("avx2");
    case hash_backend::avx512: return __builtin_cpu_supports("avx512f");
    default: return true;
    }
}

hash_backend resolve(hash_backend backend) noexcept {
    if (backend != hash_backend::automatic)
        return backend;
    // AVX-512 is measured no faster than AVX2 on 256-byte inputs (docs/BENCHMARKS.md) and may
    // lower clocks on some CPUs, so AVX2 is preferred.
    if (backend_supported(hash_backend::avx2))
        return hash_backend::avx2;
    return hash_backend::sse2;
}

hash_fn hash_function(hash_backend backend) noexcept {
    backend = resolve(backend);
    AINET_ASSERT(backend_supported(backend));
    switch (backend) {
    case hash_backend::scalar: return &inline_backend<detail::xxh3_128_scalar>;
    case hash_backend::sse2: return &inline_backend<detail::xxh3_128_sse2>;
    case hash_backend::avx2: return &inline_backend<detail::xxh3_128_avx2>;
    case hash_backend::avx512: return &inline_backend<detail::xxh3_128_avx512>;
    case hash_backend::library: return &library_backend;
    case hash_backend::library_dispatch: return &library_dispatch_backend;
    case hash_backend::automatic: break;
    }
    AINET_UNREACHABLE();
}

digest xxh3_128(bytes_view data, hash_backend backend) noexcept {
    return hash_function(backend)(data.data(), data.size());
}

uint64_t xxh3_64_seeded(const digest& d, uint64_t seed) noexcept {
    return XXH3_64bits_withSeed(d.bytes.data(), d.bytes.size(), seed);
}

} // namespace ainet::merkle
