#pragma once
// timer_wheel: one shard's timers, a hierarchical timing wheel over a fixed pool of nodes.
//
// What it is. Timers are (deadline, cookie) pairs; the cookie is a caller-chosen 64-bit value
// (an object index, a connection slot plus a timer kind, ...) handed back when the timer fires.
// Time is quantised into ticks of a configurable resolution (1 ms by default) counted from an
// origin instant. The wheel has level_count levels of 64 slots; level L slots are 64^L ticks
// wide, and 11 levels cover every 64-bit tick count, so there is no horizon and no overflow
// list. A timer lives in the slot of the highest 6-bit digit in which its deadline tick differs
// from the wheel's current tick (Varghese & Lauck, "Hashed and Hierarchical Timing Wheels",
// SOSP 1987, scheme 7, with absolute slot indices as in the Linux kernel's timer wheel), so
// slots never wrap around and a timer moves down at most level_count - 1 times before it fires.
// Each slot is an intrusive, circular, doubly-linked list with a sentinel, and each level has a
// 64-bit occupancy bitmap: arm and cancel are O(1), and advance() finds the next non-empty slot
// with one count-trailing-zeros per level, so a jump of any length (a process paused for
// minutes) costs O(slots that hold timers), never O(ticks elapsed).
//
// Semantics.
//  - Deadlines are rounded UP to the next tick boundary: a timer never fires early, and fires
//    at most one tick late relative to an advance() that is called on time (plus however late
//    the caller itself calls advance()).
//  - advance(now) fires every timer whose rounded deadline is <= now, in deadline order. Timers
//    with the same rounded deadline fire in the order they were armed.
//  - A deadline at or before the wheel's current time (the `now` of the last advance(), or the
//    origin) is "due": it fires at the very next advance(), whatever its `now`, before the
//    timers in the wheel, in arm order.
//  - Timers armed from inside an expiry callback never fire in the same advance(): if their
//    deadline is <= that advance's now they are due and fire at the next advance(). This bounds
//    the work of one advance() by the number of timers armed when it began, and makes a
//    periodic timer that re-arms itself from its callback fire once per advance(), not once
//    per elapsed period, after a long pause.
//  - A callback may arm and cancel any timer, including ones due in the same advance(); a
//    timer cancelled before its callback ran does not fire. The firing timer's own id is
//    already stale when its callback runs (cancel returns false). advance() must not be
//    called from inside a callback.
//
// Identity. timer_id packs a node index (24 bits) and that node's generation (40 bits). The
// generation advances every time the node is released (fired or cancelled), so a stale id
// never matches a reused node; a node whose generation would wrap is retired instead of being
// reused, so this holds for the life of the process. timer_id{0} is never issued.
//
// Threads and memory. A wheel belongs to one shard and is used from that shard's thread only
// (no locks, no atomics). The constructor allocates the node pool (32 bytes per timer plus
// ~23 KiB of slot sentinels); nothing else allocates, throws or blocks: arm on a full pool
// returns errc::pool_full. The sink given to advance() is a template parameter called
// directly, never stored (no std::function).
//
// Lifecycle: construct at shard start with limits::timer_count_max and the shard's start time;
// arm/cancel from protocol code with `now` passed in; each loop turn, wait at most until
// next_deadline() and then call advance(clock_now, sink).

#include <ainet/core/assert.hpp>
#include <ainet/core/limits.hpp>
#include <ainet/core/result.hpp>
#include <ainet/core/time.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace ainet::timer {

enum class errc : uint8_t {
    pool_full = 1, // every timer node is armed (capacity reached); nothing was armed
};
[[nodiscard]] std::string_view to_string(errc e) noexcept;
template <class T> using result = ainet::result<T, errc>;

// A handle to one armed timer: node index (low 24 bits) and generation (high 40 bits).
enum class timer_id : uint64_t {};

inline constexpr uint32_t timer_index_bits = 24;
// The largest pool a wheel can have: node indices must fit in timer_index_bits.
inline constexpr uint32_t timer_capacity_max = (uint32_t{1} << timer_index_bits) - 1;
static_assert(limits{}.timer_count_max <= timer_capacity_max,
              "the default timer_count_max must fit a timer_id's index");

