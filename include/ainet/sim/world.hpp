#pragma once
// sim::world: a deterministic simulation of many nodes on a faulty network, in virtual time.
//
// What it is. One global event queue, a binary heap ordered by (virtual time, sequence number),
// holds datagram arrivals, timer expiries, node starts and scripted actions; step() pops the
// earliest, advances the global clock to it and runs it. Every random choice the network makes
// (loss, delay, duplication, reordering, corruption) comes from one xoshiro256** stream seeded
// by world_config::seed; each node has its own stream derived from (seed, index, incarnation),
// so a node's randomness does not depend on the network's and vice versa. Nothing reads a real
// clock, iterates an unordered container, or uses a floating-point function, so a seed replays
// a run bit for bit on any compiler, and trace_hash() fingerprints it (see trace.hpp). The
// model follows TigerBeetle's packet simulator (src/testing/packet_simulator.zig), with
// per-pair overrides instead of N^2 link state so that 5,000+ nodes fit in one process.
//
// Faults (link.hpp describes a datagram's path): per-link latency distribution, loss,
// duplication, reordering, bit-flip corruption, bandwidth caps per node (egress) and per link;
// partitions, full (both ways) or asymmetric (A -> B dropped, B -> A delivered) between node
// sets; crash and restart with or without persisted state; per-node clock offset and drift.
//
// Limits (STYLE.md: everything has a limit): world_config names the node count, datagram size,
// datagrams in flight and timers per node maxima; exceeding the in-flight maximum drops (and
// counts) the datagram, exceeding the timer maximum fails arm().
//
// Memory: per node ~130 bytes of world state plus the node object; per datagram in flight one
// pooled buffer (reused, so steady state allocates nothing) and a 32-byte heap entry.
//
// Threads: single-threaded; a world and its nodes belong to the thread that runs them.
// Lifecycle: construct with a config and factory, add_nodes(), script faults, run_until().
// Control calls (crash, restart, partition, set_*) may be made between steps or from a
// scheduled action, never from inside a node's handler.

#include <ainet/core/time.hpp>
#include <ainet/sim/address_plan.hpp>
#include <ainet/sim/link.hpp>
#include <ainet/sim/node.hpp>
#include <ainet/sim/rng.hpp>
#include <ainet/sim/trace.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

namespace ainet::sim {

struct world_config {
    uint64_t seed = 0;
    // Global virtual time starts here; node clocks start here plus their offset.
    instant start{1'000'000'000};
    unix_ms wall_start{1'700'000'000'000};
    address_plan addresses{};
    link_profile default_link{};
    uint32_t node_count_max = 1'000'000; // and at most addresses.capacity()
    uint32_t datagram_size_max = 1472;
    uint32_t packets_in_flight_max = 1u << 22;
    uint32_t timers_per_node_max = 1024;
};

struct world_stats {
    uint64_t events = 0; // events popped from the queue (stale timers included)
    uint64_t sent = 0;
    uint64_t delivered = 0;
    uint64_t duplicated = 0;
    uint64_t corrupted = 0;
    uint64_t timers_fired = 0;
    uint64_t starts = 0;
    uint64_t crashes = 0;
    std::array<uint64_t, drop_reason_count> dropped{};

    [[nodiscard]] uint64_t dropped_by(drop_reason r) const noexcept {
        return dropped[static_cast<size_t>(r)];
    }
    [[nodiscard]] uint64_t dropped_total() const noexcept;
};

enum class partition_id : uint32_t {};
enum class partition_direction : uint8_t {
    both_ways, // A -> B and B -> A dropped
    a_to_b,    // A -> B dropped, B -> A delivered
};
enum class restart_mode : uint8_t { fresh, with_state };

class world {
public:
    world(const world_config& config, node_factory factory);
    world(const world&) = delete;
    world& operator=(const world&) = delete;
    ~world();

