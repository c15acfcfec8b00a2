#pragma once
// Arithmetic in GF(p), p = 2^255 - 19: the field under Ed25519 (RFC 7748 section 4.1, RFC 8032
// section 5.1).
//
// Private to src/crypto. An element is five unsigned 64-bit limbs in radix 2^51,
// value = sum v[i] * 2^(51 i); limbs may exceed 2^51 (the representation is redundant) and the
// value may exceed p until fe_to_bytes reduces it. Products use 128-bit intermediates.
//
// Nothing here is constant time: the module only uses it for verification, where every input
// is public. Pure functions of their arguments: any thread, no allocation, all constexpr so the
// curve constants are computed (and checked) at compile time.
//
// Limb bounds, which every caller relies on (checked by reasoning below and by the
// "limb bounds" unit test at the extremes):
// - fe_mul, fe_sq and fe_sub return limbs below 2^51 + 2^15 ("carried");
// - fe_add does not carry: the sum of two carried elements has limbs below 2^53;
// - fe_sub_lazy does not carry either: minuend carried or a sum of two carried elements,
//   subtrahend carried, result below 2^54;
// - fe_mul and fe_sq accept limbs below 2^54; fe_sub accepts a subtrahend below 2^55.
// Point formulas (edwards.hpp) never feed a multiplication more than one fe_add or
// fe_sub_lazy away from carried elements, so these bounds hold.

#include <array>
#include <cstddef>
#include <cstdint>

