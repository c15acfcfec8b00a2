#pragma once
// gossip_node: a small demo protocol for the simulator's tests and `ainet-bench sim`.
//
// The origin node increments a counter every period. Every node pushes its counter to `fanout`
// random peers every period (anti-entropy), answers a peer that pushed a lower counter with its
// own (pull), and, when it learns a higher counter, forwards it to `fanout` random peers at once
// (flooding). Messages carry a check word, so corrupted datagrams
// are rejected and counted. The counter is the persisted state: a restart with state resumes
// from it, a fresh restart starts at 0 and catches up from its peers.
//
// Message (16 bytes, little-endian): magic u32 "AGSP", counter u64, check u32 (the low half of
// an FNV-1a-style hash of the first 12 bytes).

#include <ainet/sim/node.hpp>

#include <cstdint>

namespace ainet::sim {

struct gossip_config {
    duration period = std::chrono::milliseconds(200);
    uint32_t fanout = 2;
    node_index origin{0};
    // The origin stops incrementing after this many ticks (so tests can wait for convergence).
    uint64_t increments_max = UINT64_MAX;
};

class gossip_node final : public node {
public:
    static constexpr size_t message_size = 16;
    static constexpr uint32_t magic = 0x50534741; // "AGSP" little-endian

    gossip_node(const gossip_config& config, const node_spec& spec);

    void on_start(context& ctx) override;
    void on_datagram(context& ctx, const datagram_ref& d) override;
    void on_timer(context& ctx, uint64_t cookie) override;
    [[nodiscard]] std::vector<uint8_t> persist() const override;

    [[nodiscard]] uint64_t counter() const noexcept { return m_counter; }
    [[nodiscard]] uint64_t received() const noexcept { return m_received; }
    [[nodiscard]] uint64_t rejected() const noexcept { return m_rejected; }
    [[nodiscard]] uint64_t ticks() const noexcept { return m_ticks; }
    [[nodiscard]] instant last_tick_local() const noexcept { return m_last_tick; }
    [[nodiscard]] bool restored() const noexcept { return m_restored; }

    // Encodes a message; out must hold message_size bytes.
    static void encode(uint64_t counter, mutable_bytes out) noexcept;
    // The counter of a valid message, or nullopt (wrong size, magic or check word).
    [[nodiscard]] static std::optional<uint64_t> decode(bytes_view message) noexcept;

private:
    void push(context& ctx);

    gossip_config m_config;
    node_index m_self;
    uint64_t m_counter = 0;
    uint64_t m_received = 0;
    uint64_t m_rejected = 0;
    uint64_t m_ticks = 0;
    instant m_last_tick{};
    bool m_restored = false;
};

[[nodiscard]] node_factory make_gossip_factory(const gossip_config& config);

} // namespace ainet::sim
