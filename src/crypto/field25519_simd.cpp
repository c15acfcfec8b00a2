// AVX-512 IFMA exponentiation for point decoding (see field25519_simd.hpp).
//
// Representation: an element per 64-bit lane as five limbs in radix 2^52, value
// sum l[i] 2^(52 i), with l[0..3] below 2^52 and l[4] below 2^47 + 1 (so the value is below
// 2^255 + 2^208). vpmadd52luq / vpmadd52huq add the low / high 52 bits of the 104-bit product
// of two lanes' low 52 bits to an accumulator, so every multiplication input must have limbs
// below 2^52 exactly: the reduction below restores that after every operation.
#include "field25519_simd.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define AINET_FIELD_SIMD 1
#include <immintrin.h>
#else
#define AINET_FIELD_SIMD 0
#endif

namespace ainet::crypto::detail {

namespace {

bool cpu_has_ifma() noexcept {
#if AINET_FIELD_SIMD
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512ifma");
#else
    return false;
#endif
}

bool portable_forced_by_environment() noexcept {
    const char* value = std::getenv("AINET_CRYPTO_PORTABLE");
    return value != nullptr && std::strcmp(value, "1") == 0;
}

// Function-local statics, so that a decoding run during another file's static
// initialisation still sees the detected values.
std::atomic<bool>& simd_enabled() noexcept {
    static std::atomic<bool> enabled{cpu_has_ifma() && !portable_forced_by_environment()};
    return enabled;
}

} // namespace

bool field_simd_available() noexcept {
    static const bool available = cpu_has_ifma();
    return available;
}

bool field_simd_enabled() noexcept { return simd_enabled().load(std::memory_order_relaxed); }

bool set_field_simd_enabled(bool enabled) noexcept {
    return simd_enabled().exchange(enabled && field_simd_available(), std::memory_order_relaxed);
}

#if AINET_FIELD_SIMD

#define AINET_IFMA __attribute__((target("avx512f,avx512ifma,avx512vl"), always_inline)) inline

namespace {

// Number of 8-lane vectors processed together: one vector's squaring is a long dependency
// chain (accumulations into the same column, then serial carries); two interleaved keep the
// multipliers busy.
constexpr size_t vectors = simd_pow_lanes / 8;

// GCC/Clang vector extensions for the plain lane-wise operations (+, &, >>), intrinsics only
// for the IFMA multiplications.
typedef uint64_t v8 __attribute__((vector_size(64)));

struct fe8 {
    v8 l[5];
};
using fe8s = fe8[vectors];

AINET_IFMA v8 mlo(v8 acc, v8 a, v8 b) {
    return reinterpret_cast<v8>(_mm512_madd52lo_epu64(reinterpret_cast<__m512i>(acc),
                                                      reinterpret_cast<__m512i>(a),
                                                      reinterpret_cast<__m512i>(b)));
}
AINET_IFMA v8 mhi(v8 acc, v8 a, v8 b) {
    return reinterpret_cast<v8>(_mm512_madd52hi_epu64(reinterpret_cast<__m512i>(acc),
                                                      reinterpret_cast<__m512i>(a),
                                                      reinterpret_cast<__m512i>(b)));
}

// Columns t[0..9] (each below 2^56; t[9] below 2^43, which holds for inputs whose top limb is
// below 2^47 + 1) to an element in the representation above.
AINET_IFMA fe8 reduce(v8 (&t)[10]) {
    constexpr uint64_t m52 = (uint64_t{1} << 52) - 1;
    constexpr uint64_t m47 = (uint64_t{1} << 47) - 1;
    const v8 c608 = v8{} + 608; // 2^260 = 2^5 * 19 (mod p)
    const v8 c19 = v8{} + 19;   // 2^255 = 19 (mod p)
    // The high columns become multiplication inputs: carry them below 2^52.
#pragma GCC unroll 8
    for (int k = 5; k < 9; ++k) {
        t[k + 1] += t[k] >> 52;
        t[k] &= m52;
    }
    // t[k] 2^(52 k) = 608 t[k] 2^(52 (k - 5)); 608 t[9] is below 2^52, so it has no high part.
#pragma GCC unroll 8
    for (int k = 5; k < 9; ++k) {
        t[k - 5] = mlo(t[k - 5], t[k], c608);
        t[k - 4] = mhi(t[k - 4], t[k], c608);
    }
    t[4] = mlo(t[4], t[9], c608);
#pragma GCC unroll 8
    for (int k = 0; k < 4; ++k) {
        t[k + 1] += t[k] >> 52;
        t[k] &= m52;
    }
    // Bits 255 and up (t[4] from bit 47) come back as 19 times their value; the second carry
    // pass then brings every limb below 2^52 again (t[4] below 2^47 + 1).
    t[0] = mlo(t[0], t[4] >> 47, c19);
    t[4] &= m47;
#pragma GCC unroll 8
    for (int k = 0; k < 4; ++k) {
        t[k + 1] += t[k] >> 52;
        t[k] &= m52;
    }
    return fe8{{t[0], t[1], t[2], t[3], t[4]}};
}

AINET_IFMA fe8 mul(const fe8& a, const fe8& b) {
    v8 t[10] = {};
#pragma GCC unroll 5
    for (int i = 0; i < 5; ++i) {
#pragma GCC unroll 5
        for (int j = 0; j < 5; ++j) {
            t[i + j] = mlo(t[i + j], a.l[i], b.l[j]);
            t[i + j + 1] = mhi(t[i + j + 1], a.l[i], b.l[j]);
        }
    }
    return reduce(t);
}

AINET_IFMA fe8 sq(const fe8& a) {
    v8 t[10] = {};
    // Cross products once, doubled, then the squares.
#pragma GCC unroll 5
    for (int i = 0; i < 5; ++i) {
#pragma GCC unroll 5
        for (int j = i + 1; j < 5; ++j) {
            t[i + j] = mlo(t[i + j], a.l[i], a.l[j]);
            t[i + j + 1] = mhi(t[i + j + 1], a.l[i], a.l[j]);
        }
    }
#pragma GCC unroll 10
    for (auto& column : t)
        column += column;
#pragma GCC unroll 5
    for (int i = 0; i < 5; ++i) {
        t[2 * i] = mlo(t[2 * i], a.l[i], a.l[i]);
        t[2 * i + 1] = mhi(t[2 * i + 1], a.l[i], a.l[i]);
    }
    return reduce(t);
}

AINET_IFMA void sq_times(fe8s& f, int count) {
    for (int i = 0; i < count; ++i) {
#pragma GCC unroll 4
        for (size_t v = 0; v < vectors; ++v)
            f[v] = sq(f[v]);
    }
}

AINET_IFMA void mul_into(fe8s& out, const fe8s& f, const fe8s& g) {
#pragma GCC unroll 4
    for (size_t v = 0; v < vectors; ++v)
        out[v] = mul(f[v], g[v]);
}

AINET_IFMA void copy(fe8s& out, const fe8s& f) {
#pragma GCC unroll 4
    for (size_t v = 0; v < vectors; ++v)
        out[v] = f[v];
}

// fe (radix 2^51, limbs below 2^54) -> radix 2^52 limbs of its canonical value.
void to_radix52(uint64_t out[5], const fe& f) noexcept {
    const auto bytes = fe_to_bytes(f);
    uint64_t w[4];
    std::memcpy(w, bytes.data(), 32); // x86-64 is little-endian
    const uint64_t m52 = (uint64_t{1} << 52) - 1;
    out[0] = w[0] & m52;
    out[1] = ((w[0] >> 52) | (w[1] << 12)) & m52;
    out[2] = ((w[1] >> 40) | (w[2] << 24)) & m52;
    out[3] = ((w[2] >> 28) | (w[3] << 36)) & m52;
    out[4] = w[3] >> 16;
}

// Radix 2^52 limbs as above (value below 2^256) -> fe with limbs below 2^52.
fe from_radix52(const uint64_t l[5]) noexcept {
    const uint64_t w[4] = {l[0] | (l[1] << 52), (l[1] >> 12) | (l[2] << 40),
                           (l[2] >> 24) | (l[3] << 28), (l[3] >> 36) | (l[4] << 16)};
    return fe{{w[0] & fe_mask51, ((w[0] >> 51) | (w[1] << 13)) & fe_mask51,
               ((w[1] >> 38) | (w[2] << 26)) & fe_mask51, ((w[2] >> 25) | (w[3] << 39)) & fe_mask51,
               w[3] >> 12}};
}

// The chain of fe_pow22523_lanes (field25519.hpp), on vectors.
__attribute__((target("avx512f,avx512ifma,avx512vl"))) void pow22523(fe8s& z) {
    fe8s z2, z9, z11, z_5_0, z_10_0, z_50_0, t, u;
#pragma GCC unroll 4
    for (size_t v = 0; v < vectors; ++v)
        z2[v] = sq(z[v]);
    copy(t, z2);
    sq_times(t, 2);
    mul_into(z9, t, z);
    mul_into(z11, z9, z2);
    copy(t, z11);
    sq_times(t, 1);
    mul_into(z_5_0, t, z9); // 2^5 - 1
    copy(t, z_5_0);
    sq_times(t, 5);
    mul_into(z_10_0, t, z_5_0); // 2^10 - 1
    copy(t, z_10_0);
    sq_times(t, 10);
    mul_into(u, t, z_10_0); // 2^20 - 1
    copy(t, u);
    sq_times(t, 20);
    mul_into(t, t, u); // 2^40 - 1
    sq_times(t, 10);
    mul_into(z_50_0, t, z_10_0); // 2^50 - 1
    copy(t, z_50_0);
    sq_times(t, 50);
    mul_into(u, t, z_50_0); // 2^100 - 1
    copy(t, u);
    sq_times(t, 100);
    mul_into(t, t, u); // 2^200 - 1
    sq_times(t, 50);
    mul_into(t, t, z_50_0); // 2^250 - 1
    sq_times(t, 2);
    mul_into(z, t, z); // 2^252 - 3
}

} // namespace

__attribute__((target("avx512f,avx512ifma,avx512vl"))) void
fe_pow22523_simd(fe (&z)[simd_pow_lanes]) noexcept {
    alignas(64) uint64_t limbs[vectors][5][8];
    for (size_t k = 0; k < simd_pow_lanes; ++k) {
        uint64_t l[5];
        to_radix52(l, z[k]);
        for (size_t i = 0; i < 5; ++i)
            limbs[k / 8][i][k % 8] = l[i];
    }
    fe8s x;
    for (size_t v = 0; v < vectors; ++v)
        for (size_t i = 0; i < 5; ++i)
            std::memcpy(&x[v].l[i], limbs[v][i], sizeof(v8));
    pow22523(x);
    for (size_t v = 0; v < vectors; ++v)
        for (size_t i = 0; i < 5; ++i)
            std::memcpy(limbs[v][i], &x[v].l[i], sizeof(v8));
    for (size_t k = 0; k < simd_pow_lanes; ++k) {
        uint64_t l[5];
        for (size_t i = 0; i < 5; ++i)
            l[i] = limbs[k / 8][i][k % 8];
        z[k] = from_radix52(l);
    }
}

#else

void fe_pow22523_simd(fe (&)[simd_pow_lanes]) noexcept {}

#endif

} // namespace ainet::crypto::detail
