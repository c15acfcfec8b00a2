// Interprets the input as operations on two small trees (leaf depth 2) fed the same operations:
// one batched (upserts queue in the pending log until a rehash op or an erase applies them),
// one rehashed after every operation (per-update mode). After every rehash op both roots must
// equal a from-scratch recompute of a std::map model; aborts otherwise.
// Each op is 3 bytes: op (low 2 bits: 0/1 upsert, 2 erase, 3 rehash), key byte, digest byte.
// Keys spread their byte over the top and bottom bits so that buckets share and split, and a
// batch often holds the same key several times (the last upsert must win).
#include <ainet/merkle/tree.hpp>

#include <cstdlib>
#include <map>
#include <vector>

namespace {

using namespace ainet::merkle;

constexpr uint8_t leaf_depth = 2;
constexpr uint32_t entry_count_max = 64;

digest naive(const std::map<uint64_t, digest>& leaves, uint8_t depth, uint64_t prefix) {
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

void check(tree& batched, tree& per_update, const std::map<uint64_t, digest>& model) {
    batched.rehash();
    const digest expected = naive(model, 0, 0);
    if (batched.dirty() || batched.root() != expected || batched.entry_count() != model.size())
        std::abort();
    if (per_update.root() != expected || per_update.entry_count() != model.size())
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    tree batched(tree_config{.leaf_depth = leaf_depth, .entry_count_max = entry_count_max});
    tree per_update(tree_config{.leaf_depth = leaf_depth, .entry_count_max = entry_count_max});
    std::map<uint64_t, digest> model;
    for (size_t i = 0; i + 3 <= size && i < 3 * 4096; i += 3) {
        const uint8_t op = data[i] & 3;
        const uint64_t key = (uint64_t{data[i + 1]} << 56) | data[i + 1];
        digest d;
        d.bytes.fill(data[i + 2]);
        if (op <= 1) {
            const bool fits = model.size() < entry_count_max || model.count(key) == 1;
            if (batched.upsert(key, d).has_value() != fits || per_update.upsert(key, d).has_value() != fits)
                std::abort();
            if (fits)
                model[key] = d;
            if (fits && !batched.dirty())
                std::abort();
        } else if (op == 2) {
            const bool present = model.erase(key) == 1;
            if (batched.erase(key) != present || per_update.erase(key) != present)
                std::abort();
        } else {
            check(batched, per_update, model);
        }
        per_update.rehash();
    }
    check(batched, per_update, model);
    return 0;
}
