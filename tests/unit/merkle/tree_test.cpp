#include "naive_root.hpp"

#include "../support/rng.hpp"

#include <ainet/merkle/tree.hpp>

#include <algorithm>
#include <map>
#include <set>

using namespace ainet::merkle;
using ainet::merkle::test::naive_root;

namespace {

digest random_digest(std::mt19937_64& rng) {
    digest d;
    for (auto& b : d.bytes)
        b = static_cast<uint8_t>(rng());
    return d;
}

// Key hashes from a small pool so that upserts replace and erases hit; the top bits are drawn
// from a few values so buckets share prefixes and hold several leaves.
uint64_t random_key(std::mt19937_64& rng, size_t pool) {
    const uint64_t k = rng() % pool;
    return (k * 0x9e3779b97f4a7c15ull) ^ ((k % 3) << 60);
}

// One random operation on t and on the model: an erase with probability erase_percent / 100
// (checking that erase() reports presence as the model does), else an upsert.
void random_op(tree& t, std::map<uint64_t, digest>& model, std::mt19937_64& rng, size_t pool,
               unsigned erase_percent) {
    const uint64_t key = random_key(rng, pool);
    if (rng() % 100 < erase_percent) {
        CHECK(t.erase(key) == (model.erase(key) == 1));
    } else {
        const digest d = random_digest(rng);
        REQUIRE(t.upsert(key, d));
        model[key] = d;
    }
}

} // namespace

TEST_CASE("merkle hash backends all compute libxxhash's XXH3-128", "[merkle]") {
    // Goal: every backend the CPU supports is a drop-in for the library, at every length class
    // (0-16, 17-128, 129-240, and the long striped path above 240).
    auto rng = ainet::test::seeded_rng(1);
    for (size_t size : {0, 1, 16, 24, 100, 200, 240, 241, 256, 360, 1024, 5000}) {
        const auto data = ainet::test::random_bytes(rng, size);
        const digest expected = xxh3_128(data, hash_backend::library);
        for (auto b : {hash_backend::scalar, hash_backend::sse2, hash_backend::avx2, hash_backend::avx512,
                       hash_backend::library_dispatch, hash_backend::automatic}) {
            if (!backend_supported(b))
                continue;
            INFO("backend " << to_string(b) << " size " << size);
            CHECK(xxh3_128(data, b) == expected);
        }
    }
}

TEST_CASE("merkle tree root equals a from-scratch recompute after random operation sequences", "[merkle]") {
    // Goal: the incremental, batched rehash never drifts from the definition, whatever mix of
    // inserts, replacements, erases (including emptying buckets and subtrees) and batch sizes.
    for (uint8_t leaf_depth : {uint8_t{1}, uint8_t{2}, uint8_t{3}}) {
        auto rng = ainet::test::seeded_rng(leaf_depth);
        tree t(tree_config{.leaf_depth = leaf_depth});
        std::map<uint64_t, digest> model;
        for (int round = 0; round < 300; ++round) {
            // Mostly small batches (insertion-sorted log), some above 32 (radix-sorted log).
            const size_t batch = 1 + rng() % (round % 5 == 0 ? 300 : 40);
            for (size_t i = 0; i < batch; ++i)
                random_op(t, model, rng, 200, 33);
            t.rehash();
            REQUIRE(t.entry_count() == model.size());
            REQUIRE(t.root() == naive_root(model, leaf_depth));
        }
    }
}

