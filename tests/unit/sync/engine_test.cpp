// Goal: two replicas converge to one root through the sync engine: the Merkle path descends
// only into differing branches and ships only differing entries in few round trips, the delta
// path serves close replicas from version vectors, every datagram stays <= 1,200 bytes, and
// loss/duplication/reordering only delay convergence.
#include "../support/rng.hpp"
#include "sync_harness.hpp"

#include <catch2/catch.hpp>

using namespace ainet;
using namespace ainet::test;

namespace {

registry::entry_ptr entry_of(uint32_t writer, const std::string& name, const std::string& value,
                             int64_t ms) {
    return registry::make_stored(registry::make_entry(writer_keys(writer), name, value, test_hlc(ms)));
}

void fill_both(sync_net& net, size_t a, size_t b, size_t count) {
    std::vector<registry::entry_ptr> common;
    for (size_t i = 0; i < count; ++i)
        common.push_back(entry_of(static_cast<uint32_t>(i % 7), "k" + std::to_string(i), "v", test_wall_ms - 5000));
    (void)net.nodes[a].replica->receive_verified(common, {}, net.wall());
    (void)net.nodes[b].replica->receive_verified(common, {}, net.wall());
}

} // namespace

TEST_CASE("one differing entry: merkle descent ships it in 3 round trips", "[sync]") {
    sync_net net(seeded_rng(80)());
    sync::engine_config ec;
    const size_t a = net.add(registry::replica_config{registry::origin_id{1}}, ec);
    const size_t b = net.add(registry::replica_config{registry::origin_id{2}}, ec);
    fill_both(net, a, b, 3000);
    const auto extra = entry_of(1, "only-on-b", "x", test_wall_ms - 100);
    (void)net.nodes[b].replica->receive_verified(std::vector{extra}, {}, net.wall());
    REQUIRE(net.nodes[a].replica->root() != net.nodes[b].replica->root());
    REQUIRE(net.nodes[a].engine->start_session(net.nodes[b].address, net.now, net.wall(), net.nodes[a].out));
    net.deliver_all();
    CHECK(net.nodes[a].replica->root() == net.nodes[b].replica->root());
    CHECK(net.largest <= sync::sync_datagram_size_max);
    auto ra = net.nodes[a].engine->take_reports();
    auto rb = net.nodes[b].engine->take_reports();
    REQUIRE(ra.size() == 1);
    REQUIRE(rb.size() == 1);
    CHECK(ra[0].converged);
    CHECK(rb[0].converged);
    CHECK(ra[0].path == sync::reply_mode::merkle);
    // The entry arrives with the 6th flight; a 7th says "converged".
    CHECK(ra[0].flights + 0 <= 7);
    const uint64_t overhead = net.bytes - extra->wire.size();
    INFO("overhead bytes " << overhead);
    CHECK(overhead <= 2048 + 8 * 16);
    CHECK(net.nodes[a].engine->counters().entries_sent.load() == 0);
    CHECK(net.nodes[b].engine->counters().entries_sent.load() == 1);
}

TEST_CASE("equal replicas finish in one round trip", "[sync]") {
    sync_net net(seeded_rng(81)());
    const size_t a = net.add(registry::replica_config{registry::origin_id{1}}, {});
    const size_t b = net.add(registry::replica_config{registry::origin_id{2}}, {});
    fill_both(net, a, b, 100);
    REQUIRE(net.nodes[a].engine->start_session(net.nodes[b].address, net.now, net.wall(), net.nodes[a].out));
    net.deliver_all();
    CHECK(net.datagrams == 3);  // begin + descend, reply
    CHECK(net.nodes[a].engine->counters().converged.load() == 1);
    CHECK(net.nodes[a].engine->counters().equal_at_start.load() == 1);
}

TEST_CASE("close replicas use the version-vector delta", "[sync][vv]") {
    sync_net net(seeded_rng(82)());
    const size_t a = net.add(registry::replica_config{registry::origin_id{1}}, {});
    const size_t b = net.add(registry::replica_config{registry::origin_id{2}}, {});
    auto& ra = *net.nodes[a].replica;
    auto& rb = *net.nodes[b].replica;
    const auto k = writer_keys(3);
    for (int i = 0; i < 5; ++i)
        REQUIRE(ra.write(registry::make_entry(k, "a" + std::to_string(i), "v", ra.next_hlc(net.wall())), net.wall()));
    for (int i = 0; i < 3; ++i)
        REQUIRE(rb.write(registry::make_entry(k, "b" + std::to_string(i), "v", rb.next_hlc(net.wall())), net.wall()));
    REQUIRE(net.nodes[a].engine->start_session(net.nodes[b].address, net.now, net.wall(), net.nodes[a].out));
    net.deliver_all();
    CHECK(ra.root() == rb.root());
    CHECK(ra.size() == 8);
    CHECK(net.nodes[a].engine->counters().via_delta.load() == 1);
    // Vectors joined: a second session finds equal roots and equal vectors.
    CHECK(ra.vv() == rb.vv());
    CHECK(ra.vv().at(registry::origin_id{1}) == 5);
    CHECK(ra.vv().at(registry::origin_id{2}) == 3);
}