    // Creates a node (its endpoint from the address plan) and schedules its on_start now.
    node_index add_node();
    void add_nodes(uint32_t count);
    [[nodiscard]] uint32_t node_count() const noexcept {
        return static_cast<uint32_t>(m_nodes.size());
    }
    [[nodiscard]] endpoint endpoint_of(node_index i) const noexcept;
    [[nodiscard]] bool is_up(node_index i) const noexcept;
    [[nodiscard]] uint32_t incarnation(node_index i) const noexcept;
    // The running process of node i, or nullptr while it is down.
    [[nodiscard]] node* process(node_index i) noexcept;
    template <class T>
    [[nodiscard]] T* process_as(node_index i) noexcept {
        return dynamic_cast<T*>(process(i));
    }

    // --- faults -------------------------------------------------------------------------------
    // Crash: persist() is kept, on_crash() runs, the process is destroyed, its timers vanish,
    // arrivals are dropped until a restart. Crashing a down node does nothing.
    void crash(node_index i);
    // Restart a down node (a running one is crashed first) from the factory, with the blob its
    // last crash persisted or without; on_start runs after `delay`.
    void restart(node_index i, restart_mode mode, duration delay = duration{0});

    // Drops datagrams from a to b (and b to a when both_ways) at delivery time until healed.
    partition_id partition(std::span<const node_index> a, std::span<const node_index> b,
                           partition_direction direction = partition_direction::both_ways);
    // Separates a from every other node (nodes added later included).
    partition_id isolate(std::span<const node_index> a,
                         partition_direction direction = partition_direction::both_ways);
    void heal(partition_id id);
    void heal_all();
    [[nodiscard]] bool blocked(node_index from, node_index to) const noexcept;

    // The profile of the directed link from -> to (default_link unless overridden).
    void set_link(node_index from, node_index to, const link_profile& profile);
    void set_link_both(node_index a, node_index b, const link_profile& profile) {
        set_link(a, b, profile);
        set_link(b, a, profile);
    }
    void clear_link(node_index from, node_index to);
    void set_default_link(const link_profile& profile);
    // Caps what node i sends, all destinations together (0 = unlimited).
    void set_egress(node_index i, uint64_t bytes_per_second, uint64_t queue_bytes_max = 1 << 20);
    // Sets node i's clock; a running node's local time must not go backwards (asserted).
    void set_clock(node_index i, const clock_skew& skew);
    [[nodiscard]] instant local_now(node_index i) const noexcept;

    // Runs fn(world&) at global time `at` (>= now) as an event of its own, so faults can be
    // scripted into the trace (e.g. crash node 3 at t = 5 s).
    void schedule(instant at, std::function<void(world&)> fn);

    // Sends as if node `from` had (for tests injecting traffic from outside a handler).
    void send_from(node_index from, const endpoint& to, bytes_view payload);

    // --- request/response messages (the HTTP model; discovery, issue 5) ---------------------
    // Messages between nodes (context::send_message, node::on_message): reliable, ordered per
    // directed pair, delivered after the link's latency_base plus jitter (no loss, duplication,
    // reordering or corruption: they stand for a TCP exchange). A message never overtakes an
    // earlier one of the same pair. Partitions and down receivers drop them at delivery time,
    // traced as datagrams are (kind sent/delivered/dropped, cookie message_trace_cookie).
    // Bandwidth caps do not apply. Per pair that ever exchanged a message the world keeps 16
    // bytes (the channel's last delivery time).
    static constexpr uint32_t message_size_max = 4u << 20;
    static constexpr uint64_t message_trace_cookie = 0x6d657373616765ull; // "message"
    // Sends as if node `from` had (tests injecting messages from outside a handler).
    void send_message_from(node_index from, const endpoint& to, bytes_view message);
    [[nodiscard]] uint64_t messages_sent() const noexcept { return m_messages_sent; }
    [[nodiscard]] uint64_t message_bytes_sent() const noexcept { return m_message_bytes_sent; }
    // --- end of request/response messages -------------------------------------------------

