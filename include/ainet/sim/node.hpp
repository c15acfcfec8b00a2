#pragma once
// sim::node: a simulated process, and sim::context: everything it may touch while it runs.
//
// A node is driven only through its on_* handlers, each given a context that carries the
// node's own skewed local time (`now`, `wall`), a datagram_sink whose datagrams leave from the
// node's endpoint, its timers and its own deterministic random stream. That is exactly the
// sans-I/O surface protocol cores take (STYLE.md principle 5), so a node is a thin adapter that
// feeds a core unchanged: (now, wall, datagram_ref) in, datagram_sink out.
//
// Lifecycle. The world builds a node from its node_factory (index, endpoint, and for a restart
// with state the blob the previous incarnation's persist() returned) and schedules on_start at
// the current virtual time. A crash calls persist() (what the process had on disk), then
// on_crash(), then destroys the object: its armed timers vanish and datagrams arriving while it
// is down are dropped. A restart builds a fresh object from the factory. Nodes must not keep
// the context beyond the handler call, nor pointers to datagram payloads.
//
// Threads: the simulator is single-threaded; handlers run one at a time, never re-entrantly.

#include <ainet/core/bytes.hpp>
#include <ainet/core/datagram.hpp>
#include <ainet/core/result.hpp>
#include <ainet/core/time.hpp>
#include <ainet/sim/address_plan.hpp>
#include <ainet/sim/rng.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace ainet::sim {

enum class errc : uint8_t {
    timer_limit = 1, // the node has world_config::timers_per_node_max timers armed
};
[[nodiscard]] std::string_view to_string(errc e) noexcept;
template <class T>
using result = ainet::result<T, errc>;

// Names one armed timer of one node: (generation << 32) | slot. Never 0.
enum class timer_id : uint64_t {};

class world;

class context final : public datagram_sink {
public:
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    // The node's local monotonic time (skewed) and wall clock.
    [[nodiscard]] instant now() const noexcept { return m_now; }
    [[nodiscard]] unix_ms wall() const noexcept;
    [[nodiscard]] node_index self() const noexcept { return m_self; }
    [[nodiscard]] endpoint address() const noexcept;
    [[nodiscard]] uint32_t incarnation() const noexcept;

    // Datagrams written here leave from address() at the current virtual time.
    [[nodiscard]] datagram_sink& out() noexcept { return *this; }
    [[nodiscard]] mutable_bytes prepare(const endpoint& destination) noexcept override;
    void commit(size_t size) noexcept override;
    void abandon() noexcept override;

    // Fires on_timer(ctx, cookie) once the node's local clock reaches deadline (immediately at
    // the next step if it already has). Fails with timer_limit.
    [[nodiscard]] result<timer_id> arm(instant deadline, uint64_t cookie) noexcept;
    [[nodiscard]] result<timer_id> arm_after(duration delay, uint64_t cookie) noexcept {
        return arm(m_now + delay, cookie);
    }
    // False if the id is not an armed timer of this node's current incarnation.
    bool cancel(timer_id id) noexcept;

    // The node's own random stream: seeded from (world seed, index, incarnation).
    [[nodiscard]] rng& random() noexcept;

    // --- request/response messages (the HTTP model; discovery, issue 5) ---------------------
    // Sends a whole message (at most world::message_size_max bytes; larger ones are dropped as
    // oversize) to the node at `to` (its address; the port is ignored, as a node's HTTP and
    // UDP addresses share its IP), delivered to its on_message(). See node::on_message.
    void send_message(const endpoint& to, bytes_view message);
    // --- end of request/response messages -------------------------------------------------

    // Who else exists (for demos that pick peers; real protocols learn peers from messages).
    [[nodiscard]] const address_plan& addresses() const noexcept;
    [[nodiscard]] uint32_t node_count() const noexcept;

private:
    friend class world;
    context(world& w, node_index self, instant local_now) noexcept
        : m_world(w), m_self(self), m_now(local_now) {}

    world& m_world;
    node_index m_self;
    instant m_now;
    endpoint m_pending_to;
    bool m_preparing = false;
};

class node {
public:
    virtual ~node() = default;

    virtual void on_start(context& ctx) = 0;
    // d.payload is borrowed for this call only.
    virtual void on_datagram(context& ctx, const datagram_ref& d) = 0;
    virtual void on_timer(context& ctx, uint64_t cookie) = 0;

    // The state a restart "with state" gets back (what this process had persisted to disk).
    // Called at crash time, before on_crash().
    [[nodiscard]] virtual std::vector<uint8_t> persist() const { return {}; }
    // The process dies: no context (it can send nothing); the object is destroyed next.
    virtual void on_crash() noexcept {}

    // --- request/response messages (the HTTP model; discovery, issue 5) ---------------------
    // A whole message sent with context::send_message() by the node at `from` (its address).
    // Messages model HTTP exchanges: reliable and ordered per (sender, receiver) pair, delayed
    // by the link's latency, never lost, duplicated or corrupted; a partition or a down
    // receiver drops them at delivery (the requester's own timeout then fires, as a hung TCP
    // connection would). message is borrowed for this call only.
    virtual void on_message(context& ctx, const endpoint& from, bytes_view message) {
        (void)ctx;
        (void)from;
        (void)message;
    }
    // --- end of request/response messages -------------------------------------------------
};

struct node_spec {
    node_index index;
    endpoint address;
    uint32_t incarnation = 0; // 0 at first start, +1 per restart
    // Set on a restart with state: the previous incarnation's persist() blob.
    std::optional<bytes_view> persisted;
};

// Builds the process for a node; called at add and at every restart. Must be deterministic.
using node_factory = std::function<std::unique_ptr<node>(const node_spec&)>;

} // namespace ainet::sim
