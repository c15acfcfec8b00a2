#include <ainet/sync/messages.hpp>

namespace ainet::sync {
namespace {

errc from_core(ainet::errc e) noexcept {
    switch (e) {
    case ainet::errc::varint_overlong:
    case ainet::errc::varint_noncanonical:
        return errc::bad_varint;
    case ainet::errc::trailing_bytes:
        return errc::trailing_bytes;
    case ainet::errc::length_exceeds_limit:
        return errc::bad_field;
    default:
        return errc::truncated;
    }
}

#define SYNC_READ(name, expr)                                                                      \
    auto name##_r = (expr);                                                                        \
    if (!name##_r)                                                                                 \
        return fail(from_core(name##_r.error()));                                                  \
    auto name = *name##_r

result<merkle::digest> read_digest(byte_reader& r) {
    SYNC_READ(bytes, r.fixed<merkle::digest_size>());
    merkle::digest d;
    d.bytes = bytes;
    return d;
}

result<std::optional<registry::version_vector>> read_vv(byte_reader& r) {
    SYNC_READ(present, r.u8());
    if (present > 1)
        return fail(errc::bad_field);
    if (present == 0)
        return std::optional<registry::version_vector>{};
    SYNC_READ(count, r.varint());
    if (count > vv_inline_max)
        return fail(errc::bad_field);
    registry::version_vector vv;
    uint64_t previous = 0;
    for (uint64_t i = 0; i < count; ++i) {
        SYNC_READ(origin, r.u64());
        SYNC_READ(counter, r.varint());
        if (i != 0 && origin <= previous)
            return fail(errc::bad_field);
        previous = origin;
        vv.emplace(registry::origin_id{origin}, counter);
    }
    return std::optional<registry::version_vector>{std::move(vv)};
}

void write_vv(byte_writer& w, const std::optional<registry::version_vector>& vv) {
    if (!vv || vv->size() > vv_inline_max) {
        w.u8(0);
        return;
    }
    w.u8(1);
    w.varint(vv->size());
    for (const auto& [origin, counter] : *vv) {
        w.u64(static_cast<uint64_t>(origin));
        w.varint(counter);
    }
}

void write_prefix(byte_writer& w, const prefix& p) {
    w.u64(p.session);
    w.u8(p.flight);
    w.u16(p.chunk_index);
    w.u16(p.chunk_count);
}

// Writes the header once the payload size is known.
size_t finish(wire::message_type type, byte_writer& w, mutable_bytes out) {
    const size_t size = w.finish().value();  // the builders size bodies to fit: a bug otherwise
    AINET_ASSERT(size <= sync_datagram_size_max);
    const auto payload_size = static_cast<uint16_t>(size - wire::header_size);
    AINET_ASSERT(wire::encode_header(wire::header{type, 0, payload_size}, out).has_value());
    return size;
}

byte_writer start(mutable_bytes out, const prefix& p) {
    AINET_ASSERT(out.size() >= sync_datagram_size_max);
    byte_writer w(out.first(sync_datagram_size_max));
    (void)w.reserve(wire::header_size);
    write_prefix(w, p);
    return w;
}

} // namespace

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::truncated:
        return "truncated";
    case errc::trailing_bytes:
        return "trailing bytes";
    case errc::bad_varint:
        return "bad varint";
    case errc::bad_type:
        return "not a sync message";
    case errc::bad_chunk:
        return "bad chunk index or count";
    case errc::bad_field:
        return "bad field";
    case errc::bad_merkle:
        return "bad merkle body";
    case errc::oversized:
        return "oversized";
    }
    return "unknown";
}

bool is_sync_type(wire::message_type type) noexcept {
    const auto code = static_cast<uint8_t>(type);
    return code >= 0x40 && code <= 0x46;
}

size_t vv_size(const registry::version_vector& vv) noexcept {
    if (vv.size() > vv_inline_max)
        return 1;
    size_t size = 1 + varint_size(vv.size());
    for (const auto& item : vv)
        size += 8 + varint_size(item.second);
    return size;
}

size_t entry_record_size(const registry::stored_entry& e, const registry::dot& d) noexcept {
    return 8 + varint_size(d.counter) + varint_size(e.wire.size()) + e.wire.size();
}

result<message> decode(bytes_view datagram, uint8_t leaf_depth) {
    if (datagram.size() > sync_datagram_size_max)
        return fail(errc::oversized);
    auto view = wire::decode_datagram(datagram);
    if (!view)
        return fail(errc::bad_type);
    if (!is_sync_type(view->head.type))
        return fail(errc::bad_type);
    message m;
    m.type = view->head.type;
    byte_reader r(view->payload);
    SYNC_READ(session, r.u64());
    SYNC_READ(flight, r.u8());
    SYNC_READ(chunk_index, r.u16());
    SYNC_READ(chunk_count, r.u16());
    if (chunk_count == 0 || chunk_count > flight_chunk_count_max || chunk_index >= chunk_count)
        return fail(errc::bad_chunk);
    m.head = prefix{session, flight, chunk_index, chunk_count};
    switch (m.type) {
    case wire::message_type::sync_begin: {
        SYNC_READ(fp, r.u8());
        if (!merkle::valid_fingerprint_size(fp))
            return fail(errc::bad_field);
        m.begin.fingerprint_size = fp;
        SYNC_READ(salt, r.u64());
        m.begin.salt = salt;
        AINET_TRY(root, read_digest(r));
        m.begin.root = root;
        SYNC_READ(count, r.varint());
        m.begin.entry_count = count;
        AINET_TRY(vv, read_vv(r));
        m.begin.vv = std::move(vv);
        break;
    }
    case wire::message_type::sync_reply: {
        SYNC_READ(mode, r.u8());
        if (mode > 2)
            return fail(errc::bad_field);
        m.reply.mode = static_cast<reply_mode>(mode);
        AINET_TRY(root, read_digest(r));
        m.reply.root = root;
        SYNC_READ(count, r.varint());
        m.reply.entry_count = count;
        AINET_TRY(vv, read_vv(r));
        m.reply.vv = std::move(vv);
        break;
    }
    case wire::message_type::sync_descend:
    case wire::message_type::sync_buckets:
    case wire::message_type::sync_wants: {
        m.merkle_body = r.rest();
        bool ok = false;
        if (m.type == wire::message_type::sync_descend)
            ok = merkle::decode_descend(m.merkle_body, leaf_depth).has_value();
        else if (m.type == wire::message_type::sync_buckets)
            ok = merkle::decode_buckets(m.merkle_body, leaf_depth).has_value();
        else
            ok = merkle::decode_wants(m.merkle_body).has_value();
        if (!ok)
            return fail(errc::bad_merkle);
        break;
    }
    case wire::message_type::sync_entries: {
        SYNC_READ(count, r.varint());
        if (count > sync_body_size_max / 10)
            return fail(errc::bad_field);
        for (uint64_t i = 0; i < count; ++i) {
            SYNC_READ(origin, r.u64());
            SYNC_READ(counter, r.varint());
            SYNC_READ(bytes, r.length_prefixed(registry::entry_wire_size_max));
            m.entries.push_back(wire_entry{registry::dot{registry::origin_id{origin}, counter}, bytes});
        }
        break;
    }
    case wire::message_type::sync_end: {
        SYNC_READ(status, r.u8());
        if (status > 2)
            return fail(errc::bad_field);
        m.end.status = static_cast<end_status>(status);
        AINET_TRY(root, read_digest(r));
        m.end.root = root;
        break;
    }
    default:
        return fail(errc::bad_type);
    }
    if (!r.at_end())
        return fail(errc::trailing_bytes);
    return m;
}

size_t encode_begin(const prefix& p, const begin_body& b, mutable_bytes out) {
    byte_writer w = start(out, p);
    w.u8(b.fingerprint_size);
    w.u64(b.salt);
    w.bytes(bytes_view(b.root.bytes));
    w.varint(b.entry_count);
    write_vv(w, b.vv);
    return finish(wire::message_type::sync_begin, w, out);
}

size_t encode_reply(const prefix& p, const reply_body& b, mutable_bytes out) {
    byte_writer w = start(out, p);
    w.u8(static_cast<uint8_t>(b.mode));
    w.bytes(bytes_view(b.root.bytes));
    w.varint(b.entry_count);
    write_vv(w, b.vv);
    return finish(wire::message_type::sync_reply, w, out);
}

size_t encode_merkle(wire::message_type type, const prefix& p, bytes_view body, mutable_bytes out) {
    byte_writer w = start(out, p);
    w.bytes(body);
    return finish(type, w, out);
}

size_t encode_entries(const prefix& p,
                      std::span<const std::pair<registry::entry_ptr, registry::dot>> e,
                      mutable_bytes out) {
    byte_writer w = start(out, p);
    w.varint(e.size());
    for (const auto& [ptr, d] : e) {
        w.u64(static_cast<uint64_t>(d.origin));
        w.varint(d.counter);
        w.length_prefixed(bytes_view(ptr->wire));
    }
    return finish(wire::message_type::sync_entries, w, out);
}

size_t encode_end(const prefix& p, const end_body& b, mutable_bytes out) {
    byte_writer w = start(out, p);
    w.u8(static_cast<uint8_t>(b.status));
    w.bytes(bytes_view(b.root.bytes));
    return finish(wire::message_type::sync_end, w, out);
}

} // namespace ainet::sync
