// Goal: the LWW replica converges to one state and one Merkle root whatever the order and
// duplication of updates, its root matches a from-scratch recompute, any content byte change
// moves the root, received entries are verified and drops counted by reason, client writes are
// acknowledged only once durable, tombstones are collected after the horizon.
#include "../support/rng.hpp"
#include "registry_test_support.hpp"

#include <ainet/merkle/tree.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace ainet;
using namespace ainet::registry;
using namespace ainet::test;

namespace {

const unix_ms wall{test_wall_ms};

// A set of updates with many conflicts: few writers, few names, colliding timestamps.
std::vector<entry_ptr> conflicting_updates(std::mt19937_64& rng, size_t count) {
    std::vector<entry_ptr> out;
    std::vector<crypto::key_pair> keys;
    for (uint32_t i = 0; i < 3; ++i)
        keys.push_back(writer_keys(i));
    for (size_t i = 0; i < count; ++i) {
        const auto& k = keys[rng() % keys.size()];
        const bool tomb = rng() % 5 == 0;
        out.push_back(make_stored(make_entry(k, "n" + std::to_string(rng() % 6),
                                             tomb ? "" : "v" + std::to_string(rng() % 4),
                                             test_hlc(test_wall_ms - 1000 + int64_t(rng() % 3), rng() % 2),
                                             tomb ? flag_tombstone : 0)));
    }
    return out;
}

std::vector<std::pair<std::vector<uint8_t>, uint64_t>> state_of(const replica& r) {
    std::vector<std::pair<std::vector<uint8_t>, uint64_t>> out;
    r.for_each([&](const entry_ptr& e, const dot&) { out.emplace_back(e->wire, e->key_hash); });
    return out;
}

merkle::digest recompute_root(const replica& r) {
    // From scratch: group by key hash, fold as documented.
    std::map<uint64_t, std::vector<merkle::digest>> by_hash;
    r.for_each([&](const entry_ptr& e, const dot&) { by_hash[e->key_hash].push_back(e->digest); });
    merkle::tree t(merkle::tree_config{r.config().leaf_depth, 1u << 20, merkle::hash_backend::scalar});
    for (auto& [h, digests] : by_hash)
        REQUIRE(t.upsert(h, digests.size() == 1 ? digests[0] : fold_digests(digests)));
    t.rehash();
    return t.root();
}

} // namespace

TEST_CASE("any permutation and duplication of updates gives one state and one root",
          "[registry][lww][property]") {
    auto rng = seeded_rng(70);
    for (int round = 0; round < 20; ++round) {
        const auto updates = conflicting_updates(rng, 40);
        replica reference;
        REQUIRE(reference.receive_verified(updates, {}, wall) > 0);
        const auto expected_state = state_of(reference);
        const auto expected_root = reference.root();
        CHECK(expected_root == recompute_root(reference));
        for (int trial = 0; trial < 10; ++trial) {
            auto shuffled = updates;
            const size_t dups = rng() % 20;
            for (size_t i = 0; i < dups; ++i)
                shuffled.push_back(updates[rng() % updates.size()]);
            std::shuffle(shuffled.begin(), shuffled.end(), rng);
            replica other;
            // Feed in random batch sizes, with rehashes in between.
            size_t at = 0;
            while (at < shuffled.size()) {
                const size_t n = std::min(shuffled.size() - at, size_t(1 + rng() % 7));
                (void)other.receive_verified(std::span(shuffled).subspan(at, n), {}, wall);
                at += n;
                if (rng() % 2)
                    (void)other.root();
            }
            CHECK(state_of(other) == expected_state);
            CHECK(other.root() == expected_root);
        }
    }
}

TEST_CASE("ties on equal hlc are broken by canonical bytes", "[registry][lww]") {
    const auto k = writer_keys(9);
    auto a = make_stored(make_entry(k, "x", "aaa", test_hlc(test_wall_ms)));
    auto b = make_stored(make_entry(k, "x", "bbb", test_hlc(test_wall_ms)));
    const bool a_wins = supersedes(*a, *b);
    CHECK(a_wins != supersedes(*b, *a));
    replica r1, r2;
    (void)r1.receive_verified(std::vector{a, b}, {}, wall);
    (void)r2.receive_verified(std::vector{b, a}, {}, wall);
    CHECK(r1.get(k.public_key_bytes(), "x")->wire == (a_wins ? a : b)->wire);
    CHECK(r1.root() == r2.root());
}

