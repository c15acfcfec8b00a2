// ainet-registry-bench: figures for docs/BENCHMARKS.md, "Registry".
//
//   reconcile [entries] : two replicas of `entries` entries (default 1,000,000) that differ in
//                         1 and in 100 entries, reconciled by the sync engine (real messages,
//                         <= 1,200-byte datagrams), side by side in the same run with
//                         merkle::simulate_reconcile's whole-state shipping and naive
//                         one-level-per-round-trip descent over the same trees.
//   sim [nodes] [entries] [minutes] : the issue-6 partition scenario in the simulator (50/50
//                         cut with writes on both sides, heal), reporting time to converge,
//                         sessions and bytes per node.
// The common entries are generated with dummy signatures and loaded through replica::restore
// (the trusted path a node uses for its own disk), because signing a million entries would only
// measure libsodium; the differing entries are properly signed and verified on receipt.

#include <ainet/sim/registry_node.hpp>

#include <ainet/merkle/reconcile.hpp>
#include <ainet/registry/replica.hpp>
#include <ainet/sync/engine.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <malloc.h>

using namespace ainet;
using namespace std::chrono_literals;

namespace {

constexpr int64_t wall_ms = 1'700'000'000'000;

crypto::key_pair writer(uint32_t i) {
    crypto::seed s{};
    s[0] = 0xbe;
    s[1] = static_cast<uint8_t>(i);
    s[2] = static_cast<uint8_t>(i >> 8);
    return crypto::key_pair::from_seed(s);
}

struct link final : datagram_sink {
    struct packet {
        int to;
        std::vector<uint8_t> bytes;
    };
    std::deque<packet>* queue = nullptr;
    int to = 0;
    std::array<uint8_t, 1500> buffer{};
    uint64_t bytes = 0, datagrams = 0;
    size_t largest = 0;
    mutable_bytes prepare(const endpoint&) noexcept override { return buffer; }
    void commit(size_t size) noexcept override {
        queue->push_back(packet{to, std::vector<uint8_t>(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(size))});
        bytes += size;
        ++datagrams;
        largest = std::max(largest, size);
    }
    void abandon() noexcept override {}
};

void reconcile(size_t entry_count) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<crypto::key_pair> writers;
    for (uint32_t i = 0; i < 16; ++i)
        writers.push_back(writer(i));
    std::vector<registry::durable_put> common;
    common.reserve(entry_count);
    for (size_t i = 0; i < entry_count; ++i) {
        registry::entry e;
        e.public_key = writers[i % writers.size()].public_key_bytes();
        e.name = "service/" + std::to_string(i);
        e.value = "10.0." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) + ":443";
        e.hlc = registry::hlc_make(uint64_t(wall_ms - 100000), i & 0xff);
        common.push_back(registry::durable_put{registry::make_stored(std::move(e)), {}});
    }
    const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("built %zu shared entry blobs in %.1f s\n", entry_count, build_s);

    for (size_t diffs : {size_t{1}, size_t{100}}) {
        registry::replica_config rc;
        rc.entry_count_max = 1u << 22;
        registry::replica a(rc), b(rc);
        a.restore({}, common);
        b.restore({}, common);
        // B holds newer, signed versions of `diffs` entries.
        std::vector<registry::entry_ptr> newer;
        uint64_t differing_bytes = 0;
        for (size_t d = 0; d < diffs; ++d) {
            const size_t i = (d * 7919 + 13) % entry_count;
            auto e = registry::make_entry(writers[i % writers.size()], "service/" + std::to_string(i),
                                          "moved", registry::hlc_make(uint64_t(wall_ms - 10), 0));
            newer.push_back(registry::make_stored(std::move(e)));
            differing_bytes += newer.back()->wire.size();
        }
        (void)b.receive_verified(newer, {}, unix_ms{wall_ms});
        const auto& ta = a.tree();
        (void)b.tree();
        std::printf("\n== %zu entries, %zu differing (entry bytes %llu) ==\n", entry_count, diffs,
                    static_cast<unsigned long long>(differing_bytes));
        std::printf("tree memory per replica: %.1f MiB (leaf depth %u)\n",
                    double(ta.memory_bytes()) / (1 << 20), unsigned(ta.config().leaf_depth));

        // The sync engine, real datagrams.
        std::deque<link::packet> queue;
        link la, lb;
        la.queue = lb.queue = &queue;
        la.to = 1;
        lb.to = 0;
        sync::engine ea(a, {}, 1), eb(b, {}, 2);
        const endpoint at_a = make_ipv4(10, 0, 0, 1, 1), at_b = make_ipv4(10, 0, 0, 2, 1);
        instant now{1};
        const auto s0 = std::chrono::steady_clock::now();
        (void)ea.start_session(at_b, now, unix_ms{wall_ms}, la);
        while (!queue.empty()) {
            auto p = std::move(queue.front());
            queue.pop_front();
            if (p.to == 1)
                eb.on_datagram(now, unix_ms{wall_ms}, datagram_ref{p.bytes, at_a}, lb);
            else
                ea.on_datagram(now, unix_ms{wall_ms}, datagram_ref{p.bytes, at_b}, la);
        }
        const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
        auto ra = ea.take_reports();
        auto rb = eb.take_reports();
        const bool ok = a.root() == b.root();
        const uint64_t total = la.bytes + lb.bytes;
        const uint64_t entry_bytes = ea.counters().entry_bytes_sent.load() + eb.counters().entry_bytes_sent.load();
        const uint32_t flights = ra.empty() ? 0 : ra[0].flights;
        // The entries cross in the second-to-last flight; the last one only says "converged".
        std::printf("sync engine     : converged=%s flights=%u round trips to data=%u (+1 closing message) "
                    "datagrams=%llu largest=%zu B total=%llu B entries=%llu B overhead=%llu B (%.1f ms CPU)\n",
                    ok ? "yes" : "NO", flights, (flights - 1 + 1) / 2,
                    static_cast<unsigned long long>(la.datagrams + lb.datagrams),
                    std::max(la.largest, lb.largest), static_cast<unsigned long long>(total),
                    static_cast<unsigned long long>(entry_bytes),
                    static_cast<unsigned long long>(total - entry_bytes), wall_s * 1000);
        (void)rb;
        // Same trees (before the session, rebuild B's difference) through the reference driver.
        registry::replica a2(rc), b2(rc);
        a2.restore({}, common);
        b2.restore({}, common);
        (void)b2.receive_verified(newer, {}, unix_ms{wall_ms});
        for (auto how : {merkle::strategy::whole_state, merkle::strategy::one_level, merkle::strategy::multi_level}) {
            merkle::reconcile_options o;
            o.how = how;
            auto rep = merkle::simulate_reconcile(a2.tree(), b2.tree(), o);
            std::printf("%-16s: round trips=%u messages=%u overhead=%llu B (unchunked messages, no datagram headers)\n",
                        std::string(merkle::to_string(how)).c_str(), rep.round_trips, rep.messages,
                        static_cast<unsigned long long>(rep.overhead_bytes));
        }
    }
}

