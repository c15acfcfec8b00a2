// store::environment and read transactions: round trips, ordered and prefix scans, reopen,
// options and error paths against a real LMDB environment in a temporary directory.

#include "../config/temp_dir.hpp"
#include "../support/rng.hpp"
#include "store_test_support.hpp"

#include <ainet/store/environment.hpp>
#include <ainet/store/write_batch.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <sys/stat.h>

namespace test = ainet::test;
using namespace ainet::store;
using ainet::test::as_bytes;
using ainet::test::as_string;

namespace {

options small_options() {
    options opts;
    opts.map_size_bytes = size_t{16} << 20;
    return opts;
}

environment open_ok(const std::filesystem::path& dir, const options& opts = small_options()) {
    std::string text;
    auto env = environment::open(dir, opts, &text);
    INFO(text);
    REQUIRE(env);
    return std::move(env).value();
}

std::string get_string(environment& env, table t, std::string_view key) {
    auto txn = env.begin_read();
    REQUIRE(txn);
    auto value = txn->get(t, as_bytes(key));
    REQUIRE(value);
    return *value ? as_string(**value) : std::string("<missing>");
}

} // namespace

TEST_CASE("store: a put is read back, and a missing key reads as nullopt", "[store]") {
    test::temp_dir dir;
    auto env = open_ok(dir.path() / "db");
    auto t = env.open_table("entries");
    REQUIRE(t);
    write_batch batch(env);
    REQUIRE(batch.put(*t, as_bytes("alpha"), as_bytes("one")));
    REQUIRE(batch.put(*t, as_bytes("beta"), as_bytes("")));
    auto seq = batch.commit();
    REQUIRE(seq);
    CHECK(*seq == 1);
    CHECK(env.commit_sequence() == 1);
    CHECK(get_string(env, *t, "alpha") == "one");
    CHECK(get_string(env, *t, "beta").empty());
    CHECK(get_string(env, *t, "gamma") == "<missing>");
}

TEST_CASE("store: tables are separate key spaces and reopening a name gives the same table",
          "[store]") {
    test::temp_dir dir;
    auto env = open_ok(dir.path());
    auto a = env.open_table("a");
    auto b = env.open_table("b");
    auto a_again = env.open_table("a");
    REQUIRE((a && b && a_again));
    CHECK(a->dbi != b->dbi);
    CHECK(a->dbi == a_again->dbi);
    write_batch batch(env);
    REQUIRE(batch.put(*a, as_bytes("k"), as_bytes("in a")));
    REQUIRE(batch.put(*b, as_bytes("k"), as_bytes("in b")));
    REQUIRE(batch.commit());
    CHECK(get_string(env, *a, "k") == "in a");
    CHECK(get_string(env, *b, "k") == "in b");
}

TEST_CASE("store: random puts and erases match a std::map oracle, through scans and reopen",
          "[store]") {
    // Goal: whatever sequence of batches is committed, the table holds exactly what an ordered
    // map holds, iterates in the same (unsigned lexicographic) order, and still does so after
    // the environment is closed and opened again.
    test::temp_dir dir;
    auto rng = test::seeded_rng(1);
    std::map<std::vector<uint8_t>, std::vector<uint8_t>> oracle;
    uint64_t expected_sequence = 0;
    {
        auto env = open_ok(dir.path());
        auto t = env.open_table("t");
        REQUIRE(t);
        write_batch batch(env, batch_limits{.entry_count_max = 64, .byte_count_max = 1 << 16});
        for (int round = 0; round < 40; ++round) {
            const size_t ops = 1 + rng() % 64;
            for (size_t i = 0; i < ops; ++i) {
                // Short keys from a small alphabet, so erases and overwrites hit existing keys.
                auto key = test::random_bytes(rng, 1 + rng() % 3);
                for (auto& b : key)
                    b = static_cast<uint8_t>(b % 4 * 0x40); // includes 0x00 and 0xc0
                if (rng() % 4 == 0) {
                    REQUIRE(batch.erase(*t, key));
                    oracle.erase(key);
                } else {
                    auto value = test::random_bytes(rng, rng() % 40);
                    REQUIRE(batch.put(*t, key, value));
                    oracle[key] = value;
                }
            }
            auto seq = batch.commit();
            REQUIRE(seq);
            CHECK(*seq == ++expected_sequence);
        }
        CHECK(batch.counters().commits.load() == 40);
    }
    auto env = open_ok(dir.path());
    CHECK(env.commit_sequence() == expected_sequence);
    auto t = env.open_table("t");
    REQUIRE(t);
    auto txn = env.begin_read();
    REQUIRE(txn);
    auto count = txn->entry_count(*t);
    REQUIRE(count);
    CHECK(*count == oracle.size());

    std::vector<std::pair<std::vector<uint8_t>, std::vector<uint8_t>>> seen;
    auto visited = txn->scan_range(*t, {}, {}, 100000, [&](const entry& e) {
        seen.emplace_back(std::vector<uint8_t>(e.key.begin(), e.key.end()),
                          std::vector<uint8_t>(e.value.begin(), e.value.end()));
        return true;
    });
    REQUIRE(visited);
    CHECK(*visited == oracle.size());
    CHECK(seen == std::vector<std::pair<std::vector<uint8_t>, std::vector<uint8_t>>>(oracle.begin(),
                                                                                     oracle.end()));

    // Every one-byte prefix scan yields exactly the oracle's keys with that prefix.
    for (int first = 0; first < 4; ++first) {
        const std::vector<uint8_t> prefix{static_cast<uint8_t>(first * 0x40)};
        size_t expected = 0;
        for (const auto& [key, value] : oracle)
            expected += key[0] == prefix[0] ? 1 : 0;
        size_t got = 0;
        auto n = txn->scan_prefix(*t, prefix, 100000, [&](const entry& e) {
            CHECK(e.key[0] == prefix[0]);
            ++got;
            return true;
        });
        REQUIRE(n);
        CHECK(*n == expected);
        CHECK(got == expected);
    }
}

