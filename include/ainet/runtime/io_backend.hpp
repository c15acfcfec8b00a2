#pragma once
// The io backend a shard drives: receive datagrams in batches, send queued datagrams in
// batches, sleep until something happens. Two implementations share this interface and its
// tests: io_uring (multishot recvmsg on a provided-buffer ring, sendmsg SQEs, one submit per
// loop turn) and epoll (recvmmsg / sendmmsg), chosen at start-up by probing (make_io_backend).
//
// Both split UDP_GRO trains into datagrams on receive and build UDP_SEGMENT (GSO) trains on
// send from consecutive datagrams to one destination with one size. Every errno is mapped to a
// named counter (counters.hpp). Owned and called by one shard thread, except wake(). Both lend
// their receive buffers to the send queue for zero-copy forwards (lender()).

#include <ainet/core/bytes.hpp>
#include <ainet/core/datagram.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/core/time.hpp>
#include <ainet/runtime/counters.hpp>
#include <ainet/runtime/errc.hpp>
#include <ainet/runtime/tx_queue.hpp>
#include <ainet/runtime/udp_socket.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace ainet::runtime {

// A received datagram: payload borrowed from the backend's buffer until on_datagrams returns.
using rx_datagram = datagram_ref;

class rx_handler {
public:
    virtual void on_datagrams(std::span<const rx_datagram> batch) noexcept = 0;

protected:
    ~rx_handler() = default;
};

enum class backend_kind : uint8_t { io_uring, epoll };
[[nodiscard]] std::string_view to_string(backend_kind kind) noexcept;

enum class backend_choice : uint8_t { automatic, io_uring, epoll };

struct backend_config {
    uint32_t batch_size = 64;            // datagrams per receive / send call
    uint32_t recv_buffer_count = 4096;   // io_uring provided buffers (power of two)
    uint32_t datagram_size_max = 1472;   // without GRO, receive buffers hold one datagram
    bool gso = true;                     // build UDP_SEGMENT trains on send
};

class io_backend {
public:
    virtual ~io_backend() = default;
    [[nodiscard]] virtual backend_kind kind() const noexcept = 0;

    // Delivers what has arrived to handler (in batches), reaps send completions, and, if nothing
    // arrived, sleeps up to timeout or until wake(). timeout zero: never sleeps.
    virtual void poll(duration timeout, rx_handler& handler) noexcept = 0;

    // Hands every pending datagram of tx to the kernel (or drops it, counted), in GSO trains
    // where they line up. Slots return to tx when the kernel is done with them.
    virtual void flush(tx_queue& tx) noexcept = 0;

    // Any thread: ends a sleep in poll() (or makes the next one return at once).
    virtual void wake() noexcept = 0;

    // The lender of this backend's receive buffers for zero-copy forwards (tx_queue::forward),
    // or nullptr. A lent buffer stays out of the receive path until its send completed (io_uring:
    // its completion; epoll: the synchronous flush). Contract: flush() the queue that borrowed
    // before the next poll() (the shard loop does); the epoll backend asserts it.
    [[nodiscard]] virtual rx_buffer_lender* lender() noexcept { return nullptr; }
};

// Opens the backend over socket (which it borrows; the caller keeps it alive). automatic tries
// io_uring first and falls back to epoll when io_uring is missing, refused or lacks a feature;
// the reason lands in fallback_reason.
[[nodiscard]] result<std::unique_ptr<io_backend>> make_io_backend(
    backend_choice choice, const udp_socket& socket, const backend_config& config,
    shard_counters& counters, std::string* fallback_reason = nullptr);

// Exposed for tests and benchmarks.
[[nodiscard]] result<std::unique_ptr<io_backend>> make_epoll_backend(
    const udp_socket& socket, const backend_config& config, shard_counters& counters);
[[nodiscard]] result<std::unique_ptr<io_backend>> make_io_uring_backend(
    const udp_socket& socket, const backend_config& config, shard_counters& counters);

} // namespace ainet::runtime
