#include <ainet/membership/messages.hpp>

#include <ainet/wire/fields.hpp>

#include <cstring>

namespace ainet::membership {

namespace {

template <class T>
wire::result<T> lift(ainet::result<T, ainet::errc>&& r) noexcept {
    if (!r)
        return fail(wire::from_core(r.error()));
    return std::move(r).value();
}

wire::result<void> lift(ainet::result<void, ainet::errc>&& r) noexcept {
    if (!r)
        return fail(wire::from_core(r.error()));
    return {};
}

bool is_signed_kind(claim_kind k) noexcept {
    return k == claim_kind::alive || k == claim_kind::left;
}

bool is_valid_kind(uint8_t k) noexcept {
    return k >= 1 && k <= 4;
}

size_t updates_size(const std::vector<claim>& updates) noexcept {
    size_t size = 1;
    for (const claim& c : updates)
        size += encoded_size(c);
    return size;
}

wire::result<void> check_updates(const std::vector<claim>& updates) noexcept {
    if (updates.size() > update_count_max)
        return fail(wire::errc::field_too_long);
    for (const claim& c : updates) {
        if (!is_valid_kind(static_cast<uint8_t>(c.kind)))
            return fail(wire::errc::bad_field);
        if (is_signed_kind(c.kind))
            AINET_TRY_VOID(wire::check_endpoint(c.address));
    }
    return {};
}

void write_updates(byte_writer& w, const std::vector<claim>& updates) noexcept {
    w.u8(static_cast<uint8_t>(updates.size()));
    for (const claim& c : updates)
        write_claim(w, c);
}

wire::result<std::vector<claim>> read_updates(byte_reader& r) {
    AINET_TRY(count, lift(r.u8()));
    if (count > update_count_max)
        return fail(wire::errc::field_too_long);
    std::vector<claim> updates;
    updates.reserve(count);
    for (uint8_t i = 0; i < count; ++i) {
        AINET_TRY(c, read_claim(r));
        updates.push_back(c);
    }
    return updates;
}

size_t payload_size_of(const message& m) noexcept {
    return std::visit(
        [](const auto& x) -> size_t {
            using T = std::decay_t<decltype(x)>;
            const size_t updates = updates_size(x.updates);
            if constexpr (std::is_same_v<T, ping>)
                return 4 + node_id_size + updates;
            else if constexpr (std::is_same_v<T, ack> || std::is_same_v<T, nack>)
                return 4 + updates;
            else if constexpr (std::is_same_v<T, ping_req>)
                return 4 + node_id_size + wire::endpoint_encoded_size(x.target_address) + updates;
            else if constexpr (std::is_same_v<T, gossip>)
                return updates;
            else
                return 1 + varint_size(x.pad_size) + x.pad_size + updates;
        },
        m);
}

template <class T>
wire::result<message> finish(byte_reader& r, std::vector<claim>& updates, T&& m) {
    m.updates = std::move(updates);
    AINET_TRY_VOID(lift(r.expect_end()));
    return message{std::forward<T>(m)};
}

} // namespace

size_t encoded_size(const claim& c) noexcept {
    size_t size = 1 + node_id_size + varint_size(c.incarnation);
    if (is_signed_kind(c.kind))
        size += wire::endpoint_encoded_size(c.address) + crypto::signature_size;
    else
        size += node_id_size;
    return size;
}

void write_claim(byte_writer& w, const claim& c) noexcept {
    w.u8(static_cast<uint8_t>(c.kind));
    wire::write_node_id(w, c.subject);
    w.varint(c.incarnation);
    if (is_signed_kind(c.kind)) {
        wire::write_endpoint(w, c.address);
        w.bytes(bytes_view(c.signature));
    } else {
        wire::write_node_id(w, c.accuser);
    }
}

wire::result<claim> read_claim(byte_reader& r) {
    claim c;
    AINET_TRY(kind, lift(r.u8()));
    if (!is_valid_kind(kind))
        return fail(wire::errc::bad_field);
    c.kind = static_cast<claim_kind>(kind);
    AINET_TRY(subject, wire::read_node_id(r));
    c.subject = subject;
    AINET_TRY(incarnation, lift(r.varint()));
    c.incarnation = incarnation;
    if (is_signed_kind(c.kind)) {
        AINET_TRY(address, wire::read_endpoint(r));
        c.address = address;
        AINET_TRY(sig, lift(r.fixed<crypto::signature_size>()));
        c.signature = sig;
    } else {
        AINET_TRY(accuser, wire::read_node_id(r));
        c.accuser = accuser;
    }
    return c;
}

size_t claim_signed_payload(const claim& c,
                            std::span<uint8_t, signed_payload_size_max> out) noexcept {
    byte_writer w(out);
    w.u8(static_cast<uint8_t>(c.kind));
    wire::write_node_id(w, c.subject);
    w.u64(c.incarnation);
    wire::write_endpoint(w, c.address);
    AINET_ASSERT(w.ok());
    return w.position();
}

void sign_claim(claim& c, const crypto::key_pair& keys) {
    AINET_ASSERT(is_signed_kind(c.kind));
    AINET_ASSERT(keys.id() == c.subject);
    std::array<uint8_t, signed_payload_size_max> buffer{};
    const size_t size = claim_signed_payload(c, buffer);
    c.signature = keys.sign(crypto::sig_domain::membership_alive, bytes_view(buffer).first(size));
}

bool is_membership_type(wire::message_type type) noexcept {
    const auto code = static_cast<uint8_t>(type);
    return code >= 0x30 && code <= 0x35;
}

size_t encoded_size(const message& m) noexcept {
    return wire::header_size + payload_size_of(m);
}

wire::result<size_t> encode(const message& m, mutable_bytes out) noexcept {
    const bool ok_updates =
        std::visit([](const auto& x) { return x.updates.size() <= update_count_max; }, m);
    if (!ok_updates)
        return fail(wire::errc::field_too_long);
    AINET_TRY_VOID(std::visit([](const auto& x) { return check_updates(x.updates); }, m));
    if (const auto* req = std::get_if<ping_req>(&m))
        AINET_TRY_VOID(wire::check_endpoint(req->target_address));
    if (const auto* pp = std::get_if<push_pull>(&m)) {
        if ((pp->flags & ~push_pull::flag_reply_wanted) != 0 || pp->pad_size > pad_size_max)
            return fail(wire::errc::bad_field);
    }
    const size_t payload_size = payload_size_of(m);
    if (wire::header_size + payload_size > datagram_size_max)
        return fail(wire::errc::field_too_long);
    if (out.size() < wire::header_size + payload_size)
        return fail(wire::errc::buffer_full);
    const auto type = std::visit([](const auto& x) { return x.type; }, m);
    AINET_TRY_VOID(
        wire::encode_header(wire::header{type, 0, static_cast<uint16_t>(payload_size)}, out));
    byte_writer w(out.subspan(wire::header_size, payload_size));
    std::visit(
        [&w](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, ping>) {
                w.u32(x.seq);
                wire::write_node_id(w, x.target);
            } else if constexpr (std::is_same_v<T, ack> || std::is_same_v<T, nack>) {
                w.u32(x.seq);
            } else if constexpr (std::is_same_v<T, ping_req>) {
                w.u32(x.seq);
                wire::write_node_id(w, x.target);
                wire::write_endpoint(w, x.target_address);
            } else if constexpr (std::is_same_v<T, push_pull>) {
                w.u8(x.flags);
                w.varint(x.pad_size);
                mutable_bytes pad = w.reserve(x.pad_size);
                if (!pad.empty())
                    std::memset(pad.data(), 0, pad.size());
            }
            write_updates(w, x.updates);
        },
        m);
    AINET_ASSERT(w.ok() && w.remaining() == 0);
    return wire::header_size + payload_size;
}

