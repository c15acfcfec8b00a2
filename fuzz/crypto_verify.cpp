// Fuzzes verification. Single and batch verification must give the same verdict on every
// input, alone and inside larger batches (with the IFMA decoding path on and off, and through
// the large-batch Pippenger check), since the
// batch verifier is only correct if it never disagrees with the single one
// (docs/protocol/signing.md, "The verification predicate").
//
// The input is read two ways:
// 1. raw: public key (32 bytes) || signature (64) || message (rest), verified as is (random
//    bytes almost never decode to valid points, so this mostly explores the rejection rules);
// 2. crafted: the same bytes drive a signature made in code, so the accepting paths and the
//    mixed-order cases get fuzzed too: secret a and nonce r from bytes 0..63 (252 bits each),
//    torsion points T_i, T_j picked by byte 64, A = [a]B + T_i, R = [r]B + T_j,
//    S = r + k a mod L. The predicate accepts it exactly when neither A nor R has small order
//    (a and r non-zero mod L), whatever i and j; a flipped S bit must be rejected.
#include <ainet/crypto/ed25519.hpp>

#include "batch_impl.hpp"
#include "batch_pippenger.hpp"
#include "edwards.hpp"
#include "field25519_simd.hpp"
#include "scalar25519.hpp"
#include "verify_impl.hpp"

#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using namespace ainet::crypto;
namespace cd = ainet::crypto::detail;

cd::ge_p3 add(const cd::ge_p3& p, const cd::ge_p3& q) {
    return cd::ge_to_p3(cd::ge_add(p, cd::ge_to_cached(q)));
}

cd::ge_p3 base_mult(const cd::scalar& s) {
    const cd::scalar zero{};
    return cd::ge_double_scalarmult_vartime(s.data(), cd::ge_base(), zero.data());
}

// The 8 points of order dividing 8, T_i = [i]T_1, with T_1 = -[L]P of order 8 for the first
// suitable point P found by decoding 00.., 01.., 02.. .
std::array<cd::ge_p3, 8> make_torsion() {
    const cd::scalar order{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                           0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                           0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    const cd::scalar zero{};
    // About half of all points have a component of order 8, so this ends within a few tries.
    for (uint8_t seed_byte = 0;; ++seed_byte) {
        uint8_t bytes[32] = {};
        bytes[0] = seed_byte;
        bytes[1] = 0x55;
        cd::ge_p3 p;
        if (!cd::ge_decode(p, bytes))
            continue;
        const cd::ge_p3 t = cd::ge_double_scalarmult_vartime(zero.data(), p, order.data());
        cd::ge_p2 q = cd::ge_to_p2(t);
        q = cd::ge_to_p2(cd::ge_dbl(q));
        q = cd::ge_to_p2(cd::ge_dbl(q));
        if (cd::fe_is_zero(q.X) && cd::fe_equal(q.Y, q.Z))
            continue; // [4]T is the identity: T's order divides 4
        std::array<cd::ge_p3, 8> points{};
        points[0] = cd::ge_identity();
        for (size_t i = 1; i < 8; ++i)
            points[i] = add(points[i - 1], t);
        return points;
    }
}

bool single(const verify_request& r) { return verify_raw(r.key, r.message, r.sig); }

// The verdict of r inside a batch of three, between two other requests, through the batch
// engine; also checks the neighbours' verdicts.
bool in_batch(const verify_request& r, const verify_request& neighbour) {
    const std::array<verify_request, 3> batch = {neighbour, r, neighbour};
    std::array<bool, 3> verdicts{};
    verify_batch(batch, verdicts);
    const bool neighbour_verdict = single(neighbour);
    if (verdicts[0] != neighbour_verdict || verdicts[2] != neighbour_verdict)
        std::abort();
    return verdicts[1];
}

bool alone_in_engine(const verify_request& r) {
    thread_local cd::batch_workspace_ptr workspace = cd::make_batch_workspace();
    bool verdict = false;
    cd::batch_verify(*workspace, {&r, 1}, {&verdict, 1});
    return verdict;
}

void check_agreement(const verify_request& r, const verify_request& neighbour, bool expected) {
    if (single(r) != expected || alone_in_engine(r) != expected ||
        in_batch(r, neighbour) != expected)
        std::abort();
    // The large-batch equation (Pippenger) must say "all valid" exactly when all are.
    const std::array<verify_request, 2> pair = {neighbour, r};
    if (cd::pippenger_all_valid(pair) != (expected && single(neighbour)))
        std::abort();
    // A batch of three decodes six points, enough for the AVX-512 IFMA path where the CPU
    // has it (the default above): the portable path must agree.
    if (cd::field_simd_available()) {
        const cd::field_simd_scope portable(false);
        if (in_batch(r, neighbour) != expected)
            std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < public_key_size + signature_size)
        return 0;
    // 1. raw
    verify_request request{};
    std::memcpy(request.key.data(), data, public_key_size);
    std::memcpy(request.sig.data(), data + public_key_size, signature_size);
    request.message = ainet::bytes_view(data + public_key_size + signature_size,
                                        size - public_key_size - signature_size);
    verify_request flipped = request;
    flipped.sig[signature_size - 1] ^= 0x01;
    check_agreement(request, flipped, single(request));

    // 2. crafted
    static const std::array<cd::ge_p3, 8> torsion = make_torsion();
    cd::scalar a{};
    cd::scalar r{};
    std::memcpy(a.data(), data, 32);
    std::memcpy(r.data(), data + 32, 32);
    a[31] &= 0x0f;
    r[31] &= 0x0f;
    const uint8_t selector = data[64];
    const cd::ge_p3 point_a = add(base_mult(a), torsion[selector & 7]);
    const cd::ge_p3 point_r = add(base_mult(r), torsion[(selector >> 3) & 7]);
    verify_request crafted{};
    crafted.key = cd::ge_encode(point_a);
    const auto r_bytes = cd::ge_encode(point_r);
    crafted.message = request.message;
    const cd::scalar k = cd::challenge(r_bytes.data(), crafted.key.data(), crafted.message);
    const cd::scalar s = cd::scalar_add(r, cd::scalar_mul(k, a));
    std::memcpy(crafted.sig.data(), r_bytes.data(), 32);
    std::memcpy(crafted.sig.data() + 32, s.data(), 32);
    const cd::scalar zero{};
    const bool expected = a != zero && r != zero; // a, r < 2^252 < L: zero mod L iff zero
    check_agreement(crafted, request, expected);
    verify_request bad = crafted;
    const size_t bit = data[65] % 252u; // stays a 253-bit value: S + 2^bit or S - 2^bit
    bad.sig[32 + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    check_agreement(bad, crafted, false);
    return 0;
}
