#include <ainet/sim/node.hpp>
#include <ainet/sim/trace.hpp>

namespace ainet::sim {

std::string_view to_string(event_kind k) noexcept {
    switch (k) {
    case event_kind::sent:
        return "sent";
    case event_kind::delivered:
        return "delivered";
    case event_kind::dropped:
        return "dropped";
    case event_kind::timer_fired:
        return "timer_fired";
    case event_kind::started:
        return "started";
    case event_kind::crashed:
        return "crashed";
    case event_kind::action:
        return "action";
    }
    return "unknown";
}

std::string_view to_string(drop_reason r) noexcept {
    switch (r) {
    case drop_reason::none:
        return "none";
    case drop_reason::loss:
        return "loss";
    case drop_reason::partition:
        return "partition";
    case drop_reason::node_down:
        return "node_down";
    case drop_reason::no_route:
        return "no_route";
    case drop_reason::queue_full:
        return "queue_full";
    case drop_reason::in_flight_limit:
        return "in_flight_limit";
    case drop_reason::oversize:
        return "oversize";
    }
    return "unknown";
}

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::timer_limit:
        return "timer_limit";
    }
    return "unknown";
}

void trace_hasher::add(const trace_event& e) noexcept {
    add_u64(uint64_t{static_cast<uint8_t>(e.kind)} | uint64_t{static_cast<uint8_t>(e.reason)} << 8 |
            uint64_t{e.duplicate} << 16 | uint64_t{e.corrupted} << 17 |
            uint64_t{to_index(e.from)} << 32);
    add_u64(static_cast<uint64_t>(e.at.ns_since_origin));
    add_u64(uint64_t{to_index(e.to)} | uint64_t{e.payload.size()} << 32);
    add_u64(e.cookie);
    add_bytes(e.payload);
}

} // namespace ainet::sim
