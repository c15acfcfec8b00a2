// Merkle tree (issue 6), same run, same tree:
//
//  batched/<backend>        1,024 random updates (new digests for existing keys) on a
//                           1,000,000-entry tree, then one rehash(): items/s = updates/s.
//  per_update/<backend>     the same 1,024 updates, rehash() after each (the path each time).
//  hash256/<backend>        XXH3-128 of one 256-byte inner node: the SIMD gain in isolation.
//  reconcile/<strategy>/<d> two 1,000,000-entry replicas differing in d entries; counters:
//                           round_trips, overhead_bytes (all bytes except the differing
//                           entries), messages; time is the simulation's CPU time.
//  memory/1M                counter tree_MiB: memory_bytes() of the 1,000,000-entry tree.
//  memory_per_entry/<d>/<n> counter bytes_per_entry: memory_bytes() / n of an n-entry tree at
//                           leaf depth d, filled in batches of 64 upserts (as replicas do).
//
// Run: build/bench/bench_merkle --benchmark_min_time=0.2
#include <ainet/merkle/reconcile.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

namespace {

using namespace ainet::merkle;

constexpr size_t entry_count = 1'000'000;
constexpr size_t batch_size = 1024;

digest random_digest(std::mt19937_64& rng) {
    digest d;
    for (auto& b : d.bytes)
        b = static_cast<uint8_t>(rng());
    return d;
}

struct fixture {
    std::vector<uint64_t> keys;
    tree t;
    fixture() {
        std::mt19937_64 rng(42);
        keys.resize(entry_count);
        for (auto& k : keys) {
            k = rng();
            (void)t.upsert(k, random_digest(rng));
        }
        t.rehash();
    }
};

fixture& shared(hash_backend backend) {
    // One tree for every backend (they compute the same digests), built on first use.
    static fixture f;
    f.t.set_backend(backend);
    return f;
}

// Update batches drawn once (keys of the tree, random digests) and replayed in turn, each pass
// with its digests' first byte changed, so the timed loop does no random number generation.
constexpr size_t batch_pool = 64;

const std::vector<leaf>& update_pool() {
    static const std::vector<leaf> pool = [] {
        auto& f = shared(hash_backend::automatic);
        std::mt19937_64 rng(7);
        std::vector<leaf> out(batch_pool * batch_size);
        for (auto& u : out)
            u = leaf{f.keys[rng() % entry_count], random_digest(rng)};
        return out;
    }();
    return pool;
}

void run_updates(benchmark::State& state, bool batched) {
    const auto backend = static_cast<hash_backend>(state.range(0));
    if (!backend_supported(backend)) {
        state.SkipWithError("backend not supported by this CPU");
        return;
    }
    auto& f = shared(backend);
    const auto& pool = update_pool();
    const uint64_t hashes_before = f.t.hash_count();
    size_t batch = 0;
    uint8_t pass = 0;
    for (auto _ : state) {
        const leaf* updates = pool.data() + batch * batch_size;
        if (++batch == batch_pool) {
            batch = 0;
            ++pass;
        }
        for (size_t i = 0; i < batch_size; ++i) {
            digest d = updates[i].leaf_digest;
            d.bytes[0] = static_cast<uint8_t>(d.bytes[0] ^ pass);
            (void)f.t.upsert(updates[i].key_hash, d);
            if (!batched)
                f.t.rehash();
        }
        f.t.rehash();
        benchmark::DoNotOptimize(f.t.root());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch_size));
    state.counters["hashes_per_update"] = static_cast<double>(f.t.hash_count() - hashes_before) /
                                          static_cast<double>(state.iterations() * batch_size);
    state.SetLabel(std::string(to_string(backend)));
}

void batched(benchmark::State& state) { run_updates(state, true); }
void per_update(benchmark::State& state) { run_updates(state, false); }

void hash256(benchmark::State& state) {
    const auto backend = static_cast<hash_backend>(state.range(0));
    if (!backend_supported(backend)) {
        state.SkipWithError("backend not supported by this CPU");
        return;
    }
    const hash_fn fn = hash_function(backend);
    std::array<uint8_t, 256> node{};
    for (size_t i = 0; i < node.size(); ++i)
        node[i] = static_cast<uint8_t>(i * 7);
    for (auto _ : state) {
        const digest d = fn(node.data(), node.size());
        node[0] = d.bytes[0];  // a dependency chain: latency, as in a bottom-up rehash
        benchmark::DoNotOptimize(node);
    }
    state.SetLabel(std::string(to_string(backend)));
}

