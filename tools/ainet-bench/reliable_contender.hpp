#pragma once
// ainet-bench reliable: what one reliable-messaging implementation ("contender") must do so
// that it can be measured side by side with the others in the same run.
//
// A contender owns both ends (a sender and a receiver, in this process, on two threads, on
// loopback or on the two sides of a lossy_path) and runs one bounded measurement per call. Throughput: the sender pushes
// message_count messages of message_size bytes on one reliable, ordered channel as fast as the
// implementation's own flow control lets it; the receiver checks order and counts; the clock runs
// from the first send to the last delivery. Ping: one message_size message at a time, echoed
// back on the same channel, RTT measured at the sender. Every call stops at duration_ms_max even
// if incomplete (complete = false says so).
//
// Contenders today: ENet (enet_contender.cpp, the baseline). The ainet reliability transport
// plugs in as a second implementation of this interface (make_ainet_contender()), so every row
// it reports has an ENet row from the same run beside it.

#include "lossy_path.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ainet::bench {

struct throughput_params {
    size_t message_size = 256;
    uint64_t message_count = 200'000;
    uint32_t duration_ms_max = 30'000;
};

struct throughput_result {
    bool complete = false;
    uint64_t messages_delivered = 0; // in order, at the receiver
    double seconds = 0;              // first send to last delivery
    uint64_t datagrams_sent = 0;     // by the sender (data and its control traffic)
    uint64_t datagrams_returned = 0; // by the receiver (acks, window updates)
    uint64_t bytes_sent = 0;         // UDP payload bytes the sender sent, headers included
    int64_t retransmissions = -1;    // as the implementation counts them; -1: not measurable
    int64_t repeats = -1; // retransmissions of a message retransmitted before; -1: unknown
    std::string error;               // non-empty: the run failed (setup, disorder, corruption)

    [[nodiscard]] double messages_per_second() const {
        return seconds > 0 ? static_cast<double>(messages_delivered) / seconds : 0;
    }
};

struct ping_params {
    size_t message_size = 32;
    uint64_t ping_count = 20'000;
    uint32_t duration_ms_max = 30'000;
};

struct ping_result {
    bool complete = false;
    std::vector<uint64_t> rtt_ns; // one per echoed ping, in send order
    std::string error;
};

class contender {
public:
    virtual ~contender() = default;
    [[nodiscard]] virtual std::string name() const = 0;
    [[nodiscard]] virtual throughput_result run_throughput(const throughput_params& params) = 0;
    [[nodiscard]] virtual ping_result run_ping(const ping_params& params) = 0;
};

// ENet 1.3 (Debian libenet-dev): one peer, one channel, ENET_PACKET_FLAG_RELIABLE (reliable and
// sequenced), default MTU (1400), window and throttle.
std::unique_ptr<contender> make_enet_contender(const bench_path& path = {});

// ainet's reliability core over UDP on loopback (ainet_contender.cpp); persist: each end's state
// in LMDB (durable commits) in a temporary directory, as ainetd keeps it; gso: each turn's
// equal-size datagrams leave as UDP_SEGMENT trains and arrive through UDP_GRO (only where the
// path drops per datagram: nft on a veth path would drop whole trains).
std::unique_ptr<contender> make_ainet_contender(bool persist, const bench_path& path = {},
                                                bool gso = false);

} // namespace ainet::bench