TEST_CASE("the root matches a recompute after random operation sequences", "[registry][merkle]") {
    auto rng = seeded_rng(71);
    replica r(replica_config{origin_id{1}, 2000, 1000, 1u << 20, 2});
    for (int i = 0; i < 300; ++i) {
        const auto k = writer_keys(static_cast<uint32_t>(rng() % 20));
        const bool tomb = rng() % 4 == 0;
        (void)r.receive_verified(std::vector{make_stored(make_entry(
                                     k, "n" + std::to_string(rng() % 10), tomb ? "" : "v",
                                     test_hlc(test_wall_ms - 5000 + int64_t(i) * 10),
                                     tomb ? flag_tombstone : 0))},
                                 {}, wall);
        if (i % 50 == 49)
            (void)r.collect(unix_ms{test_wall_ms - 4000 + int64_t(i) * 10});
        if (rng() % 3 == 0)
            CHECK(r.root() == recompute_root(r));
    }
    CHECK(r.root() == recompute_root(r));
}

TEST_CASE("changing any byte of an entry's content changes the root", "[registry][merkle]") {
    const auto k = writer_keys(4);
    const auto e = make_entry(k, "svc", "payload-123", test_hlc(test_wall_ms, 7));
    const auto original = make_stored(e);
    replica base;
    (void)base.receive_verified(std::vector{original}, {}, wall);
    const auto base_root = base.root();
    size_t checked = 0;
    for (size_t i = 0; i < original->wire.size(); ++i) {
        auto wire = original->wire;
        wire[i] ^= 0x20;
        auto decoded = decode(wire);
        if (!decoded) {
            CHECK(entry_digest(wire) != original->digest);
            continue;
        }
        replica changed;
        // Trusted path: the root alone must tell the states apart, signature or not.
        (void)changed.receive_verified(std::vector{make_stored(*decoded)}, {}, wall);
        CHECK(changed.root() != base_root);
        ++checked;
    }
    CHECK(checked > original->wire.size() / 2);
}

TEST_CASE("received entries are verified; drops are counted by reason", "[registry][verify]") {
    replica r;
    const auto k = writer_keys(5);
    const auto good = encode(make_entry(k, "a", "1", test_hlc(test_wall_ms)));
    auto forged = good;
    forged.back() ^= 1;
    const auto future = encode(make_entry(k, "b", "2", test_hlc(test_wall_ms + 2001)));
    const auto near_future = encode(make_entry(k, "c", "3", test_hlc(test_wall_ms + 1999)));
    std::vector<uint8_t> oversized(entry_wire_size_max + 1, 1);
    std::vector<uint8_t> malformed(good.begin(), good.begin() + 50);
    std::vector<bytes_view> wires{good, forged, future, near_future, oversized, malformed, good};
    CHECK(r.receive(wires, {}, wall) == 2);
    const auto& c = r.counters();
    CHECK(c.dropped_by(drop_reason::forged) == 1);
    CHECK(c.dropped_by(drop_reason::future) == 1);
    CHECK(c.dropped_by(drop_reason::oversized) == 1);
    CHECK(c.dropped_by(drop_reason::malformed) == 1);
    CHECK(c.duplicates.load() == 1);
    CHECK(r.size() == 2);
}

TEST_CASE("client writes are acknowledged only once their batch is durable",
          "[registry][durability]") {
    replica r;
    const auto k = writer_keys(6);
    auto t1 = r.write(make_entry(k, "a", "1", r.next_hlc(wall)), wall);
    REQUIRE(t1);
    CHECK(r.on_durable(0).empty());
    auto batch = r.take_batch();
    CHECK(batch.puts.size() == 1);
    CHECK(batch.sequence == 1);
    auto t2 = r.write(make_entry(k, "b", "2", r.next_hlc(wall)), wall);
    REQUIRE(t2);
    // Batch 1 durable: only the first write is acknowledged.
    auto acked = r.on_durable(batch.sequence);
    REQUIRE(acked.size() == 1);
    CHECK(acked[0] == *t1);
    auto batch2 = r.take_batch();
    CHECK(batch2.meta.hlc >= batch2.puts[0].e->value.hlc);
    CHECK(r.on_durable(batch2.sequence) == std::vector{*t2});
    // A write that does not supersede is refused; a forged one too.
    CHECK(r.write(make_entry(k, "a", "old", 1), wall).error() == registry::errc::not_newer);
    auto forged = make_entry(k, "c", "x", r.next_hlc(wall));
    forged.value = "y";
    CHECK(r.write(forged, wall).error() == registry::errc::bad_signature);

    // Restore from the durable batches gives the same root and a clock that moves on.
    replica restored;
    std::vector<durable_put> puts = batch.puts;
    puts.insert(puts.end(), batch2.puts.begin(), batch2.puts.end());
    restored.restore(batch2.meta, puts);
    CHECK(restored.root() == r.root());
    CHECK(restored.next_hlc(unix_ms{test_wall_ms - 100000}) > batch2.meta.hlc);
    CHECK(restored.vv() == r.vv());
}

