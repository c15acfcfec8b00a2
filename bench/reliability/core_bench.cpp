// The reliability core's CPU cost per message, both ends in one process, no network: a sender
// core and a receiver core exchange datagrams through in-memory sinks in loop turns.
//
//  send_ack/size/batch   per turn the sender send()s `batch` messages of `size` bytes; then
//                        one loop turn each: sender flush (commit to a memory store, pack
//                        data), receiver on_packet + flush (deliver, commit watermark, ack),
//                        sender on_packet (ack: outbox release). time / items = the full
//                        send + deliver + ack cost of one message, both sides together
//                        (the memory store's commit included; LMDB's is not).
//  decode_ack            decoding one ack frame with 16 selective ranges.
//
// Run: build/bench/bench_reliability --benchmark_min_time=0.2
#include <ainet/reliability/reliability_core.hpp>

#include <benchmark/benchmark.h>

#include <vector>

namespace {

using namespace ainet;
using namespace ainet::reliability;

node_id make_id(uint8_t tag) {
    node_id id;
    id.bytes.fill(tag);
    return id;
}

// Collects datagrams into one flat buffer (reused, so steady state allocates nothing).
struct flat_sink final : packet_sink {
    std::vector<uint8_t> bytes = std::vector<uint8_t>(1 << 22);
    std::vector<std::pair<size_t, size_t>> datagrams; // (offset, size)
    size_t used = 0;
    mutable_bytes prepare(const node_id&) noexcept override {
        if (bytes.size() - used < 2048)
            return {};
        return mutable_bytes(bytes.data() + used, 2048);
    }
    void commit(size_t size) noexcept override {
        datagrams.emplace_back(used, size);
        used += size;
    }
    void abandon() noexcept override {}
    void clear() {
        datagrams.clear();
        used = 0;
    }
};

void send_ack(benchmark::State& state) {
    const size_t size = static_cast<size_t>(state.range(0));
    const uint32_t batch = static_cast<uint32_t>(state.range(1));
    reliability_config config;
    config.receive_window = 1 << 16;
    config.cwnd_initial = config.cwnd_max = 1 << 16;
    config.datagrams_per_peer_per_flush_max = 1 << 16;
    memory_store store_a, store_b;
    reliability_counters counters_a, counters_b;
    config.incarnation = 1;
    reliability_core a(config, store_a, counters_a);
    config.incarnation = 2;
    reliability_core b(config, store_b, counters_b);
    const node_id ida = make_id(1), idb = make_id(2);
    std::vector<uint8_t> payload(size, 0x42);
    flat_sink sink_a, sink_b;
    instant now{1'000'000'000};
    uint64_t delivered = 0;
    for (auto _ : state) {
        for (uint32_t i = 0; i < batch; ++i)
            benchmark::DoNotOptimize(a.send(now, idb, channel_id{1}, payload));
        sink_a.clear();
        a.flush(now, sink_a);
        a.clear_events();
        for (auto [offset, length] : sink_a.datagrams)
            b.on_packet(now, ida, bytes_view(sink_a.bytes.data() + offset, length));
        sink_b.clear();
        b.flush(now, sink_b);
        delivered += b.events().size();
        b.clear_events();
        for (auto [offset, length] : sink_b.datagrams)
            a.on_packet(now, idb, bytes_view(sink_b.bytes.data() + offset, length));
        a.clear_events();
        now = now + std::chrono::microseconds(100);
    }
    if (a.outbox_count() != 0 || delivered < uint64_t(state.iterations()) * batch)
        state.SkipWithError("not every message was delivered and acknowledged");
    state.SetItemsProcessed(int64_t(state.iterations()) * batch);
    state.counters["datagrams_per_msg"] =
        double(counters_a.datagrams_sent.load()) / double(counters_a.messages_sent.load());
}
BENCHMARK(send_ack)->Args({32, 64})->Args({256, 64})->Args({1024, 64})->Args({32, 1024});

void decode_ack(benchmark::State& state) {
    std::vector<uint8_t> buffer(1200);
    packet_writer w(buffer, packet_head{1, 2, 3});
    ack_frame a;
    a.channel = channel_id{1};
    a.cumulative = 100000;
    a.window = 1024;
    for (uint64_t i = 0; i < ranges_max; ++i)
        a.ranges.push({100002 + i * 10, 100005 + i * 10});
    (void)w.add_ack(a);
    buffer.resize(w.finish());
    for (auto _ : state) {
        auto view = decode_reliable_datagram(buffer);
        frame_reader r(view->frames);
        auto f = r.next();
        benchmark::DoNotOptimize(f);
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(decode_ack);

} // namespace

BENCHMARK_MAIN();
