// Goal: registry replicas converge through the sync engine in the simulator under the faults
// of issue 6: a 50/50 partition with writes on both sides (conflicting writes to the same keys
// included), crashes and restarts with state, clock skew, loss, duplication and reordering.
// After the heal every live replica reaches the identical root within 60 virtual seconds, no
// acknowledged write is lost (each key holds the acknowledged entry or one that supersedes
// it), and every conflict is resolved the same way everywhere. Reduced size here (16 nodes,
// ~1,000 entries); `ainet-registry-bench sim` runs larger sizes (docs/BENCHMARKS.md).

#include <ainet/sim/registry_node.hpp>
#include "sim_support.hpp"

#include <ainet/registry/entry.hpp>

#include <catch2/catch.hpp>

using namespace ainet;
using namespace ainet::sim;
using namespace std::chrono_literals;

namespace {

crypto::key_pair writer(uint32_t i) {
    crypto::seed s{};
    s[0] = 0xab;
    s[1] = static_cast<uint8_t>(i);
    s[2] = static_cast<uint8_t>(i >> 8);
    return crypto::key_pair::from_seed(s);
}

struct scenario {
    std::shared_ptr<registry_sim::shared> shared = std::make_shared<registry_sim::shared>();
    std::unique_ptr<world> w;
    std::vector<crypto::key_pair> writers;
    uint32_t node_count;

    scenario(uint64_t seed, uint32_t nodes, uint32_t writer_count, bool pooled = false)
        : node_count(nodes) {
        if (pooled) {
            // Replicas share verified blobs (registry::entry_pool), as the large runs do.
            shared->pool = std::make_unique<registry_sim::blob_pool>();
        }
        world_config wc;
        wc.seed = seed;
        wc.default_link.loss = 0.01;
        wc.default_link.duplicate = 0.01;
        wc.default_link.reorder = 0.02;
        shared->replica.leaf_depth = 3;
        shared->engine.round_interval = 1s;
        auto s = shared;
        w = std::make_unique<world>(wc, [s](const node_spec& spec) {
            return std::make_unique<registry_sim::node>(s, spec);
        });
        for (uint32_t i = 0; i < nodes; ++i)
            shared->addresses.push_back(w->config().addresses.endpoint_of(node_index{i}));
        w->add_nodes(nodes);
        for (uint32_t i = 0; i < writer_count; ++i)
            writers.push_back(writer(i));
    }
    registry_sim::node* at(uint32_t i) { return w->process_as<registry_sim::node>(node_index{i}); }

    // A write by writer `wi` of `name` through node i, timestamped by that node's clock.
    void write(uint32_t i, uint32_t wi, const std::string& name, const std::string& value,
               bool tombstone = false) {
        auto* n = at(i);
        if (!n)
            return;
        const unix_ms wall{static_cast<int64_t>(w->config().wall_start) +
                           (w->local_now(node_index{i}) - w->config().start).count() / 1'000'000};
        auto e = registry::make_entry(writers[wi], name, tombstone ? "" : value,
                                      n->replica().next_hlc(wall),
                                      tombstone ? registry::flag_tombstone : 0);
        (void)n->write(e, wall);
    }
    std::vector<uint32_t> live() {
        std::vector<uint32_t> out;
        for (uint32_t i = 0; i < node_count; ++i)
            if (w->is_up(node_index{i}))
                out.push_back(i);
        return out;
    }
    bool converged() {
        std::optional<merkle::digest> root;
        for (uint32_t i : live()) {
            auto r = at(i)->replica().root();
            if (root && *root != r)
                return false;
            root = r;
        }
        return true;
    }
    // Every acknowledged write is present everywhere, or superseded by a newer entry.
    void check_acknowledged() {
        size_t checked = 0;
        for (const auto& a : shared->acknowledged) {
            for (uint32_t i : live()) {
                auto got = at(i)->replica().get(a.e->value.public_key, a.e->value.name);
                const bool ok = got && (got->wire == a.e->wire || registry::supersedes(*got, *a.e));
                if (!ok) {
                    // A tombstone may have been collected (not within these horizons).
                    FAIL_CHECK("acknowledged write lost on node " << i << ": " << a.e->value.name);
                    return;
                }
            }
            ++checked;
        }
        CHECK(checked == shared->acknowledged.size());
    }
};

} // namespace

