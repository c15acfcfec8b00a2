// Point decoding, small-order checks, the base point table and variable-time scalar
// multiplication on edwards25519 (see edwards.hpp).
#include "edwards.hpp"

#include "field25519_simd.hpp"

#include <ainet/core/assert.hpp>

#include <algorithm>
#include <array>
#include <cstring>

namespace ainet::crypto::detail {

namespace {

// True when the 255-bit y of an encoding (bit 255 is the sign of x) is below p: p - 1 is
// ec ff .. ff 7f little-endian, so y >= p exactly when y's bytes are ed..ff, ff, .., ff, 7f.
bool y_is_canonical(const uint8_t encoding[32]) noexcept {
    if ((encoding[31] & 0x7f) != 0x7f)
        return true;
    for (int i = 30; i >= 1; --i)
        if (encoding[i] != 0xff)
            return true;
    return encoding[0] < 0xed;
}

struct base_data {
    ge_p3 base;
    std::array<ge_precomp, base_table_size> table;
};

base_data make_base_data() noexcept {
    base_data data{};
    // RFC 8032 5.1: B = (x, 4/5) with x even; its encoding is 58 66 66 .. 66.
    std::array<uint8_t, 32> encoding{};
    encoding.fill(0x66);
    encoding[0] = 0x58;
    const bool decoded = ge_decode(data.base, encoding.data());
    AINET_ASSERT(decoded);
    // Walk (2i+1)B in extended coordinates and make each affine (one inversion each, once).
    const ge_cached twice = ge_to_cached(ge_to_p3(ge_dbl(ge_to_p2(data.base))));
    ge_p3 current = data.base;
    for (int i = 0; i < base_table_size; ++i) {
        const fe z_inverse = fe_invert(current.Z);
        const fe x = fe_mul(current.X, z_inverse);
        const fe y = fe_mul(current.Y, z_inverse);
        data.table[static_cast<size_t>(i)] = {fe_carry(fe_add(y, x)), fe_sub(y, x),
                                              fe_mul(fe_mul(x, y), fe_d2)};
        current = ge_to_p3(ge_add(current, twice));
    }
    return data;
}

const base_data& base() noexcept {
    static const base_data data = make_base_data();
    return data;
}

// The canonical encodings of the 8 points of order dividing 8: the multiples of one point of
// order 8 (y = 2707385501144840649318225287225658788936804267575313519463743609750303402022,
// x even), computed and checked once.
std::array<std::array<uint8_t, 32>, 8> make_small_order_encodings() noexcept {
    constexpr uint8_t order8[32] = {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0,
                                    0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
                                    0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39,
                                    0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05};
    ge_p3 t;
    const bool decoded = ge_decode(t, order8);
    AINET_ASSERT(decoded && ge_is_small_order(t));
    const ge_cached step = ge_to_cached(t);
    std::array<std::array<uint8_t, 32>, 8> out{};
    ge_p3 current = ge_identity();
    for (auto& encoding : out) {
        encoding = ge_encode(current);
        current = ge_to_p3(ge_add(current, step));
    }
    AINET_ASSERT(ge_encode(current) == out[0]); // t has order 8 exactly: back at the identity
    return out;
}

} // namespace

bool encoding_is_small_order(const uint8_t encoding[32]) noexcept {
    static const auto encodings = make_small_order_encodings();
    for (const auto& candidate : encodings)
        if (std::memcmp(candidate.data(), encoding, 32) == 0)
            return true;
    return false;
}

bool ge_decode_start(ge_decoding& d, const uint8_t encoding[32]) noexcept {
    if (!y_is_canonical(encoding))
        return false;
    d.sign = (encoding[31] >> 7) != 0;
    d.y = fe_from_bytes(encoding);
    // x^2 = u / v with u = y^2 - 1, v = d y^2 + 1; x = u v^3 (u v^7)^((p-5)/8) (RFC 8032 5.1.3).
    const fe yy = fe_sq(d.y);
    d.u = fe_sub(yy, fe_one());
    d.v = fe_carry(fe_add(fe_mul(yy, fe_d), fe_one()));
    d.v3 = fe_mul(fe_sq(d.v), d.v);
    d.power_base = fe_mul(d.u, fe_mul(fe_sq(d.v3), d.v));
    return true;
}

bool ge_decode_finish(ge_p3& out, const ge_decoding& d, const fe& power) noexcept {
    fe x = fe_mul(fe_mul(power, d.v3), d.u);
    const fe vxx = fe_mul(fe_sq(x), d.v);
    if (!fe_equal(vxx, d.u)) {
        if (!fe_is_zero(fe_add(vxx, d.u)))
            return false; // u / v is not a square: not on the curve
        x = fe_mul(x, fe_sqrtm1);
    }
    if (fe_is_negative(x) != d.sign) {
        if (fe_is_zero(x))
            return false; // "negative zero": x = 0 with the sign bit set is not canonical
        x = fe_neg(x);
    }
    out = {x, d.y, fe_one(), fe_mul(x, d.y)};
    return true;
}

bool ge_decode(ge_p3& out, const uint8_t encoding[32]) noexcept {
    ge_decoding d;
    if (!ge_decode_start(d, encoding))
        return false;
    return ge_decode_finish(out, d, fe_pow22523(d.power_base));
}

namespace {

// Finishes decodings [first, first + Lanes) (those below count) with one interleaved
// exponentiation; a short group and rejected encodings run on a dummy input (1).
template <size_t Lanes, bool Simd>
void decode_group(ge_p3* out, bool* ok, size_t first, size_t count,
                  const ge_decoding* scratch) noexcept {
    fe power[Lanes];
    for (size_t k = 0; k < Lanes; ++k) {
        const size_t i = first + k;
        power[k] = i < count && ok[i] ? scratch[i].power_base : fe_one();
    }
    if constexpr (Simd)
        fe_pow22523_simd(power);
    else
        fe_pow22523_lanes(power);
    for (size_t k = 0; k < Lanes && first + k < count; ++k) {
        const size_t i = first + k;
        if (ok[i])
            ok[i] = ge_decode_finish(out[i], scratch[i], power[k]);
    }
}

} // namespace

void ge_decode_many(ge_p3* out, bool* ok, const uint8_t* const* encodings, size_t count,
                    ge_decoding* scratch) noexcept {
    for (size_t i = 0; i < count; ++i)
        ok[i] = ge_decode_start(scratch[i], encodings[i]);
    size_t first = 0;
    // The IFMA path computes 16 powers in about the time of 3 portable ones: worth it from
    // simd_decode_min real inputs (the rest of a group are dummies).
    if (field_simd_enabled())
        for (; first + simd_decode_min <= count; first += simd_pow_lanes)
            decode_group<simd_pow_lanes, true>(out, ok, first, count, scratch);
    for (; first + 2 < count; first += decode_lanes)
        decode_group<decode_lanes, false>(out, ok, first, count, scratch);
    if (first < count)
        decode_group<2, false>(out, ok, first, count, scratch); // single verify's A and R
}

std::array<uint8_t, 32> ge_encode(const ge_p3& p) noexcept {
    const fe z_inverse = fe_invert(p.Z);
    const fe x = fe_mul(p.X, z_inverse);
    auto out = fe_to_bytes(fe_mul(p.Y, z_inverse));
    out[31] = static_cast<uint8_t>(out[31] | (fe_is_negative(x) ? 0x80 : 0));
    return out;
}

bool ge_is_small_order(const ge_p3& p) noexcept {
    // [8]p has order dividing L (odd), so it is the identity exactly when its x is 0: the only
    // other point with x = 0, (0, -1), has order 2.
    ge_p2 q = ge_to_p2(p);
    for (int i = 0; i < 3; ++i)
        q = ge_to_p2(ge_dbl(q));
    return fe_is_zero(q.X);
}

bool ge_equal(const ge_p3& p, const ge_p3& q) noexcept {
    return fe_equal(fe_mul(p.X, q.Z), fe_mul(q.X, p.Z)) &&
           fe_equal(fe_mul(p.Y, q.Z), fe_mul(q.Y, p.Z));
}

const ge_p3& ge_base() noexcept { return base().base; }

const ge_precomp* ge_base_table() noexcept { return base().table.data(); }

int wnaf(int8_t naf[naf_size], const uint8_t scalar[32], int width) noexcept {
    AINET_ASSERT(width >= 2 && width <= 8);
    AINET_ASSERT(scalar[31] < 0x20); // below 2^253, so no digit lands past naf_size
    uint64_t words[5] = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < 32; ++i)
        words[i / 8] |= uint64_t{scalar[i]} << (8 * (i % 8));
    std::fill(naf, naf + naf_size, int8_t{0});
    const uint64_t window_mask = (uint64_t{1} << width) - 1;
    const uint64_t half = uint64_t{1} << (width - 1);
    const int64_t full = int64_t{1} << width;
    uint64_t carry = 0;
    int pos = 0;
    int top = 0;
    while (pos < naf_size) {
        const int index = pos / 64;
        const int bit = pos % 64;
        const uint64_t buffer =
            bit == 0 ? words[index]
                     : (words[index] >> bit) | (words[index + 1] << (64 - bit));
        const uint64_t window = carry + (buffer & window_mask);
        if ((window & 1) == 0) {
            // Skip a run of zero bits at once; with a carry pending, the bit is a 1 that the
            // carry turns into 0 (and carries on), so step one bit.
            if (carry == 0)
                pos += buffer == 0 ? 64 : __builtin_ctzll(buffer); // buffer holds 64 bits
            else
                ++pos;
            continue;
        }
        if (window < half) {
            carry = 0;
            naf[pos] = static_cast<int8_t>(window);
        } else {
            carry = 1;
            naf[pos] = static_cast<int8_t>(static_cast<int64_t>(window) - full);
        }
        top = pos + 1;
        pos += width;
    }
    AINET_ASSERT(carry == 0);
    return top;
}

