#pragma once
// sim::membership_node: membership::membership_core running unchanged in the simulator, and
// membership_world, what the nodes of one world share (keys, config, a verdict cache, event
// observers). Used by the membership scenarios (tests/sim/membership_*.cpp) and by
// `ainet-bench sim --workload membership`.
//
// Each node's key is derived from (world seed, node index), so a restarted node keeps its
// identity; its core's seed from the node's own random stream. The node keeps one simulator
// timer armed at the core's next_deadline(). A restart "with state" starts one above its last
// incarnation (what a real node persists, see node/membership_service.hpp); a fresh restart starts at a larger initial incarnation
// derived from its wall clock, as the core's documentation asks.
//
// Joining: nodes below preload_count start knowing each other's initial alive claims (a
// converged cluster, the state the targets are measured from); others join through add_seed()
// to the first seed_count nodes.
//
// Signature checks: shared_claim_verifier gives each distinct (key, message, signature) the
// verdict crypto::verify_raw gives it, computed once per world: every node would compute the same
// verdict, so the cache changes no outcome and saves N^2 verifications per change.
//
// Single-threaded, like the world. Memory: about 250 bytes per member per node (N^2 in all).

#include <ainet/crypto/ed25519.hpp>
#include <ainet/membership/membership_core.hpp>
#include <ainet/sim/node.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ainet::sim {

class shared_claim_verifier final : public membership::claim_verifier {
public:
    void verify(std::span<const crypto::verify_request> requests,
                std::span<bool> verdicts) noexcept override;
    [[nodiscard]] uint64_t computed() const noexcept { return m_computed; }

private:
    std::unordered_map<std::string, bool> m_verdicts; // looked up only, never iterated
    uint64_t m_computed = 0;
};

struct membership_world {
    membership::membership_config config;
    // Nodes with an index below preload_count start knowing each other (incarnation 0); the
    // others (added later, or restarted fresh) join through add_seed() to the first seed_count.
    uint32_t preload_count = 0;
    uint32_t seed_count = 3;
    std::vector<crypto::key_pair> keys;                    // by node index
    std::vector<membership::claim> initial_claims;         // by node index, incarnation 0
    std::vector<membership::membership_counters> counters; // by node index, kept across restarts
    shared_claim_verifier verifier;
    // Called for every event of every node (node, the event, the node's local time).
    std::function<void(node_index, const membership::membership_event&)> on_event;

    // Keys and initial claims for node_count nodes of a world with this seed and address plan.
    membership_world(uint32_t node_count, uint64_t seed, const address_plan& plan,
                     const membership::membership_config& core_config);
    membership_world(const membership_world&) = delete;
    membership_world& operator=(const membership_world&) = delete;

    // A factory for world(): membership_nodes sharing this object (which must outlive the world).
    [[nodiscard]] node_factory factory();
    // Sum of one counter over all nodes, e.g. total(&membership_counters::bytes_sent).
    [[nodiscard]] uint64_t
    total(std::atomic<uint64_t> membership::membership_counters::*field) const;
};

class membership_node final : public node {
public:
    membership_node(membership_world& shared, const node_spec& spec);

    void on_start(context& ctx) override;
    void on_datagram(context& ctx, const datagram_ref& d) override;
    void on_timer(context& ctx, uint64_t cookie) override;
    [[nodiscard]] std::vector<uint8_t> persist() const override;

    [[nodiscard]] membership::membership_core& core() noexcept { return *m_core; }
    [[nodiscard]] const membership::membership_core& core() const noexcept { return *m_core; }

private:
    void after(context& ctx);

    membership_world& m_shared;
    node_index m_index;
    std::unique_ptr<membership::membership_core> m_core;
    uint64_t m_initial_incarnation = 0;
    bool m_from_wall_clock = false; // a fresh restart: no persisted incarnation
    std::optional<timer_id> m_timer;
    instant m_timer_at{};
    uint64_t m_generation = 0;
};

} // namespace ainet::sim
