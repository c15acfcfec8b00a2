// The io_uring backend: one ring per shard, multishot recvmsg on a provided-buffer ring,
// sendmsg SQEs carrying GSO trains, an eventfd read for wake-ups, and one io_uring_enter per
// loop turn (submit + wait together). Created on the shard's own thread, since the ring is set
// up single-issuer with deferred task running where the kernel has them.

#include "io_common.hpp"

#include <ainet/core/assert.hpp>

#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace ainet::runtime {

namespace {

constexpr uint64_t tag_receive = 1ull << 62;
constexpr uint64_t tag_send = 2ull << 62;
constexpr uint64_t tag_wake = 3ull << 62;
constexpr uint64_t tag_mask = 3ull << 62;
constexpr uint16_t buffer_group = 0;
constexpr unsigned submission_entries = 512;
constexpr unsigned completion_entries = 8192;
constexpr uint32_t send_ops_max = 512;
// Consecutive hard receive errors tolerated before re-arming is rate limited.
constexpr uint32_t rx_error_streak_max = 8;
constexpr auto rx_error_backoff = std::chrono::milliseconds(100);
// The kernel lays out io_uring_recvmsg_out (16 bytes), then msg_namelen bytes of address, then
// the control messages: a name area rounded up to 8 keeps the cmsghdrs aligned.
constexpr socklen_t name_area_size = (sizeof(sockaddr_in6) + 7) & ~socklen_t{7};
static_assert(sizeof(io_uring_recvmsg_out) % 8 == 0);

class io_uring_backend final : public io_backend, public rx_buffer_lender {
public:
    io_uring_backend(const udp_socket& socket, const backend_config& config, shard_counters& counters)
        : m_fd(socket.fd()), m_config(config), m_counters(counters),
          m_payload_size(socket.gro_enabled() ? detail::gro_buffer_size : config.datagram_size_max),
          m_rx_datagrams(size_t{completion_entries} * 2), m_returned_buffers(completion_entries),
          m_ops(send_ops_max) {
        m_free_ops.reserve(send_ops_max);
        for (uint32_t i = send_ops_max; i > 0; --i)
            m_free_ops.push_back(i - 1);
    }

    ~io_uring_backend() override {
        if (m_ring_ready)
            io_uring_queue_exit(&m_ring);
        if (m_buffer_ring != nullptr)
            ::munmap(m_buffer_ring, m_buffer_ring_bytes);
        if (m_buffers != nullptr)
            ::munmap(m_buffers, m_buffers_bytes);
        if (m_event >= 0)
            ::close(m_event);
    }

    result<void> start(std::string* why) {
        io_uring_params params{};
        params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
        params.cq_entries = completion_entries;
        int ret = io_uring_queue_init_params(submission_entries, &m_ring, &params);
        if (ret == -EINVAL) {
            // Kernels before 6.1 lack the single-issuer / deferred-taskrun flags.
            params = io_uring_params{};
            params.flags = IORING_SETUP_CQSIZE;
            params.cq_entries = completion_entries;
            ret = io_uring_queue_init_params(submission_entries, &m_ring, &params);
        }
        if (ret < 0) {
            note(why, "io_uring_queue_init failed: ", -ret);
            return fail(errc::io_uring_unavailable);
        }
        m_ring_ready = true;

        io_uring_probe* probe = io_uring_get_probe_ring(&m_ring);
        if (probe == nullptr) {
            note(why, "io_uring probe failed", 0);
            return fail(errc::io_uring_missing_feature);
        }
        const bool opcodes = io_uring_opcode_supported(probe, IORING_OP_RECVMSG) &&
                             io_uring_opcode_supported(probe, IORING_OP_SENDMSG) &&
                             io_uring_opcode_supported(probe, IORING_OP_READ);
        io_uring_free_probe(probe);
        if (!opcodes) {
            note(why, "io_uring lacks RECVMSG/SENDMSG/READ", 0);
            return fail(errc::io_uring_missing_feature);
        }

        AINET_TRY_VOID(setup_buffer_ring(why));

        m_event = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (m_event < 0)
            return fail(errc::epoll_failed);

        m_template.msg_namelen = name_area_size;
        m_template.msg_controllen = detail::control_size;
        if (!arm_receive() || !arm_wake()) {
            note(why, "io_uring submission queue full at start", 0);
            return fail(errc::io_uring_missing_feature);
        }
        // Multishot recvmsg (6.0+) is refused with EINVAL on older kernels: find out now.
        io_uring_submit(&m_ring);
        io_uring_cqe* cqe = nullptr;
        if (io_uring_peek_cqe(&m_ring, &cqe) == 0 && cqe != nullptr &&
            (cqe->user_data & tag_mask) == tag_receive && cqe->res == -EINVAL) {
            note(why, "multishot recvmsg unsupported", EINVAL);
            return fail(errc::io_uring_missing_feature);
        }
        return {};
    }