namespace ainet::crypto::detail {

__extension__ typedef unsigned __int128 u128;

// The field operations are a few dozen instructions each and run millions of times per second;
// a call per operation costs more than the arithmetic, so they are always inlined.
#define AINET_FE_INLINE [[gnu::always_inline]] inline

struct fe {
    uint64_t v[5];
};

inline constexpr uint64_t fe_mask51 = (uint64_t{1} << 51) - 1;

constexpr fe fe_zero() noexcept { return fe{{0, 0, 0, 0, 0}}; }
constexpr fe fe_one() noexcept { return fe{{1, 0, 0, 0, 0}}; }
// A small integer (below 2^51) as a field element.
constexpr fe fe_small(uint64_t value) noexcept { return fe{{value, 0, 0, 0, 0}}; }

// One carry pass: limbs below 2^51 except v[1], which may hold a tiny excess (below 2^51 + 2^14
// for any input limb below 2^64).
AINET_FE_INLINE constexpr fe fe_carry(fe h) noexcept {
    uint64_t c = h.v[0] >> 51;
    h.v[0] &= fe_mask51;
    h.v[1] += c;
    c = h.v[1] >> 51;
    h.v[1] &= fe_mask51;
    h.v[2] += c;
    c = h.v[2] >> 51;
    h.v[2] &= fe_mask51;
    h.v[3] += c;
    c = h.v[3] >> 51;
    h.v[3] &= fe_mask51;
    h.v[4] += c;
    c = h.v[4] >> 51;
    h.v[4] &= fe_mask51;
    h.v[0] += c * 19;
    c = h.v[0] >> 51;
    h.v[0] &= fe_mask51;
    h.v[1] += c;
    return h;
}

AINET_FE_INLINE constexpr fe fe_add(const fe& f, const fe& g) noexcept {
    return fe{{f.v[0] + g.v[0], f.v[1] + g.v[1], f.v[2] + g.v[2], f.v[3] + g.v[3],
               f.v[4] + g.v[4]}};
}

// f - g computed as f + 16p - g (16p has limbs just below 2^55), then carried.
AINET_FE_INLINE constexpr fe fe_sub(const fe& f, const fe& g) noexcept {
    constexpr uint64_t p16_0 = (fe_mask51 - 18) * 16; // 16 * (2^51 - 19)
    constexpr uint64_t p16_i = fe_mask51 * 16;        // 16 * (2^51 - 1)
    return fe_carry(fe{{f.v[0] + p16_0 - g.v[0], f.v[1] + p16_i - g.v[1],
                        f.v[2] + p16_i - g.v[2], f.v[3] + p16_i - g.v[3],
                        f.v[4] + p16_i - g.v[4]}});
}

AINET_FE_INLINE constexpr fe fe_neg(const fe& f) noexcept { return fe_sub(fe_zero(), f); }

// f - g computed as f + 4p - g without a carry pass, for a difference that goes straight into
// a multiplication: 4p has limbs just below 2^53, above any carried g's, so no limb wraps, and
// f + 4p stays below 2^54 for f below 2^53. Saves the carry pass of fe_sub (a point addition
// has three such differences).
AINET_FE_INLINE constexpr fe fe_sub_lazy(const fe& f, const fe& g) noexcept {
    constexpr uint64_t p4_0 = (fe_mask51 - 18) * 4; // 4 * (2^51 - 19)
    constexpr uint64_t p4_i = fe_mask51 * 4;        // 4 * (2^51 - 1)
    return fe{{f.v[0] + p4_0 - g.v[0], f.v[1] + p4_i - g.v[1], f.v[2] + p4_i - g.v[2],
               f.v[3] + p4_i - g.v[3], f.v[4] + p4_i - g.v[4]}};
}

// Reduces five 128-bit column sums to a carried element. For factors with limbs below 2^54
// every column is below 77 * 2^108 < 2^115 (column 4 below 5 * 2^108), so each carry fits 64
// bits and so does 19 times the top carry; 64-bit carries cost fewer instructions than
// 128-bit ones and this runs once per multiplication.
AINET_FE_INLINE constexpr fe fe_reduce_wide(u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) noexcept {
    r1 += static_cast<uint64_t>(r0 >> 51);
    r2 += static_cast<uint64_t>(r1 >> 51);
    r3 += static_cast<uint64_t>(r2 >> 51);
    r4 += static_cast<uint64_t>(r3 >> 51);
    const uint64_t top = static_cast<uint64_t>(r4 >> 51); // below 2^57.4
    const uint64_t low0 = (static_cast<uint64_t>(r0) & fe_mask51) + top * 19;
    return fe{{low0 & fe_mask51, (static_cast<uint64_t>(r1) & fe_mask51) + (low0 >> 51),
               static_cast<uint64_t>(r2) & fe_mask51, static_cast<uint64_t>(r3) & fe_mask51,
               static_cast<uint64_t>(r4) & fe_mask51}};
}

AINET_FE_INLINE constexpr fe fe_mul(const fe& f, const fe& g) noexcept {
    const uint64_t g1_19 = g.v[1] * 19, g2_19 = g.v[2] * 19, g3_19 = g.v[3] * 19,
                   g4_19 = g.v[4] * 19;
    const u128 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
    const u128 r0 = f0 * g.v[0] + f1 * g4_19 + f2 * g3_19 + f3 * g2_19 + f4 * g1_19;
    const u128 r1 = f0 * g.v[1] + f1 * g.v[0] + f2 * g4_19 + f3 * g3_19 + f4 * g2_19;
    const u128 r2 = f0 * g.v[2] + f1 * g.v[1] + f2 * g.v[0] + f3 * g4_19 + f4 * g3_19;
    const u128 r3 = f0 * g.v[3] + f1 * g.v[2] + f2 * g.v[1] + f3 * g.v[0] + f4 * g4_19;
    const u128 r4 = f0 * g.v[4] + f1 * g.v[3] + f2 * g.v[2] + f3 * g.v[1] + f4 * g.v[0];
    return fe_reduce_wide(r0, r1, r2, r3, r4);
}

AINET_FE_INLINE constexpr fe fe_sq(const fe& f) noexcept {
    const uint64_t f0_2 = f.v[0] * 2, f1_2 = f.v[1] * 2;
    const uint64_t f3_38 = f.v[3] * 38, f3_19 = f.v[3] * 19, f4_19 = f.v[4] * 19,
                   f4_38 = f.v[4] * 38;
    const u128 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
    const u128 r0 = f0 * f.v[0] + f1 * f4_38 + f2 * f3_38;
    const u128 r1 = u128{f0_2} * f.v[1] + f2 * f4_38 + f3 * f3_19;
    const u128 r2 = u128{f0_2} * f.v[2] + f1 * f.v[1] + f3 * f4_38;
    const u128 r3 = u128{f0_2} * f.v[3] + u128{f1_2} * f.v[2] + f4 * f4_19;
    const u128 r4 = u128{f0_2} * f.v[4] + u128{f1_2} * f.v[3] + f2 * f.v[2];
    return fe_reduce_wide(r0, r1, r2, r3, r4);
}

// f^(2^count) for count >= 1.
constexpr fe fe_sq_times(fe f, int count) noexcept {
    for (int i = 0; i < count; ++i)
        f = fe_sq(f);
    return f;
}

// z^(2^250 - 1) and z^11, shared by fe_invert and fe_pow22523.
struct fe_pow_parts {
    fe z_2_250_1;
    fe z11;
};
constexpr fe_pow_parts fe_pow_2_250_1(const fe& z) noexcept {
    const fe z2 = fe_sq(z);
    const fe z9 = fe_mul(fe_sq_times(z2, 2), z);
    const fe z11 = fe_mul(z9, z2);
    const fe z_5_0 = fe_mul(fe_sq(z11), z9);                      // 2^5 - 1
    const fe z_10_0 = fe_mul(fe_sq_times(z_5_0, 5), z_5_0);       // 2^10 - 1
    const fe z_20_0 = fe_mul(fe_sq_times(z_10_0, 10), z_10_0);    // 2^20 - 1
    const fe z_40_0 = fe_mul(fe_sq_times(z_20_0, 20), z_20_0);    // 2^40 - 1
    const fe z_50_0 = fe_mul(fe_sq_times(z_40_0, 10), z_10_0);    // 2^50 - 1
    const fe z_100_0 = fe_mul(fe_sq_times(z_50_0, 50), z_50_0);   // 2^100 - 1
    const fe z_200_0 = fe_mul(fe_sq_times(z_100_0, 100), z_100_0); // 2^200 - 1
    const fe z_250_0 = fe_mul(fe_sq_times(z_200_0, 50), z_50_0);  // 2^250 - 1
    return {z_250_0, z11};
}

// z^(p - 2) = z^(2^255 - 21): the inverse of z (0 for z = 0).
constexpr fe fe_invert(const fe& z) noexcept {
    const auto parts = fe_pow_2_250_1(z);
    return fe_mul(fe_sq_times(parts.z_2_250_1, 5), parts.z11);
}

// z^((p - 5) / 8) = z^(2^252 - 3): the exponentiation inside square root extraction.
constexpr fe fe_pow22523(const fe& z) noexcept {
    const auto parts = fe_pow_2_250_1(z);
    return fe_mul(fe_sq_times(parts.z_2_250_1, 2), z);
}

// z[k]^(2^252 - 3) for every k < Lanes, the same chain as fe_pow22523 run on Lanes independent
// inputs in lock step. One chain is bound by the latency of a squaring (each one waits for the
// previous), which leaves most of the multiplier idle; independent chains interleaved in one
// instruction stream fill it. Point decoding spends almost all its time here.
template <size_t Lanes>
constexpr void fe_pow22523_lanes(fe (&z)[Lanes]) noexcept {
    using lanes = fe[Lanes];
    const auto sq_times = [](lanes& f, int count) {
        for (int i = 0; i < count; ++i)
            for (size_t k = 0; k < Lanes; ++k)
                f[k] = fe_sq(f[k]);
    };
    const auto mul = [](lanes& out, const lanes& f, const lanes& g) {
        for (size_t k = 0; k < Lanes; ++k)
            out[k] = fe_mul(f[k], g[k]);
    };
    lanes z2, z9, z11, z_5_0, z_10_0, z_50_0, t, u;
    for (size_t k = 0; k < Lanes; ++k)
        z2[k] = fe_sq(z[k]);
    for (size_t k = 0; k < Lanes; ++k)
        t[k] = z2[k];
    sq_times(t, 2);
    mul(z9, t, z);
    mul(z11, z9, z2);
    for (size_t k = 0; k < Lanes; ++k)
        t[k] = fe_sq(z11[k]);
    mul(z_5_0, t, z9); // 2^5 - 1
    for (size_t k = 0; k < Lanes; ++k)
        t[k] = z_5_0[k];
    sq_times(t, 5);
    mul(z_10_0, t, z_5_0); // 2^10 - 1
    for (size_t k = 0; k < Lanes; ++k)
        t[k] = z_10_0[k];
    sq_times(t, 10);
    mul(u, t, z_10_0); // 2^20 - 1
    for (size_t k = 0; k < Lanes; ++k)
        t[k] = u[k];
    sq_times(t, 20);
    mul(t, t, u); // 2^40 - 1
    sq_times(t, 10);
    mul(z_50_0, t, z_10_0); // 2^50 - 1
    for (size_t k = 0; k < Lanes; ++k)
        t[k] = z_50_0[k];
    sq_times(t, 50);
    mul(u, t, z_50_0); // 2^100 - 1
    for (size_t k = 0; k < Lanes; ++k)
        t[k] = u[k];
    sq_times(t, 100);
    mul(t, t, u); // 2^200 - 1
    sq_times(t, 50);
    mul(t, t, z_50_0); // 2^250 - 1
    sq_times(t, 2);
    mul(z, t, z); // 2^252 - 3
}

// The canonical 32-byte little-endian encoding (value fully reduced below p, bit 255 clear).
constexpr std::array<uint8_t, 32> fe_to_bytes(const fe& f) noexcept {
    fe h = fe_carry(fe_carry(f)); // value now below 2^255 + 2^14 < 2p
    // q = 1 exactly when h >= p: h + 19 overflows 2^255.
    uint64_t q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    h.v[1] += h.v[0] >> 51;
    h.v[0] &= fe_mask51;
    h.v[2] += h.v[1] >> 51;
    h.v[1] &= fe_mask51;
    h.v[3] += h.v[2] >> 51;
    h.v[2] &= fe_mask51;
    h.v[4] += h.v[3] >> 51;
    h.v[3] &= fe_mask51;
    h.v[4] &= fe_mask51; // drops 2^255, i.e. subtracts p together with the +19 above
    const uint64_t w[4] = {h.v[0] | (h.v[1] << 51), (h.v[1] >> 13) | (h.v[2] << 38),
                           (h.v[2] >> 26) | (h.v[3] << 25), (h.v[3] >> 39) | (h.v[4] << 12)};
    std::array<uint8_t, 32> out{};
    for (size_t i = 0; i < 32; ++i)
        out[i] = static_cast<uint8_t>(w[i / 8] >> (8 * (i % 8)));
    return out;
}

// The element of a 32-byte little-endian string, bit 255 ignored (values p..2^255-1 are
// accepted and reduce; callers that need canonical input check it on the bytes).
constexpr fe fe_from_bytes(const uint8_t* bytes) noexcept {
    uint64_t w[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < 32; ++i)
        w[i / 8] |= uint64_t{bytes[i]} << (8 * (i % 8));
    return fe{{w[0] & fe_mask51, ((w[0] >> 51) | (w[1] << 13)) & fe_mask51,
               ((w[1] >> 38) | (w[2] << 26)) & fe_mask51,
               ((w[2] >> 25) | (w[3] << 39)) & fe_mask51, (w[3] >> 12) & fe_mask51}};
}

constexpr bool fe_is_zero(const fe& f) noexcept {
    const auto bytes = fe_to_bytes(f);
    uint8_t any = 0;
    for (auto b : bytes)
        any = static_cast<uint8_t>(any | b);
    return any == 0;
}

// The "sign" of x in RFC 8032: the least significant bit of its canonical encoding.
constexpr bool fe_is_negative(const fe& f) noexcept { return (fe_to_bytes(f)[0] & 1) != 0; }

constexpr bool fe_equal(const fe& f, const fe& g) noexcept { return fe_is_zero(fe_sub(f, g)); }

// Curve constants, computed at compile time from their definitions (tests compare them with
// the encodings RFC 8032 and libsodium use).
// d = -121665 / 121666.
inline constexpr fe fe_d = fe_mul(fe_neg(fe_small(121665)), fe_invert(fe_small(121666)));
inline constexpr fe fe_d2 = fe_carry(fe_add(fe_d, fe_d));
// sqrt(-1) = 2^((p - 1) / 4) (2 is a non-residue since p = 5 mod 8), computed as
// (2^((p - 5) / 8))^2 * 2, since (p - 1) / 4 = 2 (p - 5) / 8 + 1.
inline constexpr fe fe_sqrtm1 = fe_mul(fe_sq(fe_pow22523(fe_small(2))), fe_small(2));

} // namespace ainet::crypto::detail