void sim_run(uint32_t nodes, uint32_t entries, uint32_t minutes) {
    using namespace ainet::sim;
    auto shared = std::make_shared<registry_sim::shared>();
    shared->replica.leaf_depth = 3;
    shared->pool = std::make_unique<registry_sim::blob_pool>();
    shared->replica.pool = shared->pool.get();
    shared->peers_per_node = nodes > 64 ? 32 : 0;
    world_config wc;
    wc.seed = 42;
    wc.default_link.loss = 0.01;
    wc.default_link.duplicate = 0.01;
    wc.default_link.reorder = 0.02;
    world w(wc, [shared](const node_spec& spec) { return std::make_unique<registry_sim::node>(shared, spec); });
    for (uint32_t i = 0; i < nodes; ++i)
        shared->addresses.push_back(wc.addresses.endpoint_of(node_index{i}));
    w.add_nodes(nodes);
    const uint32_t writer_count = 64;
    std::vector<crypto::key_pair> writers;
    for (uint32_t i = 0; i < writer_count; ++i)
        writers.push_back(writer(i));
    auto at = [&](uint32_t i) { return w.process_as<registry_sim::node>(node_index{i}); };
    auto wall_of = [&](uint32_t i) {
        return unix_ms{static_cast<int64_t>(wc.wall_start) + (w.local_now(node_index{i}) - wc.start).count() / 1'000'000};
    };
    auto write = [&](uint32_t i, uint32_t key, const std::string& value) {
        auto* n = at(i);
        const auto wall = wall_of(i);
        (void)n->write(registry::make_entry(writers[key % writer_count], "k" + std::to_string(key), value,
                                            n->replica().next_hlc(wall)), wall);
    };
    auto converged = [&] {
        std::optional<merkle::digest> root;
        for (uint32_t i = 0; i < nodes; ++i) {
            auto r = at(i)->replica().root();
            if (root && *root != r)
                return false;
            root = r;
        }
        return true;
    };
    const auto t0 = std::chrono::steady_clock::now();
    w.run_for(1s);
    // Initial entries, spread over the nodes, then converge.
    for (uint32_t k = 0; k < entries; ++k)
        write(k % nodes, k, "v0");
    instant start = w.now();
    while (!converged() && w.now() - start < 600s)
        w.run_for(1s);
    std::printf("initial %u entries converged on %u nodes after %.1f virtual s\n", entries, nodes,
                double((w.now() - start).count()) / 1e9);
    std::vector<node_index> a, b;
    std::vector<endpoint> a_at, b_at;
    for (uint32_t i = 0; i < nodes; ++i) {
        (i < nodes / 2 ? a : b).push_back(node_index{i});
        (i < nodes / 2 ? a_at : b_at).push_back(shared->addresses[i]);
    }
    const auto cut = w.partition(a, b);
    for (auto i : a) at(uint32_t(i))->engine().on_partition_suspected(b_at);
    for (auto i : b) at(uint32_t(i))->engine().on_partition_suspected(a_at);
    uint64_t bytes_before = w.stats().sent;
    (void)bytes_before;
    const uint32_t per_minute = std::max<uint32_t>(entries / 100, 10);
    for (uint32_t m = 0; m < minutes; ++m) {
        for (uint32_t k = 0; k < per_minute; ++k) {
            const uint32_t key = (m * per_minute + k) % entries;
            write(k % (nodes / 2), key, "A" + std::to_string(m));
            write(nodes / 2 + k % (nodes / 2), key, "B" + std::to_string(m));
        }
        w.run_for(60s);
    }
    uint64_t sent_before = 0;
    for (uint32_t i = 0; i < nodes; ++i)
        sent_before += at(i)->engine().counters().bytes_sent.load();
    uint64_t sessions_before = 0;
    for (uint32_t i = 0; i < nodes; ++i)
        sessions_before += at(i)->engine().counters().sessions_started.load();
    w.heal(cut);
    for (auto i : a) at(uint32_t(i))->engine().on_partition_healed(b_at);
    for (auto i : b) at(uint32_t(i))->engine().on_partition_healed(a_at);
    const instant healed = w.now();
    while (!converged() && w.now() - healed < 600s)
        w.run_for(250ms);
    const double converge_s = double((w.now() - healed).count()) / 1e9;
    uint64_t sent_after = 0, sessions_after = 0;
    for (uint32_t i = 0; i < nodes; ++i) {
        sent_after += at(i)->engine().counters().bytes_sent.load();
        sessions_after += at(i)->engine().counters().sessions_started.load();
    }
    const double cpu_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("partition %u virtual min, %u conflicting writes per side per minute; after heal: "
                "converged=%s in %.2f virtual s, %.1f sessions/node, %.1f KiB sent/node (%.1f s wall)\n",
                minutes, per_minute, converged() ? "yes" : "NO", converge_s,
                double(sessions_after - sessions_before) / nodes,
                double(sent_after - sent_before) / nodes / 1024, cpu_s);
}