TEST_CASE("tombstones are collected after the horizon; stale replicas purge old entries",
          "[registry][tombstone]") {
    replica_config cfg;
    cfg.tombstone_horizon_ms = 60'000;
    replica r(cfg);
    const auto k = writer_keys(7);
    (void)r.receive_verified(std::vector{make_stored(make_entry(k, "gone", "", test_hlc(test_wall_ms), flag_tombstone)),
                                         make_stored(make_entry(k, "kept", "v", test_hlc(test_wall_ms)))},
                             {}, wall);
    CHECK(r.collect(unix_ms{test_wall_ms + 59'000}) == 0);
    CHECK(r.collect(unix_ms{test_wall_ms + 61'000}) == 1);
    CHECK(r.size() == 1);
    CHECK(r.take_batch().removes.size() == 1);
    // Never converged: nothing to purge. Converged long ago: entries older than the horizon go.
    CHECK(r.purge_if_stale(unix_ms{test_wall_ms + 1'000'000}) == 0);
    r.on_converged({}, wall);
    CHECK(r.purge_if_stale(unix_ms{test_wall_ms + 30'000}) == 0);
    CHECK(r.purge_if_stale(unix_ms{test_wall_ms + 120'000}) == 1);
    CHECK(r.size() == 0);
    CHECK(r.counters().purged_stale.load() == 1);
}

TEST_CASE("version vectors: local writes advance, deltas select what the peer lacks",
          "[registry][vv]") {
    replica a(replica_config{origin_id{1}});
    replica b(replica_config{origin_id{2}});
    const auto k = writer_keys(8);
    for (int i = 0; i < 5; ++i)
        REQUIRE(a.write(make_entry(k, "a" + std::to_string(i), "v", a.next_hlc(wall)), wall));
    CHECK(a.vv().at(origin_id{1}) == 5);
    std::vector<std::pair<entry_ptr, dot>> delta;
    CHECK(a.delta_for(b.vv(), 100, delta));
    CHECK(delta.size() == 5);
    version_vector partial{{origin_id{1}, 3}};
    delta.clear();
    CHECK(a.delta_for(partial, 100, delta));
    CHECK(delta.size() == 2);
    delta.clear();
    CHECK_FALSE(a.delta_for({}, 3, delta));
    // An overwritten entry's dot leaves the index: only the newest dot is offered.
    REQUIRE(a.write(make_entry(k, "a0", "w", a.next_hlc(wall)), wall));
    delta.clear();
    CHECK(a.delta_for(version_vector{{origin_id{1}, 5}}, 100, delta));
    REQUIRE(delta.size() == 1);
    CHECK(delta[0].second.counter == 6);
    version_vector x{{origin_id{1}, 3}, {origin_id{2}, 9}};
    join(x, version_vector{{origin_id{1}, 7}, {origin_id{3}, 1}});
    CHECK(x == version_vector{{origin_id{1}, 7}, {origin_id{2}, 9}, {origin_id{3}, 1}});
}

TEST_CASE("a full replica drops new keys and counts them", "[registry][limits]") {
    replica_config cfg;
    cfg.entry_count_max = 2;
    replica r(cfg);
    const auto k = writer_keys(10);
    std::vector<entry_ptr> three;
    for (int i = 0; i < 3; ++i)
        three.push_back(make_stored(make_entry(k, "n" + std::to_string(i), "v", test_hlc(test_wall_ms))));
    CHECK(r.receive_verified(three, {}, wall) == 2);
    CHECK(r.counters().dropped_by(drop_reason::full) == 1);
    // Updating a stored key still works when full.
    CHECK(r.receive_verified(std::vector{make_stored(make_entry(k, "n0", "w", test_hlc(test_wall_ms + 1)))}, {}, wall) == 1);
    CHECK(r.write(make_entry(k, "n9", "v", r.next_hlc(wall)), wall).error() == registry::errc::store_full);
}