TEST_CASE("store: scans respect their range end, count_max and an early stop", "[store]") {
    test::temp_dir dir;
    auto env = open_ok(dir.path());
    auto t = env.open_table("t");
    REQUIRE(t);
    write_batch batch(env);
    for (std::string key : {"a", "ab", "abc", "abd", "ac", "b", "ba"})
        REQUIRE(batch.put(*t, as_bytes(key), as_bytes(key + "!")));
    REQUIRE(batch.commit());
    auto txn = env.begin_read();
    REQUIRE(txn);

    auto keys_of_prefix = [&](std::string_view prefix, size_t count_max) {
        std::vector<std::string> keys;
        auto n = txn->scan_prefix(*t, as_bytes(prefix), count_max, [&](const entry& e) {
            CHECK(as_string(e.value) == as_string(e.key) + "!");
            keys.push_back(as_string(e.key));
            return true;
        });
        REQUIRE(n);
        CHECK(*n == keys.size());
        return keys;
    };
    CHECK(keys_of_prefix("ab", 100) == std::vector<std::string>{"ab", "abc", "abd"});
    CHECK(keys_of_prefix("a", 100) == std::vector<std::string>{"a", "ab", "abc", "abd", "ac"});
    CHECK(keys_of_prefix("a", 2) == std::vector<std::string>{"a", "ab"});
    CHECK(keys_of_prefix("abe", 100).empty());
    CHECK(keys_of_prefix("z", 100).empty());
    CHECK(keys_of_prefix("", 100).size() == 7);

    std::vector<std::string> range;
    auto n = txn->scan_range(*t, as_bytes("abc"), as_bytes("b"), 100, [&](const entry& e) {
        range.push_back(as_string(e.key));
        return true;
    });
    REQUIRE(n);
    CHECK(range == std::vector<std::string>{"abc", "abd", "ac"});

    size_t calls = 0;
    auto stopped = txn->scan_range(*t, {}, {}, 100, [&](const entry&) { return ++calls < 3; });
    REQUIRE(stopped);
    CHECK(*stopped == 3);
    CHECK(calls == 3);

    auto c = txn->open_cursor(*t);
    REQUIRE(c);
    auto first = c->first();
    REQUIRE((first && *first));
    CHECK(as_string((*first)->key) == "a");
    auto sought = c->seek(as_bytes("abz"));
    REQUIRE((sought && *sought));
    CHECK(as_string((*sought)->key) == "ac");
    auto past = c->seek(as_bytes("c"));
    REQUIRE(past);
    CHECK(!*past);
}

TEST_CASE("store: a read transaction is a snapshot that later commits do not change", "[store]") {
    test::temp_dir dir;
    auto env = open_ok(dir.path());
    auto t = env.open_table("t");
    REQUIRE(t);
    write_batch batch(env);
    REQUIRE(batch.put(*t, as_bytes("k"), as_bytes("old")));
    REQUIRE(batch.commit());
    auto before = env.begin_read();
    REQUIRE(before);
    REQUIRE(batch.put(*t, as_bytes("k"), as_bytes("new")));
    REQUIRE(batch.commit());
    auto old_value = before->get(*t, as_bytes("k"));
    REQUIRE((old_value && *old_value));
    CHECK(as_string(**old_value) == "old");
    CHECK(get_string(env, *t, "k") == "new");
}

