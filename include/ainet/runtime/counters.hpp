#pragma once
// Per-shard counters: every datagram received, sent or dropped is counted under a named reason.
//
// Each shard owns one shard_counters and is its only writer; the control thread reads them for
// /metrics. Single-writer relaxed atomics: the owner's increment is a plain load + store (no
// locked instruction), the reader sees a value that is at most a loop turn old.

#include <ainet/core/counter.hpp>

#include <atomic>
#include <cstdint>

namespace ainet::runtime {

// X(name, help): every counter a shard keeps. /metrics exports each as ainet_shard_<name>_total.
#define AINET_SHARD_COUNTERS(X)                                                                    \
    X(loop_turns, "event loop iterations")                                                         \
    X(rx_datagrams, "datagrams received (GRO trains counted per segment)")                        \
    X(rx_bytes, "payload bytes received")                                                          \
    X(rx_gro_trains, "receives that carried a GRO train of several datagrams")                    \
    X(rx_truncated, "datagrams dropped: larger than the receive buffer (MSG_TRUNC)")              \
    X(rx_bad_address, "datagrams dropped: source address of an unsupported family")               \
    X(rx_buffer_exhausted, "ENOBUFS: the provided-buffer ring ran dry; receive re-armed")         \
    X(rx_rearms, "multishot receives re-armed after the kernel ended them")                       \
    X(rx_icmp_errors, "ICMP errors reported on receive (ECONNREFUSED, EHOSTUNREACH, ...)")        \
    X(rx_errors, "receive completions with another error")                                        \
    X(rx_rearm_backoffs, "receive re-arms delayed after repeated errors (no spinning)")          \
    X(rx_syscalls, "receive system calls (epoll backend; io_uring counts enters)")                \
    X(tx_datagrams, "datagrams handed to the kernel")                                             \
    X(tx_bytes, "payload bytes handed to the kernel")                                             \
    X(tx_gso_trains, "sends that carried a GSO train of several datagrams")                       \
    X(tx_syscalls, "send system calls (sendmmsg) or io_uring submits")                            \
    X(tx_queue_full, "datagrams refused: the shard's send queue was full")                        \
    X(tx_oversize, "datagrams refused: larger than datagram_size_max")                            \
    X(tx_eagain, "datagrams dropped: socket send buffer full (EAGAIN/ENOBUFS)")                   \
    X(tx_connection_refused, "ICMP port unreachable reported on send (ECONNREFUSED)")             \
    X(tx_message_too_big, "EMSGSIZE on send")                                                      \
    X(tx_unreachable, "ENETUNREACH/EHOSTUNREACH/EADDRNOTAVAIL/EPERM on send")                     \
    X(tx_errors, "send failures with another errno")                                              \
    X(tx_gso_fallbacks, "GSO trains refused by the kernel and resent one by one")                 \
    X(tx_lent_forwards, "datagrams forwarded zero-copy from their receive buffer")                \
    X(tx_copied_forwards, "datagrams forwarded by copy (buffer not lendable or too many out)")   \
    X(cross_shard_sent, "messages posted to other shards")                                        \
    X(cross_shard_received, "messages taken from other shards' queues")                           \
    X(cross_shard_queue_full, "messages refused: a cross-shard queue was full")                   \
    X(handoffs_sent, "datagrams handed to the shard that owns their state")                       \
    X(handoffs_received, "datagrams handed over by other shards")                                 \
    X(handoffs_refused, "handoffs refused: no handoff buffer free or the queue was full")         \
    X(wakeups, "sleeps ended by another thread's wake-up")

struct shard_counters {
#define AINET_DECLARE_COUNTER(name, help) std::atomic<uint64_t> name{0};
    AINET_SHARD_COUNTERS(AINET_DECLARE_COUNTER)
#undef AINET_DECLARE_COUNTER
};

} // namespace ainet::runtime