    backend_kind kind() const noexcept override { return backend_kind::io_uring; }

    void poll(duration timeout, rx_handler& handler) noexcept override {
        bump(m_counters.tx_syscalls);
        if (timeout > duration::zero() && io_uring_cq_ready(&m_ring) == 0) {
            __kernel_timespec ts{};
            ts.tv_sec = timeout.count() / 1'000'000'000;
            ts.tv_nsec = timeout.count() % 1'000'000'000;
            io_uring_cqe* cqe = nullptr;
            (void)io_uring_submit_and_wait_timeout(&m_ring, &cqe, 1, &ts, nullptr);
        } else {
            (void)io_uring_submit_and_get_events(&m_ring);
        }
        reap(handler);
    }

    void flush(tx_queue& tx) noexcept override {
        m_tx = &tx;
        auto pending = tx.pending();
        if (pending.empty())
            return;
        m_grouper.group(pending);
        size_t taken = 0;
        while (taken < pending.size()) {
            if (m_free_ops.empty())
                break; // the rest waits for completions, next loop turn
            io_uring_sqe* sqe = io_uring_get_sqe(&m_ring);
            if (sqe == nullptr) {
                // Submission queue full: submit what is there (a second enter this turn, rare).
                io_uring_submit(&m_ring);
                sqe = io_uring_get_sqe(&m_ring);
                if (sqe == nullptr)
                    break;
            }
            const size_t length = detail::train_length(pending, taken, m_gso);
            const uint32_t index = m_free_ops.back();
            m_free_ops.pop_back();
            send_op& op = m_ops[index];
            op.count = static_cast<uint32_t>(length);
            op.message = msghdr{};
            op.address = to_sockaddr(pending[taken].destination);
            op.message.msg_name = &op.address.storage;
            op.message.msg_namelen = op.address.size;
            op.message.msg_iov = op.iovecs;
            op.message.msg_iovlen = length;
            for (size_t k = 0; k < length; ++k) {
                const auto& e = pending[taken + k];
                op.slots[k] = e.slot;
                op.iovecs[k] = iovec{const_cast<uint8_t*>(e.data), e.size};
            }
            if (length > 1)
                detail::set_gso_control(op.message, op.control, static_cast<uint16_t>(pending[taken].size));
            io_uring_prep_sendmsg(sqe, m_fd, &op.message, MSG_DONTWAIT);
            io_uring_sqe_set_data64(sqe, tag_send | index);
            taken += length;
        }
        tx.consume_front(taken);
    }

    void wake() noexcept override {
        const uint64_t one = 1;
        (void)!::write(m_event, &one, sizeof(one));
    }

    rx_buffer_lender* lender() noexcept override { return this; }

