// Cross-shard hand-off cost: one producer thread, one consumer thread, messages of the size the
// shard mesh carries (shard_message, 120 bytes), moved through a moodycamel ConcurrentQueue with
// an explicit producer token and bulk dequeue (what src/runtime/shard.cpp does) vs a
// std::mutex + std::deque (the obvious locked alternative), in the same run.
#include <ainet/runtime/shard.hpp>

#include <benchmark/benchmark.h>
#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

namespace {

using ainet::runtime::shard_message;
constexpr size_t messages_per_iteration = 4096;

void BM_moodycamel_handoff(benchmark::State& state) {
    const auto bulk = static_cast<size_t>(state.range(0));
    for (auto _ : state) {
        moodycamel::ConcurrentQueue<shard_message> queue(8192, 1, 0);
        moodycamel::ProducerToken token(queue);
        std::atomic<bool> go{false};
        std::thread consumer([&] {
            shard_message batch[256];
            size_t received = 0;
            while (!go.load(std::memory_order_acquire)) {
            }
            while (received < messages_per_iteration)
                received += queue.try_dequeue_bulk(batch, bulk);
        });
        go.store(true, std::memory_order_release);
        shard_message msg;
        for (size_t i = 0; i < messages_per_iteration; ++i) {
            msg.kind = static_cast<uint32_t>(i);
            while (!queue.try_enqueue(token, msg)) {
            }
        }
        consumer.join();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * messages_per_iteration));
}
BENCHMARK(BM_moodycamel_handoff)->Arg(1)->Arg(64)->UseRealTime();

void BM_mutex_deque_handoff(benchmark::State& state) {
    const auto bulk = static_cast<size_t>(state.range(0));
    for (auto _ : state) {
        std::mutex mutex;
        std::deque<shard_message> queue;
        std::atomic<bool> go{false};
        std::thread consumer([&] {
            size_t received = 0;
            while (!go.load(std::memory_order_acquire)) {
            }
            while (received < messages_per_iteration) {
                std::lock_guard lock(mutex);
                for (size_t k = 0; k < bulk && !queue.empty(); ++k) {
                    queue.pop_front();
                    ++received;
                }
            }
        });
        go.store(true, std::memory_order_release);
        shard_message msg;
        for (size_t i = 0; i < messages_per_iteration; ++i) {
            msg.kind = static_cast<uint32_t>(i);
            std::lock_guard lock(mutex);
            queue.push_back(msg);
        }
        consumer.join();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * messages_per_iteration));
}
BENCHMARK(BM_mutex_deque_handoff)->Arg(1)->Arg(64)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
