// Goal: the registry's LMDB adapter (node/registry_service.hpp, registry_store) keeps exactly
// what the replica hands it: after writing the durable batches of a random workload (writes,
// overwrites, tombstones, removes) and reopening the directory, a replica restored from the
// store has the same Merkle root, entry count, HLC and version vector as the original; batches
// above the write_batch limits are split and still land; and the entry JSON of the HTTP API
// round-trips and rejects malformed input with the field named.

#include "../config/temp_dir.hpp"
#include "../support/rng.hpp"

#include <ainet/node/registry_service.hpp>

#include <catch2/catch.hpp>

using namespace ainet;

namespace {

unix_ms wall(int64_t ms) { return unix_ms{ms}; }

void commit_all(registry::replica& r, node::registry_store& s) {
    auto batch = r.take_batch();
    if (batch.empty() && batch.sequence == 0)
        return;
    auto written = s.write(batch);
    REQUIRE(written);
    (void)r.on_durable(batch.sequence);
}

void check_same(registry::replica& original, const std::filesystem::path& dir) {
    auto reopened = node::registry_store::open(dir);
    REQUIRE(reopened);
    registry::replica_meta meta;
    std::vector<registry::durable_put> puts;
    size_t skipped = 99;
    REQUIRE(reopened->load(meta, puts, skipped));
    CHECK(skipped == 0);
    registry::replica restored(original.config());
    restored.restore(meta, puts);
    CHECK(restored.size() == original.size());
    CHECK(restored.root() == original.root());
    CHECK(meta.hlc == original.meta().hlc);
    CHECK(meta.local_counter == original.meta().local_counter);
    CHECK(meta.vv == original.vv());
    CHECK(meta.last_converged_ms == original.meta().last_converged_ms);
}

} // namespace

TEST_CASE("registry_store: write, reopen, same root, count, clock and vector", "[node][registry]") {
    auto rng = test::seeded_rng(61);
    test::temp_dir dir;
    const auto store_dir = dir.path() / "store";
    registry::replica_config config;
    config.origin = registry::origin_id{42};
    registry::replica replica(config);
    std::vector<crypto::key_pair> writers;
    for (int i = 0; i < 4; ++i)
        writers.push_back(crypto::key_pair::generate());
    {
        auto opened = node::registry_store::open(store_dir);
        REQUIRE(opened);
        int64_t now = 1'700'000'000'000;
        for (int turn = 0; turn < 20; ++turn) {
            const int writes = static_cast<int>(rng() % 30);
            for (int i = 0; i < writes; ++i) {
                const auto& w = writers[rng() % writers.size()];
                const std::string name = "n" + std::to_string(rng() % 40);
                const bool tomb = rng() % 5 == 0;
                auto e = registry::make_entry(w, name, tomb ? "" : "v" + std::to_string(rng()),
                                              replica.next_hlc(wall(now)),
                                              tomb ? registry::flag_tombstone : 0);
                auto ticket = replica.write(e, wall(now));
                CHECK(ticket);
            }
            now += 10;
            commit_all(replica, *opened);
        }
        CHECK(replica.size() > 0);
    }
    INFO("rng seed " << Catch::rngSeed());
    check_same(replica, store_dir);

    // Removes (tombstone collection) reach the store too.
    {
        auto opened = node::registry_store::open(store_dir);
        REQUIRE(opened);
        const size_t collected =
            replica.collect(wall(1'700'000'000'000 + config.tombstone_horizon_ms + 10'000));
        commit_all(replica, *opened);
        INFO("collected " << collected);
    }
    check_same(replica, store_dir);
}

TEST_CASE("registry_store: a batch above the write_batch limits is split and lands whole",
          "[node][registry]") {
    test::temp_dir dir;
    registry::replica replica;
    const auto writer = crypto::key_pair::generate();
    auto opened = node::registry_store::open(dir.path());
    REQUIRE(opened);
    const size_t count = store::batch_limits{}.entry_count_max + 500;
    std::vector<registry::entry_ptr> entries;
    std::vector<registry::dot> dots;
    for (size_t i = 0; i < count; ++i) {
        entries.push_back(registry::make_stored(registry::make_entry(
            writer, "k" + std::to_string(i), "v", registry::hlc_make(1'700'000'000'000, i))));
        dots.push_back({registry::origin_id{7}, i + 1});
    }
    for (size_t first = 0; first < count; first += registry::receive_batch_max) {
        const size_t n = std::min(registry::receive_batch_max, count - first);
        CHECK(replica.receive_verified(std::span(entries).subspan(first, n),
                                       std::span(dots).subspan(first, n),
                                       wall(1'700'000'000'000)) == n);
    }
    auto batch = replica.take_batch();
    CHECK(batch.puts.size() == count);
    auto seq = opened->write(batch);
    REQUIRE(seq);
    CHECK(opened->counters().commits.load() >= 2);
    check_same(replica, dir.path());
}

TEST_CASE("registry entry JSON: round trip and field-named errors", "[node][registry]") {
    const auto writer = crypto::key_pair::generate();
    auto e = registry::make_entry(writer, "svc/a", std::string("bin\0ary", 7), 123456789, 0);
    std::string error;
    auto back = node::entry_from_json(node::entry_to_json(e), error);
    REQUIRE(back);
    CHECK(*back == e);
    CHECK(registry::verify(*back));

    auto text = registry::make_entry(writer, "svc/t", "plain text", 5, 0);
    back = node::entry_from_json(node::entry_to_json(text), error);
    REQUIRE(back);
    CHECK(*back == text);

    CHECK_FALSE(node::entry_from_json("[]", error));
    CHECK_FALSE(node::entry_from_json("{", error));
    CHECK_FALSE(node::entry_from_json(R"({"public_key": "ab"})", error));
    CHECK(error.find("/public_key") == 0);
    CHECK_FALSE(node::entry_from_json(R"({"surprise": 1})", error));
    CHECK(error.find("/surprise") == 0);
    auto j = node::entry_to_json(text);
    CHECK_FALSE(node::entry_from_json(j.substr(0, j.size() - 1) + R"(,"value":"x"})", error));
    CHECK(error.find("/value") == 0);
}
