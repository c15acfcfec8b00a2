#pragma once
// shard_service: how a protocol area (membership, registry sync, reliable messaging) runs inside
// a node's shards next to the relay.
//
// Every shard of a relay_node runs one relay_app. The app reads the type byte of each received
// datagram (wire/header.hpp) and hands the datagrams whose type falls in a registered service's
// range to that service's instance on this shard; everything else goes to the relay core, as
// before. Services therefore add no cost to the relay path beyond one table lookup per datagram,
// and none at all when no service is registered.
//
// One instance per shard, built on that shard's thread by the registration's factory, so
// services follow the runtime's share-nothing rule: state a service keeps on one shard (e.g.
// the membership table, which lives on shard 0, or reliable sessions pinned by peer-id hash)
// is reached from the other shards by shard_context::hand_over (datagrams) and post (messages),
// never by locks.
//
// Timers and shard messages are shared resources of the shard, so each service gets a
// service_slot that tags them: arm timers with slot.cookie(c) and post messages with
// slot.kind(k); the app routes a fired timer or an arriving message back to the service that
// tagged it, with the service's own c or k. Untagged cookies and kinds belong to the relay.
//
// Lifecycle: registrations are made before relay_node::start(); instances live from their
// shard's start to its stop; on a graceful stop, on_drain() runs until it returns true (or the
// drain deadline passes) before on_stop(). All handlers run on the shard's thread and must not
// block.

#include <ainet/core/datagram.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>
#include <ainet/runtime/shard.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace ainet::node {

// Services are numbered 1..service_count_max in registration order; 0 is the relay.
inline constexpr uint32_t service_count_max = 15;

class service_slot {
public:
    constexpr explicit service_slot(uint32_t number) noexcept : m_number(number) {}
    [[nodiscard]] constexpr uint32_t number() const noexcept { return m_number; }

    // Timer cookies: the top byte names the service, the low 56 bits are the service's.
    [[nodiscard]] constexpr uint64_t cookie(uint64_t own) const noexcept {
        return (uint64_t{m_number} << 56) | (own & cookie_mask);
    }
    // Shard message kinds: bits 20..23 name the service, the low 20 bits are the service's.
    [[nodiscard]] constexpr uint32_t kind(uint32_t own) const noexcept {
        return (m_number << 20) | (own & kind_mask);
    }

    static constexpr uint64_t cookie_mask = (uint64_t{1} << 56) - 1;
    static constexpr uint32_t kind_mask = (uint32_t{1} << 20) - 1;
    [[nodiscard]] static constexpr uint32_t service_of_cookie(uint64_t cookie) noexcept {
        return static_cast<uint32_t>(cookie >> 56);
    }
    [[nodiscard]] static constexpr uint32_t service_of_kind(uint32_t kind) noexcept {
        return kind < runtime::shard_message_kind_reserved ? (kind >> 20) & 0xf : 0;
    }

private:
    uint32_t m_number;
};

class shard_service {
public:
    virtual ~shard_service() = default;
    virtual void on_start(runtime::shard_context&) {}
    // A datagram of this service's type range: the header is NOT validated yet (the service's
    // decoder does that, and counts what it drops). Borrowed for the call.
    virtual void on_datagram(runtime::shard_context& ctx, const datagram_ref& datagram) noexcept = 0;
    // A datagram of this service's range that another shard handed over to this one.
    virtual void on_handoff(runtime::shard_context& ctx, const datagram_ref& datagram) noexcept {
        on_datagram(ctx, datagram);
    }
    // own_kind / own_cookie: what the service passed to slot.kind() / slot.cookie().
    virtual void on_message(runtime::shard_context&, uint32_t /*own_kind*/,
                            const runtime::shard_message&) noexcept {}
    virtual void on_timer(runtime::shard_context&, uint64_t /*own_cookie*/) noexcept {}
    // Once per loop turn; returns the longest the shard may sleep before calling again.
    virtual duration on_tick(runtime::shard_context&) noexcept { return duration::max(); }
    // The drain hook (relay_node::drain_and_stop, ainetd's SIGTERM): called every loop turn
    // while the node drains, until it returns true = "nothing of mine is left to send". A
    // service with an outbox (reliable messaging's unacknowledged sends, a pending sync reply)
    // flushes it here into ctx.tx; the node stops when every service on every shard has said
    // true and the send queues are empty, or at the drain deadline, whichever comes first.
    virtual bool on_drain(runtime::shard_context&) noexcept { return true; }
    virtual void on_stop(runtime::shard_context&) {}
};

struct shard_service_registration {
    std::string name;
    // The datagram types (wire::message_type codes) this service receives, inclusive.
    uint8_t type_first = 0;
    uint8_t type_last = 0;
    std::function<std::unique_ptr<shard_service>(shard_id shard, uint16_t shard_count,
                                                 service_slot slot)>
        make;
};

} // namespace ainet::node
