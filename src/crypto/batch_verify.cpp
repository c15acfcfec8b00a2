// Batch verification of Ed25519 signatures under ainet's predicate (verify_impl.hpp).
//
// For signatures i that pass the per-signature rules (S < L, canonical A and R of non-small
// order), draw random 128-bit z_i (odd, so non-zero mod L) from libsodium's CSPRNG and check
//     [8]( [-(sum z_i S_i) mod L] B + sum [z_i] R_i + sum [z_i k_i mod L] A_i ) = identity
// with one multi-scalar multiplication (Straus: all wNAF digit streams share one chain of
// doublings; the base point uses its precomputed affine table). Every valid signature makes its
// term vanish, so a batch of valid signatures always passes. If some [8](S_i B - R_i - k_i A_i)
// is not the identity it is a point of order L, and the sum vanishes for at most a 2^-127
// fraction of the z. A batch of one is exactly the predicate: z_1 is invertible mod L.
//
// On failure the bad signatures are found by bisection over the same points and z_i (only the
// B scalar is recomputed per half): a failing range whose left half passes has a failing right
// half without checking it, so one forgery among n costs about log2(n) extra checks.
#include "batch_impl.hpp"
#include "batch_pippenger.hpp"

#include "edwards.hpp"
#include "scalar25519.hpp"
#include "verify_impl.hpp"