    // --- running ------------------------------------------------------------------------------
    // Processes the earliest event; false when the queue is empty.
    bool step();
    // Processes every event at or before t, then sets the global clock to t. Returns the number
    // of events processed. A protocol that schedules zero-delay work forever never returns:
    // links have latency_base > 0 for that reason (asserted).
    uint64_t run_until(instant t);
    uint64_t run_for(duration d) { return run_until(m_now + d); }

    [[nodiscard]] instant now() const noexcept { return m_now; }
    [[nodiscard]] uint64_t trace_hash() const noexcept { return m_hash.value(); }
    [[nodiscard]] const world_stats& stats() const noexcept { return m_stats; }
    [[nodiscard]] const world_config& config() const noexcept { return m_config; }
    [[nodiscard]] size_t queued_events() const noexcept { return m_queue.size(); }
    [[nodiscard]] size_t packets_in_flight() const noexcept { return m_packets_in_flight; }
    // The observer (not owned) sees every traced event; nullptr to stop.
    void set_observer(trace_observer* observer) noexcept { m_observer = observer; }

private:
    friend class context;

    enum class event_type : uint8_t {
        deliver,
        timer,
        start,
        action,
        message, // request/response messages (discovery block below)
    };
    struct event {
        int64_t at_ns;
        uint64_t sequence;
        uint32_t slot; // packet, timer or action slot; incarnation for start
        uint32_t node;
        event_type type;
    };
    static_assert(sizeof(event) == 32);
    struct event_later {
        bool operator()(const event& a, const event& b) const noexcept {
            return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.sequence > b.sequence;
        }
    };

    struct link_model {
        duration latency_base;
        duration jitter;
        jitter_shape shape;
        probability loss;
        probability duplicate;
        probability reorder;
        duration reorder_delay_max;
        probability corrupt;
        uint32_t corrupt_bits_max;
        uint64_t bandwidth_bytes_per_second;
        uint64_t queue_bytes_max;
        int64_t free_at_ns = 0; // the link's serializer is busy until then
    };

    struct node_state {
        std::unique_ptr<node> process;
        std::vector<uint8_t> persisted;
        rng random;
        clock_skew clock;
        int64_t local_floor_ns = INT64_MIN; // the latest local time handed to the node
        uint64_t egress_bytes_per_second = 0;
        uint64_t egress_queue_bytes_max = 0;
        int64_t egress_free_at_ns = 0;
        uint32_t incarnation = 0;
        uint32_t timers_armed = 0;
        bool up = false;
        bool has_persisted = false;
    };

    struct packet {
        std::vector<uint8_t> bytes;
        uint32_t from = 0;
        bool duplicate = false;
        bool corrupted = false;
    };

    struct timer_slot {
        uint64_t cookie = 0;
        uint32_t node = 0;
        uint32_t incarnation = 0;
        uint32_t generation = 0;
        bool armed = false;
    };

    struct partition_rule {
        uint32_t id;
        std::vector<uint8_t> side; // 0: neither, 1: set A, 2: set B
        bool rest_is_b;            // nodes not in A (and later nodes) are set B
        bool a_to_b;
        bool b_to_a;
    };

    static link_model make_model(const link_profile& p);
    [[nodiscard]] static uint64_t link_key(uint32_t from, uint32_t to) noexcept {
        return (uint64_t{from} << 32) | to;
    }

