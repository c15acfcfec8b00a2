#pragma once
// Membership messages (SWIM + Lifeguard): codecs for the datagrams of message types 0x30..0x35.
//
// Every membership datagram is the 8-byte wire header (wire/header.hpp), a fixed part that
// depends on the type, and an update block: u8 count (<= update_count_max), then that many
// claims. Claims are the gossip: what a node says about a member (alive/suspect/dead/left).
//
//     ping       (0x30)  seq u32 | target node_id             | updates
//     ack        (0x31)  seq u32                              | updates
//     ping_req   (0x32)  seq u32 | target node_id | endpoint  | updates
//     nack       (0x33)  seq u32                              | updates
//     gossip     (0x34)                                         updates
//     push_pull  (0x35)  flags u8 | pad_size varint | pad      | updates
//
// A claim:
//     kind u8 (1 alive, 2 suspect, 3 dead, 4 left) | subject node_id | incarnation varint |
//       alive, left:   endpoint | signature (64)   signed by subject, sig_domain::membership_alive
//       suspect, dead: accuser node_id
// The signed bytes of an alive/left claim are claim_signed_payload(): kind u8 || subject ||
// incarnation u64 LE || endpoint; so nobody but the subject can make it alive again with a higher
// incarnation (refutation) or announce that it left.
//
// Sizes: no membership datagram is larger than datagram_size_max (1200 bytes), which decoders
// enforce too. Decoders are bounds-checked pure functions (no allocation beyond the returned
// vector, no throw); each decoded message re-encodes to exactly its input (one encoding per
// message: canonical varints, zero padding, no trailing bytes). Any thread. Spec:
// docs/PROTOCOL.md, "Membership".

#include <ainet/core/bytes.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/wire/errc.hpp>
#include <ainet/wire/header.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

namespace ainet::membership {

// The largest membership datagram, header included: fits any path MTU >= 1280 (IPv6 minimum)
// with room for IP and UDP headers.
inline constexpr size_t datagram_size_max = 1200;
// Claims one datagram may carry (an alive claim takes 106..118 bytes, a suspect 67..75).
inline constexpr size_t update_count_max = 16;
// push_pull padding: a request is padded so that its reply, bounded by the request's size, can
// carry a useful number of claims (a reply is never larger than its request).
inline constexpr size_t pad_size_max = datagram_size_max;

enum class claim_kind : uint8_t { alive = 1, suspect = 2, dead = 3, left = 4 };

struct claim {
    claim_kind kind = claim_kind::alive;
    node_id subject;
    uint64_t incarnation = 0;
    endpoint address;              // alive, left
    crypto::signature signature{}; // alive, left
    node_id accuser;               // suspect, dead

    friend bool operator==(const claim&, const claim&) = default;
};

// Bytes a claim's encoding takes.
[[nodiscard]] size_t encoded_size(const claim& c) noexcept;
// One claim in the format above (also the member snapshot's, state.hpp). write_claim expects a
// valid kind and, for alive/left, an encodable endpoint; read_claim checks both.
void write_claim(byte_writer& w, const claim& c) noexcept;
[[nodiscard]] wire::result<claim> read_claim(byte_reader& r);
// kind u8 || subject || incarnation u64 LE || endpoint (7 or 19 bytes): what the subject signs.
inline constexpr size_t signed_payload_size_max = 1 + node_id_size + 8 + 19;
[[nodiscard]] size_t claim_signed_payload(const claim& c,
                                          std::span<uint8_t, signed_payload_size_max> out) noexcept;
// Signs an alive or left claim with the subject's keys (keys.id() must be c.subject).
void sign_claim(claim& c, const crypto::key_pair& keys);

struct ping {
    static constexpr wire::message_type type = wire::message_type::membership_ping;
    uint32_t seq = 0;
    node_id target;
    std::vector<claim> updates;
    friend bool operator==(const ping&, const ping&) = default;
};
struct ack {
    static constexpr wire::message_type type = wire::message_type::membership_ack;
    uint32_t seq = 0;
    std::vector<claim> updates;
    friend bool operator==(const ack&, const ack&) = default;
};
struct ping_req {
    static constexpr wire::message_type type = wire::message_type::membership_ping_req;
    uint32_t seq = 0;
    node_id target;
    endpoint target_address;
    std::vector<claim> updates;
    friend bool operator==(const ping_req&, const ping_req&) = default;
};
struct nack {
    static constexpr wire::message_type type = wire::message_type::membership_nack;
    uint32_t seq = 0;
    std::vector<claim> updates;
    friend bool operator==(const nack&, const nack&) = default;
};
struct gossip {
    static constexpr wire::message_type type = wire::message_type::membership_gossip;
    std::vector<claim> updates;
    friend bool operator==(const gossip&, const gossip&) = default;
};
struct push_pull {
    static constexpr wire::message_type type = wire::message_type::membership_push_pull;
    static constexpr uint8_t flag_reply_wanted = 0x01;
    uint8_t flags = 0; // only flag_reply_wanted is defined
    uint32_t pad_size = 0;
    std::vector<claim> updates;
    friend bool operator==(const push_pull&, const push_pull&) = default;
};

using message = std::variant<ping, ack, ping_req, nack, gossip, push_pull>;

// Bytes of the datagram (header included) a message encodes to.
[[nodiscard]] size_t encoded_size(const message& m) noexcept;
// Encodes header + payload into out. Fails with buffer_full, field_too_long (more than
// update_count_max claims, or above datagram_size_max), bad_endpoint, bad_field (claim kind).
[[nodiscard]] wire::result<size_t> encode(const message& m, mutable_bytes out) noexcept;

// Decodes one payload of a given type (after decode_datagram()).
[[nodiscard]] wire::result<message> decode_payload(wire::message_type type, bytes_view payload);
// decode_datagram() then decode_payload(); unknown_type for a non-membership type,
// datagram_too_large above datagram_size_max.
[[nodiscard]] wire::result<message> decode(bytes_view datagram);

// True for the membership type codes 0x30..0x35.
[[nodiscard]] bool is_membership_type(wire::message_type type) noexcept;

} // namespace ainet::membership
