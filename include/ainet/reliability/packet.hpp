#pragma once
// The `reliable` datagram (message type 0x50): sequenced data, cumulative + selective acks and
// NACKs, many frames packed into one datagram. Spec: docs/PROTOCOL.md, "Reliability".
//
//     wire header (8, type 0x50)
//     sender_epoch        u64 LE  the sender's outbox stream epoch (new only when its outbox is
//     lost) sender_incarnation  u64 LE  the sender process's incarnation (new at every start)
//     receiver_epoch      u64 LE  the destination's stream epoch that this packet's acks and
//                                 NACKs refer to (0 = none known)
//     frames until the end of the datagram, each a type byte then:
//       0x01 data  channel varint, seq varint (>= 1), base_delta varint (< seq),
//                  payload: varint length + bytes
//       0x02 ack   channel varint, cumulative varint, window varint (<= 2^32 - 1),
//                  range_count varint (0..ranges_max), ranges
//       0x03 nack  channel varint, base varint, range_count varint (1..ranges_max), ranges
//     ranges: (gap varint, length varint >= 1) pairs, ascending: range i starts at
//     previous end + 1 + gap (the first at base + 1 + gap, base = cumulative for acks).
//
// seq - base_delta is the lowest sequence number the sender still holds for that channel, so a
// receiver without state knows where the stream resumes and skips what the sender gave up on.
// Decoding borrows from the input (no copy, no allocation); frame_reader stops at the first
// malformed frame with its error. Encoding writes into a caller's buffer and never allocates.
// Pure functions on bytes: any thread.

#include <ainet/core/bytes.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/reliability/errc.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ainet::reliability {

inline constexpr size_t packet_head_size = 24;
// Ack and NACK frames carry at most this many ranges (bounds decode work and frame size: with
// ranges inside a receive window, <= 2^20, each range is <= 6 bytes, a frame <= ~420 bytes).
// 64, not 16: at 5% loss a hole every ~20 messages, and a large window needs many ranges for
// the sender to see what arrived.
inline constexpr size_t ranges_max = 64;

enum class frame_type : uint8_t { data = 1, ack = 2, nack = 3 };

// An inclusive range of sequence numbers.
struct seq_range {
    uint64_t first = 0;
    uint64_t last = 0;
    friend constexpr bool operator==(const seq_range&, const seq_range&) = default;
};

struct range_list {
    std::array<seq_range, ranges_max> items{};
    size_t count = 0;

    [[nodiscard]] std::span<const seq_range> view() const noexcept { return {items.data(), count}; }
    // False (and nothing added) when full.
    bool push(seq_range r) noexcept {
        if (count == ranges_max)
            return false;
        items[count++] = r;
        return true;
    }
    friend bool operator==(const range_list& a, const range_list& b) noexcept {
        if (a.count != b.count)
            return false;
        for (size_t i = 0; i < a.count; ++i)
            if (!(a.items[i] == b.items[i]))
                return false;
        return true;
    }
};

struct packet_head {
    uint64_t sender_epoch = 0;
    uint64_t sender_incarnation = 0;
    uint64_t receiver_epoch = 0;
    friend constexpr bool operator==(const packet_head&, const packet_head&) = default;
};

struct data_frame {
    channel_id channel{};
    uint64_t seq = 0;
    uint64_t base_delta = 0;
    bytes_view payload; // borrowed
};

struct ack_frame {
    channel_id channel{};
    uint64_t cumulative = 0; // every seq <= cumulative is durably processed
    uint32_t window = 0;     // the receiver accepts seq <= cumulative + window
    range_list ranges;       // held beyond cumulative (selective ack)
};

struct nack_frame {
    channel_id channel{};
    uint64_t base = 0;
    range_list ranges; // missing, each above base
};

struct frame {
    frame_type type = frame_type::data;
    data_frame data;
    ack_frame ack;
    nack_frame nack;
};

// The payload of a `reliable` datagram: its head, and the frames as unparsed bytes.
struct packet_view {
    packet_head head;
    bytes_view frames;
};

// Decodes the head of a reliable datagram's payload (after the wire header).
// Errors: truncated.
[[nodiscard]] result<packet_view> decode_packet(bytes_view payload) noexcept;

// Decodes a whole datagram (wire header + payload). Errors: not_reliable, truncated.
[[nodiscard]] result<packet_view> decode_reliable_datagram(bytes_view datagram) noexcept;

// Walks the frames of a packet; each next() borrows from the packet bytes.
class frame_reader {
public:
    explicit frame_reader(bytes_view frames) noexcept : m_reader(frames) {}
    [[nodiscard]] bool at_end() const noexcept { return m_reader.at_end(); }
    // Errors: truncated, non_canonical, field_too_long, bad_field, unknown_frame,
    // too_many_ranges. After an error the reader is at an unspecified position: stop.
    [[nodiscard]] result<frame> next() noexcept;

private:
    byte_reader m_reader;
};

// Encoded sizes, for packing decisions.
[[nodiscard]] size_t data_frame_size(const data_frame& f) noexcept;
[[nodiscard]] size_t ack_frame_size(const ack_frame& f) noexcept;
[[nodiscard]] size_t nack_frame_size(const nack_frame& f) noexcept;

// Builds one reliable datagram in a caller's buffer: wire header, head, then frames while they
// fit. add_* returns false and writes nothing when the frame does not fit. Preconditions
// (asserted: encoding an invalid frame is a bug): seq >= 1, base_delta < seq, ranges ascending,
// disjoint, above base, non-empty; a nack has >= 1 range.
class packet_writer {
public:
    // out must hold at least header + packet_head_size bytes (asserted).
    packet_writer(mutable_bytes out, const packet_head& head) noexcept;

    bool add_data(const data_frame& f) noexcept;
    bool add_ack(const ack_frame& f) noexcept;
    bool add_nack(const nack_frame& f) noexcept;

    [[nodiscard]] size_t remaining() const noexcept { return m_writer.remaining(); }
    [[nodiscard]] size_t frame_count() const noexcept { return m_frame_count; }
    // Writes the wire header and returns the datagram's size.
    [[nodiscard]] size_t finish() noexcept;

private:
    mutable_bytes m_out;
    byte_writer m_writer;
    size_t m_frame_count = 0;
};

} // namespace ainet::reliability