    // A buffer being delivered may be lent; it then skips the return to the ring at the end of
    // the delivery and goes back when its last lent datagram's send completed. At most half the
    // ring is lent at a time, so receives never starve behind a backlog of sends.
    uint8_t* lend(const uint8_t* data, uint32_t& id) noexcept override {
        if (data < m_buffers || data >= m_buffers + m_buffers_bytes)
            return nullptr;
        const size_t offset = static_cast<size_t>(data - m_buffers);
        id = static_cast<uint32_t>(offset / m_buffer_size);
        if (m_buffer_state[id] != buffer_state::delivering)
            return nullptr;
        if (m_lent_refs[id] == 0) {
            if (m_buffers_lent >= m_buffer_count / 2)
                return nullptr;
            ++m_buffers_lent;
        }
        ++m_lent_refs[id];
        return m_buffers + offset;
    }

    void give_back(uint32_t id) noexcept override {
        AINET_ASSERT(id < m_buffer_count && m_lent_refs[id] > 0);
        if (--m_lent_refs[id] > 0)
            return;
        --m_buffers_lent;
        if (m_buffer_state[id] == buffer_state::held) {
            m_buffer_state[id] = buffer_state::in_ring;
            io_uring_buf_ring_add(m_buffer_ring, m_buffers + size_t{id} * m_buffer_size, m_buffer_size,
                                  static_cast<unsigned short>(id),
                                  io_uring_buf_ring_mask(m_buffer_count), 0);
            io_uring_buf_ring_advance(m_buffer_ring, 1);
        }
    }

private:
    enum class buffer_state : uint8_t { in_ring, delivering, held };

    struct send_op {
        msghdr message{};
        socket_address address;
        iovec iovecs[detail::gso_segments_max];
        uint32_t slots[detail::gso_segments_max];
        uint8_t control[detail::control_size];
        uint32_t count = 0;
    };

    static void note(std::string* why, const char* what, int error) {
        if (why != nullptr) {
            *why = what;
            if (error != 0)
                *why += std::string(" (") + std::strerror(error) + ")";
        }
    }