// Heap bytes one replica holds per entry (set node, dot index, Merkle tree) with the entry
// blobs shared and excluded, as `sim` runs them: glibc's mallinfo2 around building a replica
// that receives `entries` verified blobs (16 origins, batches of 64, tree rehashed per batch).
void memory_run(uint32_t entries, uint8_t leaf_depth) {
    std::vector<registry::entry_ptr> blobs;
    blobs.reserve(entries);
    for (uint32_t i = 0; i < entries; ++i) {
        registry::entry e;
        e.public_key = writer(i % 16).public_key_bytes();
        e.name = "service/" + std::to_string(i);
        e.value = "10.0." + std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255) + ":443";
        e.hlc = registry::hlc_make(uint64_t(wall_ms - 100000), i & 0xff);
        blobs.push_back(registry::make_stored(std::move(e)));
    }
    auto heap = [] {
        const auto m = mallinfo2();
        return m.uordblks + m.hblkhd;
    };
    const size_t before = heap();
    registry::replica_config rc;
    rc.leaf_depth = leaf_depth;
    auto r = std::make_unique<registry::replica>(rc);
    std::vector<registry::dot> dots;
    for (uint32_t first = 0; first < entries; first += 64) {
        const uint32_t last = std::min(entries, first + 64);
        dots.clear();
        for (uint32_t i = first; i < last; ++i)
            dots.push_back(registry::dot{registry::origin_id{i % 16 + 1}, i / 16 + 1});
        (void)r->receive_verified(std::span(blobs).subspan(first, last - first), dots, unix_ms{wall_ms});
        (void)r->take_batch();  // the node persists and drops its durable log each loop turn
        (void)r->tree();
    }
    const size_t after = heap();
    std::printf("replica of %u entries, leaf depth %u: %.1f heap bytes per entry, of which the tree "
                "%.1f (memory_bytes)\n",
                entries, unsigned(leaf_depth), double(after - before) / entries,
                double(r->tree().memory_bytes()) / entries);
}

} // namespace

int main(int argc, char** argv) {
    if (!crypto::init()) {
        std::fprintf(stderr, "libsodium init failed\n");
        return 1;
    }
    const std::string cmd = argc > 1 ? argv[1] : "reconcile";
    if (cmd == "reconcile") {
        reconcile(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1'000'000);
        return 0;
    }
    if (cmd == "sim") {
        sim_run(argc > 2 ? uint32_t(std::strtoul(argv[2], nullptr, 10)) : 100,
                argc > 3 ? uint32_t(std::strtoul(argv[3], nullptr, 10)) : 10'000,
                argc > 4 ? uint32_t(std::strtoul(argv[4], nullptr, 10)) : 10);
        return 0;
    }
    if (cmd == "memory") {
        memory_run(argc > 2 ? uint32_t(std::strtoul(argv[2], nullptr, 10)) : 10'000,
                   static_cast<uint8_t>(argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 3));
        return 0;
    }
    std::fprintf(stderr, "usage: ainet-registry-bench reconcile [entries] | sim [nodes] [entries] [minutes] | "
                         "memory [entries] [leaf depth]\n");
    return 2;
}