struct replicas {
    tree a;
    tree b;
};

replicas& replica_pair(size_t differences) {
    static std::array<std::unique_ptr<replicas>, 2> pairs;
    auto& p = pairs[differences == 1 ? 0 : 1];
    if (!p) {
        p = std::make_unique<replicas>();
        std::mt19937_64 rng(99);
        for (size_t i = 0; i < entry_count; ++i) {
            const uint64_t key = rng();
            const digest d = random_digest(rng);
            (void)p->a.upsert(key, d);
            (void)p->b.upsert(key, d);
        }
        // The d differences: alternately a key only one side has and a key with two digests.
        for (size_t i = 0; i < differences; ++i) {
            const uint64_t key = rng();
            (void)(i % 2 == 0 ? p->a : p->b).upsert(key, random_digest(rng));
            if (i % 3 == 2)
                (void)p->a.upsert(key, random_digest(rng));
        }
        p->a.rehash();
        p->b.rehash();
    }
    return *p;
}

void reconcile(benchmark::State& state) {
    const auto how = static_cast<strategy>(state.range(0));
    const auto differences = static_cast<size_t>(state.range(1));
    auto& p = replica_pair(differences);
    reconcile_report r;
    uint64_t salt = 1;
    for (auto _ : state) {
        r = simulate_reconcile(p.a, p.b, reconcile_options{.how = how, .fingerprint_size = 4, .salt = salt++});
        benchmark::DoNotOptimize(r);
    }
    state.counters["round_trips"] = r.round_trips;
    state.counters["messages"] = r.messages;
    state.counters["overhead_bytes"] = static_cast<double>(r.overhead_bytes);
    state.counters["entries_sent"] = static_cast<double>(r.a_sends.size() + r.b_sends.size());
    state.counters["missed"] = r.missed ? 1 : 0;
    state.SetLabel(std::string(to_string(how)));
}

void memory(benchmark::State& state) {
    auto& f = shared(hash_backend::automatic);
    for (auto _ : state)
        benchmark::DoNotOptimize(f.t.memory_bytes());
    state.counters["tree_MiB"] = static_cast<double>(f.t.memory_bytes()) / (1024.0 * 1024.0);
    state.counters["entries"] = static_cast<double>(f.t.entry_count());
}

void memory_per_entry(benchmark::State& state) {
    const auto depth = static_cast<uint8_t>(state.range(0));
    const auto entries = static_cast<size_t>(state.range(1));
    std::mt19937_64 rng(5);
    tree t(tree_config{.leaf_depth = depth});
    for (size_t i = 0; i < entries; ++i) {
        (void)t.upsert(rng(), random_digest(rng));
        if (i % 64 == 63)
            t.rehash();
    }
    t.rehash();
    for (auto _ : state)
        benchmark::DoNotOptimize(t.memory_bytes());
    state.counters["bytes_per_entry"] = static_cast<double>(t.memory_bytes()) / static_cast<double>(entries);
}

void backends(benchmark::internal::Benchmark* b) {
    for (auto backend : {hash_backend::avx2, hash_backend::avx512, hash_backend::sse2, hash_backend::scalar,
                         hash_backend::library, hash_backend::library_dispatch})
        b->Arg(static_cast<int64_t>(backend));
}

} // namespace

BENCHMARK(hash256)->Apply(backends);
BENCHMARK(batched)->Apply(backends)->Unit(benchmark::kMicrosecond);
BENCHMARK(per_update)->Apply(backends)->Unit(benchmark::kMicrosecond);
BENCHMARK(reconcile)
    ->ArgsProduct({{static_cast<int64_t>(strategy::multi_level), static_cast<int64_t>(strategy::one_level),
                    static_cast<int64_t>(strategy::whole_state)},
                   {1, 100}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(memory)->Iterations(1);
BENCHMARK(memory_per_entry)->ArgsProduct({{3, 4}, {2'000, 10'000, 1'000'000}})->Iterations(1);
BENCHMARK_MAIN();
