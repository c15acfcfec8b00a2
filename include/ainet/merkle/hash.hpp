#pragma once
// XXH3-128 as the Merkle tree uses it: one function, several interchangeable implementations.
//
// Every backend computes the same XXH3-128 value (xxHash 0.8 specification, seed 0, default
// secret); they differ only in the instructions used for inputs above 240 bytes, where XXH3
// switches to its striped, SIMD-friendly loop. Inner nodes hash 256 bytes (16 child digests of
// 16 bytes), so the backend matters for them. Debian's libxxhash is built for baseline x86-64
// (SSE2), so the merkle module compiles xxhash.h inline (XXH_INLINE_ALL) once per instruction
// set in its own translation unit (-mavx2, -mavx512f, ...) and picks the best one the CPU
// supports at run time (`automatic`). The library's own entry points are kept as backends for
// comparison: `library` (XXH3_128bits, SSE2 in Debian's build) and `library_dispatch`
// (XXH3_128bits_dispatch, which Debian's shared libxxhash exports).
//
// Pure functions, any thread, no allocation. xxhash.h itself is included only in src/merkle/.

#include <ainet/core/bytes.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ainet::merkle {

inline constexpr size_t digest_size = 16;

// A 16-byte digest: XXH3-128 in its canonical (big-endian) byte form for tree nodes, or the
// caller's cryptographic leaf digest. All zero is the digest of an empty subtree.
struct digest {
    std::array<uint8_t, digest_size> bytes{};

    friend constexpr auto operator<=>(const digest&, const digest&) = default;
    friend constexpr bool operator==(const digest&, const digest&) = default;
    [[nodiscard]] constexpr bool is_zero() const noexcept {
        for (uint8_t b : bytes)
            if (b != 0)
                return false;
        return true;
    }
};

enum class hash_backend : uint8_t {
    automatic,        // the fastest inline backend this CPU supports (resolved at construction)
    scalar,           // inline, XXH_VECTOR=XXH_SCALAR
    sse2,             // inline, XXH_VECTOR=XXH_SSE2
    avx2,             // inline, XXH_VECTOR=XXH_AVX2 (TU built with -mavx2)
    avx512,           // inline, XXH_VECTOR=XXH_AVX512 (TU built with -mavx512f)
    library,          // libxxhash's XXH3_128bits (Debian: SSE2), one call through the PLT
    library_dispatch, // libxxhash's XXH3_128bits_dispatch (its own runtime CPU dispatch)
};

[[nodiscard]] std::string_view to_string(hash_backend backend) noexcept;

// Whether this CPU can run the backend (automatic, scalar, sse2 and the library ones: always).
[[nodiscard]] bool backend_supported(hash_backend backend) noexcept;

// `automatic` resolved to a concrete backend; other values are returned unchanged.
[[nodiscard]] hash_backend resolve(hash_backend backend) noexcept;

using hash_fn = digest (*)(const void* data, size_t size) noexcept;

// The function implementing a backend. Precondition: backend_supported(backend).
[[nodiscard]] hash_fn hash_function(hash_backend backend) noexcept;

// XXH3-128 of data with the given backend (automatic by default).
[[nodiscard]] digest xxh3_128(bytes_view data, hash_backend backend = hash_backend::automatic) noexcept;

// XXH3-64 of a digest with a seed, for salted wire fingerprints (see reconcile.hpp).
[[nodiscard]] uint64_t xxh3_64_seeded(const digest& d, uint64_t seed) noexcept;

} // namespace ainet::merkle