int wnaf_sparse(uint8_t* positions, int8_t* values, const uint8_t scalar[32],
                int width) noexcept {
    AINET_ASSERT(width >= 2 && width <= 8);
    AINET_ASSERT(scalar[31] < 0x20);
    // The remaining value v, 320 bits: each step subtracts the digit d at the lowest set bit
    // (so the window's bits become 0) and, for a negative d, adds 2^(pos + width).
    uint64_t words[5] = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < 32; ++i)
        words[i / 8] |= uint64_t{scalar[i]} << (8 * (i % 8));
    const uint64_t window_mask = (uint64_t{1} << width) - 1;
    const uint64_t half = uint64_t{1} << (width - 1);
    const int64_t full = int64_t{1} << width;
    int count = 0;
    int index = 0;
    for (;;) {
        while (index < 5 && words[index] == 0)
            ++index;
        if (index == 5)
            break;
        const int bit = __builtin_ctzll(words[index]);
        const int pos = 64 * index + bit;
        uint64_t window = words[index] >> bit;
        if (bit + width > 64 && index < 4)
            window |= words[index + 1] << (64 - bit);
        window &= window_mask;
        words[index] &= ~(window_mask << bit);
        if (bit + width > 64 && index < 4)
            words[index + 1] &= ~(window_mask >> (64 - bit));
        AINET_ASSERT(pos < naf_size);
        positions[count] = static_cast<uint8_t>(pos);
        if (window < half) {
            values[count] = static_cast<int8_t>(window);
        } else {
            values[count] = static_cast<int8_t>(static_cast<int64_t>(window) - full);
            // Add 2^(pos + width), carrying through full words. Every bit below pos + width is
            // 0 by now, so a word that overflows wraps to exactly 0: that is the carry test.
            const int carry_pos = pos + width;
            int carry_index = carry_pos / 64;
            uint64_t add = uint64_t{1} << (carry_pos % 64);
            while (carry_index < 5) {
                words[carry_index] += add;
                if (words[carry_index] != 0)
                    break;
                add = 1;
                ++carry_index;
            }
        }
        ++count;
    }
    return count;
}