TEST_CASE("store: files are created 0600 in a 0700 directory, and a moved environment works",
          "[store]") {
    test::temp_dir dir;
    const auto path = dir.path() / "nested" / "db";
    auto opened = open_ok(path);
    environment env = std::move(opened);
    auto t = env.open_table("t");
    REQUIRE(t);
    write_batch batch(env);
    REQUIRE(batch.put(*t, as_bytes("k"), as_bytes("v")));
    REQUIRE(batch.commit());
    CHECK(env.directory() == path);

    struct stat st {};
    REQUIRE(::stat((path / "data.mdb").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((path / "lock.mdb").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    auto used = env.used_bytes();
    REQUIRE(used);
    CHECK(*used > 0);
    CHECK(*used <= env.map_size_bytes());
}

TEST_CASE("store: opening fails cleanly on a bad directory and bad options", "[store]") {
    test::temp_dir dir;
    const auto file = dir.write("plain-file", "not a directory");
    std::string text;
    auto on_file = environment::open(file, small_options(), &text);
    REQUIRE(!on_file);
    CHECK(on_file.error() == errc::io_error);
    CHECK(!text.empty());

    auto under_file = environment::open(file / "db", small_options(), &text);
    REQUIRE(!under_file);
    CHECK(under_file.error() == errc::io_error);

    auto empty_path = environment::open("", small_options());
    REQUIRE(!empty_path);
    CHECK(empty_path.error() == errc::bad_argument);

    options tiny = small_options();
    tiny.map_size_bytes = 4096;
    auto too_small = environment::open(dir.path() / "db", tiny);
    REQUIRE(!too_small);
    CHECK(too_small.error() == errc::bad_argument);

    options no_tables = small_options();
    no_tables.tables_max = 0;
    CHECK(environment::open(dir.path() / "db", no_tables).error() == errc::bad_argument);
}

TEST_CASE("store: a store that is not LMDB is reported, not crashed on", "[store]") {
    test::temp_dir dir;
    dir.write("db/data.mdb", std::string(8192, 'x'));
    std::string text;
    auto env = environment::open(dir.path() / "db", small_options(), &text);
    REQUIRE(!env);
    CHECK(env.error() == errc::corrupted);
    CHECK(!text.empty());
}

TEST_CASE("store: table and key errors", "[store]") {
    test::temp_dir dir;
    options opts = small_options();
    opts.tables_max = 2;
    auto env = open_ok(dir.path(), opts);
    CHECK(env.open_table("").error() == errc::bad_argument);
    CHECK(env.open_table(std::string(table_name_size_max + 1, 'n')).error() == errc::bad_argument);
    CHECK(env.open_table("ainet.meta").error() == errc::bad_argument);
    auto one = env.open_table("one");
    auto two = env.open_table("two");
    REQUIRE((one && two));
    auto three = env.open_table("three");
    REQUIRE(!three);
    CHECK(three.error() == errc::tables_full);
    CHECK(!env.last_error().empty());

    write_batch batch(env);
    CHECK(batch.put(*one, {}, as_bytes("v")).error() == errc::bad_argument);
    const std::string long_key(key_size_max + 1, 'k');
    CHECK(batch.put(*one, as_bytes(long_key), as_bytes("v")).error() == errc::bad_argument);
    const std::string max_key(key_size_max, 'k');
    CHECK(batch.put(*one, as_bytes(max_key), as_bytes("v")));
    CHECK(batch.put(table{99}, as_bytes("k"), as_bytes("v")).error() == errc::unknown_table);
    CHECK(batch.counters().rejected_bad_argument.load() == 3);
    REQUIRE(batch.commit());
    CHECK(get_string(env, *one, max_key) == "v");

    auto txn = env.begin_read();
    REQUIRE(txn);
    CHECK(txn->get(*one, {}).error() == errc::bad_argument);
    CHECK(txn->get(table{99}, as_bytes("k")).error() == errc::unknown_table);
    CHECK(txn->open_cursor(table{99}).error() == errc::unknown_table);
}

TEST_CASE("store: read transactions beyond readers_max are refused, and slots are reused",
          "[store]") {
    test::temp_dir dir;
    options opts = small_options();
    opts.readers_max = 2;
    auto env = open_ok(dir.path(), opts);
    {
        auto first = env.begin_read();
        auto second = env.begin_read();
        REQUIRE((first && second)); // MDB_NOTLS: one thread may hold several
        auto third = env.begin_read();
        REQUIRE(!third);
        CHECK(third.error() == errc::readers_full);
    }
    auto again = env.begin_read();
    CHECK(again);
}
