#pragma once
// Thread-per-core shards and the lock-free mesh between them.
//
// A shard_group starts one shard per configured core. Each shard is a thread (pinned to its core
// when asked) that owns, and shares with no one: its UDP socket (SO_REUSEPORT on the common
// port, so the kernel spreads flows by 4-tuple hash), its io backend (io_uring, or epoll where
// io_uring is refused), its send queue, its counters, and its shard_app (the protocol state
// for the flows the kernel sends it). The loop of every shard:
//
//     poll io (one io_uring_enter: submit last turn's sends + wait) -> app.on_datagrams
//     -> drain cross-shard queues (app.on_message) -> fire due timers (app.on_timer)
//     -> app.on_tick(now) -> flush sends
//
// Each shard owns a timer wheel (timer/timer_wheel.hpp); the loop sleeps no longer than its
// next deadline.
//
// Cross-shard messages travel on moodycamel queues, one per ordered pair (shard or control
// thread -> shard), bounded (limits.cross_shard_queue_size_max), drained in batches each loop
// turn; a full queue refuses and counts (cross_shard_queue_full). Nothing on the data path
// takes a lock. Messages are small trivially-copyable values (or carry a pointer whose
// ownership passes with the message). The control thread (HTTP, config) is index shard_count
// in the mesh and posts with post_from_control().
//
// Lifecycle: construct -> start() (threads run; every app is built and has had on_start when
// start() returns) -> stop() (each shard finishes its turn, calls
// on_stop, closes ring and socket) -> destroy. stop() is idempotent; the destructor stops.

#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>
#include <ainet/runtime/counters.hpp>
#include <ainet/runtime/errc.hpp>
#include <ainet/runtime/fault_injector.hpp> // faults
#include <ainet/runtime/io_backend.hpp>
#include <ainet/runtime/tx_queue.hpp>
#include <ainet/runtime/udp_socket.hpp>
#include <ainet/timer/timer_wheel.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace ainet::runtime {

// A message between shards (or from the control thread). kind is the app's to define, below
// shard_message_kind_reserved (the runtime's own kinds sit above it).
inline constexpr uint32_t shard_message_kind_reserved = 0xffff0000u;
struct shard_message {
    uint32_t kind = 0;
    uint16_t from = 0; // sender's mesh index (shard index, or shard_count for control)
    uint16_t size = 0; // bytes of body used
    std::array<uint8_t, 112> body{};
};
static_assert(std::is_trivially_copyable_v<shard_message>);
static_assert(sizeof(shard_message) == 120);

class shard;

// What a shard hands its app on every call: the shard's clock reading for this loop turn, its
// send queue, its counters and a way to reach the other shards. Only valid during the call.
struct shard_context {
    shard_id id;
    uint16_t shard_count;
    instant now;
    unix_ms wall_now; // CLOCK_REALTIME read in the same loop turn as now
    tx_queue& tx;
    timer::timer_wheel& timers;
    shard_counters& counters;
    shard& owner;

    // Posts msg to shard `to` (any shard, including itself). False (counted) if that queue is full.
    bool post(shard_id to, const shard_message& msg) noexcept;

    // Hands a received datagram to shard `to`, which owns the state it belongs to (e.g. a
    // session pinned by peer-id hash): the bytes are copied into one of this shard's handoff
    // buffers, `to` sees them in app.on_handoff(), and the buffer comes back to this shard by
    // message once that call returns. No lock, no allocation. False (counted) when this
    // shard's handoff buffers are all out or the queue is full.
    bool hand_over(shard_id to, const datagram_ref& datagram) noexcept;
};

