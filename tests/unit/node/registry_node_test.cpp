// Goal: registry_node runs inside a real relay_node (two shards, loopback): a put through the
// control-side API is answered 201 only once durable and is then readable, a forged entry is
// refused and counted, the peer_directory drives the sync peers (its alive peers replace the
// static list) and every partition epoch change reaches the sync engine once; and what a
// stopped node persisted is restored by the next one (same root). Waits are bounded polls.

#include "../config/temp_dir.hpp"
#include "../support/wall_clock.hpp"

#include <ainet/node/registry_service.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace ainet;

namespace {

config::node_config node_config() {
    config::node_config c;
    c.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    c.http_listen = make_ipv4(127, 0, 0, 1, 0);
    c.shard_count = 2;
    return c;
}

template <class Pred>
bool eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
        if (pred())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

node::peer_info peer(uint8_t tag, uint16_t port, node::peer_state state) {
    node::peer_info p;
    p.id.bytes[0] = tag;
    p.udp = make_ipv4(127, 0, 0, 1, port);
    p.state = state;
    return p;
}

} // namespace

TEST_CASE("registry_node: put/get/root inside a relay node, peers and partitions, restore",
          "[node][registry]") {
    test::temp_dir dir;
    const auto node_keys = crypto::key_pair::generate();
    const auto writer = crypto::key_pair::generate();
    node::peer_directory directory;
    std::string root_before;
    {
        node::registry_node_options o;
        o.store_directory = dir.path() / "store";
        o.static_peers = {make_ipv4(127, 0, 0, 1, 9), make_ipv4(127, 0, 0, 1, 10)};
        o.peers = &directory;
        o.sync_peer_refresh = std::chrono::milliseconds(10);
        node::registry_node registry(o, node_keys);
        node::relay_node relay(node_config(), node_keys);
        registry.attach(relay);
        std::string error;
        REQUIRE(relay.start(error));

        const uint64_t now_ms = test::wall_ms_now();
        auto e = registry::make_entry(writer, "svc/a", "hello",
                                      registry::hlc_make(now_ms, 0));
        auto put = registry.put(e);
        CHECK(put.status == 201);
        CHECK(registry.counters().commits.load() >= 1);
        auto got = registry.get(writer.public_key_bytes(), "svc/a");
        REQUIRE(got.status == 200);
        CHECK(got.entries.front()->value == e);
        CHECK(registry.get(writer.public_key_bytes(), "svc/b").status == 404);
        CHECK(registry.put(e).status == 409); // not newer

        auto forged = e;
        forged.value = "evil";
        CHECK(registry.put(forged).status == 400);
        CHECK(registry.counters().http_forged.load() == 1);

        auto listed = registry.list(writer.public_key_bytes(), 10);
        CHECK(listed.status == 200);
        CHECK(listed.entries.size() == 1);
        auto root = registry.root(true);
        REQUIRE(root.status == 200);
        CHECK(root.entry_count == 1);
        CHECK(root.root_hex == root.recomputed_root_hex);
        root_before = root.root_hex;

        // Empty directory: the static peers; then the directory's alive peers.
        CHECK(eventually([&] { return registry.counters().sync_peers.load() == 2; }));
        node::peer_snapshot s;
        s.peers = {peer(1, 11, node::peer_state::alive), peer(2, 12, node::peer_state::alive),
                   peer(3, 13, node::peer_state::alive), peer(4, 14, node::peer_state::dead)};
        directory.publish(s);
        CHECK(eventually([&] { return registry.counters().sync_peers.load() == 3; }));
        s.partition_epoch = 1;
        s.partition_suspected = true;
        s.unreachable = {s.peers[2].id};
        directory.publish(s);
        CHECK(eventually([&] { return registry.counters().partition_events.load() == 1; }));
        s.partition_epoch = 2;
        s.partition_suspected = false;
        directory.publish(s);
        CHECK(eventually([&] { return registry.counters().partition_events.load() == 2; }));

        std::string metrics = relay.render_metrics();
        CHECK(metrics.find("ainet_registry_entries 1\n") != std::string::npos);
        CHECK(metrics.find("ainet_registry_dropped_total{reason=\"forged\"} 0\n") !=
              std::string::npos);
        CHECK(metrics.find("ainet_store_commits_total") != std::string::npos);
        relay.stop();
    }
    {
        node::registry_node_options o;
        o.store_directory = dir.path() / "store";
        node::registry_node registry(o, node_keys);
        CHECK(registry.counters().restored.load() == 1);
        node::relay_node relay(node_config(), node_keys);
        registry.attach(relay);
        std::string error;
        REQUIRE(relay.start(error));
        auto root = registry.root(true);
        REQUIRE(root.status == 200);
        CHECK(root.root_hex == root_before);
        CHECK(root.recomputed_root_hex == root_before);
        CHECK(registry.get(writer.public_key_bytes(), "svc/a").status == 200);
        relay.stop();
    }
}

// Goal: a store that keeps failing (LMDB map full) costs bounded memory: once the commit
// backlog is full, PUTs are answered 503 without touching the replica (its entry count stays
// put) and counted as store backpressure. With 1 store slice (shard 0 commits) and with 2
// (shard 1 commits its slice, its failures hold the batches on shard 0 just the same).
TEST_CASE("registry_node: a full store backlog refuses new writes with 503", "[node][registry]") {
    const size_t slices = GENERATE(size_t{1}, size_t{2});
    INFO("store slices " << slices);
    test::temp_dir dir;
    const auto node_keys = crypto::key_pair::generate();
    const auto writer = crypto::key_pair::generate();
    node::registry_node_options o;
    o.store_directory = dir.path() / "store";
    o.store.map_size_bytes = 64 * 1024; // fills after a few dozen entries
    o.backlog_entries_max = 4;
    o.shard_count = slices;
    o.request_timeout = std::chrono::milliseconds(300);
    node::registry_node registry(o, node_keys);
    node::relay_node relay(node_config(), node_keys);
    registry.attach(relay);
    std::string error;
    REQUIRE(relay.start(error));

    const uint64_t now_ms = test::wall_ms_now();
    const std::string value(600, 'v');
    size_t accepted = 0;
    bool refused = false;
    for (int i = 0; i < 2000 && !refused; ++i) {
        auto e = registry::make_entry(writer, "svc/" + std::to_string(i), value,
                                      registry::hlc_make(now_ms, 0));
        const auto answer = registry.put(e);
        if (answer.status == 201)
            ++accepted;
        else
            refused = registry.counters().store_backpressure.load() > 0;
    }
    REQUIRE(refused);
    CHECK(accepted > 0);
    CHECK(registry.counters().commit_failures.load() > 0);

    const auto held = registry.root(false);
    REQUIRE(held.status == 200);
    auto e = registry::make_entry(writer, "svc/after", value,
                                  registry::hlc_make(now_ms, 0));
    const auto answer = registry.put(e);
    CHECK(answer.status == 503);
    CHECK(answer.error.find("backlog") != std::string::npos);
    CHECK(registry.root(false).entry_count == held.entry_count);
    relay.stop();
}
