// The portable backend: recvmmsg / sendmmsg in batches, epoll_wait to sleep, an eventfd to
// wake. Used where io_uring is missing or refused (containers often block it).

#include "io_common.hpp"

#include <ainet/core/assert.hpp>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

namespace ainet::runtime {

namespace {

class epoll_backend final : public io_backend, public rx_buffer_lender {
public:
    epoll_backend(const udp_socket& socket, const backend_config& config, shard_counters& counters)
        : m_fd(socket.fd()), m_config(config), m_counters(counters),
          m_buffer_size(socket.gro_enabled() ? detail::gro_buffer_size : config.datagram_size_max),
          m_rx_buffers(size_t{config.batch_size} * m_buffer_size), m_rx_messages(config.batch_size),
          m_rx_iovecs(config.batch_size), m_rx_addresses(config.batch_size),
          m_rx_control(size_t{config.batch_size} * detail::control_size),
          m_rx_datagrams(size_t{config.batch_size} * detail::gso_segments_max),
          m_tx_messages(config.batch_size), m_tx_addresses(config.batch_size),
          m_tx_control(size_t{config.batch_size} * detail::control_size),
          m_tx_iovecs(size_t{config.batch_size} * detail::gso_segments_max),
          m_tx_train_slots(config.batch_size) {}

    ~epoll_backend() override {
        if (m_epoll >= 0)
            ::close(m_epoll);
        if (m_event >= 0)
            ::close(m_event);
    }

    result<void> start() {
        m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
        m_event = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (m_epoll < 0 || m_event < 0)
            return fail(errc::epoll_failed);
        epoll_event socket_event{};
        socket_event.events = EPOLLIN;
        socket_event.data.fd = m_fd;
        epoll_event wake_event{};
        wake_event.events = EPOLLIN;
        wake_event.data.fd = m_event;
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_fd, &socket_event) != 0 ||
            ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_event, &wake_event) != 0)
            return fail(errc::epoll_failed);
        return {};
    }

    backend_kind kind() const noexcept override { return backend_kind::epoll; }

    void poll(duration timeout, rx_handler& handler) noexcept override {
        if (receive_batch(handler) > 0 || timeout <= duration::zero())
            return;
        epoll_event events[2];
        const auto timeout_ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
        const int ready = ::epoll_wait(m_epoll, events, 2,
                                       static_cast<int>(std::min<int64_t>(timeout_ms, 1 << 30)));
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.fd == m_event) {
                uint64_t value;
                (void)!::read(m_event, &value, sizeof(value));
                bump(m_counters.wakeups);
            }
        }
        if (ready > 0)
            (void)receive_batch(handler);
    }

    void flush(tx_queue& tx) noexcept override {
        m_grouper.group(tx.pending());
        const auto all = tx.pending();
        size_t offset = 0;
        while (offset < all.size()) {
            const auto pending = all.subspan(offset);
            // Build up to batch_size messages, each a single datagram or a GSO train.
            size_t messages = 0;
            size_t taken = 0;
            size_t iov_used = 0;
            while (taken < pending.size() && messages < m_config.batch_size) {
                const size_t length = detail::train_length(pending, taken, m_gso);
                msghdr& message = m_tx_messages[messages].msg_hdr;
                message = msghdr{};
                m_tx_addresses[messages] = to_sockaddr(pending[taken].destination);
                message.msg_name = &m_tx_addresses[messages].storage;
                message.msg_namelen = m_tx_addresses[messages].size;
                message.msg_iov = &m_tx_iovecs[iov_used];
                message.msg_iovlen = length;
                for (size_t k = 0; k < length; ++k) {
                    const auto& e = pending[taken + k];
                    m_tx_iovecs[iov_used + k] = iovec{const_cast<uint8_t*>(e.data), e.size};
                }
                if (length > 1)
                    detail::set_gso_control(message, &m_tx_control[messages * detail::control_size],
                                            static_cast<uint16_t>(pending[taken].size));
                m_tx_train_slots[messages] = {taken, length};
                iov_used += length;
                taken += length;
                ++messages;
            }
            send_messages(tx, messages);
            for (size_t i = 0; i < taken; ++i)
                tx.release(pending[i].slot);
            offset += taken;
        }
        // One erase for the whole flush: the queue never shifts per batch.
        tx.consume_front(all.size());
    }

    void wake() noexcept override {
        const uint64_t one = 1;
        (void)!::write(m_event, &one, sizeof(one));
    }

    rx_buffer_lender* lender() noexcept override { return this; }

    // The receive buffers are reused by the next recvmmsg, and flush() sends synchronously: a
    // lent datagram is always given back by the flush that follows its delivery, before the
    // next receive (receive_batch asserts it).
    uint8_t* lend(const uint8_t* data, uint32_t& id) noexcept override {
        if (!m_delivering || data < m_rx_buffers.data() ||
            data >= m_rx_buffers.data() + m_rx_buffers.size())
            return nullptr;
        const size_t offset = static_cast<size_t>(data - m_rx_buffers.data());
        id = static_cast<uint32_t>(offset / m_buffer_size);
        ++m_lent;
        return m_rx_buffers.data() + offset;
    }

    void give_back(uint32_t) noexcept override {
        AINET_ASSERT(m_lent > 0);
        --m_lent;
    }

