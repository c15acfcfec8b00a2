#pragma once
// Anti-entropy building blocks over merkle::tree, sans-I/O: message codecs, the diff helper and
// a reference reconciliation driver (simulate_reconcile) that a sync protocol can follow.
//
// Two replicas compare node digests at the same positions and descend only into differing
// branches. To save bytes, messages carry salted, truncated fingerprints of node digests
// instead of the 16-byte digests: fp = first fingerprint_size bytes of XXH3-64(digest, seed =
// salt) (little-endian), or the digest itself when fingerprint_size is 16. The initiator picks
// a fresh random salt per session, so fingerprint collisions cannot be precomputed; with 4
// bytes an honest difference hides behind an equal fingerprint with probability 2^-32 per
// compared node, and the session then ends with the full root digests still unequal
// (reconcile_report::missed), which the caller answers with a new session (new salt). A
// deployment that wants no such retries uses 16-byte fingerprints (twice the bytes of 8).
//
// Messages (little-endian, varints minimal LEB128, positions strictly increasing and
// delta-coded: first absolute, then gap - 1):
//   descend  : u8 1, u8 parent_depth, u8 levels (1..2), u8 fingerprint_size, u64 salt,
//              [16-byte root digest iff parent_depth == 0], varint parent_count,
//              parent_count position gaps, then for each parent the fingerprints of its
//              16^levels descendants at depth parent_depth + levels, in prefix order.
//   buckets  : u8 2, u8 fingerprint_size, u64 salt, varint bucket_count, then per bucket:
//              position gap (depth leaf_depth), varint leaf_count, leaf_count x (u64 key_hash,
//              fingerprint of the leaf digest), key hashes increasing and inside the bucket.
//   wants    : u8 3, varint count, count x u64 key_hash (increasing).
//   request  : u8 4, u8 depth, varint count, position gaps (the naive descent's question).
// Decoders are pure, bounds-checked (byte_reader), never assert on input, and accept exactly
// one encoding per message. They allocate the decoded vectors (not a per-datagram path).

#include <ainet/merkle/tree.hpp>

#include <optional>
#include <vector>

namespace ainet::merkle {

inline constexpr uint8_t levels_per_message_max = 2;
// Parents in one descend message, buckets in one buckets message, keys in one wants message.
inline constexpr size_t message_item_count_max = 1u << 20;

enum class message_type : uint8_t { descend = 1, buckets = 2, wants = 3, request = 4 };

[[nodiscard]] bool valid_fingerprint_size(uint8_t size) noexcept;
// Writes the fingerprint of d (fingerprint_size bytes) to out.
void fingerprint(const digest& d, uint64_t salt, uint8_t fingerprint_size, uint8_t* out) noexcept;

struct descend_message {
    uint8_t parent_depth = 0;
    uint8_t levels = 1;
    uint8_t fingerprint_size = 8;
    uint64_t salt = 0;
    std::optional<digest> root;     // present iff parent_depth == 0
    std::vector<uint64_t> parents;  // prefixes at parent_depth, increasing
    std::vector<uint8_t> fingerprints;
};

struct bucket_list {
    uint64_t prefix = 0;
    std::vector<uint64_t> key_hashes;
    std::vector<uint8_t> fingerprints;  // key_hashes.size() * fingerprint_size
};

struct buckets_message {
    uint8_t fingerprint_size = 8;
    uint64_t salt = 0;
    std::vector<bucket_list> buckets;  // prefixes increasing
};

struct request_message {
    uint8_t depth = 0;
    std::vector<uint64_t> positions;  // prefixes at depth, increasing
};

// Builds a descend message from t's digests. Preconditions: t clean, parents increasing and
// valid at parent_depth, parent_depth + levels <= leaf_depth, levels in 1..2.
[[nodiscard]] descend_message make_descend(const tree& t, uint8_t parent_depth, uint8_t levels,
                                           uint8_t fingerprint_size, uint64_t salt,
                                           std::vector<uint64_t> parents);
[[nodiscard]] buckets_message make_buckets(const tree& t, uint8_t fingerprint_size, uint64_t salt,
                                           const std::vector<uint64_t>& prefixes);

// Encoders append to out and return the bytes written.
size_t encode(const descend_message& m, std::vector<uint8_t>& out);
size_t encode(const buckets_message& m, std::vector<uint8_t>& out);
size_t encode_wants(const std::vector<uint64_t>& key_hashes, std::vector<uint8_t>& out);
size_t encode(const request_message& m, std::vector<uint8_t>& out);

// The message type of an encoded message (its first byte), checked.
[[nodiscard]] result<message_type> peek_type(bytes_view input) noexcept;
// Decoders check the shape against leaf_depth (the receiver's tree) and all limits above.
[[nodiscard]] result<descend_message> decode_descend(bytes_view input, uint8_t leaf_depth);
[[nodiscard]] result<buckets_message> decode_buckets(bytes_view input, uint8_t leaf_depth);
[[nodiscard]] result<std::vector<uint64_t>> decode_wants(bytes_view input);
[[nodiscard]] result<request_message> decode_request(bytes_view input, uint8_t leaf_depth);

// The diff helper. Positions at depth parent_depth + levels under m's parents whose local
// fingerprint differs from the remote's, in prefix order. Precondition: t clean, m decoded
// against t's leaf_depth.
[[nodiscard]] std::vector<position> diff(const tree& t, const descend_message& m);
// Same with full digests: positions[i] holds remote digest remote[i]; returns those that differ.
[[nodiscard]] std::vector<position> diff(const tree& t, std::span<const position> positions,
                                         std::span<const digest> remote);

// Leaf-level comparison of the remote's bucket lists with t: keys t must send (t has them and
// the remote does not, or with another digest) and keys t wants (the converse).
struct leaf_diff {
    std::vector<uint64_t> send;
    std::vector<uint64_t> want;
};
[[nodiscard]] leaf_diff diff_buckets(const tree& t, const buckets_message& m);

// A reference reconciliation between two clean trees, every message encoded and decoded.
enum class strategy : uint8_t {
    whole_state, // A ships every (key_hash, 16-byte digest); B answers with entries and wants
    one_level,   // A asks, B answers one level per round trip; then buckets; then entries
    multi_level, // both sides alternate: each message descends `levels` (the first
                 // `first_levels`) below the positions the other side found differing
};

struct reconcile_options {
    strategy how = strategy::multi_level;
    uint8_t fingerprint_size = 4;
    uint8_t first_levels = 2;
    uint8_t levels = 1;
    uint64_t salt = 0x9e3779b97f4a7c15ull;  // the caller draws it per session
};

struct reconcile_report {
    uint32_t messages = 0;
    uint32_t round_trips = 0;        // ceil(messages / 2): A starts, replies alternate
    uint64_t overhead_bytes = 0;     // every encoded message byte except the entries themselves
    std::vector<uint64_t> a_sends;   // keys A sends B (the differing entries)
    std::vector<uint64_t> b_sends;   // keys B sends A
    bool missed = false;             // roots differ but fingerprints hid it: retry with a new salt
};

[[nodiscard]] reconcile_report simulate_reconcile(const tree& a, const tree& b,
                                                  const reconcile_options& options);

[[nodiscard]] std::string_view to_string(strategy s) noexcept;

} // namespace ainet::merkle