TEST_CASE("registry: 50/50 partition with conflicting writes, crashes and skew, then heal",
          "[sim][registry]") {
    const uint64_t seed = test::run_seed(601);
    CAPTURE(seed);
    constexpr uint32_t nodes = 16;
    scenario sc(seed, nodes, 24);
    auto& w = *sc.w;
    // Clock skew within the 2 s bound on two nodes, and beyond it (5 s behind) on one.
    w.set_clock(node_index{3}, clock_skew{1500ms, 0});
    w.set_clock(node_index{12}, clock_skew{-1200ms, 0});
    w.set_clock(node_index{7}, clock_skew{-5s, 0});
    w.run_for(2s);

    // Phase 1: 300 writes spread over all nodes, then converge.
    for (uint32_t k = 0; k < 300; ++k)
        sc.write(k % nodes, k % 24, "key" + std::to_string(k), "v0-" + std::to_string(k));
    w.run_for(60s);
    REQUIRE(sc.converged());

    // Phase 2: 50/50 partition for 10 virtual minutes; both sides keep writing, including
    // conflicting writes to the same keys from both sides, and deletes.
    std::vector<node_index> a, b;
    std::vector<endpoint> a_at, b_at;
    for (uint32_t i = 0; i < nodes; ++i) {
        (i < nodes / 2 ? a : b).push_back(node_index{i});
        (i < nodes / 2 ? a_at : b_at).push_back(sc.shared->addresses[i]);
    }
    const auto cut = w.partition(a, b);
    for (auto i : a)
        sc.at(static_cast<uint32_t>(i))->engine().on_partition_suspected(b_at);
    for (auto i : b)
        sc.at(static_cast<uint32_t>(i))->engine().on_partition_suspected(a_at);
    for (int minute = 0; minute < 10; ++minute) {
        for (uint32_t k = 0; k < 60; ++k) {
            const uint32_t key = (static_cast<uint32_t>(minute) * 60 + k) % 400;
            // Same writer, same name, written on each side: a conflict per key.
            sc.write(k % (nodes / 2), key % 24, "key" + std::to_string(key), "A" + std::to_string(minute));
            sc.write(nodes / 2 + (k + 3) % (nodes / 2), key % 24, "key" + std::to_string(key),
                     "B" + std::to_string(minute));
            if (k % 10 == 0)
                sc.write(k % nodes, (key + 1) % 24, "key" + std::to_string((key + 7) % 300), "", true);
        }
        if (minute == 3) {
            w.crash(node_index{2});
            w.crash(node_index{10});
        }
        if (minute == 5) {
            w.restart(node_index{2}, restart_mode::with_state);
            w.restart(node_index{10}, restart_mode::with_state, 1s);
        }
        w.run_for(60s);
    }
    // Each side converged on its own; the sides differ.
    CHECK(sc.at(0)->replica().root() != sc.at(nodes - 1)->replica().root());

    // Phase 3: heal; the sides prioritise each other. Identical roots within 60 virtual s.
    const instant healed_at = w.now();
    w.heal(cut);
    for (auto i : a)
        sc.at(static_cast<uint32_t>(i))->engine().on_partition_healed(b_at);
    for (auto i : b)
        sc.at(static_cast<uint32_t>(i))->engine().on_partition_healed(a_at);
    instant converged_at = healed_at;
    while (w.now() - healed_at < 60s) {
        w.run_for(500ms);
        if (sc.converged()) {
            converged_at = w.now();
            break;
        }
    }
    INFO("converged after " << (converged_at - healed_at).count() / 1'000'000 << " ms");
    REQUIRE(sc.converged());
    CHECK(converged_at - healed_at <= 60s);
    // Let acknowledgements of the last writes land, then check.
    w.run_for(5s);
    REQUIRE(sc.converged());
    sc.check_acknowledged();
    CHECK(sc.shared->acknowledged.size() > 1000);
    // Conflicts resolved the same way: every replica holds identical bytes for every key.
    for (uint32_t key = 0; key < 400; ++key) {
        const auto name = "key" + std::to_string(key);
        auto first = sc.at(0)->replica().get(sc.writers[key % 24].public_key_bytes(), name);
        for (uint32_t i : sc.live()) {
            auto got = sc.at(i)->replica().get(sc.writers[key % 24].public_key_bytes(), name);
            CHECK(static_cast<bool>(first) == static_cast<bool>(got));
            if (first && got)
                CHECK(first->wire == got->wire);
        }
    }
}

TEST_CASE("registry: a restarted replica resumes with the root it would compute from scratch",
          "[sim][registry]") {
    const uint64_t seed = test::run_seed(602);
    CAPTURE(seed);
    scenario sc(seed, 4, 4, true);
    auto& w = *sc.w;
    w.run_for(1s);
    for (uint32_t k = 0; k < 100; ++k)
        sc.write(k % 4, k % 4, "r" + std::to_string(k), "x");
    w.run_for(30s);
    REQUIRE(sc.converged());
    const auto before = sc.at(1)->replica().root();
    w.crash(node_index{1});
    w.restart(node_index{1}, restart_mode::with_state);
    w.run_for(10ms);
    CHECK(sc.at(1)->replica().root() == before);
    // A fresh restart (disk lost) re-learns everything from its peers.
    w.crash(node_index{2});
    w.restart(node_index{2}, restart_mode::fresh);
    w.run_for(30s);
    CHECK(sc.converged());
    CHECK(sc.at(2)->replica().size() == 100);
    // One shared blob per entry, whatever the number of replicas holding it.
    CHECK(sc.shared->pool->size() == 100);
    CHECK(sc.at(0)->replica().get(sc.writers[0].public_key_bytes(), "r0") ==
          sc.at(3)->replica().get(sc.writers[0].public_key_bytes(), "r0"));
}
