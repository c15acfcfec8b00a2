#include <ainet/membership/state.hpp>

#include <ainet/core/assert.hpp>

#include <algorithm>

namespace ainet::membership {

namespace {

constexpr std::array<uint8_t, 4> state_magic{'A', 'M', 'S', 1};
constexpr std::array<uint8_t, 4> members_magic{'A', 'M', 'M', 1};

wire::result<void> check_magic(bytes_view blob, const std::array<uint8_t, 4>& magic) noexcept {
    if (blob.size() < magic.size())
        return fail(wire::errc::truncated);
    if (!std::equal(magic.begin(), magic.begin() + 3, blob.begin()))
        return fail(wire::errc::bad_magic);
    if (blob[3] != magic[3])
        return fail(wire::errc::unsupported_version);
    return {};
}

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
    if (blob.size() > persisted_state_size)
        return fail(wire::errc::trailing_bytes);
    AINET_TRY_VOID(check_magic(blob, state_magic));
    byte_reader r(blob.subspan(4));
    auto floor = r.u64();
    if (!floor)
        return fail(wire::errc::truncated);
    return persisted_state{*floor};
}

uint64_t restart_incarnation(const persisted_state* persisted, uint64_t wall_ms) noexcept {
    return std::max(persisted != nullptr ? persisted->incarnation_floor : 0, wall_ms);
}

std::vector<uint8_t> encode_members(uint64_t written_at_ms, std::vector<claim> members) {
    std::erase_if(members, [](const claim& c) { return c.kind != claim_kind::alive; });
    std::sort(members.begin(), members.end(),
              [](const claim& a, const claim& b) { return a.subject < b.subject; });
    members.erase(
        std::unique(members.begin(), members.end(),
                    [](const claim& a, const claim& b) { return a.subject == b.subject; }),
        members.end());
    if (members.size() > members_snapshot_count_max)
        members.resize(members_snapshot_count_max);
    size_t size = 4 + 8 + 3;
    for (const claim& c : members)
        size += encoded_size(c);
    std::vector<uint8_t> out(size);
    byte_writer w(out);
    w.bytes(bytes_view(members_magic));
    w.u64(written_at_ms);
    w.varint(members.size());
    for (const claim& c : members)
        write_claim(w, c);
    AINET_ASSERT(w.ok());
    out.resize(w.position());
    return out;
}

wire::result<persisted_members> decode_members(bytes_view blob) {
    if (blob.size() > members_snapshot_size_max)
        return fail(wire::errc::field_too_long);
    AINET_TRY_VOID(check_magic(blob, members_magic));
    byte_reader r(blob.subspan(4));
    persisted_members out;
    const auto written = r.u64();
    if (!written)
        return fail(wire::errc::truncated);
    const auto count = r.varint();
    if (!count)
        return fail(count.error() == errc::truncated ? wire::errc::truncated
                                                     : wire::errc::non_canonical);
    if (*count > members_snapshot_count_max)
        return fail(wire::errc::field_too_long);
    out.written_at_ms = *written;
    out.members.reserve(static_cast<size_t>(*count));
    for (uint64_t i = 0; i < *count; ++i) {
        AINET_TRY(c, read_claim(r));
        if (c.kind != claim_kind::alive)
            return fail(wire::errc::bad_field);
        if (!out.members.empty() && !(out.members.back().subject < c.subject))
            return fail(wire::errc::bad_field); // unsorted or repeated
        out.members.push_back(c);
    }
    if (r.remaining() != 0)
        return fail(wire::errc::trailing_bytes);
    return out;
}

} // namespace ainet::membership
