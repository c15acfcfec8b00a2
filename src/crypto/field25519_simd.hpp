#pragma once
// Optional AVX-512 IFMA field arithmetic for the one job that is naturally parallel and
// identical across signatures: the 2^252 - 3 power inside point decoding (issue 7, "optional
// SIMD path"). Sixteen exponentiations run at once, as two vectors of eight lanes in radix
// 2^52 (vpmadd52luq / vpmadd52huq); the portable code (field25519.hpp) stays the reference and
// the fallback, and tests compare the two.
//
// Private to src/crypto. The IFMA functions are compiled with a target attribute
// (field25519_simd.cpp) and only called after a run-time CPU check, so the library still runs
// on any x86-64 (and builds on other architectures, where the path is absent).
//
// Selection: on by default when the CPU has AVX-512F, VL and IFMA; the environment variable
// AINET_CRYPTO_PORTABLE=1 (read once, at first use) or set_field_simd_enabled(false) forces the
// portable path. The switch is a relaxed atomic: any thread may read it; tests and benchmarks
// flip it between runs, never during one.

#include "field25519.hpp"

#include <cstddef>

namespace ainet::crypto::detail {

// The exponentiations fe_pow22523_simd computes at once.
inline constexpr size_t simd_pow_lanes = 16;

// True when this CPU (and this build) can run the IFMA path.
[[nodiscard]] bool field_simd_available() noexcept;
// True when decoding uses the IFMA path: available, and neither AINET_CRYPTO_PORTABLE=1 nor
// set_field_simd_enabled(false) turned it off.
[[nodiscard]] bool field_simd_enabled() noexcept;
// Turns the IFMA path on or off (on only takes effect where it is available); returns the
// previous field_simd_enabled().
bool set_field_simd_enabled(bool enabled) noexcept;

// Sets field_simd_enabled for a scope, then restores it (tests and benchmarks).
class field_simd_scope {
public:
    explicit field_simd_scope(bool enabled) noexcept
        : m_previous(set_field_simd_enabled(enabled)) {}
    ~field_simd_scope() { set_field_simd_enabled(m_previous); }
    field_simd_scope(const field_simd_scope&) = delete;
    field_simd_scope& operator=(const field_simd_scope&) = delete;

private:
    bool m_previous;
};

// z[k]^(2^252 - 3) for every k, exactly fe_pow22523's values (the limbs may differ).
// Precondition: field_simd_available(); every z[k] has limbs below 2^54.
void fe_pow22523_simd(fe (&z)[simd_pow_lanes]) noexcept;

} // namespace ainet::crypto::detail
