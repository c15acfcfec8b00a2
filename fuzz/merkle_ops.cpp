// Interprets the input as operations on a small tree (leaf depth 2) and checks after every
// rehash that the root equals a from-scratch recompute of a std::map model; aborts otherwise.
// Each op is 3 bytes: op (low 2 bits: 0/1 upsert, 2 erase, 3 rehash), key byte, digest byte.
// Keys spread their byte over the top and bottom bits so that buckets share and split.
#include <ainet/merkle/tree.hpp>

#include <cstdlib>
#include <map>
#include <vector>

namespace {

using namespace ainet::merkle;

digest naive(const std::map<uint64_t, digest>& leaves, uint8_t depth, uint64_t prefix) {
    constexpr uint8_t leaf_depth = 2;
    std::vector<uint8_t> bytes;
    if (depth == leaf_depth) {
        for (const auto& [key, d] : leaves) {
            if (prefix_of(key, leaf_depth) != prefix)
                continue;
            for (int i = 0; i < 8; ++i)
                bytes.push_back(static_cast<uint8_t>(key >> (8 * i)));
            bytes.insert(bytes.end(), d.bytes.begin(), d.bytes.end());
        }
        return bytes.empty() ? empty_digest : xxh3_128(bytes, hash_backend::library);
    }
    bool any = false;
    for (uint64_t slot = 0; slot < fanout; ++slot) {
        const digest child = naive(leaves, static_cast<uint8_t>(depth + 1), (prefix << 4) | slot);
        any = any || !child.is_zero();
        bytes.insert(bytes.end(), child.bytes.begin(), child.bytes.end());
    }
    return any ? xxh3_128(bytes, hash_backend::library) : empty_digest;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    tree t(tree_config{.leaf_depth = 2, .entry_count_max = 64});
    std::map<uint64_t, digest> model;
    for (size_t i = 0; i + 3 <= size && i < 3 * 4096; i += 3) {
        const uint8_t op = data[i] & 3;
        const uint64_t key = (uint64_t{data[i + 1]} << 56) | data[i + 1];
        digest d;
        d.bytes.fill(data[i + 2]);
        if (op <= 1) {
            const bool fits = model.size() < 64 || model.count(key) == 1;
            if (t.upsert(key, d).has_value() != fits)
                std::abort();
            if (fits)
                model[key] = d;
        } else if (op == 2) {
            if (t.erase(key) != (model.erase(key) == 1))
                std::abort();
        } else {
            t.rehash();
            if (t.root() != naive(model, 0, 0) || t.entry_count() != model.size())
                std::abort();
        }
    }
    t.rehash();
    if (t.root() != naive(model, 0, 0))
        std::abort();
    return 0;
}
