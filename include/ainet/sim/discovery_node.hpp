#pragma once
// discovery_node: the bootstrap discovery manager (discovery/bootstrap_manager.hpp) running
// unchanged in the simulator, its HTTP exchanges carried as request/response messages
// (context::send_message, node::on_message).
//
// World layout: nodes 0 .. static_count-1 are the static bootstrap nodes every node is
// configured with. A node's key pair is derived from (key_seed, index), so the factory, the
// scenario and every node agree on all keys without sharing state. Optionally some nodes are
// adversarial: they run discovery to announce themselves like anyone, but answer every
// GET /bootstrap/nodes with a list (validly signed by themselves) holding only adversarial
// records (validly self-signed records of other adversaries), picked at random (a new pick
// and signature once per second, as honest nodes re-sign at most once per second).
//
// Messages (simulator-only envelopes standing for the HTTP exchange; little-endian):
//     request:  u8 1 | u64 request id | varint length + the requester's own record (JCS)
//     response: u8 2 | u64 request id | u16 HTTP status | varint length + body
// A request is admitted by the manager's per-client rate limiter (429 otherwise). Malformed
// envelopes are counted and ignored.
//
// Persisted state (a restart with state) is the manager's persist() blob.
// Single-threaded, like the world.

#include <ainet/crypto/ed25519.hpp>
#include <ainet/discovery/bootstrap_manager.hpp>
#include <ainet/sim/node.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace ainet::sim {

struct discovery_sim_config {
    uint32_t static_count = 3;
    uint64_t key_seed = 1;
    // Template for each node's manager; udp, http, statics and seed are filled per node.
    discovery::bootstrap_manager_config manager{};
    // Which nodes are adversarial (nullptr: none).
    std::function<bool(node_index)> adversarial;
    // Node count the adversaries may cite (their records are made for indices below it).
    uint32_t node_count = 0;
    // The world's address plan (make_discovery_factory sets it): statics' addresses.
    address_plan addresses{};
    // Wall-clock validity of the adversaries' records.
    unix_ms adversary_wall{1'700'000'000'000};
};

// The key pair of node i.
[[nodiscard]] crypto::key_pair discovery_key(uint64_t key_seed, node_index i);

class discovery_node final : public node {
public:
    static constexpr uint8_t request_kind = 1;
    static constexpr uint8_t response_kind = 2;

    discovery_node(const discovery_sim_config& config, const node_spec& spec,
                   std::shared_ptr<const std::vector<discovery::node_record>> adversary_records);

    void on_start(context& ctx) override;
    void on_datagram(context&, const datagram_ref&) override {}
    void on_timer(context& ctx, uint64_t cookie) override;
    void on_message(context& ctx, const endpoint& from, bytes_view message) override;
    [[nodiscard]] std::vector<uint8_t> persist() const override;

    [[nodiscard]] discovery::bootstrap_manager& manager() noexcept { return *m_manager; }
    [[nodiscard]] bool adversarial() const noexcept { return m_adversary_records != nullptr; }
    [[nodiscard]] bool restored() const noexcept { return m_restored; }
    [[nodiscard]] uint64_t bad_envelopes() const noexcept { return m_bad_envelopes; }

private:
    void pump(context& ctx);
    void answer(context& ctx, const endpoint& to, uint64_t id, uint16_t status,
                std::string_view body);
    [[nodiscard]] const std::string& adversarial_document(context& ctx);

    crypto::key_pair m_keys;
    std::unique_ptr<discovery::bootstrap_manager> m_manager;
    std::shared_ptr<const std::vector<discovery::node_record>> m_adversary_records;
    std::optional<bytes_view> m_persisted;
    std::vector<uint8_t> m_persisted_copy;
    std::optional<timer_id> m_timer;
    instant m_timer_at{};
    std::string m_adversary_document;
    std::optional<instant> m_adversary_document_at;
    uint64_t m_bad_envelopes = 0;
    bool m_restored = false;
};

// A factory for the world; builds the adversaries' records once (shared by all adversaries).
[[nodiscard]] node_factory make_discovery_factory(const discovery_sim_config& config,
                                                  const address_plan& addresses);

} // namespace ainet::sim
