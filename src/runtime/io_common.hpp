#pragma once
// Shared between the io backends (private to src/runtime): GSO train planning, GRO splitting,
// and the errno -> counter map for sends.

#include <ainet/runtime/io_backend.hpp>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace ainet::runtime::detail {

// Linux caps a GSO train at 64 segments (UDP_MAX_SEGMENTS) and one IP datagram's payload.
inline constexpr uint32_t gso_segments_max = 64;
inline constexpr uint32_t gso_bytes_max = 65000;
// The kernel refuses a train whose segments (plus IP and UDP headers) exceed the device MTU;
// segments are kept within a 1500-byte Ethernet MTU (IPv4: 20 + 8, IPv6: 40 + 8 bytes of
// headers). Larger datagrams go one by one and the kernel fragments them as usual.
inline constexpr uint32_t gso_segment_size_max_ipv4 = 1500 - 28;
inline constexpr uint32_t gso_segment_size_max_ipv6 = 1500 - 48;

// What to do after the kernel refused a GSO train with `error`.
enum class gso_refusal : uint8_t {
    resend_singly,             // this train only (segment too large for the path, EINVAL/EMSGSIZE)
    resend_singly_and_disable, // the device cannot segment (EIO): stop building trains
    not_gso,                   // an ordinary send error: count it
};
[[nodiscard]] gso_refusal classify_gso_error(int error) noexcept;
// A GRO receive buffer must hold a whole coalesced train.
inline constexpr uint32_t gro_buffer_size = 65536;
inline constexpr size_t control_size = CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint16_t));

// Reorders a send queue so that datagrams to the same destination sit together (then they can
// leave as GSO trains), keeping each destination's own order, so every flow stays in order.
// Groups come in order of first appearance. Linear time: a counting sort keyed by an
// open-addressing table of destinations, over windows of up to window_max datagrams and
// groups_max destinations. All memory is allocated in the constructor.
class destination_grouper {
public:
    static constexpr size_t window_max = 4096;
    static constexpr size_t groups_max = 512;

    destination_grouper();
    void group(std::span<tx_queue::entry> pending) noexcept;

private:
    // Groups [begin, end) of pending; returns where it stopped (end, or earlier when the window
    // ran out of group slots).
    size_t group_window(std::span<tx_queue::entry> pending, size_t begin, size_t end) noexcept;

    struct slot {
        endpoint destination;
        uint16_t group;
        bool used;
    };
    static constexpr size_t table_size = groups_max * 4; // load factor <= 1/4
    std::vector<slot> m_table;
    std::vector<uint16_t> m_used_slots;
    std::vector<uint16_t> m_group_of;
    std::vector<uint32_t> m_group_start;
    std::vector<tx_queue::entry> m_scratch;
};

// How many entries from pending[start] form one GSO train: same destination, same size (the
// last may be shorter), within the kernel's caps. At least 1.
[[nodiscard]] size_t train_length(std::span<const tx_queue::entry> pending, size_t start,
                                  bool gso) noexcept;

// Counts a failed receive under its errno's counter. True for errors that say nothing about
// the socket itself (ICMP reports of an earlier send, interrupted calls): receiving goes on.
// False for the rest, which the backend must not retry in a tight loop.
bool count_receive_error(shard_counters& counters, int error) noexcept;

// Counts a failed send of `datagrams` datagrams under its errno's counter.
void count_send_error(shard_counters& counters, int error, uint64_t datagrams) noexcept;

// The UDP_GRO segment size from a receive's control messages, or 0.
[[nodiscard]] uint16_t gro_segment_size(const msghdr& message) noexcept;

// Writes a UDP_SEGMENT control message into control (control_size bytes) and points message
// at it.
void set_gso_control(msghdr& message, uint8_t* control, uint16_t segment_size) noexcept;

// Splits a receive into datagrams (GRO train or single) and appends them to out from index
// count; returns the new count. Drops (and counts) what does not fit out.
size_t split_receive(bytes_view payload, uint16_t segment_size, const endpoint& source,
                     std::span<rx_datagram> out, size_t count, shard_counters& counters) noexcept;

} // namespace ainet::runtime::detail
