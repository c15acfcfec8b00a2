#pragma once
// Points of edwards25519, -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19) (RFC 8032 5.1), in the
// coordinate systems of Hisil-Wong-Carter-Dawson 2008 ("Twisted Edwards curves revisited"):
// extended (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, plus the intermediate forms that make
// additions and doublings cheap (the naming follows the ref10 reference implementation, whose
// structure this mirrors; the code is ainet's own).
//
// Private to src/crypto. Variable time throughout (verification only: all inputs are public).
// Pure functions: any thread, no allocation. The base point table is built once, on first
// use, thread-safely (a function-local static).

#include "field25519.hpp"

#include <cstdint>

namespace ainet::crypto::detail {

struct ge_p2 { // projective: (X:Y:Z)
    fe X, Y, Z;
};
struct ge_p3 { // extended: (X:Y:Z:T), XY = ZT
    fe X, Y, Z, T;
};
struct ge_p1p1 { // completed: ((X:Z), (Y:T)), the output of an addition or a doubling
    fe X, Y, Z, T;
};
struct ge_cached { // an addend in extended form: (Y+X, Y-X, Z, 2dT)
    fe YplusX, YminusX, Z, T2d;
};
struct ge_precomp { // an affine addend: (y+x, y-x, 2dxy), for tables of fixed points
    fe yplusx, yminusx, xy2d;
};

inline ge_p3 ge_identity() noexcept { return {fe_zero(), fe_one(), fe_one(), fe_zero()}; }

inline ge_p2 ge_to_p2(const ge_p1p1& p) noexcept {
    return {fe_mul(p.X, p.T), fe_mul(p.Y, p.Z), fe_mul(p.Z, p.T)};
}
inline ge_p3 ge_to_p3(const ge_p1p1& p) noexcept {
    // Operands ordered so the multiplications share their second factors (T, Y) and the
    // compiler computes their multiples by 19 once.
    return {fe_mul(p.X, p.T), fe_mul(p.Z, p.Y), fe_mul(p.Z, p.T), fe_mul(p.X, p.Y)};
}
inline ge_p2 ge_to_p2(const ge_p3& p) noexcept { return {p.X, p.Y, p.Z}; }
inline ge_cached ge_to_cached(const ge_p3& p) noexcept {
    return {fe_add(p.Y, p.X), fe_sub(p.Y, p.X), p.Z, fe_mul(p.T, fe_d2)};
}
inline ge_p3 ge_neg(const ge_p3& p) noexcept { return {fe_neg(p.X), p.Y, p.Z, fe_neg(p.T)}; }

// 2p (dbl-2008-hwcd with a = -1).
inline ge_p1p1 ge_dbl(const ge_p2& p) noexcept {
    const fe xx = fe_sq(p.X);
    const fe yy = fe_sq(p.Y);
    const fe zz = fe_sq(p.Z);
    const fe b = fe_add(zz, zz);
    const fe aa = fe_sq(fe_add(p.X, p.Y));
    ge_p1p1 r;
    r.Y = fe_add(yy, xx);
    r.Z = fe_sub(yy, xx);
    r.X = fe_sub(aa, r.Y);
    r.T = fe_sub(b, r.Z);
    return r;
}

// p + q and p - q (add-2008-hwcd-3).
inline ge_p1p1 ge_add(const ge_p3& p, const ge_cached& q) noexcept {
    const fe a = fe_mul(fe_add(p.Y, p.X), q.YplusX);
    const fe b = fe_mul(fe_sub_lazy(p.Y, p.X), q.YminusX);
    const fe c = fe_mul(q.T2d, p.T);
    const fe zz = fe_mul(p.Z, q.Z);
    const fe d = fe_add(zz, zz);
    return {fe_sub_lazy(a, b), fe_add(a, b), fe_add(d, c), fe_sub_lazy(d, c)};
}
inline ge_p1p1 ge_sub(const ge_p3& p, const ge_cached& q) noexcept {
    const fe a = fe_mul(fe_add(p.Y, p.X), q.YminusX);
    const fe b = fe_mul(fe_sub_lazy(p.Y, p.X), q.YplusX);
    const fe c = fe_mul(q.T2d, p.T);
    const fe zz = fe_mul(p.Z, q.Z);
    const fe d = fe_add(zz, zz);
    return {fe_sub_lazy(a, b), fe_add(a, b), fe_sub_lazy(d, c), fe_add(d, c)};
}
// p + q and p - q for an affine q (madd-2008-hwcd-3): one multiplication less.
inline ge_p1p1 ge_madd(const ge_p3& p, const ge_precomp& q) noexcept {
    const fe a = fe_mul(fe_add(p.Y, p.X), q.yplusx);
    const fe b = fe_mul(fe_sub_lazy(p.Y, p.X), q.yminusx);
    const fe c = fe_mul(q.xy2d, p.T);
    const fe d = fe_add(p.Z, p.Z);
    return {fe_sub_lazy(a, b), fe_add(a, b), fe_add(d, c), fe_sub_lazy(d, c)};
}
inline ge_p1p1 ge_msub(const ge_p3& p, const ge_precomp& q) noexcept {
    const fe a = fe_mul(fe_add(p.Y, p.X), q.yminusx);
    const fe b = fe_mul(fe_sub_lazy(p.Y, p.X), q.yplusx);
    const fe c = fe_mul(q.xy2d, p.T);
    const fe d = fe_add(p.Z, p.Z);
    return {fe_sub_lazy(a, b), fe_add(a, b), fe_sub_lazy(d, c), fe_add(d, c)};
}

// Decodes a point (RFC 8032 5.1.3) and applies the predicate's encoding rules: false unless
// y < p, the point is on the curve, and x = 0 comes with sign bit 0 (no "negative zero").
[[nodiscard]] bool ge_decode(ge_p3& out, const uint8_t encoding[32]) noexcept;
// ge_decode in two halves around its exponentiation, so that callers decoding several points
// run the exponentiations interleaved (fe_pow22523_lanes), which is about twice as fast as one
// at a time. ge_decode_start returns false for a non-canonical y; otherwise the caller raises
// d.power_base to (p - 5) / 8 and passes the result to ge_decode_finish, which applies the
// remaining rules and returns ge_decode's verdict.
struct ge_decoding {
    fe y, u, v, v3;
    fe power_base; // u v^7
    bool sign;
};
[[nodiscard]] bool ge_decode_start(ge_decoding& d, const uint8_t encoding[32]) noexcept;
[[nodiscard]] bool ge_decode_finish(ge_p3& out, const ge_decoding& d, const fe& power) noexcept;
// How many exponentiations ge_decode_many interleaves on the portable path.
inline constexpr size_t decode_lanes = 4;
// The fewest remaining decodings for which ge_decode_many uses the IFMA path
// (field25519_simd.hpp) when it is enabled.
inline constexpr size_t simd_decode_min = 4;
// ok[i] = ge_decode(out[i], encodings[i]) for i < count: 16 at a time on the IFMA path when
// it is enabled, then decode_lanes at a time. scratch must hold count entries.
void ge_decode_many(ge_p3* out, bool* ok, const uint8_t* const* encodings, size_t count,
                    ge_decoding* scratch) noexcept;
// The canonical encoding of p.
[[nodiscard]] std::array<uint8_t, 32> ge_encode(const ge_p3& p) noexcept;
// True when [8]p is the identity, i.e. p's order divides 8. The predicate uses it twice: to
// reject small-order A and R, and as the cofactored equation ([8]Q = identity).
[[nodiscard]] bool ge_is_small_order(const ge_p3& p) noexcept;
// ge_is_small_order for a point given by an encoding that ge_decode accepted: one comparison
// against the 8 canonical encodings of the small-order points instead of three doublings.
// Exact because ge_decode accepts only canonical encodings, so every point has exactly one.
[[nodiscard]] bool encoding_is_small_order(const uint8_t encoding[32]) noexcept;
// True when p and q are the same point.
[[nodiscard]] bool ge_equal(const ge_p3& p, const ge_p3& q) noexcept;

// The base point B (RFC 8032: y = 4/5, x even).
[[nodiscard]] const ge_p3& ge_base() noexcept;

// Width-w non-adjacent form of a scalar below 2^253 (32 bytes little-endian): naf[i] is 0 or
// odd with |naf[i]| < 2^(w-1), sum naf[i] 2^i = scalar, and any w consecutive digits hold at
// most one non-zero. Returns the index of the highest non-zero digit plus one (0 for 0).
inline constexpr int naf_size = 256;
int wnaf(int8_t naf[naf_size], const uint8_t scalar[32], int width) noexcept;

// The same digits as wnaf, sparse: positions[k] and values[k] for the non-zero ones, in
// increasing position; returns their count. Faster than wnaf and a scan of its output (no
// 256-entry array to clear and walk), for the batch verifier, which only needs these.
// positions and values must hold naf_size / width + 1 entries.
int wnaf_sparse(uint8_t* positions, int8_t* values, const uint8_t scalar[32], int width) noexcept;

// Odd multiples P, 3P, 5P, ..., (2 count - 1)P of a point, as addends.
void ge_odd_multiples(ge_cached* out, int count, const ge_p3& p) noexcept;

// Window widths: the base point uses a large precomputed affine table, variable points a
// table built per point.
inline constexpr int base_naf_width = 8;
inline constexpr int base_table_size = 1 << (base_naf_width - 2); // odd multiples up to 127B
inline constexpr int point_naf_width = 5;
inline constexpr int point_table_size = 1 << (point_naf_width - 2); // P, 3P, ..., 15P

// (2i + 1)B for i < base_table_size, affine.
[[nodiscard]] const ge_precomp* ge_base_table() noexcept;

// [a]B - [b]A: the double-scalar multiplication of single verification (scalars below 2^253).
[[nodiscard]] ge_p3 ge_double_scalarmult_vartime(const uint8_t a[32], const ge_p3& point_a,
                                                 const uint8_t b[32]) noexcept;

} // namespace ainet::crypto::detail
