#include <ainet/crypto/mac.hpp>
#include <ainet/registry/entry.hpp>

#include <cstring>

namespace ainet::registry {
namespace {

// Fixed, public BLAKE2b keys: one per purpose, so a key hash can never equal a leaf digest
// input by construction. Keys, not secrets: anyone can recompute every digest.
crypto::mac_key purpose_key(std::string_view purpose) noexcept {
    crypto::mac_key k{};
    std::memcpy(k.data(), purpose.data(), std::min(purpose.size(), k.size()));
    return k;
}
const crypto::mac_key key_hash_key = purpose_key("ainet/v1/registry-key-hash");
const crypto::mac_key leaf_key = purpose_key("ainet/v1/registry-leaf");
const crypto::mac_key fold_key = purpose_key("ainet/v1/registry-leaf-fold");

errc from_core(ainet::errc e) noexcept {
    switch (e) {
    case ainet::errc::varint_overlong:
    case ainet::errc::varint_noncanonical:
        return errc::bad_varint;
    case ainet::errc::trailing_bytes:
        return errc::trailing_bytes;
    default:
        return errc::truncated;
    }
}

size_t payload_size(const entry& e) noexcept {
    return crypto::public_key_size + 8 + 1 + varint_size(e.name.size()) + e.name.size() +
           varint_size(e.value.size()) + e.value.size();
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
    case errc::name_size:
        return "name empty or too long";
    case errc::value_size:
        return "value too long";
    case errc::oversized:
        return "entry too large";
    case errc::bad_flags:
        return "undefined flag bits";
    case errc::tombstone_value:
        return "tombstone with a value";
    case errc::bad_signature:
        return "bad signature";
    case errc::too_far_in_future:
        return "timestamp too far in the future";
    case errc::not_newer:
        return "not newer than the stored entry";
    case errc::store_full:
        return "registry full";
    case errc::hlc_overflow:
        return "clock overflow";
    }
    return "unknown";
}

result<void> check_limits(const entry& e) noexcept {
    if (e.name.empty() || e.name.size() > name_size_max)
        return fail(errc::name_size);
    if (e.value.size() > value_size_max)
        return fail(errc::value_size);
    if ((e.flags & ~flags_defined_mask) != 0)
        return fail(errc::bad_flags);
    if (e.tombstone() && !e.value.empty())
        return fail(errc::tombstone_value);
    return {};
}

std::vector<uint8_t> encode_payload(const entry& e) {
    AINET_ASSERT(check_limits(e).has_value());
    std::vector<uint8_t> out(payload_size(e));
    byte_writer w(out);
    w.bytes(bytes_view(e.public_key));
    w.u64(e.hlc);
    w.u8(e.flags);
    w.length_prefixed(std::string_view(e.name));
    w.length_prefixed(std::string_view(e.value));
    AINET_ASSERT(w.ok() && w.position() == out.size());
    return out;
}

std::vector<uint8_t> encode(const entry& e) {
    std::vector<uint8_t> out = encode_payload(e);
    out.insert(out.end(), e.signature.begin(), e.signature.end());
    AINET_ASSERT(out.size() <= entry_wire_size_max);
    return out;
}

result<entry> decode(bytes_view wire) {
    if (wire.size() > entry_wire_size_max)
        return fail(errc::oversized);
    byte_reader r(wire);
    entry e;
    auto key = r.fixed<crypto::public_key_size>();
    if (!key)
        return fail(from_core(key.error()));
    e.public_key = *key;
    auto hlc = r.u64();
    if (!hlc)
        return fail(from_core(hlc.error()));
    e.hlc = *hlc;
    auto flags = r.u8();
    if (!flags)
        return fail(from_core(flags.error()));
    e.flags = *flags;
    auto name = r.length_prefixed(name_size_max);
    if (!name)
        return fail(name.error() == ainet::errc::length_exceeds_limit ? errc::name_size
                                                                        : from_core(name.error()));
    e.name.assign(name->begin(), name->end());
    auto value = r.length_prefixed(value_size_max);
    if (!value)
        return fail(value.error() == ainet::errc::length_exceeds_limit ? errc::value_size
                                                                         : from_core(value.error()));
    e.value.assign(value->begin(), value->end());
    auto sig = r.fixed<crypto::signature_size>();
    if (!sig)
        return fail(from_core(sig.error()));
    e.signature = *sig;
    if (!r.at_end())
        return fail(errc::trailing_bytes);
    if (auto limits = check_limits(e); !limits)
        return fail(limits.error());
    return e;
}

entry make_entry(const crypto::key_pair& keys, std::string name, std::string value, uint64_t hlc,
                 uint8_t flags) {
    entry e;
    e.public_key = keys.public_key_bytes();
    e.name = std::move(name);
    e.value = std::move(value);
    e.hlc = hlc;
    e.flags = flags;
    e.signature = keys.sign(crypto::sig_domain::registry_entry, encode_payload(e));
    return e;
}

bool verify(const entry& e) {
    if (!check_limits(e))
        return false;
    return crypto::verify(e.public_key, crypto::sig_domain::registry_entry, encode_payload(e),
                          e.signature);
}

uint64_t key_hash(const crypto::public_key& key, std::string_view name) noexcept {
    std::array<uint8_t, crypto::public_key_size + name_size_max> buffer{};
    const size_t name_size = std::min(name.size(), name_size_max);
    std::memcpy(buffer.data(), key.data(), key.size());
    std::memcpy(buffer.data() + key.size(), name.data(), name_size);
    const auto tag = crypto::mac(key_hash_key, bytes_view(buffer.data(), key.size() + name_size));
    uint64_t h = 0;
    for (int i = 7; i >= 0; --i)
        h = (h << 8) | tag[static_cast<size_t>(i)];
    return h;
}

merkle::digest entry_digest(bytes_view wire) noexcept {
    const auto tag = crypto::mac(leaf_key, wire);
    merkle::digest d;
    std::memcpy(d.bytes.data(), tag.data(), d.bytes.size());
    return d;
}

merkle::digest fold_digests(std::span<const merkle::digest> digests) noexcept {
    const auto tag = crypto::mac(
        fold_key, bytes_view(reinterpret_cast<const uint8_t*>(digests.data()),
                             digests.size() * sizeof(merkle::digest)));
    merkle::digest d;
    std::memcpy(d.bytes.data(), tag.data(), d.bytes.size());
    return d;
}

} // namespace ainet::registry