#include <ainet/core/assert.hpp>

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace ainet::crypto::detail {

namespace {

// Points of a chunk: A_j at 2j, R_j at 2j + 1.
constexpr size_t points_max = 2 * batch_chunk_max;

thread_local uint64_t checks_on_this_thread = 0;

} // namespace

// The most non-zero digits in a width-5 NAF of a scalar below 2^253: at most one in any 5
// consecutive positions.
constexpr size_t naf_digits_max = naf_size / point_naf_width + 1;

struct batch_workspace {
    // Per valid signature j: its request index, S_j, z_j.
    uint32_t request_index[batch_chunk_max];
    scalar s[batch_chunk_max];
    scalar z[batch_chunk_max];
    // Per point: odd multiples, and the highest non-zero NAF digit + 1.
    ge_cached tables[points_max][point_table_size];
    int top[points_max];
    // The non-zero NAF digits of all points' scalars (z_j k_j for A_j, z_j for R_j), grouped
    // by digit position: row i's digits are entries[row_start[i] .. row_start[i + 1]), in
    // increasing point order. One step of the shared doubling chain reads one short run (about
    // a sixth of the points have a digit per row) instead of scanning every point's digit.
    struct digit_entry {
        uint16_t point;
        int8_t digit;
    };
    uint32_t row_start[naf_size + 1];
    digit_entry entries[points_max * naf_digits_max];
    // Scratch while a chunk is loaded: every request's A (at 2i) and R (at 2i + 1), decoded
    // together so ge_decode_many can interleave or vectorise their exponentiations.
    const uint8_t* encodings[points_max];
    ge_decoding decodings[points_max];
    ge_p3 decoded[points_max];
    bool decoded_ok[points_max];
    // Each point's non-zero digits (position, value).
    uint8_t point_digit_count[points_max];
    uint8_t point_digit_position[points_max][naf_digits_max];
    int8_t point_digit_value[points_max][naf_digits_max];
};

void batch_workspace_deleter::operator()(batch_workspace* workspace) const noexcept {
    delete workspace;
}

batch_workspace_ptr make_batch_workspace() { return batch_workspace_ptr(new batch_workspace); }

uint64_t batch_checks_on_this_thread() noexcept { return checks_on_this_thread; }

namespace {

// [8]([b]B + sum over points p in [2 first, 2 last) of [scalar_p] P_p) == identity, with
// b = -(sum z_j S_j) over j in [first, last).
bool check_range(const batch_workspace& w, size_t first, size_t last) noexcept {
    AINET_ASSERT(first < last && last <= batch_chunk_max);
    ++checks_on_this_thread;
    scalar_wide sum{};
    for (size_t j = first; j < last; ++j)
        scalar_wide_add_product(sum, w.z[j], w.s[j]); // each below 2^381: no overflow
    const scalar b = scalar_negate(scalar_wide_reduce(sum));
    int8_t b_naf[naf_size];
    int top = wnaf(b_naf, b.data(), base_naf_width);
    const size_t point_first = 2 * first;
    const size_t point_last = 2 * last;
    for (size_t p = point_first; p < point_last; ++p)
        top = std::max(top, w.top[p]);
    const ge_precomp* base_table = ge_base_table();

    ge_p1p1 t{fe_zero(), fe_one(), fe_one(), fe_one()}; // the identity
    for (int i = top - 1; i >= 0; --i) {
        t = ge_dbl(ge_to_p2(t));
        const int8_t bd = b_naf[i];
        if (bd > 0)
            t = ge_madd(ge_to_p3(t), base_table[bd / 2]);
        else if (bd < 0)
            t = ge_msub(ge_to_p3(t), base_table[-bd / 2]);
        const uint32_t row_end = w.row_start[i + 1];
        for (uint32_t e = w.row_start[i]; e < row_end; ++e) {
            const size_t p = w.entries[e].point;
            if (p < point_first)
                continue;
            if (p >= point_last)
                break; // the row is in point order
            const int8_t d = w.entries[e].digit;
            if (d > 0)
                t = ge_add(ge_to_p3(t), w.tables[p][d / 2]);
            else
                t = ge_sub(ge_to_p3(t), w.tables[p][-d / 2]);
        }
    }
    return ge_is_small_order(ge_to_p3(t));
}

// Sets verdicts for valid signatures [first, last); known_bad: the range's check is already
// known to fail.
void resolve(const batch_workspace& w, size_t first, size_t last, bool known_bad,
             std::span<bool> verdicts) noexcept {
    if (!known_bad && check_range(w, first, last)) {
        for (size_t j = first; j < last; ++j)
            verdicts[w.request_index[j]] = true;
        return;
    }
    if (last - first == 1) {
        // A failing batch of one is a failing predicate (z_j is invertible mod L).
        verdicts[w.request_index[first]] = false;
        return;
    }
    const size_t middle = first + (last - first) / 2;
    if (check_range(w, first, middle)) {
        for (size_t j = first; j < middle; ++j)
            verdicts[w.request_index[j]] = true;
        // The whole range fails and its left half passes, so the right half fails.
        resolve(w, middle, last, true, verdicts);
    } else {
        resolve(w, first, middle, true, verdicts);
        resolve(w, middle, last, false, verdicts);
    }
}

// Records the non-zero NAF digits of point p's scalar, and its top.
void load_digits(batch_workspace& w, size_t p, const scalar& k) noexcept {
    const int n = wnaf_sparse(w.point_digit_position[p], w.point_digit_value[p], k.data(),
                              point_naf_width);
    w.point_digit_count[p] = static_cast<uint8_t>(n);
    w.top[p] = n == 0 ? 0 : w.point_digit_position[p][n - 1] + 1;
}

void verify_chunk(batch_workspace& w, std::span<const verify_request> requests,
                  std::span<bool> verdicts) noexcept {
    AINET_ASSERT(requests.size() <= batch_chunk_max);
    // z_j: 128 random bits, the lowest forced to 1 so z_j is never 0 mod L.
    uint8_t randomness[batch_chunk_max][16];
    randombytes_buf(randomness, 16 * requests.size());

    for (size_t i = 0; i < requests.size(); ++i) {
        w.encodings[2 * i] = requests[i].key.data();
        w.encodings[2 * i + 1] = requests[i].sig.data();
    }
    ge_decode_many(w.decoded, w.decoded_ok, w.encodings, 2 * requests.size(), w.decodings);

    size_t count = 0; // valid-looking signatures placed in the workspace
    for (size_t i = 0; i < requests.size(); ++i) {
        const verify_request& request = requests[i];
        verdicts[i] = false;
        const uint8_t* r_bytes = request.sig.data();
        const uint8_t* s_bytes = request.sig.data() + 32;
        if (!scalar_is_canonical(s_bytes) || !w.decoded_ok[2 * i] ||
            encoding_is_small_order(request.key.data()) || !w.decoded_ok[2 * i + 1] ||
            encoding_is_small_order(r_bytes))
            continue; // rules 1-3 fail: invalid, no need to batch it
        const ge_p3& a = w.decoded[2 * i];
        const ge_p3& r = w.decoded[2 * i + 1];
        const size_t j = count++;
        w.request_index[j] = static_cast<uint32_t>(i);
        std::memcpy(w.s[j].data(), s_bytes, 32);
        w.z[j] = scalar{};
        std::memcpy(w.z[j].data(), randomness[i], 16);
        w.z[j][0] = static_cast<uint8_t>(w.z[j][0] | 1);
        const scalar k = challenge(r_bytes, request.key.data(), request.message);
        scalar_wide product{};
        scalar_wide_add_product(product, w.z[j], k);
        const scalar zk = scalar_wide_reduce(product);

        const size_t pa = 2 * j;
        const size_t pr = 2 * j + 1;
        ge_odd_multiples(w.tables[pa], point_table_size, a);
        ge_odd_multiples(w.tables[pr], point_table_size, r);
        load_digits(w, pa, zk);
        load_digits(w, pr, w.z[j]);
    }
    // Group the digits by position (counting sort, stable in point order).
    uint32_t row_count[naf_size + 1] = {};
    for (size_t p = 0; p < 2 * count; ++p)
        for (size_t e = 0; e < w.point_digit_count[p]; ++e)
            ++row_count[w.point_digit_position[p][e] + 1];
    w.row_start[0] = 0;
    for (size_t i = 0; i < naf_size; ++i)
        w.row_start[i + 1] = w.row_start[i] + row_count[i + 1];
    uint32_t next[naf_size];
    std::memcpy(next, w.row_start, sizeof next);
    for (size_t p = 0; p < 2 * count; ++p)
        for (size_t e = 0; e < w.point_digit_count[p]; ++e)
            w.entries[next[w.point_digit_position[p][e]]++] = {
                static_cast<uint16_t>(p), w.point_digit_value[p][e]};
    if (count > 0)
        resolve(w, 0, count, false, verdicts);
    sodium_memzero(randomness, sizeof randomness);
}

} // namespace

void batch_verify_straus(batch_workspace& workspace, std::span<const verify_request> requests,
                         std::span<bool> verdicts) noexcept {
    AINET_ASSERT(verdicts.size() == requests.size());
    // randombytes_buf needs libsodium initialised; sodium_init takes a lock, so only once.
    static const bool sodium_ready = sodium_init() >= 0;
    AINET_ASSERT_MSG(sodium_ready, "libsodium could not initialise");
    for (size_t first = 0; first < requests.size(); first += batch_chunk_max) {
        const size_t size = std::min(batch_chunk_max, requests.size() - first);
        verify_chunk(workspace, requests.subspan(first, size), verdicts.subspan(first, size));
    }
}

void batch_verify(batch_workspace& workspace, std::span<const verify_request> requests,
                  std::span<bool> verdicts) noexcept {
    AINET_ASSERT(verdicts.size() == requests.size());
    // Large batches: one Pippenger check of everything; only a failing batch (or one holding
    // a malformed signature) goes on to the chunked Straus path, which finds the culprits.
    if (requests.size() >= pippenger_batch_min) {
        static const bool sodium_ready = sodium_init() >= 0;
        AINET_ASSERT_MSG(sodium_ready, "libsodium could not initialise");
        ++checks_on_this_thread;
        if (pippenger_all_valid(requests)) {
            std::fill(verdicts.begin(), verdicts.end(), true);
            return;
        }
    }
    batch_verify_straus(workspace, requests, verdicts);
}

} // namespace ainet::crypto::detail

