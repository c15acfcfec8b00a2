// Pippenger's bucket method for large batches: see batch_pippenger.hpp.
#include "batch_pippenger.hpp"

#include "edwards.hpp"
#include "scalar25519.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace ainet::crypto::detail {

namespace {

// Signed digits in radix 2^width: enough windows for 256 bits plus the final carry.
int window_count(int width) noexcept { return (256 + width - 1) / width + 1; }

// `width` bits of a 256-bit little-endian integer from bit `position` (zero beyond bit 255).
uint32_t bits_at(const uint64_t limbs[4], int position, int width) noexcept {
    if (position >= 256)
        return 0;
    const int word = position / 64;
    const int shift = position % 64;
    uint64_t v = limbs[word] >> shift;
    if (shift + width > 64 && word + 1 < 4)
        v |= limbs[word + 1] << (64 - shift);
    return static_cast<uint32_t>(v & ((uint64_t{1} << width) - 1));
}

// digits[w] in [-2^(width-1), 2^(width-1)], sum digits[w] 2^(w width) = k.
void signed_digits(int16_t* digits, const scalar& k, int width) noexcept {
    uint64_t limbs[4];
    std::memcpy(limbs, k.data(), 32);
    const int windows = window_count(width);
    const int32_t half = 1 << (width - 1);
    int32_t carry = 0;
    for (int w = 0; w < windows; ++w) {
        const int32_t v = static_cast<int32_t>(bits_at(limbs, w * width, width)) + carry;
        carry = v >= half ? 1 : 0;
        digits[w] = static_cast<int16_t>(v - (carry << width));
    }
}

struct workspace {
    std::vector<const uint8_t*> encodings;
    std::vector<ge_decoding> decodings;
    std::vector<ge_p3> decoded;
    std::vector<uint8_t> decoded_ok; // bool, but addressable
    // The multi-scalar multiplication's points (B, then A_j and R_j), their addend forms and
    // their digits (windows per point, row-major).
    std::vector<ge_p3> points;
    std::vector<ge_cached> cached;
    std::vector<int16_t> digits;
    std::vector<ge_p3> buckets;
    std::vector<uint8_t> filled;

    void reserve(size_t signatures, int width) {
        const size_t points_max = 2 * signatures + 1;
        if (encodings.size() < 2 * signatures) {
            encodings.resize(2 * signatures);
            decodings.resize(2 * signatures);
            decoded.resize(2 * signatures);
            decoded_ok.resize(2 * signatures);
        }
        if (points.size() < points_max) {
            points.resize(points_max);
            cached.resize(points_max);
        }
        const size_t digit_count = points_max * static_cast<size_t>(window_count(width));
        if (digits.size() < digit_count)
            digits.resize(digit_count);
        const size_t bucket_count = size_t{1} << (width - 1);
        if (buckets.size() < bucket_count) {
            buckets.resize(bucket_count);
            filled.resize(bucket_count);
        }
    }
};

// p + q for points in extended form, q not yet an addend.
ge_p3 add_points(const ge_p3& p, const ge_p3& q) noexcept {
    return ge_to_p3(ge_add(p, ge_to_cached(q)));
}

// sum over i < count of [k_i] points[i], the k_i given as signed digits of `width` bits.
ge_p3 multi_scalar_multiply(workspace& w, size_t count, int width) noexcept {
    const int windows = window_count(width);
    const size_t bucket_count = size_t{1} << (width - 1);
    ge_p3 acc = ge_identity();
    bool acc_set = false;
    for (int window = windows - 1; window >= 0; --window) {
        if (acc_set) {
            ge_p2 t = ge_to_p2(acc);
            for (int i = 0; i + 1 < width; ++i)
                t = ge_to_p2(ge_dbl(t));
            acc = ge_to_p3(ge_dbl(t));
        }
        std::fill_n(w.filled.begin(), bucket_count, uint8_t{0});
        for (size_t i = 0; i < count; ++i) {
            const int16_t d = w.digits[i * static_cast<size_t>(windows) + static_cast<size_t>(window)];
            if (d == 0)
                continue;
            const size_t b = static_cast<size_t>(d > 0 ? d : -d) - 1;
            if (!w.filled[b]) {
                w.buckets[b] = d > 0 ? w.points[i] : ge_neg(w.points[i]);
                w.filled[b] = 1;
            } else {
                w.buckets[b] = ge_to_p3(d > 0 ? ge_add(w.buckets[b], w.cached[i])
                                              : ge_sub(w.buckets[b], w.cached[i]));
            }
        }
        // sum_b (b + 1) bucket_b as running sums from the top bucket down.
        ge_p3 running{}, total{};
        bool running_set = false, total_set = false;
        for (size_t b = bucket_count; b-- > 0;) {
            if (w.filled[b]) {
                running = running_set ? add_points(running, w.buckets[b]) : w.buckets[b];
                running_set = true;
            }
            if (running_set) {
                total = total_set ? add_points(total, running) : running;
                total_set = true;
            }
        }
        if (total_set) {
            acc = acc_set ? add_points(acc, total) : total;
            acc_set = true;
        }
    }
    return acc;
}

} // namespace

