#pragma once
// The batch verifier's engine (see batch_verify.cpp): private to src/crypto.
//
// A batch_workspace holds everything one batch needs for up to batch_chunk_max signatures
// (decoded points as tables of odd multiples, scalars, the non-zero NAF digits grouped by
// position), so verification allocates nothing once a workspace exists. One workspace serves
// one thread at a time.

#include <ainet/crypto/batch_verifier.hpp>
#include <ainet/crypto/ed25519.hpp>

#include <memory>
#include <span>

namespace ainet::crypto::detail {

// The most signatures one multi-scalar multiplication covers; longer inputs are verified in
// chunks of this size. 128 keeps a chunk's tables (about 330 KiB) inside a typical L2 cache.
inline constexpr size_t batch_chunk_max = 128;

// batch_workspace and its deleter are declared in <ainet/crypto/batch_verifier.hpp>.
using batch_workspace_ptr = std::unique_ptr<batch_workspace, batch_workspace_deleter>;

// Allocates a workspace (the only allocation of the batch verifier).
[[nodiscard]] batch_workspace_ptr make_batch_workspace();

// verdicts[i] = verify_predicate(requests[i]) for every i (with probability 1 - 2^-120 or
// better per batch for the invalid ones; valid ones are always accepted). Precondition:
// verdicts.size() == requests.size().
void batch_verify(batch_workspace& workspace, std::span<const verify_request> requests,
                  std::span<bool> verdicts) noexcept;
// batch_verify without the large-batch Pippenger check: Straus chunks only (benchmarks measure
// the crossover with it).
void batch_verify_straus(batch_workspace& workspace, std::span<const verify_request> requests,
                         std::span<bool> verdicts) noexcept;

// Counters for tests and benchmarks: multi-scalar multiplications evaluated on this thread
// since it started (each batch check, including those of the bisection).
[[nodiscard]] uint64_t batch_checks_on_this_thread() noexcept;

} // namespace ainet::crypto::detail