namespace ainet::crypto {

batch_verifier::batch_verifier(size_t capacity)
    : m_requests(capacity), m_pending(capacity), m_verdicts(new bool[capacity]),
      m_workspace(detail::make_batch_workspace()) {
    AINET_ASSERT(capacity >= 1 && capacity <= capacity_max);
}

batch_verifier::~batch_verifier() = default;

void batch_verifier::submit(const public_key& key, bytes_view message, const signature& sig,
                            completion_fn completion, void* context) noexcept {
    AINET_ASSERT_MSG(!m_flushing, "a completion called batch_verifier::submit");
    AINET_ASSERT(completion != nullptr);
    AINET_ASSERT(m_size < m_requests.size());
    m_requests[m_size] = verify_request{key, message, sig};
    m_pending[m_size] = pending{completion, context};
    ++m_size;
    if (m_size == m_requests.size())
        (void)flush();
}

size_t batch_verifier::flush() noexcept {
    AINET_ASSERT_MSG(!m_flushing, "a completion called batch_verifier::flush");
    const size_t count = m_size;
    if (count == 0)
        return 0;
    m_flushing = true;
    const std::span<bool> verdicts(m_verdicts.get(), count);
    if (count == 1)
        verdicts[0] = detail::verify_predicate(m_requests[0].key, m_requests[0].message,
                                               m_requests[0].sig);
    else
        detail::batch_verify(*m_workspace, std::span(m_requests).first(count), verdicts);
    for (size_t i = 0; i < count; ++i)
        m_pending[i].completion(m_pending[i].context, verdicts[i]);
    m_size = 0;
    m_flushing = false;
    return count;
}

} // namespace ainet::crypto
