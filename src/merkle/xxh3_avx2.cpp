// XXH3-128 compiled inline with XXH_VECTOR=XXH_AVX2 (see xxh3_impl.hpp for why this file includes no
// C++ standard headers).
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

#include "xxh3_impl.hpp"

void ainet::merkle::detail::xxh3_128_avx2(const void* data, size_t size, uint8_t* out) noexcept {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(data, size));
    __builtin_memcpy(out, canonical.digest, sizeof(canonical.digest));
}