TEST_CASE("large divergence converges over bounded sessions despite loss, duplication and "
          "reordering", "[sync][faults]") {
    auto seed_rng = seeded_rng(83);
    sync_net net(seed_rng());
    sync::engine_config ec;
    ec.positions_per_step_max = 64;
    ec.entries_per_flight_max = 128;
    const size_t a = net.add(registry::replica_config{registry::origin_id{1}}, ec);
    const size_t b = net.add(registry::replica_config{registry::origin_id{2}}, ec);
    fill_both(net, a, b, 500);
    std::vector<registry::entry_ptr> only_a, only_b;
    for (int i = 0; i < 400; ++i) {
        only_a.push_back(entry_of(11, "a" + std::to_string(i), "x", test_wall_ms - 50));
        only_b.push_back(entry_of(12, "b" + std::to_string(i), "y", test_wall_ms - 50));
    }
    // Conflicting writes to the same keys on both sides.
    for (int i = 0; i < 50; ++i) {
        only_a.push_back(entry_of(13, "c" + std::to_string(i), "from-a", test_wall_ms - 40 + i % 3));
        only_b.push_back(entry_of(13, "c" + std::to_string(i), "from-b", test_wall_ms - 40 + (i + 1) % 3));
    }
    (void)net.nodes[a].replica->receive_verified(only_a, {}, net.wall());
    (void)net.nodes[b].replica->receive_verified(only_b, {}, net.wall());
    net.nodes[a].engine->add_peer(net.nodes[b].address);
    net.nodes[b].engine->add_peer(net.nodes[a].address);
    net.loss_percent = 3;
    net.duplicate_percent = 5;
    net.reorder_percent = 20;
    int rounds = 0;
    while (net.nodes[a].replica->root() != net.nodes[b].replica->root() && rounds < 200) {
        net.advance(std::chrono::milliseconds(500));
        net.deliver_all();
        ++rounds;
    }
    INFO("rounds " << rounds);
    CHECK(net.nodes[a].replica->root() == net.nodes[b].replica->root());
    CHECK(net.nodes[a].replica->size() == 500 + 400 + 400 + 50);
    CHECK(net.largest <= sync::sync_datagram_size_max);
}

TEST_CASE("suspected peers are skipped; healed peers are synced first", "[sync][partition]") {
    sync_net net(seeded_rng(84)());
    const size_t a = net.add(registry::replica_config{registry::origin_id{1}}, {});
    const size_t b = net.add(registry::replica_config{registry::origin_id{2}}, {});
    const size_t c = net.add(registry::replica_config{registry::origin_id{3}}, {});
    auto& ea = *net.nodes[a].engine;
    ea.add_peer(net.nodes[b].address);
    ea.add_peer(net.nodes[c].address);
    const std::vector<endpoint> cut{net.nodes[c].address};
    ea.on_partition_suspected(cut);
    // C writes while cut off; A keeps accepting writes too.
    auto& rc = *net.nodes[c].replica;
    REQUIRE(rc.write(registry::make_entry(writer_keys(5), "c-side", "1", rc.next_hlc(net.wall())), net.wall()));
    auto& ra = *net.nodes[a].replica;
    REQUIRE(ra.write(registry::make_entry(writer_keys(6), "a-side", "1", ra.next_hlc(net.wall())), net.wall()));
    for (int i = 0; i < 20; ++i) {
        net.advance(std::chrono::seconds(1));
        // Drop whatever A sends to C: the cut.
        std::erase_if(net.queue, [&](const sync_net::packet& p) { return p.to == net.nodes[c].address; });
        net.deliver_all();
    }
    CHECK(rc.get(writer_keys(6).public_key_bytes(), "a-side") == nullptr);
    CHECK(ra.get(writer_keys(5).public_key_bytes(), "c-side") == nullptr);
    // Healed: the very next tick starts a session with C, ahead of the random choice.
    ea.on_partition_healed(cut);
    net.advance(std::chrono::milliseconds(1));
    REQUIRE_FALSE(net.queue.empty());
    CHECK(net.queue.front().to == net.nodes[c].address);
    net.deliver_all();
    CHECK(ra.root() == rc.root());
    CHECK(ra.get(writer_keys(5).public_key_bytes(), "c-side") != nullptr);
}
