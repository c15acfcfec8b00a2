// Ed25519 verification throughput on one core, all in one run so the numbers compare:
// libsodium 1.0.18's crypto_sign_verify_detached (the baseline), ainet's single verify
// (verify_raw) and ainet's batch verify (verify_batch) at batch sizes 1..256. Every signature is
// honest and made by its own key over its own 64-byte message (the node's typical hello), so
// nothing is cached across signatures. Reported: items_per_second = signatures/s; the
// "x_libsodium" counter is the ratio to the libsodium single figure measured in the same run.
// The *_portable variants force the portable field code (no AVX-512 IFMA decoding); the plain
// ones use whatever the CPU offers (field25519_simd.hpp), so on a CPU without IFMA both
// measure the same code.
// Run: build-release/bench/bench_crypto --benchmark_min_time=1
#include <ainet/crypto/ed25519.hpp>

#include "batch_impl.hpp"
#include "batch_pippenger.hpp"
#include "field25519_simd.hpp"
#include "verify_impl.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <memory>
#include <vector>

using namespace ainet;
using namespace ainet::crypto;

namespace {

constexpr size_t corpus_size = 4096;

struct corpus {
    std::vector<std::vector<uint8_t>> messages;
    std::vector<verify_request> requests;
};

const corpus& signatures() {
    static const corpus c = [] {
        corpus out;
        out.messages.reserve(corpus_size);
        for (size_t i = 0; i < corpus_size; ++i) {
            seed s{};
            for (size_t b = 0; b < s.size(); ++b)
                s[b] = static_cast<uint8_t>(i * 31 + b * 7 + (i >> 8));
            const auto keys = key_pair::from_seed(s);
            std::vector<uint8_t> message(64);
            for (size_t b = 0; b < message.size(); ++b)
                message[b] = static_cast<uint8_t>(i + b * 13);
            out.messages.push_back(message);
            out.requests.push_back(
                {keys.public_key_bytes(), out.messages.back(), keys.sign_raw(out.messages.back())});
        }
        return out;
    }();
    return c;
}

// Signatures per second of libsodium single verification, measured by BM_libsodium_single in
// this same run (it is registered first, and its last run is the one reported), for the ratio
// counters.
double libsodium_rate = 0;

// This thread's CPU time: the ratios must not depend on what else the machine runs.
struct bench_clock {
    using time_point = double;
    static double now() noexcept {
        timespec ts{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    }
};

double per_second(uint64_t items, double start) {
    return static_cast<double>(items) / (bench_clock::now() - start);
}

void report_ratio(benchmark::State& state, double rate) {
    if (libsodium_rate > 0)
        state.counters["x_libsodium"] = rate / libsodium_rate;
}

void BM_libsodium_single(benchmark::State& state) {
    const auto& c = signatures();
    size_t i = 0;
    const auto start = bench_clock::now();
    for (auto _ : state) {
        const auto& r = c.requests[i++ % corpus_size];
        bool ok = crypto::detail::libsodium_verify(r.key, r.message, r.sig);
        benchmark::DoNotOptimize(ok);
        if (!ok)
            state.SkipWithError("libsodium rejected an honest signature");
    }
    libsodium_rate = per_second(state.iterations(), start);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    report_ratio(state, libsodium_rate);
}

void own_single(benchmark::State& state) {
    const auto& c = signatures();
    size_t i = 0;
    const auto start = bench_clock::now();
    for (auto _ : state) {
        const auto& r = c.requests[i++ % corpus_size];
        bool ok = verify_raw(r.key, r.message, r.sig);
        benchmark::DoNotOptimize(ok);
        if (!ok)
            state.SkipWithError("verify_raw rejected an honest signature");
    }
    report_ratio(state, per_second(state.iterations(), start));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void own_batch(benchmark::State& state) {
    const auto& c = signatures();
    const size_t batch = static_cast<size_t>(state.range(0));
    std::unique_ptr<bool[]> verdicts(new bool[batch]);
    size_t first = 0;
    const auto start = bench_clock::now();
    for (auto _ : state) {
        if (first + batch > corpus_size)
            first = 0;
        verify_batch(std::span(c.requests).subspan(first, batch),
                     std::span<bool>(verdicts.get(), batch));
        for (size_t i = 0; i < batch; ++i)
            if (!verdicts[i])
                state.SkipWithError("verify_batch rejected an honest signature");
        first += batch;
    }
    report_ratio(state, per_second(state.iterations() * batch, start));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

// The two multi-scalar multiplications alone on the same batches, for the crossover
// (batch_pippenger.hpp: pippenger_batch_min): Straus chunks vs one Pippenger check.
template <class Check>
void batch_method(benchmark::State& state, Check check) {
    const auto& c = signatures();
    const size_t batch = static_cast<size_t>(state.range(0));
    size_t first = 0;
    const auto start = bench_clock::now();
    for (auto _ : state) {
        if (first + batch > corpus_size)
            first = 0;
        if (!check(std::span(c.requests).subspan(first, batch)))
            state.SkipWithError("an honest batch was rejected");
        first += batch;
    }
    report_ratio(state, per_second(state.iterations() * batch, start));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

void BM_batch_straus(benchmark::State& state) {
    auto workspace = crypto::detail::make_batch_workspace();
    std::vector<uint8_t> verdicts(static_cast<size_t>(state.range(0)));
    batch_method(state, [&](std::span<const verify_request> requests) {
        std::unique_ptr<bool[]> v(new bool[requests.size()]);
        crypto::detail::batch_verify_straus(*workspace, requests,
                                            std::span<bool>(v.get(), requests.size()));
        return std::all_of(v.get(), v.get() + requests.size(), [](bool b) { return b; });
    });
}
void BM_batch_pippenger(benchmark::State& state) {
    batch_method(state, [](std::span<const verify_request> requests) {
        return crypto::detail::pippenger_all_valid(requests);
    });
}
void BM_batch_straus_portable(benchmark::State& state) {
    const crypto::detail::field_simd_scope portable(false);
    BM_batch_straus(state);
}
void BM_batch_pippenger_portable(benchmark::State& state) {
    const crypto::detail::field_simd_scope portable(false);
    BM_batch_pippenger(state);
}

void BM_own_single(benchmark::State& state) { own_single(state); }
void BM_own_batch(benchmark::State& state) { own_batch(state); }

void BM_own_single_portable(benchmark::State& state) {
    const crypto::detail::field_simd_scope portable(false);
    own_single(state);
}
void BM_own_batch_portable(benchmark::State& state) {
    const crypto::detail::field_simd_scope portable(false);
    own_batch(state);
}

} // namespace

BENCHMARK(BM_libsodium_single);
BENCHMARK(BM_own_single);
BENCHMARK(BM_own_single_portable);
BENCHMARK(BM_own_batch)->Arg(1)->Arg(4)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->Arg(128)->Arg(256);
BENCHMARK(BM_own_batch_portable)
    ->Arg(1)->Arg(4)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->Arg(128)->Arg(256);

BENCHMARK(BM_batch_straus)->RangeMultiplier(2)->Range(64, 4096);
BENCHMARK(BM_batch_pippenger)->RangeMultiplier(2)->Range(64, 4096);
BENCHMARK(BM_batch_straus_portable)->RangeMultiplier(2)->Range(64, 4096);
BENCHMARK(BM_batch_pippenger_portable)->RangeMultiplier(2)->Range(64, 4096);

BENCHMARK_MAIN();