    void push(int64_t at_ns, event_type type, uint32_t node, uint32_t slot);
    void record(const trace_event& e) noexcept;
    void drop(uint32_t from, uint32_t to, drop_reason reason, bytes_view payload, bool duplicate,
              bool corrupted) noexcept;
    void transmit(uint32_t from, const endpoint& to, bytes_view payload) noexcept;
    // The time at which a datagram of `size` leaves a capped queue, or -1 on tail drop.
    [[nodiscard]] static int64_t serialize(int64_t ready_ns, uint64_t size,
                                           uint64_t bytes_per_second, uint64_t queue_bytes_max,
                                           int64_t& free_at_ns) noexcept;
    [[nodiscard]] duration draw_delay(const link_model& link) noexcept;
    void corrupt(std::vector<uint8_t>& bytes, uint32_t bits_max) noexcept;
    [[nodiscard]] uint32_t alloc_packet();
    void free_packet(uint32_t slot) noexcept;

    void run_deliver(const event& e);
    void run_timer(const event& e);
    void run_start(const event& e);
    void run_action(const event& e);
    void start_process(uint32_t index, const std::optional<bytes_view>& persisted);

    [[nodiscard]] int64_t to_local_ns(const node_state& n, int64_t global_ns) const noexcept;
    // The earliest global time at which node n's local clock reads local_ns (>= now).
    [[nodiscard]] int64_t to_global_ns(const node_state& n, int64_t local_ns) const noexcept;
    [[nodiscard]] context make_context(uint32_t index) noexcept;

    // context's operations
    [[nodiscard]] result<timer_id> arm(uint32_t index, instant deadline, uint64_t cookie) noexcept;
    bool cancel(uint32_t index, timer_id id) noexcept;

    // --- request/response messages (discovery block) -----------------------------------------
    struct message_slot {
        std::vector<uint8_t> bytes;
        uint32_t from = 0;
    };
    void transmit_message(uint32_t from, const endpoint& to, bytes_view message);
    void run_message(const event& e);
    std::vector<message_slot> m_messages;
    std::vector<uint32_t> m_free_messages;
    std::unordered_map<uint64_t, int64_t> m_channel_last_ns; // only looked up, never iterated
    uint64_t m_messages_sent = 0;
    uint64_t m_message_bytes_sent = 0;
    // --- end of request/response messages -------------------------------------------------

    world_config m_config;
    node_factory m_factory;
    rng m_random;
    instant m_now;
    trace_hasher m_hash;
    world_stats m_stats;
    trace_observer* m_observer = nullptr;
    uint64_t m_sequence = 0;
    bool m_in_handler = false;

    std::vector<node_state> m_nodes;
    std::vector<event> m_queue; // a binary heap under event_later
    link_model m_default_link;
    std::unordered_map<uint64_t, link_model> m_links; // only looked up, never iterated
    // Serializer state of capped links that use the default profile (per directed pair).
    std::unordered_map<uint64_t, int64_t> m_default_busy;

    std::vector<packet> m_packets;
    std::vector<uint32_t> m_free_packets;
    size_t m_packets_in_flight = 0;
    std::vector<timer_slot> m_timers;
    std::vector<uint32_t> m_free_timers;
    std::vector<std::function<void(world&)>> m_actions;
    std::vector<uint32_t> m_free_actions;
    std::vector<partition_rule> m_partitions;
    uint32_t m_next_partition = 1;
    std::vector<uint8_t> m_send_buffer;

    // --- pause/resume (membership scenarios, issue 5) ------------------------------- begin ---
public:
    // A stalled process (a GC pause, SIGSTOP, a starved VM): while node i is paused its
    // datagram arrivals, timers and start are held, in order, and run when resume() is called,
    // all at the resume time (the node's clock kept running). Pausing a paused node, or
    // resuming a running one, does nothing. A crash of a paused node keeps it paused: what was
    // held is replayed at resume and then meets the crash (dropped as node_down, stale timers).
    void pause(node_index i);
    void resume(node_index i);
    [[nodiscard]] bool is_paused(node_index i) const noexcept;

private:
    // True (and the event held) if e belongs to a paused node.
    bool hold_if_paused(const event& e);
    std::unordered_map<uint32_t, std::vector<event>> m_held; // looked up only, never iterated
    // --- pause/resume ------------------------------------------------------------------ end ---
};

} // namespace ainet::sim