class timer_wheel {
public:
    static constexpr uint32_t slot_bits = 6;
    static constexpr uint32_t slot_count = uint32_t{1} << slot_bits; // per level
    static constexpr uint32_t level_count = 11; // 11 * 6 = 66 >= 64 bits of tick count
    static constexpr duration tick_default = std::chrono::milliseconds(1);

    // capacity: timers armed at once, 1..timer_capacity_max. origin: the instant at tick 0; every
    // later advance() must pass a `now` at or after it. tick: the resolution, > 0. A bad
    // argument is a configuration bug and asserts.
    timer_wheel(uint32_t capacity, instant origin, duration tick = tick_default);
    // The shard's wheel, sized from limits.timer_count_max.
    timer_wheel(const limits& l, instant origin, duration tick = tick_default)
        : timer_wheel(l.timer_count_max, origin, tick) {}

    timer_wheel(const timer_wheel&) = delete;
    timer_wheel& operator=(const timer_wheel&) = delete;
    timer_wheel(timer_wheel&&) noexcept = default;
    timer_wheel& operator=(timer_wheel&&) noexcept = default;
    ~timer_wheel() = default;

    // Arms a timer that fires with `cookie` at the first advance() whose now is at or after
    // `deadline` rounded up to a tick (see the semantics above for deadlines already past).
    // O(1). Fails with pool_full, arming nothing, when size() == capacity().
    [[nodiscard]] result<timer_id> arm(instant deadline, uint64_t cookie) noexcept;

    // Disarms a timer. O(1). Returns false, changing nothing, if the id is stale (the timer
    // already fired or was cancelled, even if its node now holds another timer) or was never
    // issued by this wheel.
    bool cancel(timer_id id) noexcept;

    // Whether id names a timer that is armed and has not fired.
    [[nodiscard]] bool is_armed(timer_id id) const noexcept;

    // Fires, in deadline order, every timer due at `now` (see above), calling
    // on_expire(timer_id, uint64_t cookie) once for each; returns how many fired. now must not be
    // earlier than the previous advance's now (monotonic clocks only). on_expire must not
    // throw (data path). O(timers fired + occupied slots cascaded + level_count); O(1) when
    // the tick has not changed and nothing is due.
    template <class Sink> size_t advance(instant now, Sink&& on_expire) {
        begin_advance(now);
        size_t fired_count = 0;
        // Each pass fires one tick's timers; the loop ends when the wheel reaches now's tick.
        // Bounded: every pass consumes at least one occupied slot that existed when the advance
        // began, and timers armed meanwhile land beyond now's tick or in the due list.
        do {
            for (;;) {
                const uint32_t index = pop_firing();
                if (index == index_none)
                    break;
                const uint64_t cookie = m_nodes[index].cookie;
                const timer_id id = make_id(index, m_nodes[index].generation());
                release(index);
                ++fired_count;
                on_expire(id, cookie);
            }
        } while (collect_next_tick());
        end_advance();
        return fired_count;
    }

    // The earliest instant at which advance() may fire something: the wheel's current time if a
    // timer is already due; otherwise a tick boundary that is exact when the earliest timer is
    // within the current 64-tick block and otherwise a lower bound (the start of the
    // wheel block holding the earliest timer: advancing there moves timers down, and asking
    // again gives a later, tighter answer; at most level_count - 1 such early wake-ups per
    // timer). nullopt when no timer is armed. Never earlier than now(). O(level_count).
    [[nodiscard]] std::optional<instant> next_deadline() const noexcept;