int pippenger_window(size_t points) noexcept {
    // Additions per multiplication ~ windows x (points + 2^width); the doublings are the same
    // for every width.
    int best = 4;
    double best_cost = 1e300;
    for (int width = 4; width <= 16; ++width) {
        const double cost = static_cast<double>(window_count(width)) *
                            (static_cast<double>(points) + static_cast<double>(1u << width));
        if (cost < best_cost) {
            best_cost = cost;
            best = width;
        }
    }
    return best;
}

bool pippenger_all_valid(std::span<const verify_request> requests) noexcept {
    if (requests.empty())
        return true;
    thread_local workspace w;
    const size_t n = requests.size();
    const size_t point_count = 2 * n + 1;
    const int width = pippenger_window(point_count);
    const int windows = window_count(width);
    try {
        w.reserve(n, width);
    } catch (...) {
        return false; // out of memory: the caller's Straus path needs no more than it has
    }

    for (size_t i = 0; i < n; ++i) {
        if (!scalar_is_canonical(requests[i].sig.data() + 32))
            return false;
        w.encodings[2 * i] = requests[i].key.data();
        w.encodings[2 * i + 1] = requests[i].sig.data();
    }
    static_assert(sizeof(bool) == sizeof(uint8_t));
    ge_decode_many(w.decoded.data(), reinterpret_cast<bool*>(w.decoded_ok.data()),
                   w.encodings.data(), 2 * n, w.decodings.data());

    scalar_wide sum_zs{};
    for (size_t i = 0; i < n; ++i) {
        const verify_request& request = requests[i];
        const uint8_t* r_bytes = request.sig.data();
        if (!w.decoded_ok[2 * i] || !w.decoded_ok[2 * i + 1] ||
            encoding_is_small_order(request.key.data()) || encoding_is_small_order(r_bytes))
            return false;
        scalar z{};
        randombytes_buf(z.data(), 16);
        z[0] = static_cast<uint8_t>(z[0] | 1);
        scalar s;
        std::memcpy(s.data(), r_bytes + 32, 32);
        scalar_wide_add_product(sum_zs, z, s);
        const scalar k = challenge(r_bytes, request.key.data(), request.message);
        scalar_wide zk_wide{};
        scalar_wide_add_product(zk_wide, z, k);
        const scalar zk = scalar_wide_reduce(zk_wide);

        const size_t pa = 1 + 2 * i;
        const size_t pr = pa + 1;
        w.points[pa] = w.decoded[2 * i];
        w.points[pr] = w.decoded[2 * i + 1];
        w.cached[pa] = ge_to_cached(w.points[pa]);
        w.cached[pr] = ge_to_cached(w.points[pr]);
        signed_digits(&w.digits[pa * static_cast<size_t>(windows)], zk, width);
        signed_digits(&w.digits[pr * static_cast<size_t>(windows)], z, width);
        sodium_memzero(z.data(), z.size());
    }
    // [8]([-(sum z_j S_j)] B + sum [z_j] R_j + sum [z_j k_j] A_j) == identity.
    w.points[0] = ge_base();
    w.cached[0] = ge_to_cached(w.points[0]);
    signed_digits(&w.digits[0], scalar_negate(scalar_wide_reduce(sum_zs)), width);
    return ge_is_small_order(multi_scalar_multiply(w, point_count, width));
}

} // namespace ainet::crypto::detail
