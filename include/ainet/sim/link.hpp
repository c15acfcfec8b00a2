#pragma once
// What the simulated network does to a datagram on its way from one node to another, and how a
// node's clock departs from the simulation's global time. Plain configuration values.
//
// A datagram sent at global time t from node A to node B:
//   1. is lost with probability `loss`;
//   2. waits for A's egress queue and then the link's (bandwidth caps: serialization at
//      bandwidth_bytes_per_second, tail drop when more than queue_bytes_max is queued);
//   3. is duplicated with probability `duplicate` (the copy draws its own delay and faults);
//   4. for each copy: travels latency_base + jitter (uniform in [0, jitter] or exponential
//      with mean jitter, capped at 8 * jitter), plus, with probability `reorder`, an extra
//      uniform delay in [0, reorder_delay_max] that lets later datagrams overtake it;
//   5. has, with probability `corrupt`, 1..corrupt_bits_max distinct random bits flipped;
//   6. at arrival is dropped if B is down or a partition blocks A -> B, else delivered.

#include <ainet/core/time.hpp>

#include <cstdint>

namespace ainet::sim {

enum class jitter_shape : uint8_t { uniform, exponential };

struct link_profile {
    duration latency_base = std::chrono::milliseconds(10);
    duration jitter = std::chrono::milliseconds(2);
    jitter_shape shape = jitter_shape::uniform;
    double loss = 0.0;
    double duplicate = 0.0;
    double reorder = 0.0;
    duration reorder_delay_max = std::chrono::milliseconds(20);
    double corrupt = 0.0;
    uint32_t corrupt_bits_max = 1; // 1..64
    // 0 = unlimited. Applies to the link (a per-pair profile); per-node egress caps are set
    // with world::set_egress().
    uint64_t bandwidth_bytes_per_second = 0;
    uint64_t queue_bytes_max = 1 << 20;
};

// A node's local clocks: local = global + offset + (global - world start) * drift_ppb / 10^9.
// drift_ppb > -10^9 keeps the local clock monotonic. Wall time (unix_ms) follows the local
// monotonic clock from world_config::wall_start.
struct clock_skew {
    duration offset{0};
    int64_t drift_ppb = 0; // parts per billion: 1000 ppm fast = 1'000'000
};

} // namespace ainet::sim
