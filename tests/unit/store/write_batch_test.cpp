// store::write_batch: group commit semantics. Atomicity (a failed commit stores nothing),
// ordering inside a batch, limits, counters, and the commit sequence across reopen.

#include "../config/temp_dir.hpp"
#include "store_test_support.hpp"

#include <ainet/store/environment.hpp>
#include <ainet/store/write_batch.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace test = ainet::test;
using namespace ainet::store;
using ainet::test::as_bytes;
using ainet::test::as_string;

namespace {

environment open_ok(const std::filesystem::path& dir, size_t map_size_bytes = size_t{16} << 20) {
    options opts;
    opts.map_size_bytes = map_size_bytes;
    std::string text;
    auto env = environment::open(dir, opts, &text);
    INFO(text);
    REQUIRE(env);
    return std::move(env).value();
}

uint64_t count_of(environment& env, table t) {
    auto txn = env.begin_read();
    REQUIRE(txn);
    auto n = txn->entry_count(t);
    REQUIRE(n);
    return *n;
}

} // namespace

TEST_CASE("store batch: operations apply in order; erasing a missing key is fine", "[store]") {
    test::temp_dir dir;
    auto env = open_ok(dir.path());
    auto t = env.open_table("t");
    REQUIRE(t);
    write_batch batch(env);
    REQUIRE(batch.put(*t, as_bytes("a"), as_bytes("1")));
    REQUIRE(batch.erase(*t, as_bytes("a")));
    REQUIRE(batch.put(*t, as_bytes("b"), as_bytes("1")));
    REQUIRE(batch.put(*t, as_bytes("b"), as_bytes("2")));
    REQUIRE(batch.erase(*t, as_bytes("never-written")));
    CHECK(batch.entry_count() == 5);
    auto seq = batch.commit();
    REQUIRE(seq);
    CHECK(batch.empty());
    CHECK(batch.byte_count() == 0);
    auto txn = env.begin_read();
    REQUIRE(txn);
    auto a = txn->get(*t, as_bytes("a"));
    auto b = txn->get(*t, as_bytes("b"));
    REQUIRE((a && b && *b));
    CHECK(!*a);
    CHECK(as_string(**b) == "2");

    const auto& c = batch.counters();
    CHECK(c.commits.load() == 1);
    CHECK(c.entries_committed.load() == 5);
    CHECK(c.puts.load() == 3);
    CHECK(c.erases.load() == 2);
    CHECK(c.largest_commit_entries.load() == 5);
}

TEST_CASE("store batch: an empty commit returns the current sequence and writes nothing",
          "[store]") {
    test::temp_dir dir;
    auto env = open_ok(dir.path());
    write_batch batch(env);
    auto first = batch.commit();
    REQUIRE(first);
    CHECK(*first == 0);
    CHECK(batch.counters().commits.load() == 0);
}

TEST_CASE("store batch: limits refuse, count and keep what was already added", "[store]") {
    test::temp_dir dir;
    auto env = open_ok(dir.path());
    auto t = env.open_table("t");
    REQUIRE(t);
    write_batch batch(env, batch_limits{.entry_count_max = 3, .byte_count_max = 10});
    REQUIRE(batch.put(*t, as_bytes("k1"), as_bytes("v1"))); // 4 bytes
    REQUIRE(batch.put(*t, as_bytes("k2"), as_bytes("v2"))); // 8 bytes
    auto too_big = batch.put(*t, as_bytes("k3"), as_bytes("v3"));
    REQUIRE(!too_big);
    CHECK(too_big.error() == errc::batch_full);
    REQUIRE(batch.erase(*t, as_bytes("k9"))); // 10 bytes, 3 entries
    CHECK(batch.erase(*t, as_bytes("x")).error() == errc::batch_full);
    CHECK(batch.counters().rejected_batch_full.load() == 2);
    REQUIRE(batch.commit());
    CHECK(count_of(env, *t) == 2);
    REQUIRE(batch.put(*t, as_bytes("k3"), as_bytes("v3"))); // room again after the commit
}

TEST_CASE("store batch: a commit that fails (map full) stores nothing of its batch", "[store]") {
    // Goal: atomicity at the failure that matters in production, a full map. Earlier commits
    // stay, the failed batch leaves no trace (not even a prefix of it), the sequence does not
    // move, and the environment keeps working for reads and for smaller commits.
    test::temp_dir dir;
    uint64_t last_sequence = 0;
    {
        auto env = open_ok(dir.path(), map_size_min_bytes); // 16 pages of 4 KiB
        auto t = env.open_table("t");
        REQUIRE(t);
        write_batch batch(env, batch_limits{.entry_count_max = 4096, .byte_count_max = 1 << 22});
        REQUIRE(batch.put(*t, as_bytes("kept"), as_bytes("yes")));
        auto kept = batch.commit();
        REQUIRE(kept);

        const std::string value(1000, 'v');
        for (int i = 0; i < 400; ++i)
            REQUIRE(batch.put(*t, as_bytes("big-" + std::to_string(1000 + i)), as_bytes(value)));
        auto failed = batch.commit();
        REQUIRE(!failed);
        CHECK(failed.error() == errc::map_full);
        CHECK(!env.last_error().empty());
        CHECK(batch.empty());
        CHECK(batch.counters().commit_failures.load() == 1);
        CHECK(env.commit_sequence() == *kept);
        CHECK(count_of(env, *t) == 1);

        REQUIRE(batch.put(*t, as_bytes("after"), as_bytes("ok")));
        auto after = batch.commit();
        REQUIRE(after);
        CHECK(*after == *kept + 1);
        CHECK(count_of(env, *t) == 2);
        last_sequence = *after;
    }

    // The same holds after reopening (LMDB allows one open environment per directory per
    // process, hence the scope above): the failed batch never reached the file.
    auto env = open_ok(dir.path(), map_size_min_bytes);
    auto t = env.open_table("t");
    REQUIRE(t);
    CHECK(env.commit_sequence() == last_sequence);
    CHECK(count_of(env, *t) == 2);
}

TEST_CASE("store batch: the commit sequence and the data survive reopen; no-sync mode too",
          "[store]") {
    test::temp_dir dir;
    for (bool durable : {true, false}) {
        const auto path = dir.path() / (durable ? "durable" : "nosync");
        uint64_t last = 0;
        {
            options opts;
            opts.map_size_bytes = size_t{16} << 20;
            opts.durable = durable;
            auto env = environment::open(path, opts);
            REQUIRE(env);
            auto t = env->open_table("t");
            REQUIRE(t);
            write_batch batch(*env);
            for (int i = 0; i < 10; ++i) {
                REQUIRE(batch.put(*t, as_bytes("k" + std::to_string(i)), as_bytes("v")));
                auto seq = batch.commit();
                REQUIRE(seq);
                CHECK(*seq == last + 1);
                last = *seq;
            }
        }
        auto env = open_ok(path);
        CHECK(env.commit_sequence() == last);
        auto t = env.open_table("t");
        REQUIRE(t);
        CHECK(count_of(env, *t) == 10);
    }
}