TEST_CASE("merkle tree: queued upserts are applied in call order, reads need a clean tree", "[merkle]") {
    // Goal: the pending log is invisible except through dirty(): the state after rehash() is
    // that of every upsert and erase applied in call order (the last upsert of a key wins, an
    // erase sees the upserts queued before it), whatever the log size, and rehash() hashes each
    // dirty node exactly once.
    auto rng = ainet::test::seeded_rng(6);
    for (uint8_t leaf_depth : {uint8_t{1}, uint8_t{2}, uint8_t{3}}) {
        INFO("leaf_depth " << int{leaf_depth});
        tree batched(tree_config{.leaf_depth = leaf_depth});
        tree per_update(tree_config{.leaf_depth = leaf_depth});
        std::map<uint64_t, digest> model;
        for (int round = 0; round < 40; ++round) {
            const size_t batch = round % 8 == 7 ? 3000 : 1 + rng() % 100;
            std::set<uint64_t> dirty_buckets;
            const uint64_t hashes_before = batched.hash_count();
            for (size_t i = 0; i < batch; ++i) {
                const uint64_t key = random_key(rng, 400);
                if (rng() % 8 == 0) {
                    const bool present = model.erase(key) == 1;
                    if (present)
                        dirty_buckets.insert(prefix_of(key, leaf_depth));
                    CHECK(batched.erase(key) == present);  // sees the queued upserts
                    CHECK(per_update.erase(key) == present);
                } else {
                    const digest d = random_digest(rng);
                    REQUIRE(batched.upsert(key, d));
                    REQUIRE(per_update.upsert(key, d));
                    model[key] = d;
                    dirty_buckets.insert(prefix_of(key, leaf_depth));
                    CHECK(batched.dirty());
                }
                per_update.rehash();
            }
            batched.rehash();
            CHECK_FALSE(batched.dirty());
            CHECK(batched.pending_count() == 0);
            REQUIRE(batched.entry_count() == model.size());
            REQUIRE(batched.root() == naive_root(model, leaf_depth));
            REQUIRE(per_update.root() == batched.root());
            // Exactly once: every dirty bucket and every ancestor of one, except empty buckets
            // (emptied by erase) and inner nodes left with no leaf below (both get the empty
            // digest without hashing).
            std::set<std::pair<uint8_t, uint64_t>> hashed;
            for (uint64_t b : dirty_buckets) {
                for (int depth = leaf_depth; depth >= 0; --depth) {
                    const uint64_t prefix = b >> (bits_per_level * (leaf_depth - depth));
                    const bool empty = std::none_of(model.begin(), model.end(), [&](const auto& kv) {
                        return prefix_of(kv.first, static_cast<uint8_t>(depth)) == prefix;
                    });
                    if (!empty)
                        hashed.insert({static_cast<uint8_t>(depth), prefix});
                }
            }
            CHECK(batched.hash_count() - hashes_before == hashed.size());
        }
    }
}

TEST_CASE("merkle tree: a log longer than pending_count_max is applied in order", "[merkle]") {
    // Goal: the log's bound holds (a full log is applied before the next upsert queues) without
    // changing the result; the same keys rewritten many times keep only their last digest.
    auto rng = ainet::test::seeded_rng(7);
    tree t(tree_config{.leaf_depth = 2});
    std::map<uint64_t, digest> model;
    for (size_t i = 0; i < pending_count_max + 1000; ++i) {
        const uint64_t key = random_key(rng, 5000);
        const digest d = random_digest(rng);
        REQUIRE(t.upsert(key, d));
        model[key] = d;
        REQUIRE(t.pending_count() <= pending_count_max);
    }
    CHECK(t.pending_count() == 1000);
    t.rehash();
    CHECK(t.entry_count() == model.size());
    CHECK(t.root() == naive_root(model, 2));
}

TEST_CASE("merkle tree: arena relocation and compaction keep contents and bound memory", "[merkle]") {
    // Goal: buckets growing out of their blocks, emptying and refilling (the arena's abandoned
    // blocks, its compactions) never change what the tree holds, and the arena stays within a
    // small factor of the live leaves.
    auto rng = ainet::test::seeded_rng(8);
    tree t(tree_config{.leaf_depth = 2});
    const size_t fixed = tree(tree_config{.leaf_depth = 2}).memory_bytes();
    std::map<uint64_t, digest> model;
    for (int round = 0; round < 200; ++round) {
        // Phases of growth and of shrinkage, so buckets both outgrow blocks and empty.
        const bool growing = (round / 25) % 2 == 0;
        for (int i = 0; i < 200; ++i)
            random_op(t, model, rng, 6000, growing ? 20 : 70);
        t.rehash();
        REQUIRE(t.entry_count() == model.size());
        if (round % 10 == 9)
            REQUIRE(t.root() == naive_root(model, 2));
        // Live leaves plus at most: a quarter abandoned, 1/8 slack, 1/8 growth headroom, a
        // few leaves per bucket from growth steps, and the log and sort scratch.
        const size_t live = model.size() * sizeof(leaf);
        CHECK(t.memory_bytes() <= fixed + 2 * live + 256 * 4 * sizeof(leaf) + 300 * 48);
    }
}