void ge_odd_multiples(ge_cached* out, int count, const ge_p3& p) noexcept {
    AINET_ASSERT(count >= 1);
    out[0] = ge_to_cached(p);
    if (count == 1)
        return;
    const ge_cached twice = ge_to_cached(ge_to_p3(ge_dbl(ge_to_p2(p))));
    ge_p3 current = p;
    for (int i = 1; i < count; ++i) {
        current = ge_to_p3(ge_add(current, twice));
        out[i] = ge_to_cached(current);
    }
}

ge_p3 ge_double_scalarmult_vartime(const uint8_t a[32], const ge_p3& point_a,
                                   const uint8_t b[32]) noexcept {
    int8_t a_naf[naf_size];
    int8_t b_naf[naf_size];
    const int top = std::max(wnaf(a_naf, a, base_naf_width), wnaf(b_naf, b, point_naf_width));
    ge_cached a_table[point_table_size];
    ge_odd_multiples(a_table, point_table_size, point_a);
    const ge_precomp* base_table = ge_base_table();

    // The identity as a completed point: (0:1) and (1:1).
    ge_p1p1 t{fe_zero(), fe_one(), fe_one(), fe_one()};
    for (int i = top - 1; i >= 0; --i) {
        t = ge_dbl(ge_to_p2(t));
        if (a_naf[i] > 0)
            t = ge_madd(ge_to_p3(t), base_table[a_naf[i] / 2]);
        else if (a_naf[i] < 0)
            t = ge_msub(ge_to_p3(t), base_table[-a_naf[i] / 2]);
        if (b_naf[i] > 0)
            t = ge_sub(ge_to_p3(t), a_table[b_naf[i] / 2]);
        else if (b_naf[i] < 0)
            t = ge_add(ge_to_p3(t), a_table[-b_naf[i] / 2]);
    }
    return ge_to_p3(t);
}

} // namespace ainet::crypto::detail
