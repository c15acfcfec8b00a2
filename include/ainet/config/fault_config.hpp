#pragma once
// Fault injection settings for a running node (runtime/fault_injector.hpp applies them): the
// "faults" object of the node config and the body of POST /admin/faults, one format for both.
//
//     {"drop_probability": 0.1, "duplicate_probability": 0.01, "delay_ms": 20, "jitter_ms": 10,
//      "reorder_probability": 0.05, "reorder_window_ms": 10,
//      "block": ["127.0.0.3", "127.0.0.4:7004"], "seed": 42}
//
// Every field is optional; absent fields are 0 / empty, which means "no fault" (a config with
// every field at its default is inactive and costs the data path one branch). "block" lists
// peer addresses whose datagrams are dropped in both directions (received from them, sent to
// them): an address without a port matches every port of that address. This is how a loopback
// test or the demo makes a partition on a machine without tc netem. Probabilities are in
// [0, 1]; delays and windows in milliseconds up to fault_delay_ms_max; at most
// fault_block_count_max blocked addresses. Parsing is strict like the rest of the config:
// unknown fields, wrong types and out-of-range values fail with the field's JSON pointer.
// Plain values; allocates; any thread; never on the data path.

#include <ainet/config/errc.hpp>
#include <ainet/core/endpoint.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ainet::config {

inline constexpr uint32_t fault_delay_ms_max = 10'000;
inline constexpr size_t fault_block_count_max = 64;

struct fault_block {
    endpoint address;      // port ignored when any_port
    bool any_port = false;

    [[nodiscard]] bool matches(const endpoint& e) const noexcept {
        if (e.family != address.family || e.address != address.address)
            return false;
        return any_port || e.port == address.port;
    }
    friend bool operator==(const fault_block&, const fault_block&) = default;
};

struct fault_config {
    double drop_probability = 0;      // received datagrams dropped at random
    double duplicate_probability = 0; // received datagrams delivered twice
    uint32_t delay_ms = 0;            // every received datagram held this long ...
    uint32_t jitter_ms = 0;           // ... plus uniform [0, jitter_ms]
    double reorder_probability = 0;   // datagrams held back an extra uniform [1, window] ms
    uint32_t reorder_window_ms = 10;
    std::vector<fault_block> block;   // dropped both ways
    uint64_t seed = 1;                // mixed with the shard index and the UDP port

    // True when any fault is configured (the seed and window alone are not faults).
    [[nodiscard]] bool active() const noexcept {
        return drop_probability > 0 || duplicate_probability > 0 || delay_ms > 0 ||
               jitter_ms > 0 || reorder_probability > 0 || !block.empty();
    }
    // True when datagrams may be held (the injector needs its delay pool).
    [[nodiscard]] bool holds() const noexcept {
        return delay_ms > 0 || jitter_ms > 0 || reorder_probability > 0;
    }
    friend bool operator==(const fault_config&, const fault_config&) = default;
};

// Parses a fault object from JSON text (POST /admin/faults); source_name names it in errors.
[[nodiscard]] result<fault_config> parse_fault_config(std::string_view text,
                                                      std::string_view source_name);
// The same object as JSON text (GET /admin/faults, ainetctl fault show); parses back equal.
[[nodiscard]] std::string to_json(const fault_config& config);

} // namespace ainet::config
