#pragma once
// sync messages: the anti-entropy datagrams (codes 0x40..0x46, docs/PROTOCOL.md "Registry and
// sync"). Every message is one datagram of at most sync_datagram_size_max (1,200) bytes: the
// 8-byte wire header, then a common prefix
//
//     u64 session | u8 flight | u16 chunk_index | u16 chunk_count
//
// then a type-specific body. A flight is what one side sends in one turn of a session
// (messages of several types); the receiver collects chunk_count chunks before acting on it.
// Bodies (little-endian, minimal varints):
//   begin   (0x40): u8 fingerprint_size, u64 salt, 16-byte root, varint entry_count, vv
//   reply   (0x41): u8 mode (0 equal, 1 delta, 2 merkle), 16-byte root, varint entry_count, vv
//   descend (0x42): a merkle descend message (merkle/reconcile.hpp)
//   buckets (0x43): a merkle buckets message
//   wants   (0x44): a merkle wants message
//   entries (0x45): varint count, count x (u64 origin, varint counter, varint size, entry wire)
//   end     (0x46): u8 status (0 check, 1 converged, 2 diverged), 16-byte root
//   vv = u8 present (0/1), [varint count, count x (u64 origin, varint counter), origins
//        strictly increasing] -- at most vv_inline_max origins (else present = 0).
// Decoders are pure, bounds-checked, never assert on input; they allocate the decoded vectors.

#include <ainet/core/bytes.hpp>
#include <ainet/core/result.hpp>
#include <ainet/merkle/reconcile.hpp>
#include <ainet/registry/replica.hpp>
#include <ainet/wire/header.hpp>

#include <optional>
#include <vector>

namespace ainet::sync {

enum class errc : uint8_t {
    truncated = 1,
    trailing_bytes,
    bad_varint,
    bad_type,       // not a sync message type
    bad_chunk,      // chunk_index >= chunk_count, or chunk_count above flight_chunk_count_max
    bad_field,      // a mode, status, fingerprint size, count or ordering outside its domain
    bad_merkle,     // the embedded merkle message did not decode
    oversized,      // above sync_datagram_size_max
};
[[nodiscard]] std::string_view to_string(errc e) noexcept;
template <class T>
using result = ainet::result<T, errc>;

inline constexpr size_t sync_datagram_size_max = 1200;
inline constexpr size_t common_prefix_size = 8 + 1 + 2 + 2;
inline constexpr size_t sync_body_size_max =
    sync_datagram_size_max - wire::header_size - common_prefix_size;
inline constexpr uint16_t flight_chunk_count_max = 1024;
inline constexpr size_t vv_inline_max = 64;
static_assert(registry::entry_wire_size_max + 8 + 10 + 3 + 3 <= sync_body_size_max,
              "one entry with its dot fits one entries message");

struct prefix {
    uint64_t session = 0;
    uint8_t flight = 0;
    uint16_t chunk_index = 0;
    uint16_t chunk_count = 1;
};

enum class reply_mode : uint8_t { equal = 0, delta = 1, merkle = 2 };
enum class end_status : uint8_t { check = 0, converged = 1, diverged = 2 };

struct begin_body {
    uint8_t fingerprint_size = 4;
    uint64_t salt = 0;
    merkle::digest root;
    uint64_t entry_count = 0;
    std::optional<registry::version_vector> vv;
};
struct reply_body {
    reply_mode mode = reply_mode::equal;
    merkle::digest root;
    uint64_t entry_count = 0;
    std::optional<registry::version_vector> vv;
};
struct wire_entry {
    registry::dot d;
    bytes_view wire;  // borrowed from the datagram
};
struct end_body {
    end_status status = end_status::check;
    merkle::digest root;
};

// A decoded sync datagram. merkle_body borrows the datagram (decode it with the merkle
// decoders against the local leaf_depth); entries borrow it too.
struct message {
    wire::message_type type{};
    prefix head;
    begin_body begin;
    reply_body reply;
    end_body end;
    std::vector<wire_entry> entries;
    bytes_view merkle_body;
};

[[nodiscard]] bool is_sync_type(wire::message_type type) noexcept;

// Decodes a whole datagram (wire header included). For descend/buckets/wants the merkle body
// is additionally decoded against leaf_depth to reject malformed ones here.
[[nodiscard]] result<message> decode(bytes_view datagram, uint8_t leaf_depth);

// Encoders write a whole datagram into out (>= sync_datagram_size_max bytes) and return its
// size. Preconditions: the body fits (the builders in session.cpp size chunks to fit).
[[nodiscard]] size_t encode_begin(const prefix& p, const begin_body& b, mutable_bytes out);
[[nodiscard]] size_t encode_reply(const prefix& p, const reply_body& b, mutable_bytes out);
[[nodiscard]] size_t encode_merkle(wire::message_type type, const prefix& p, bytes_view body,
                                   mutable_bytes out);
[[nodiscard]] size_t encode_entries(const prefix& p,
                                    std::span<const std::pair<registry::entry_ptr, registry::dot>> e,
                                    mutable_bytes out);
[[nodiscard]] size_t encode_end(const prefix& p, const end_body& b, mutable_bytes out);
// Bytes one entry takes in an entries body.
[[nodiscard]] size_t entry_record_size(const registry::stored_entry& e, const registry::dot& d) noexcept;
// Bytes a vv takes (0 if it would not be inlined).
[[nodiscard]] size_t vv_size(const registry::version_vector& vv) noexcept;

} // namespace ainet::sync
