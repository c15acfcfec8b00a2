#pragma once
// Pippenger's bucket method for the batch equation of large batches (private to src/crypto).
//
// Why a second multi-scalar multiplication. The Straus engine (batch_verify.cpp) keeps a table
// of odd multiples per point and walks one doubling chain: about 80 point additions per
// signature whatever the batch size, in chunks of batch_chunk_max. Pippenger's method instead
// sorts each c-bit window's digits into 2^(c-1) buckets and sums the buckets once per window:
// per window one addition per point with a non-zero digit plus about 2^c to sum the buckets,
// so the cost per signature falls as the batch grows (R_j's 128-bit coefficients touch only
// the lower half of the windows). The crossover against Straus is measured by bench/crypto
// (BM_own_batch vs BM_own_batch_pippenger, docs/BENCHMARKS.md) and fixed in
// pippenger_batch_min.
//
// How it is used. pippenger_all_valid() checks a whole batch with one equation and answers
// only "all valid" or "not all valid": it has no bisection. batch_verify() calls it first for
// batches of at least pippenger_batch_min; honest batches (the norm) end there, and a batch
// that fails (a forged or malformed signature) is handed to the Straus path, which finds the
// culprits by bisection. The verdicts are the predicate's either way: the equation is the same
// cofactored random linear combination (z_j: 128 random bits, lowest set), rules 1-3 are
// checked per signature first.
//
// Memory: a thread-local workspace that grows to the largest batch seen (about 1 KiB per
// signature) and is reused; nothing is allocated once it is large enough. Any thread.

#include <ainet/crypto/ed25519.hpp>

#include <span>

namespace ainet::crypto::detail {

// Batches at least this large try Pippenger first. Measured (bench_crypto BM_batch_straus vs
// BM_batch_pippenger, same run, docs/BENCHMARKS.md issue 7): Straus is ~4% ahead at 64
// signatures, Pippenger 8-11% ahead at 128, 25% at 256 and 64% at 4,096.
inline constexpr size_t pippenger_batch_min = 128;

// True when every request satisfies the predicate (up to the 2^-120 chance of a random
// combination hiding an invalid one); false when any fails, decodes badly, or breaks rules
// 1-3. Checks nothing twice and allocates only to grow the thread's workspace.
[[nodiscard]] bool pippenger_all_valid(std::span<const verify_request> requests) noexcept;

// The window width the method uses for a multi-scalar multiplication of `points` points.
[[nodiscard]] int pippenger_window(size_t points) noexcept;

} // namespace ainet::crypto::detail