private:
    struct train_span {
        size_t first;
        size_t count;
    };

    void send_messages(tx_queue& tx, size_t messages) noexcept {
        size_t done = 0;
        while (done < messages) {
            const int sent = ::sendmmsg(m_fd, &m_tx_messages[done], static_cast<unsigned>(messages - done),
                                        MSG_DONTWAIT);
            bump(m_counters.tx_syscalls);
            if (sent > 0) {
                for (size_t i = done; i < done + static_cast<size_t>(sent); ++i)
                    count_sent(tx, i);
                done += static_cast<size_t>(sent);
                continue;
            }
            // The first message failed: count it under its errno and move past it.
            const int error = errno;
            if (error == EINTR)
                continue;
            if (error == EAGAIN || error == ENOBUFS) {
                // The socket buffer is full: the rest of this batch would fail the same way,
                // one system call each. Count them all and move on.
                for (size_t i = done; i < messages; ++i)
                    detail::count_send_error(m_counters, error, m_tx_train_slots[i].count);
                return;
            }
            const train_span train = m_tx_train_slots[done];
            const auto refusal = train.count > 1 ? detail::classify_gso_error(error)
                                                 : detail::gso_refusal::not_gso;
            if (refusal != detail::gso_refusal::not_gso) {
                // Segmentation refused: this train goes one by one; only a device that cannot
                // segment at all (EIO) turns trains off for the socket.
                if (refusal == detail::gso_refusal::resend_singly_and_disable)
                    m_gso = false;
                bump(m_counters.tx_gso_fallbacks);
                resend_singly(tx, m_tx_messages[done].msg_hdr);
            } else {
                detail::count_send_error(m_counters, error, train.count);
            }
            ++done;
        }
    }

    void count_sent(tx_queue&, size_t message) noexcept {
        const train_span train = m_tx_train_slots[message];
        bump(m_counters.tx_datagrams, train.count);
        if (train.count > 1)
            bump(m_counters.tx_gso_trains);
        const msghdr& m = m_tx_messages[message].msg_hdr;
        for (size_t i = 0; i < m.msg_iovlen; ++i)
            bump(m_counters.tx_bytes, m.msg_iov[i].iov_len);
    }

    void resend_singly(tx_queue&, const msghdr& train) noexcept {
        for (size_t i = 0; i < train.msg_iovlen; ++i) {
            msghdr single{};
            single.msg_name = train.msg_name;
            single.msg_namelen = train.msg_namelen;
            single.msg_iov = &train.msg_iov[i];
            single.msg_iovlen = 1;
            bump(m_counters.tx_syscalls);
            if (::sendmsg(m_fd, &single, MSG_DONTWAIT) >= 0) {
                bump(m_counters.tx_datagrams);
                bump(m_counters.tx_bytes, train.msg_iov[i].iov_len);
            } else {
                detail::count_send_error(m_counters, errno, 1);
            }
        }
    }

    size_t receive_batch(rx_handler& handler) noexcept {
        AINET_ASSERT(m_lent == 0); // lent buffers would be overwritten: flush before polling
        for (uint32_t i = 0; i < m_config.batch_size; ++i) {
            m_rx_iovecs[i] = iovec{&m_rx_buffers[size_t{i} * m_buffer_size], m_buffer_size};
            msghdr& message = m_rx_messages[i].msg_hdr;
            message = msghdr{};
            message.msg_name = &m_rx_addresses[i];
            message.msg_namelen = sizeof(sockaddr_storage);
            message.msg_iov = &m_rx_iovecs[i];
            message.msg_iovlen = 1;
            message.msg_control = &m_rx_control[size_t{i} * detail::control_size];
            message.msg_controllen = detail::control_size;
        }
        const int received = ::recvmmsg(m_fd, m_rx_messages.data(), m_config.batch_size, MSG_DONTWAIT, nullptr);
        bump(m_counters.rx_syscalls);
        if (received <= 0) {
            if (received < 0)
                (void)detail::count_receive_error(m_counters, errno);
            return 0;
        }
        size_t count = 0;
        for (int i = 0; i < received; ++i) {
            const msghdr& message = m_rx_messages[static_cast<size_t>(i)].msg_hdr;
            if (message.msg_flags & MSG_TRUNC) {
                bump(m_counters.rx_truncated);
                continue;
            }
            endpoint source;
            if (!from_sockaddr(reinterpret_cast<const sockaddr*>(message.msg_name), message.msg_namelen, source)) {
                bump(m_counters.rx_bad_address);
                continue;
            }
            const bytes_view payload(static_cast<const uint8_t*>(message.msg_iov[0].iov_base),
                                     m_rx_messages[static_cast<size_t>(i)].msg_len);
            count = detail::split_receive(payload, detail::gro_segment_size(message), source,
                                          m_rx_datagrams, count, m_counters);
        }
        if (count > 0) {
            m_delivering = true;
            handler.on_datagrams(std::span<const rx_datagram>(m_rx_datagrams.data(), count));
            m_delivering = false;
        }
        return static_cast<size_t>(received);
    }

    int m_fd;
    int m_epoll = -1;
    int m_event = -1;
    backend_config m_config;
    shard_counters& m_counters;
    uint32_t m_buffer_size;
    bool m_gso = m_config.gso;
    bool m_delivering = false;
    uint32_t m_lent = 0; // lent datagrams not yet sent
    detail::destination_grouper m_grouper;

    std::vector<uint8_t> m_rx_buffers;
    std::vector<mmsghdr> m_rx_messages;
    std::vector<iovec> m_rx_iovecs;
    std::vector<sockaddr_storage> m_rx_addresses;
    std::vector<uint8_t> m_rx_control;
    std::vector<rx_datagram> m_rx_datagrams;

    std::vector<mmsghdr> m_tx_messages;
    std::vector<socket_address> m_tx_addresses;
    std::vector<uint8_t> m_tx_control;
    std::vector<iovec> m_tx_iovecs;
    std::vector<train_span> m_tx_train_slots;
};

} // namespace

result<std::unique_ptr<io_backend>> make_epoll_backend(const udp_socket& socket,
                                                       const backend_config& config,
                                                       shard_counters& counters) {
    auto backend = std::make_unique<epoll_backend>(socket, config, counters);
    AINET_TRY_VOID(backend->start());
    return std::unique_ptr<io_backend>(std::move(backend));
}

} // namespace ainet::runtime