// The protocol side of a shard. One instance per shard, created by the factory on that shard's
// thread, so its memory is local to that core. Never shared between shards.
class shard_app {
public:
    virtual ~shard_app() = default;
    virtual void on_start(shard_context&) {}
    virtual void on_datagrams(shard_context& ctx, std::span<const rx_datagram> batch) noexcept = 0;
    virtual void on_message(shard_context&, const shard_message&) noexcept {}
    // A datagram another shard handed over (shard_context::hand_over); borrowed for the call.
    virtual void on_handoff(shard_context&, const datagram_ref&) noexcept {}
    // A timer armed in ctx.timers fired; cookie is what was armed with it.
    virtual void on_timer(shard_context&, timer::timer_id, uint64_t /*cookie*/) noexcept {}
    // Once per loop turn, after receives and messages. Returns the longest the shard may sleep
    // before calling again (its next timer), or duration::max() for "until something arrives".
    virtual duration on_tick(shard_context&) noexcept { return duration::max(); }
    virtual void on_stop(shard_context&) {}
};

struct shard_group_config {
    uint16_t shard_count = 1;
    endpoint listen;                 // port 0: the kernel picks one, shared by every shard
    backend_choice backend = backend_choice::automatic;
    backend_config io;
    socket_options socket;
    uint32_t tx_slot_count = 16384;
    uint32_t cross_shard_queue_size = 8192;
    uint32_t timer_capacity = 65536;
    // Datagrams a shard may have handed to other shards and not yet got back.
    uint32_t handoff_buffer_count = 1024;
    duration timer_tick = std::chrono::milliseconds(1);
    bool pin_threads = false;        // pin shard i to the i-th allowed CPU
    duration idle_sleep_max = std::chrono::milliseconds(100);
    // faults: applied by every shard from its start (fault_injector.hpp); inactive by default.
    config::fault_config faults;
};

class shard_group {
public:
    using app_factory = std::function<std::unique_ptr<shard_app>(shard_id)>;

    shard_group(shard_group_config config, app_factory factory);
    ~shard_group();
    shard_group(const shard_group&) = delete;
    shard_group& operator=(const shard_group&) = delete;

    // Opens every socket (on the calling thread, so bind errors surface here), then starts the
    // threads and waits until each has set up its backend. Fails if any of that fails.
    [[nodiscard]] result<void> start();
    void stop() noexcept;

    [[nodiscard]] uint16_t shard_count() const noexcept { return m_config.shard_count; }
    [[nodiscard]] endpoint local_endpoint() const noexcept { return m_local; }
    [[nodiscard]] backend_kind backend() const noexcept { return m_backend; }
    // Why io_uring was not used, if it was not.
    [[nodiscard]] const std::string& fallback_reason() const noexcept { return m_fallback_reason; }
    [[nodiscard]] const shard_counters& counters(shard_id id) const noexcept;
    // CPU time (user + system) the shard's thread has used so far, for benchmarks.
    [[nodiscard]] duration thread_cpu_time(shard_id id) const noexcept;

    // Control side (any thread: HTTP handlers, discovery; serialized by a mutex, never used by
    // shards): posts to shard `to`. False (counted on that shard) if the queue is full.
    bool post_from_control(shard_id to, const shard_message& msg) noexcept;

    // faults: control side, after start(): posts settings to every shard (each applies them
    // on its own thread at its next loop turn). False when a shard's queue was full; the
    // shards that got them apply them, so the caller should retry (or report 503).
    bool set_faults(const config::fault_config& settings);
    // The settings last posted to every shard (or the config's).
    [[nodiscard]] config::fault_config faults() const;
    [[nodiscard]] const fault_counters& fault_counters_of(shard_id id) const noexcept;

private:
    friend class shard;
    friend struct shard_context;
    shard_group_config m_config;
    app_factory m_factory;
    std::vector<std::unique_ptr<shard>> m_shards;
    endpoint m_local;
    backend_kind m_backend = backend_kind::epoll;
    std::string m_fallback_reason;
    bool m_started = false;
    std::mutex m_control_post_mutex;
    mutable std::mutex m_faults_mutex; // faults: guards m_config.faults after start()
};

} // namespace ainet::runtime
