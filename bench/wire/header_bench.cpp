// Wire codec costs on the data path, ns per operation: validating a datagram header, and
// encoding / decoding a relay_data datagram with a 1200-byte payload. Run:
//     build/bench/bench_wire --benchmark_min_time=0.2
#include <ainet/wire/messages.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <vector>

using namespace ainet;
using namespace ainet::wire;

namespace {

constexpr size_t bench_payload_size = 1200;

relay_data sample(const std::vector<uint8_t>& body) {
    relay_data d;
    d.destination.bytes.fill(0x21);
    d.source.bytes.fill(0x01);
    d.hop_limit = 8;
    d.payload = bytes_view(body);
    return d;
}

void bm_decode_header(benchmark::State& state) {
    const std::vector<uint8_t> body(bench_payload_size, 0x5A);
    std::array<uint8_t, 1500> datagram{};
    const size_t size = encode(sample(body), datagram).value();
    const bytes_view view = bytes_view(datagram).first(size);
    for (auto _ : state) {
        auto h = decode_datagram(view);
        benchmark::DoNotOptimize(h);
    }
}
BENCHMARK(bm_decode_header);

void bm_encode_relay_data(benchmark::State& state) {
    const std::vector<uint8_t> body(bench_payload_size, 0x5A);
    const relay_data d = sample(body);
    std::array<uint8_t, 1500> out{};
    for (auto _ : state) {
        auto size = encode(d, out);
        benchmark::DoNotOptimize(size);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(encoded_size(d)));
}
BENCHMARK(bm_encode_relay_data);

void bm_decode_relay_data(benchmark::State& state) {
    const std::vector<uint8_t> body(bench_payload_size, 0x5A);
    std::array<uint8_t, 1500> datagram{};
    const size_t size = encode(sample(body), datagram).value();
    const bytes_view view = bytes_view(datagram).first(size);
    for (auto _ : state) {
        auto message = decode_datagram(view);
        auto data = decode_relay_data(message->payload);
        benchmark::DoNotOptimize(data);
    }
}
BENCHMARK(bm_decode_relay_data);

} // namespace

BENCHMARK_MAIN();