    // Timers armed and not yet fired or cancelled.
    [[nodiscard]] uint32_t size() const noexcept { return m_size; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }
    [[nodiscard]] uint32_t capacity() const noexcept { return m_capacity; }
    // Nodes retired because their generation was exhausted (see Identity above); capacity()
    // minus this is what can still be armed at once. Practically always 0.
    [[nodiscard]] uint32_t retired_count() const noexcept { return m_retired_count; }
    // The wheel's current time: the now of the last advance(), or the origin.
    [[nodiscard]] instant now() const noexcept { return m_now; }
    [[nodiscard]] instant origin() const noexcept { return m_origin; }
    [[nodiscard]] duration tick() const noexcept { return m_tick; }

private:
    static constexpr uint32_t index_none = UINT32_MAX;
    static constexpr uint16_t list_free = UINT16_MAX;
    static constexpr uint32_t wheel_slot_count = level_count * slot_count;
    // Lists beyond the wheel's slots (no occupancy bit): due timers, and the tick being fired.
    static constexpr uint16_t list_due = wheel_slot_count;
    static constexpr uint16_t list_firing = wheel_slot_count + 1;
    static constexpr uint32_t list_count = wheel_slot_count + 2;
    static constexpr uint64_t generation_max = (uint64_t{1} << (64 - timer_index_bits)) - 1;

    // 32 bytes. Timer nodes are m_nodes[0, capacity); the list sentinels follow them.
    struct node {
        uint32_t next;
        uint32_t prev;
        uint64_t tick; // deadline, rounded up to ticks since origin (wheel lists only)
        uint64_t cookie;
        uint32_t generation_low;
        uint16_t list; // which list holds the node, or list_free
        uint8_t generation_high;
        uint8_t reserved;

        [[nodiscard]] uint64_t generation() const noexcept {
            return (uint64_t{generation_high} << 32) | generation_low;
        }
        void set_generation(uint64_t g) noexcept {
            generation_low = static_cast<uint32_t>(g);
            generation_high = static_cast<uint8_t>(g >> 32);
        }
    };
    static_assert(sizeof(node) == 32);

    [[nodiscard]] static timer_id make_id(uint32_t index, uint64_t generation) noexcept {
        return timer_id{(generation << timer_index_bits) | index};
    }
    [[nodiscard]] uint32_t sentinel(uint32_t list) const noexcept { return m_capacity + list; }
    [[nodiscard]] bool list_empty(uint32_t list) const noexcept {
        const uint32_t s = sentinel(list);
        return m_nodes[s].next == s;
    }
    // The node an id names if it is armed, else index_none.
    [[nodiscard]] uint32_t lookup(timer_id id) const noexcept;

    void link_back(uint32_t index, uint32_t list) noexcept;
    void unlink(uint32_t index) noexcept;
    // Moves every node of list `from` to the back of list `to`, O(1); nodes keep their old list
    // tag, so only lists without occupancy bits may be targets.
    void splice_back(uint32_t from, uint32_t to) noexcept;
    // Puts an armed node with tick > m_tick_now into its wheel slot.
    void place(uint32_t index) noexcept;
    // Returns a fired or cancelled node to the free list (or retires it).
    void release(uint32_t index) noexcept;

    void begin_advance(instant now) noexcept;
    void end_advance() noexcept;
    // Unlinks the front of the firing list, index_none when it is empty.
    [[nodiscard]] uint32_t pop_firing() noexcept;
    // Moves the wheel to the next tick <= m_tick_target that holds timers (cascading higher
    // slots on the way) and moves that tick's timers to the firing list. False, with the wheel
    // at m_tick_target, when none is left.
    [[nodiscard]] bool collect_next_tick() noexcept;
    // The next occupied slot ahead of m_tick_now: its level, and the tick at which it is
    // reached. False when the wheel is empty.
    [[nodiscard]] bool find_next_slot(uint32_t& level, uint64_t& slot_tick) const noexcept;
    [[nodiscard]] instant instant_of_tick(uint64_t tick) const noexcept;

    std::unique_ptr<node[]> m_nodes;
    std::array<uint64_t, level_count> m_occupied{}; // bit s of level L: slot s non-empty
    uint32_t m_capacity = 0;
    uint32_t m_size = 0;
    uint32_t m_retired_count = 0;
    uint32_t m_free_head = index_none; // LIFO free list through node::next (hot nodes stay hot)
    instant m_origin;
    duration m_tick;
    instant m_now;
    uint64_t m_tick_now = 0;    // every wheel timer has tick > m_tick_now
    uint64_t m_tick_target = 0; // during advance(): the tick of its now
    bool m_advancing = false;
};

} // namespace ainet::timer