wire::result<message> decode_payload(wire::message_type type, bytes_view payload) {
    if (wire::header_size + payload.size() > datagram_size_max)
        return fail(wire::errc::datagram_too_large);
    byte_reader r(payload);
    switch (type) {
    case wire::message_type::membership_ping: {
        ping m;
        AINET_TRY(seq, lift(r.u32()));
        m.seq = seq;
        AINET_TRY(target, wire::read_node_id(r));
        m.target = target;
        AINET_TRY(updates, read_updates(r));
        return finish(r, updates, std::move(m));
    }
    case wire::message_type::membership_ack:
    case wire::message_type::membership_nack: {
        AINET_TRY(seq, lift(r.u32()));
        AINET_TRY(updates, read_updates(r));
        if (type == wire::message_type::membership_ack)
            return finish(r, updates, ack{seq, {}});
        return finish(r, updates, nack{seq, {}});
    }
    case wire::message_type::membership_ping_req: {
        ping_req m;
        AINET_TRY(seq, lift(r.u32()));
        m.seq = seq;
        AINET_TRY(target, wire::read_node_id(r));
        m.target = target;
        AINET_TRY(address, wire::read_endpoint(r));
        m.target_address = address;
        AINET_TRY(updates, read_updates(r));
        return finish(r, updates, std::move(m));
    }
    case wire::message_type::membership_gossip: {
        AINET_TRY(updates, read_updates(r));
        return finish(r, updates, gossip{});
    }
    case wire::message_type::membership_push_pull: {
        push_pull m;
        AINET_TRY(flags, lift(r.u8()));
        if ((flags & ~push_pull::flag_reply_wanted) != 0)
            return fail(wire::errc::bad_field);
        m.flags = flags;
        AINET_TRY(pad_size, lift(r.varint()));
        if (pad_size > pad_size_max)
            return fail(wire::errc::field_too_long);
        m.pad_size = static_cast<uint32_t>(pad_size);
        AINET_TRY(pad, lift(r.bytes(m.pad_size)));
        for (uint8_t b : pad) {
            if (b != 0)
                return fail(wire::errc::bad_padding);
        }
        AINET_TRY(updates, read_updates(r));
        return finish(r, updates, std::move(m));
    }
    default:
        return fail(wire::errc::unknown_type);
    }
}

wire::result<message> decode(bytes_view datagram) {
    if (datagram.size() > datagram_size_max)
        return fail(wire::errc::datagram_too_large);
    AINET_TRY(view, wire::decode_datagram(datagram));
    if (!is_membership_type(view.head.type))
        return fail(wire::errc::unknown_type);
    return decode_payload(view.head.type, view.payload);
}

} // namespace ainet::membership