TEST_CASE("merkle tree: an arena above 2 MiB (mapped, huge-page advised) keeps contents", "[merkle]") {
    // Goal: the mmap path of the leaf arena (the bulk load grows it by remapping and compacts
    // it into new mappings, unmapping the old) agrees with trees built another way: one bulk
    // batch vs batches of 64, then after erasing half and refilling vs a tree built directly.
    auto rng = ainet::test::seeded_rng(9);
    std::vector<leaf> leaves(120'000);  // 2.9 MB of leaves
    for (auto& l : leaves)
        l = leaf{rng(), random_digest(rng)};
    tree bulk(tree_config{.leaf_depth = 3});
    tree batched(tree_config{.leaf_depth = 3});
    for (size_t i = 0; i < leaves.size(); ++i) {
        REQUIRE(bulk.upsert(leaves[i].key_hash, leaves[i].leaf_digest));
        REQUIRE(batched.upsert(leaves[i].key_hash, leaves[i].leaf_digest));
        if (i % 64 == 63)
            batched.rehash();
    }
    bulk.rehash();
    batched.rehash();
    CHECK(bulk.memory_bytes() > (size_t{2} << 20));
    CHECK(bulk.entry_count() == leaves.size());
    CHECK(bulk.root() == batched.root());
    tree half(tree_config{.leaf_depth = 3});
    for (size_t i = 0; i < leaves.size(); ++i) {
        if (i % 2 == 0)
            REQUIRE(bulk.erase(leaves[i].key_hash));
        else
            REQUIRE(half.upsert(leaves[i].key_hash, leaves[i].leaf_digest));
    }
    for (size_t i = 0; i < leaves.size(); i += 2)
        REQUIRE(bulk.upsert(leaves[i].key_hash ^ 1, leaves[i].leaf_digest));
    for (size_t i = 0; i < leaves.size(); i += 2)
        REQUIRE(half.upsert(leaves[i].key_hash ^ 1, leaves[i].leaf_digest));
    bulk.rehash();
    half.rehash();
    CHECK(bulk.entry_count() == half.entry_count());
    CHECK(bulk.root() == half.root());
    CHECK(bulk.leaves() == half.leaves());
}

TEST_CASE("merkle tree root does not depend on the order of upserts", "[merkle]") {
    auto rng = ainet::test::seeded_rng(2);
    std::vector<leaf> leaves(500);
    for (auto& l : leaves)
        l = leaf{rng(), random_digest(rng)};
    tree first(tree_config{.leaf_depth = 3});
    for (const auto& l : leaves)
        REQUIRE(first.upsert(l.key_hash, l.leaf_digest));
    first.rehash();
    for (int permutation = 0; permutation < 5; ++permutation) {
        std::shuffle(leaves.begin(), leaves.end(), rng);
        tree other(tree_config{.leaf_depth = 3});
        for (const auto& l : leaves) {
            REQUIRE(other.upsert(l.key_hash, l.leaf_digest));
            if (rng() % 7 == 0)
                other.rehash();  // batch boundaries must not matter either
        }
        other.rehash();
        CHECK(other.root() == first.root());
    }
}

TEST_CASE("merkle tree: changing any byte of a leaf digest or key changes the root", "[merkle]") {
    // Goal: the content of an entry (through its cryptographic leaf digest), not only its key,
    // is bound into the root: every bit of the digest and of the key position matters.
    auto rng = ainet::test::seeded_rng(3);
    tree t(tree_config{.leaf_depth = 3});
    std::vector<leaf> leaves(64);
    for (auto& l : leaves) {
        l = leaf{rng(), random_digest(rng)};
        REQUIRE(t.upsert(l.key_hash, l.leaf_digest));
    }
    t.rehash();
    const digest original = t.root();
    const leaf target = leaves[static_cast<size_t>(rng() % leaves.size())];
    for (size_t byte = 0; byte < digest_size; ++byte) {
        for (int bit = 0; bit < 8; bit += 3) {
            digest changed = target.leaf_digest;
            changed.bytes[byte] = static_cast<uint8_t>(changed.bytes[byte] ^ (1u << bit));
            REQUIRE(t.upsert(target.key_hash, changed));
            t.rehash();
            CHECK(t.root() != original);
        }
    }
    REQUIRE(t.upsert(target.key_hash, target.leaf_digest));
    t.rehash();
    CHECK(t.root() == original);
    // The same digest under another key hash (any byte of the key) is another state too.
    REQUIRE(t.erase(target.key_hash));
    for (int byte = 0; byte < 8; ++byte) {
        const uint64_t moved = target.key_hash ^ (uint64_t{1} << (8 * byte));
        REQUIRE(t.upsert(moved, target.leaf_digest));
        t.rehash();
        CHECK(t.root() != original);
        REQUIRE(t.erase(moved));
    }
}

TEST_CASE("merkle tree: erasing everything gives the empty root and releases nodes", "[merkle]") {
    auto rng = ainet::test::seeded_rng(4);
    tree t(tree_config{.leaf_depth = 4});
    t.rehash();
    CHECK(t.root() == empty_digest);
    std::vector<uint64_t> keys(1000);
    for (auto& k : keys) {
        k = rng();
        REQUIRE(t.upsert(k, random_digest(rng)));
    }
    t.rehash();
    CHECK(t.root() != empty_digest);
    const size_t memory_full = t.memory_bytes();
    size_t memory_cycle = 0;
    std::shuffle(keys.begin(), keys.end(), rng);
    for (uint64_t k : keys)
        CHECK(t.erase(k));
    CHECK_FALSE(t.erase(keys.front()));
    t.rehash();
    CHECK(t.entry_count() == 0);
    CHECK(t.root() == empty_digest);
    // Refilling reuses the released nodes: memory stays near the first fill's.
    for (int cycle = 0; cycle < 3; ++cycle) {
        for (uint64_t k : keys)
            REQUIRE(t.upsert(k, random_digest(rng)));
        t.rehash();
        const size_t memory_refilled = t.memory_bytes();
        // Buckets are reused under other prefixes, so their vectors' capacities move a little.
        CHECK(memory_refilled < memory_full * 5 / 4);
        if (cycle != 0)
            CHECK(memory_refilled < memory_cycle * 21 / 20);
        memory_cycle = memory_refilled;
        for (uint64_t k : keys)
            REQUIRE(t.erase(k));
        t.rehash();
        CHECK(t.root() == empty_digest);
    }
}

TEST_CASE("merkle tree refuses new keys beyond entry_count_max but still replaces", "[merkle]") {
    // Goal: the limit is exact although upserts are queued: keys counted once however often
    // they are queued, replacements of queued (unapplied) keys still accepted.
    tree t(tree_config{.leaf_depth = 2, .entry_count_max = 3});
    REQUIRE(t.upsert(1, digest{{1}}));
    REQUIRE(t.upsert(2, digest{{2}}));
    REQUIRE(t.upsert(2, digest{{3}}));
    REQUIRE(t.upsert(3, digest{{4}}));
    auto refused = t.upsert(4, digest{{4}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::tree_full);
    CHECK(t.upsert(2, digest{{9}}));
    CHECK(t.upsert(3, digest{{8}}));
    CHECK(t.erase(1));
    CHECK(t.upsert(4, digest{{7}}));
    CHECK_FALSE(t.upsert(5, digest{{6}}));
    t.rehash();
    std::map<uint64_t, digest> model{{2, digest{{9}}}, {3, digest{{8}}}, {4, digest{{7}}}};
    CHECK(t.root() == naive_root(model, 2));
    CHECK(t.entry_count() == 3);
}

TEST_CASE("merkle tree: node and descendant digests agree with each other", "[merkle]") {
    auto rng = ainet::test::seeded_rng(5);
    tree t(tree_config{.leaf_depth = 3});
    for (int i = 0; i < 300; ++i)
        REQUIRE(t.upsert(rng(), random_digest(rng)));
    t.rehash();
    std::vector<digest> grandchildren(256);
    t.descendant_digests(position{0, 0}, 2, grandchildren);
    for (uint64_t p = 0; p < 256; ++p)
        CHECK(grandchildren[p] == t.node_digest(position{2, p}));
    std::vector<digest> children(16);
    t.descendant_digests(position{1, 5}, 1, children);
    for (uint64_t s = 0; s < 16; ++s)
        CHECK(children[s] == t.node_digest(position{2, (5u << 4) | s}));
    CHECK(t.node_digest(position{0, 0}) == t.root());
    const auto all = t.leaves();
    CHECK(all.size() == 300);
    CHECK(std::is_sorted(all.begin(), all.end(),
                         [](const leaf& a, const leaf& b) { return a.key_hash < b.key_hash; }));
}
