// Goal: known_nodes merges by node id with the strictly newest issued_at winning, reports what
// changed, never exceeds its total or per-source caps, and merges nothing from a rejected list.
// A random sequence of merges is checked against a naive oracle.
#include <ainet/discovery/known_nodes.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <vector>

namespace ainet::discovery {

namespace {

node_id id_of(uint8_t n) {
    node_id id;
    id.bytes.fill(n);
    return id;
}

// Records here are not signed: known_nodes trusts its caller to have verified them.
node_record rec(uint8_t node, int64_t issued, uint16_t port = 7000) {
    node_record r;
    r.id = id_of(node);
    r.udp = make_ipv4(192, 0, 2, node, port);
    r.http = make_ipv4(192, 0, 2, node, static_cast<uint16_t>(port + 1));
    r.issued_at = unix_ms{issued};
    r.expires_at = unix_ms{issued + 1000};
    return r;
}

const node_id source_s = id_of(0xa0);
const node_id source_t = id_of(0xb0);

} // namespace

TEST_CASE("merge: newest issued_at wins, ties and older records are stale",
          "[discovery][known_nodes]") {
    known_nodes table({});
    const std::vector<node_record> first = {rec(1, 100), rec(2, 100)};
    auto r1 = table.merge(source_s, first);
    CHECK(r1.added == std::vector<node_id>{id_of(1), id_of(2)});
    CHECK(r1.updated.empty());
    CHECK(r1.changed());

    const std::vector<node_record> second = {rec(1, 200, 7100), rec(2, 100, 7200),
                                             rec(2, 50, 7300)};
    auto r2 = table.merge(source_t, second);
    CHECK(r2.added.empty());
    CHECK(r2.updated == std::vector<node_id>{id_of(1)});
    CHECK(r2.stale_count == 2);
    CHECK(table.find(id_of(1))->udp.port == 7100);
    CHECK(table.find(id_of(2))->udp.port == 7000);
    CHECK(*table.source_of(id_of(1)) == source_t);
    CHECK(*table.source_of(id_of(2)) == source_s);
    CHECK(table.count_from(source_s) == 1);
    CHECK(table.count_from(source_t) == 1);

    // Merging the same records again changes nothing.
    auto r3 = table.merge(source_t, second);
    CHECK_FALSE(r3.changed());
    CHECK(r3.stale_count == 3);
    CHECK(table.find(id_of(9)) == nullptr);
}

TEST_CASE("merge: the total cap drops new nodes, updates still apply",
          "[discovery][known_nodes]") {
    known_nodes table({.nodes_max = 3, .per_source_max = 100});
    const std::vector<node_record> many = {rec(1, 1), rec(2, 1), rec(3, 1), rec(4, 1), rec(5, 1)};
    auto r = table.merge(source_s, many);
    CHECK(r.added.size() == 3);
    CHECK(r.table_full_count == 2);
    CHECK(table.size() == 3);
    CHECK(table.find(id_of(4)) == nullptr);
    const std::vector<node_record> newer = {rec(1, 2), rec(6, 2)};
    auto u = table.merge(source_s, newer);
    CHECK(u.updated == std::vector<node_id>{id_of(1)});
    CHECK(u.table_full_count == 1);
}

TEST_CASE("merge: one source cannot own more than per_source_max entries",
          "[discovery][known_nodes]") {
    known_nodes table({.nodes_max = 100, .per_source_max = 2});
    const std::vector<node_record> from_s = {rec(1, 1), rec(2, 1), rec(3, 1)};
    auto r = table.merge(source_s, from_s);
    CHECK(r.added.size() == 2);
    CHECK(r.source_cap_count == 1);
    CHECK(table.count_from(source_s) == 2);

    // Another source still has room; taking over an entry moves its attribution.
    const std::vector<node_record> from_t = {rec(3, 1), rec(1, 5)};
    auto t = table.merge(source_t, from_t);
    CHECK(t.added == std::vector<node_id>{id_of(3)});
    CHECK(t.updated == std::vector<node_id>{id_of(1)});
    CHECK(table.count_from(source_t) == 2);
    CHECK(table.count_from(source_s) == 1);

    // source_t is full: a newer record of source_s's node 2 is dropped rather than moved.
    const std::vector<node_record> more_t = {rec(2, 9)};
    auto m = table.merge(source_t, more_t);
    CHECK(m.source_cap_count == 1);
    CHECK(table.find(id_of(2))->issued_at == unix_ms{1});
    // But source_t may update what it already owns.
    const std::vector<node_record> own_t = {rec(3, 9)};
    CHECK(table.merge(source_t, own_t).updated.size() == 1);
}

TEST_CASE("merge: random merges keep the caps and match a naive oracle",
          "[discovery][known_nodes][property]") {
    auto rng = test::seeded_rng(3);
    const known_nodes_limits limits{.nodes_max = 20, .per_source_max = 8};
    known_nodes table(limits);
    struct oracle_entry {
        node_record record;
        node_id source;
    };
    std::map<node_id, oracle_entry> oracle;
    for (int round = 0; round < 300; ++round) {
        const node_id source = id_of(static_cast<uint8_t>(0xc0 + rng() % 5));
        std::vector<node_record> batch;
        const size_t count = rng() % 6;
        for (size_t i = 0; i < count; ++i)
            batch.push_back(rec(static_cast<uint8_t>(1 + rng() % 40),
                                static_cast<int64_t>(rng() % 50)));
        const auto report = table.merge(source, batch);
        for (const auto& r : batch) {
            size_t owned = 0;
            for (const auto& [id, e] : oracle)
                owned += e.source == source ? 1 : 0;
            auto it = oracle.find(r.id);
            if (it == oracle.end()) {
                if (oracle.size() < limits.nodes_max && owned < limits.per_source_max)
                    oracle.emplace(r.id, oracle_entry{r, source});
            } else if (r.issued_at > it->second.record.issued_at &&
                       (it->second.source == source || owned < limits.per_source_max)) {
                it->second = oracle_entry{r, source};
            }
        }
        (void)report;
        REQUIRE(table.size() == oracle.size());
        for (const auto& [id, e] : oracle) {
            REQUIRE(table.find(id) != nullptr);
            CHECK(*table.find(id) == e.record);
            CHECK(*table.source_of(id) == e.source);
        }
        for (uint8_t s = 0; s < 5; ++s)
            CHECK(table.count_from(id_of(static_cast<uint8_t>(0xc0 + s))) <= limits.per_source_max);
    }
}

} // namespace ainet::discovery
