#include <ainet/membership/state.hpp>

#include <ainet/core/assert.hpp>

#include <algorithm>

namespace ainet::membership {

namespace {

constexpr std::array<uint8_t, 4> state_magic{'A', 'M', 'S', 1};

} // namespace

std::array<uint8_t, persisted_state_size> encode_state(const persisted_state& s) noexcept {
    std::array<uint8_t, persisted_state_size> out{};
    byte_writer w(out);
    w.bytes(bytes_view(state_magic));
    w.u64(s.incarnation_floor);
    AINET_ASSERT(w.ok() && w.position() == persisted_state_size);
    return out;
}

wire::result<persisted_state> decode_state(bytes_view blob) noexcept {
    if (blob.size() < persisted_state_size)
        return fail(wire::errc::truncated);
    if (blob.size() > persisted_state_size)
        return fail(wire::errc::trailing_bytes);
    if (!std::equal(state_magic.begin(), state_magic.begin() + 3, blob.begin()))
        return fail(wire::errc::bad_magic);
    if (blob[3] != state_magic[3])
        return fail(wire::errc::unsupported_version);
    byte_reader r(blob.subspan(4));
    auto floor = r.u64();
    if (!floor)
        return fail(wire::errc::truncated);
    return persisted_state{*floor};
}

uint64_t restart_incarnation(const persisted_state* persisted, uint64_t wall_ms) noexcept {
    return std::max(persisted != nullptr ? persisted->incarnation_floor : 0, wall_ms);
}

} // namespace ainet::membership