    result<void> setup_buffer_ring(std::string* why) {
        m_buffer_count = m_config.recv_buffer_count;
        m_buffer_size = static_cast<uint32_t>(sizeof(io_uring_recvmsg_out) + name_area_size +
                                              detail::control_size + m_payload_size);
        m_buffer_size = (m_buffer_size + 63u) & ~63u;
        if (m_payload_size > detail::gro_buffer_size / 2)
            m_buffer_count = std::min<uint32_t>(m_buffer_count, 512); // 64 KiB GRO buffers
        m_buffers_bytes = size_t{m_buffer_count} * m_buffer_size;
        m_buffer_ring_bytes = size_t{m_buffer_count} * sizeof(io_uring_buf);
        void* ring = ::mmap(nullptr, m_buffer_ring_bytes, PROT_READ | PROT_WRITE,
                            MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        // Populated now: the kernel fills buffers in ring order, so untouched pages would make
        // the resident size creep up for minutes after start (a soak would read it as a leak)
        // and the first packets into each page would pay a page fault.
        void* buffers = ::mmap(nullptr, m_buffers_bytes, PROT_READ | PROT_WRITE,
                               MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
        if (ring == MAP_FAILED || buffers == MAP_FAILED) {
            if (ring != MAP_FAILED)
                ::munmap(ring, m_buffer_ring_bytes);
            if (buffers != MAP_FAILED)
                ::munmap(buffers, m_buffers_bytes);
            return fail(errc::out_of_memory);
        }
        m_buffer_ring = static_cast<io_uring_buf_ring*>(ring);
        m_buffers = static_cast<uint8_t*>(buffers);
        io_uring_buf_reg registration{};
        registration.ring_addr = reinterpret_cast<uint64_t>(m_buffer_ring);
        registration.ring_entries = m_buffer_count;
        registration.bgid = buffer_group;
        const int ret = io_uring_register_buf_ring(&m_ring, &registration, 0);
        if (ret < 0) {
            note(why, "provided-buffer ring registration failed", -ret);
            return fail(errc::io_uring_missing_feature);
        }
        io_uring_buf_ring_init(m_buffer_ring);
        const int mask = io_uring_buf_ring_mask(m_buffer_count);
        for (uint32_t i = 0; i < m_buffer_count; ++i)
            io_uring_buf_ring_add(m_buffer_ring, m_buffers + size_t{i} * m_buffer_size, m_buffer_size,
                                  static_cast<unsigned short>(i), mask, static_cast<int>(i));
        io_uring_buf_ring_advance(m_buffer_ring, static_cast<int>(m_buffer_count));
        m_buffer_state.assign(m_buffer_count, buffer_state::in_ring);
        m_lent_refs.assign(m_buffer_count, 0);
        return {};
    }

    bool arm_receive() noexcept {
        io_uring_sqe* sqe = io_uring_get_sqe(&m_ring);
        if (sqe == nullptr)
            return false;
        io_uring_prep_recvmsg_multishot(sqe, m_fd, &m_template, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = buffer_group;
        io_uring_sqe_set_data64(sqe, tag_receive);
        m_receive_armed = true;
        return true;
    }

    bool arm_wake() noexcept {
        io_uring_sqe* sqe = io_uring_get_sqe(&m_ring);
        if (sqe == nullptr)
            return false;
        io_uring_prep_read(sqe, m_event, &m_wake_value, sizeof(m_wake_value), 0);
        io_uring_sqe_set_data64(sqe, tag_wake);
        m_wake_armed = true;
        return true;
    }

    void reap(rx_handler& handler) noexcept {
        io_uring_cqe* cqes[256];
        size_t datagrams = 0;
        size_t returned = 0;
        for (;;) {
            const unsigned count = io_uring_peek_batch_cqe(&m_ring, cqes, 256);
            if (count == 0)
                break;
            for (unsigned i = 0; i < count; ++i) {
                const io_uring_cqe* cqe = cqes[i];
                switch (cqe->user_data & tag_mask) {
                case tag_receive:
                    on_receive(cqe, datagrams, returned);
                    break;
                case tag_send:
                    on_send(cqe);
                    break;
                case tag_wake:
                    m_wake_armed = false;
                    bump(m_counters.wakeups);
                    break;
                default:
                    break;
                }
            }
            io_uring_cq_advance(&m_ring, count);
            // Deliver before the datagram array or the buffer list can fill up.
            if (datagrams + size_t{256} * detail::gso_segments_max > m_rx_datagrams.size() ||
                returned + 256 > m_returned_buffers.size()) {
                deliver(handler, datagrams, returned);
                datagrams = 0;
                returned = 0;
            }
        }
        deliver(handler, datagrams, returned);
        if (!m_receive_armed && m_rx_error_streak < rx_error_streak_max) {
            bump(m_counters.rx_rearms);
            (void)arm_receive();
        } else if (!m_receive_armed) {
            // Every further error costs one re-arm per backoff period.
            const auto now = std::chrono::steady_clock::now();
            if (now >= m_rx_rearm_not_before) {
                bump(m_counters.rx_rearm_backoffs);
                m_rx_rearm_not_before = now + rx_error_backoff;
                (void)arm_receive();
            }
        }
        if (!m_wake_armed)
            (void)arm_wake();
    }

    void deliver(rx_handler& handler, size_t datagrams, size_t returned) noexcept {
        if (datagrams > 0)
            handler.on_datagrams(std::span<const rx_datagram>(m_rx_datagrams.data(), datagrams));
        // Buffers go back in the same loop turn, unless the send queue borrowed them
        // (lend()): those go back when their sends complete (give_back()).
        if (returned > 0) {
            const int mask = io_uring_buf_ring_mask(m_buffer_count);
            int added = 0;
            for (size_t i = 0; i < returned; ++i) {
                const uint16_t id = m_returned_buffers[i];
                if (m_lent_refs[id] > 0) {
                    m_buffer_state[id] = buffer_state::held;
                    continue;
                }
                m_buffer_state[id] = buffer_state::in_ring;
                io_uring_buf_ring_add(m_buffer_ring, m_buffers + size_t{id} * m_buffer_size,
                                      m_buffer_size, id, mask, added++);
            }
            io_uring_buf_ring_advance(m_buffer_ring, added);
        }
    }

    void on_receive(const io_uring_cqe* cqe, size_t& datagrams, size_t& returned) noexcept {
        if (!(cqe->flags & IORING_CQE_F_MORE))
            m_receive_armed = false;
        if (cqe->res < 0) {
            // ENOBUFS: the buffer ring ran dry; buffers return at the end of this turn and the
            // receive is re-armed then. A socket error that keeps coming back must not turn the
            // re-arm into a busy loop: after a streak, re-arm only once per backoff period.
            if (detail::count_receive_error(m_counters, -cqe->res))
                m_rx_error_streak = 0;
            else
                ++m_rx_error_streak;
            return;
        }
        m_rx_error_streak = 0;
        if (!(cqe->flags & IORING_CQE_F_BUFFER)) {
            bump(m_counters.rx_errors);
            return;
        }
        const auto id = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        AINET_ASSERT(id < m_buffer_count && m_buffer_state[id] == buffer_state::in_ring);
        m_buffer_state[id] = buffer_state::delivering;
        m_returned_buffers[returned++] = id;
        uint8_t* buffer = m_buffers + size_t{id} * m_buffer_size;
        io_uring_recvmsg_out* out = io_uring_recvmsg_validate(buffer, cqe->res, &m_template);
        if (out == nullptr) {
            bump(m_counters.rx_errors);
            return;
        }
        if (out->flags & MSG_TRUNC) {
            bump(m_counters.rx_truncated);
            return;
        }
        endpoint source;
        if (!from_sockaddr(static_cast<const sockaddr*>(io_uring_recvmsg_name(out)),
                           std::min<socklen_t>(out->namelen, m_template.msg_namelen), source)) {
            bump(m_counters.rx_bad_address);
            return;
        }
        uint16_t segment_size = 0;
        for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(out, &m_template); c != nullptr;
             c = io_uring_recvmsg_cmsg_nexthdr(out, &m_template, c)) {
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                int size = 0;
                std::memcpy(&size, CMSG_DATA(c), sizeof(size));
                segment_size = static_cast<uint16_t>(size);
            }
        }
        const bytes_view payload(static_cast<const uint8_t*>(io_uring_recvmsg_payload(out, &m_template)),
                                 io_uring_recvmsg_payload_length(out, cqe->res, &m_template));
        datagrams = detail::split_receive(payload, segment_size, source, m_rx_datagrams, datagrams,
                                          m_counters);
    }

    void on_send(const io_uring_cqe* cqe) noexcept {
        const auto index = static_cast<uint32_t>(cqe->user_data & ~tag_mask);
        send_op& op = m_ops[index];
        if (cqe->res >= 0) {
            bump(m_counters.tx_datagrams, op.count);
            bump(m_counters.tx_bytes, static_cast<uint64_t>(cqe->res));
            if (op.count > 1)
                bump(m_counters.tx_gso_trains);
        } else if (op.count > 1 &&
                   detail::classify_gso_error(-cqe->res) != detail::gso_refusal::not_gso) {
            // Segmentation refused: this train goes datagram by datagram; only a device that
            // cannot segment at all (EIO) turns trains off for the socket.
            if (detail::classify_gso_error(-cqe->res) == detail::gso_refusal::resend_singly_and_disable)
                m_gso = false;
            bump(m_counters.tx_gso_fallbacks);
            for (uint32_t k = 0; k < op.count; ++k) {
                msghdr single{};
                single.msg_name = op.message.msg_name;
                single.msg_namelen = op.message.msg_namelen;
                single.msg_iov = &op.iovecs[k];
                single.msg_iovlen = 1;
                if (::sendmsg(m_fd, &single, MSG_DONTWAIT) >= 0) {
                    bump(m_counters.tx_datagrams);
                    bump(m_counters.tx_bytes, op.iovecs[k].iov_len);
                } else {
                    detail::count_send_error(m_counters, errno, 1);
                }
            }
        } else {
            detail::count_send_error(m_counters, -cqe->res, op.count);
        }
        AINET_ASSERT(m_tx != nullptr);
        for (uint32_t k = 0; k < op.count; ++k)
            m_tx->release(op.slots[k]);
        m_free_ops.push_back(index);
    }

    int m_fd;
    backend_config m_config;
    shard_counters& m_counters;
    uint32_t m_payload_size;
    bool m_gso = m_config.gso;
    detail::destination_grouper m_grouper;

    io_uring m_ring{};
    bool m_ring_ready = false;
    msghdr m_template{};
    bool m_receive_armed = false;
    uint32_t m_rx_error_streak = 0;
    std::chrono::steady_clock::time_point m_rx_rearm_not_before{};

    io_uring_buf_ring* m_buffer_ring = nullptr;
    size_t m_buffer_ring_bytes = 0;
    uint8_t* m_buffers = nullptr;
    size_t m_buffers_bytes = 0;
    uint32_t m_buffer_count = 0;
    uint32_t m_buffer_size = 0;
    std::vector<buffer_state> m_buffer_state;
    std::vector<uint16_t> m_lent_refs; // lent datagrams per buffer (<= gso_segments_max)
    uint32_t m_buffers_lent = 0;       // buffers with lent datagrams, <= m_buffer_count / 2

    int m_event = -1;
    uint64_t m_wake_value = 0;
    bool m_wake_armed = false;

    std::vector<rx_datagram> m_rx_datagrams;
    std::vector<uint16_t> m_returned_buffers;
    std::vector<send_op> m_ops;
    std::vector<uint32_t> m_free_ops;
    tx_queue* m_tx = nullptr;
};

} // namespace

result<std::unique_ptr<io_backend>> make_io_uring_backend(const udp_socket& socket,
                                                          const backend_config& config,
                                                          shard_counters& counters) {
    auto backend = std::make_unique<io_uring_backend>(socket, config, counters);
    AINET_TRY_VOID(backend->start(nullptr));
    return std::unique_ptr<io_backend>(std::move(backend));
}

result<std::unique_ptr<io_backend>> make_io_backend(backend_choice choice, const udp_socket& socket,
                                                    const backend_config& config,
                                                    shard_counters& counters,
                                                    std::string* fallback_reason) {
    if (choice == backend_choice::epoll)
        return make_epoll_backend(socket, config, counters);
    auto backend = std::make_unique<io_uring_backend>(socket, config, counters);
    std::string why;
    if (auto started = backend->start(&why); started)
        return std::unique_ptr<io_backend>(std::move(backend));
    else if (choice == backend_choice::io_uring)
        return fail(started.error());
    if (fallback_reason != nullptr)
        *fallback_reason = why;
    backend.reset();
    return make_epoll_backend(socket, config, counters);
}

std::string_view to_string(backend_kind kind) noexcept {
    return kind == backend_kind::io_uring ? "io_uring" : "epoll";
}

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::socket_failed: return "socket setup failed";
    case errc::address_in_use: return "address in use";
    case errc::io_uring_unavailable: return "io_uring unavailable";
    case errc::io_uring_missing_feature: return "io_uring lacks a needed feature";
    case errc::epoll_failed: return "epoll setup failed";
    case errc::out_of_memory: return "out of memory";
    case errc::thread_failed: return "thread creation failed";
    }
    return "unknown runtime error";
}

} // namespace ainet::runtime
