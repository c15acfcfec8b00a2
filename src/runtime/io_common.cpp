#include "io_common.hpp"

#include <ainet/core/assert.hpp>

#include <algorithm>

namespace ainet::runtime::detail {

destination_grouper::destination_grouper()
    : m_table(table_size), m_group_of(window_max), m_group_start(groups_max + 1),
      m_scratch(window_max) {
    m_used_slots.reserve(groups_max);
}

void destination_grouper::group(std::span<tx_queue::entry> pending) noexcept {
    size_t begin = 0;
    while (begin < pending.size())
        begin = group_window(pending, begin, std::min(pending.size(), begin + window_max));
}

size_t destination_grouper::group_window(std::span<tx_queue::entry> pending, size_t begin,
                                         size_t end) noexcept {
    const std::hash<endpoint> hash;
    size_t groups = 0;
    size_t stop = end;
    std::fill(m_group_start.begin(), m_group_start.end(), 0u);
    for (size_t i = begin; i < end; ++i) {
        size_t index = hash(pending[i].destination) & (table_size - 1);
        while (m_table[index].used && m_table[index].destination != pending[i].destination)
            index = (index + 1) & (table_size - 1);
        if (!m_table[index].used) {
            if (groups == groups_max) {
                stop = i; // out of group slots: this window ends here
                break;
            }
            m_table[index] = slot{pending[i].destination, static_cast<uint16_t>(groups++), true};
            m_used_slots.push_back(static_cast<uint16_t>(index));
        }
        m_group_of[i - begin] = m_table[index].group;
        ++m_group_start[m_table[index].group + 1];
    }
    for (uint16_t used : m_used_slots)
        m_table[used].used = false;
    m_used_slots.clear();
    if (groups > 1) {
        for (size_t g = 1; g <= groups; ++g)
            m_group_start[g] += m_group_start[g - 1];
        for (size_t i = begin; i < stop; ++i)
            m_scratch[m_group_start[m_group_of[i - begin]]++] = pending[i];
        std::copy(m_scratch.begin(), m_scratch.begin() + static_cast<std::ptrdiff_t>(stop - begin),
                  pending.begin() + static_cast<std::ptrdiff_t>(begin));
    }
    return stop;
}

size_t train_length(std::span<const tx_queue::entry> pending, size_t start, bool gso) noexcept {
    AINET_ASSERT(start < pending.size());
    const tx_queue::entry& first = pending[start];
    const uint32_t segment_max = first.destination.family == address_family::ipv4
                                     ? gso_segment_size_max_ipv4
                                     : gso_segment_size_max_ipv6;
    if (!gso || first.size == 0 || first.size > segment_max)
        return 1;
    size_t count = 1;
    uint32_t bytes = first.size;
    while (start + count < pending.size() && count < gso_segments_max) {
        const tx_queue::entry& next = pending[start + count];
        if (next.destination != first.destination || next.size > first.size || next.size == 0 ||
            bytes + next.size > gso_bytes_max)
            break;
        bytes += next.size;
        ++count;
        // A shorter datagram can only end a train.
        if (next.size < first.size)
            break;
    }
    return count;
}

gso_refusal classify_gso_error(int error) noexcept {
    switch (error) {
    case EIO:
        return gso_refusal::resend_singly_and_disable;
    case EINVAL:
    case EMSGSIZE:
        return gso_refusal::resend_singly;
    default:
        return gso_refusal::not_gso;
    }
}

bool count_receive_error(shard_counters& counters, int error) noexcept {
    switch (error) {
    case EAGAIN:
    case EINTR:
        return true;
    case ENOBUFS:
        bump(counters.rx_buffer_exhausted);
        return true;
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
        bump(counters.rx_icmp_errors);
        return true;
    default:
        bump(counters.rx_errors);
        return false;
    }
}

void count_send_error(shard_counters& counters, int error, uint64_t datagrams) noexcept {
    switch (error) {
    case EAGAIN:
    case ENOBUFS:
        bump(counters.tx_eagain, datagrams);
        break;
    case ECONNREFUSED:
        bump(counters.tx_connection_refused, datagrams);
        break;
    case EMSGSIZE:
        bump(counters.tx_message_too_big, datagrams);
        break;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case EPERM:
    case EACCES:
        bump(counters.tx_unreachable, datagrams);
        break;
    default:
        bump(counters.tx_errors, datagrams);
        break;
    }
}

uint16_t gro_segment_size(const msghdr& message) noexcept {
    for (const cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&message), const_cast<cmsghdr*>(c))) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int size = 0;
            std::memcpy(&size, CMSG_DATA(c), sizeof(size));
            return static_cast<uint16_t>(size);
        }
    }
    return 0;
}

void set_gso_control(msghdr& message, uint8_t* control, uint16_t segment_size) noexcept {
    std::memset(control, 0, CMSG_SPACE(sizeof(uint16_t)));
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    std::memcpy(CMSG_DATA(c), &segment_size, sizeof(segment_size));
}

size_t split_receive(bytes_view payload, uint16_t segment_size, const endpoint& source,
                     std::span<rx_datagram> out, size_t count, shard_counters& counters) noexcept {
    if (segment_size == 0 || payload.size() <= segment_size) {
        if (count < out.size()) {
            out[count++] = rx_datagram{payload, source};
            bump(counters.rx_datagrams);
            bump(counters.rx_bytes, payload.size());
        }
        return count;
    }
    bump(counters.rx_gro_trains);
    for (size_t offset = 0; offset < payload.size() && count < out.size(); offset += segment_size) {
        const size_t size = std::min<size_t>(segment_size, payload.size() - offset);
        out[count++] = rx_datagram{payload.subspan(offset, size), source};
        bump(counters.rx_datagrams);
        bump(counters.rx_bytes, size);
    }
    return count;
}

} // namespace ainet::runtime::detail
