#pragma once
// Private: the per-instruction-set XXH3-128 entry points, each defined in its own translation
// unit that includes xxhash.h with XXH_INLINE_ALL (internal linkage, so the copies built with
// different -m flags never meet at link time). These TUs include nothing from the C++ standard
// library: an inline std:: function instantiated with -mavx2 could otherwise be picked by the
// linker for the whole program and run on a CPU without AVX2.
#include <stddef.h>
#include <stdint.h>

namespace ainet::merkle::detail {

// Writes the canonical (big-endian) 16-byte XXH3-128 of data to out.
void xxh3_128_scalar(const void* data, size_t size, uint8_t* out) noexcept;
void xxh3_128_sse2(const void* data, size_t size, uint8_t* out) noexcept;
void xxh3_128_avx2(const void* data, size_t size, uint8_t* out) noexcept;
void xxh3_128_avx512(const void* data, size_t size, uint8_t* out) noexcept;

} // namespace ainet::merkle::detail
