#pragma once
// The oracle for differential tests: the root recomputed from scratch, recursively, from a plain
// sorted map, with libxxhash's own XXH3_128bits (hash_backend::library), sharing no code with
// the tree's incremental path.
#include <ainet/merkle/tree.hpp>

#include <cstring>
#include <map>
#include <vector>

namespace ainet::merkle::test {

inline digest naive_subtree(const std::map<uint64_t, digest>& leaves, uint8_t leaf_depth, uint8_t depth,
                            uint64_t prefix) {
    if (depth == leaf_depth) {
        std::vector<uint8_t> bytes;
        for (const auto& [key, d] : leaves) {
            if (prefix_of(key, leaf_depth) != prefix)
                continue;
            for (int i = 0; i < 8; ++i)
                bytes.push_back(static_cast<uint8_t>(key >> (8 * i)));
            bytes.insert(bytes.end(), d.bytes.begin(), d.bytes.end());
        }
        return bytes.empty() ? empty_digest : xxh3_128(bytes, hash_backend::library);
    }
    std::vector<uint8_t> bytes;
    bool any = false;
    for (uint64_t slot = 0; slot < fanout; ++slot) {
        const digest child = naive_subtree(leaves, leaf_depth, static_cast<uint8_t>(depth + 1), (prefix << 4) | slot);
        any = any || !child.is_zero();
        bytes.insert(bytes.end(), child.bytes.begin(), child.bytes.end());
    }
    return any ? xxh3_128(bytes, hash_backend::library) : empty_digest;
}

// Only for small leaf depths (it visits all 16^leaf_depth buckets).
inline digest naive_root(const std::map<uint64_t, digest>& leaves, uint8_t leaf_depth) {
    return naive_subtree(leaves, leaf_depth, 0, 0);
}

} // namespace ainet::merkle::test
