#pragma once
// The simulator's event trace: every datagram sent, delivered or dropped, every timer fired and
// every start and crash is folded, in processing order, into a running 64-bit hash. Two
// runs with the same seed and scenario produce the same hash; a test compares them, and any
// divergence (an unordered iteration, a wall-clock read, an uninitialised byte) shows up as a
// different hash. An optional observer sees each event as it happens (tests count drops,
// inspect payloads). Owned by one world; no allocation.

#include <ainet/core/bytes.hpp>
#include <ainet/core/time.hpp>
#include <ainet/sim/address_plan.hpp>

#include <cstdint>
#include <string_view>

namespace ainet::sim {

enum class event_kind : uint8_t {
    sent = 1,    // a node handed a datagram to the network
    delivered,   // a datagram reached its destination's on_datagram
    dropped,     // a datagram was lost, see drop_reason
    timer_fired, // a node's timer called on_timer
    started,     // a node's on_start ran (first start or restart)
    crashed,     // a node crashed (its process object was destroyed)
    action,      // a scheduled world action ran
};

enum class drop_reason : uint8_t {
    none = 0,
    loss,            // the link's random loss
    partition,       // a partition blocks from -> to at delivery time
    node_down,       // the destination is crashed
    no_route,        // the destination address is no node of this world
    queue_full,      // a bandwidth-capped sender's queue is full (tail drop)
    in_flight_limit, // world_config::packets_in_flight_max reached
    oversize,        // larger than world_config::datagram_size_max
};
inline constexpr size_t drop_reason_count = 8;

[[nodiscard]] std::string_view to_string(event_kind k) noexcept;
[[nodiscard]] std::string_view to_string(drop_reason r) noexcept;

struct trace_event {
    event_kind kind;
    drop_reason reason = drop_reason::none;
    bool duplicate = false; // this copy was made by the duplication fault
    bool corrupted = false; // bits of this copy were flipped
    instant at;             // global virtual time
    node_index from{};      // sender, or the node for timer/start/crash events
    node_index to{};        // destination (datagrams)
    uint64_t cookie = 0;    // timer cookie, incarnation for start/crash
    bytes_view payload;     // datagram bytes (sent: as sent; delivered: as received)
};

class trace_observer {
public:
    virtual void on_event(const trace_event& e) noexcept = 0;

protected:
    ~trace_observer() = default;
};

// FNV-1a's xor-then-multiply step (Fowler, Noll, Vo; 64-bit prime) applied to 64-bit
// little-endian words rather than single bytes (8x fewer multiplies on the hot path), with a
// splitmix64 finalizer on read. Every step is a bijection of the running value, so one
// differing field always changes the result. Host byte order does not matter.
class trace_hasher {
public:
    static constexpr uint64_t offset_basis = 0xcbf29ce484222325ull;
    static constexpr uint64_t prime = 0x100000001b3ull;

    void add_u64(uint64_t v) noexcept { m_hash = (m_hash ^ v) * prime; }
    void add_bytes(bytes_view data) noexcept {
        size_t i = 0;
        for (; i + 8 <= data.size(); i += 8) {
            uint64_t word = 0;
            for (size_t b = 0; b < 8; ++b)
                word |= uint64_t{data[i + b]} << (8 * b);
            add_u64(word);
        }
        uint64_t tail = uint64_t{data.size() - i} << 56; // the tail length, so "" != "\0"
        for (size_t b = 0; i + b < data.size(); ++b)
            tail |= uint64_t{data[i + b]} << (8 * b);
        add_u64(tail);
    }
    void add(const trace_event& e) noexcept;
    [[nodiscard]] uint64_t value() const noexcept {
        uint64_t z = m_hash;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

private:
    uint64_t m_hash = offset_basis;
};

} // namespace ainet::sim
