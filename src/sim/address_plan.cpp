#include <ainet/sim/address_plan.hpp>

#include <ainet/core/assert.hpp>

namespace ainet::sim {

endpoint address_plan::endpoint_of(node_index index) const noexcept {
    AINET_ASSERT(netgroup_count >= 1 && netgroup_count <= netgroup_count_max);
    AINET_ASSERT(to_index(index) < capacity());
    const uint32_t group = to_index(index) % netgroup_count;
    const uint32_t host = to_index(index) / netgroup_count + 1;
    return make_ipv4(first_octet, static_cast<uint8_t>(group), static_cast<uint8_t>(host >> 8),
                     static_cast<uint8_t>(host & 0xff), port);
}

std::optional<node_index> address_plan::index_of(const endpoint& e) const noexcept {
    if (e.family != address_family::ipv4 || e.port != port || e.address[0] != first_octet)
        return std::nullopt;
    const uint32_t group = e.address[1];
    const uint32_t host = (uint32_t{e.address[2]} << 8) | e.address[3];
    if (group >= netgroup_count || host == 0 || host > hosts_per_netgroup_max)
        return std::nullopt;
    return node_index{(host - 1) * netgroup_count + group};
}

} // namespace ainet::sim
