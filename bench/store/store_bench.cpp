// Group commit vs one commit per entry, with and without fdatasync, in the same run.
//
// Each iteration adds batch_size puts (16-byte big-endian keys in increasing order, 100-byte
// values) to a write_batch and commits it: batch_size 1 is "one transaction per write", 64 and
// 1024 are group commits of a loop turn. items_per_second is entries made durable per second
// (or committed to the page cache only, for sync=0). The store lives in $TMPDIR (default /tmp),
// so the numbers are those of that filesystem and device.
//
//   build/bench/bench_store --benchmark_min_time=0.5

#include <ainet/store/environment.hpp>
#include <ainet/store/write_batch.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace store = ainet::store;

namespace {

class scratch_dir {
public:
    scratch_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "ainet-store-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            std::abort();
        m_path = pattern;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

void commit_puts(benchmark::State& state) {
    const auto batch_size = static_cast<size_t>(state.range(0));
    const bool durable = state.range(1) != 0;
    scratch_dir dir;
    store::options opts;
    opts.map_size_bytes = size_t{8} << 30; // address space only; the file grows as written
    opts.durable = durable;
    auto env = store::environment::open(dir.path(), opts);
    if (!env) {
        state.SkipWithError("cannot open the store");
        return;
    }
    auto t = env->open_table("bench");
    if (!t) {
        state.SkipWithError("cannot open the table");
        return;
    }
    store::write_batch batch(*env, store::batch_limits{.entry_count_max = batch_size,
                                                       .byte_count_max = batch_size * 128});
    std::array<uint8_t, 16> key{};
    std::array<uint8_t, 100> value{};
    value.fill(0x5a);
    uint64_t next = 0;
    for (auto _ : state) {
        for (size_t i = 0; i < batch_size; ++i, ++next) {
            for (int b = 0; b < 8; ++b)
                key[8 + static_cast<size_t>(b)] = static_cast<uint8_t>(next >> (56 - 8 * b));
            if (!batch.put(*t, key, value)) {
                state.SkipWithError("put failed");
                return;
            }
        }
        auto seq = batch.commit();
        if (!seq) {
            state.SkipWithError(std::string(env->last_error()).c_str());
            return;
        }
        benchmark::DoNotOptimize(*seq);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch_size));
    state.counters["commits_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(durable ? "sync" : "nosync");
}

} // namespace

BENCHMARK(commit_puts)
    ->ArgNames({"batch", "sync"})
    ->ArgsProduct({{1, 64, 1024}, {1, 0}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

BENCHMARK_MAIN();
