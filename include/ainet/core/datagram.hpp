#pragma once
// The two shapes every protocol core uses to meet the network without touching it: a received
// datagram (borrowed bytes + where they came from) and a sink to write datagrams into. The
// runtime implements the sink with its shard send queue; the simulator with its virtual
// network; tests with a vector. Sans-I/O cores see nothing else of the I/O layer.

#include <ainet/core/bytes.hpp>
#include <ainet/core/endpoint.hpp>

#include <cstring>

namespace ainet {

// A received datagram; payload is borrowed from the receiver's buffer for the current call only.
struct datagram_ref {
    bytes_view payload;
    endpoint source;
};

class datagram_sink {
public:
    // A buffer for one datagram to destination (its size is the largest datagram the sink
    // sends), or an empty span when the sink is full (the sink counts that). Exactly one
    // commit() or abandon() follows a non-empty prepare().
    [[nodiscard]] virtual mutable_bytes prepare(const endpoint& destination) noexcept = 0;
    virtual void commit(size_t size) noexcept = 0;
    virtual void abandon() noexcept = 0;

    // Copies payload out as one datagram. False if the sink is full or payload too large.
    bool send(const endpoint& destination, bytes_view payload) noexcept {
        mutable_bytes buffer = prepare(destination);
        if (buffer.empty())
            return false;
        if (payload.size() > buffer.size()) {
            abandon();
            return false;
        }
        if (!payload.empty())
            std::memcpy(buffer.data(), payload.data(), payload.size());
        commit(payload.size());
        return true;
    }

    // Forwards a datagram received in the current call with one byte changed (a relay's hop
    // limit): the same as send() of a copy of received.payload with payload[patch_offset] set
    // to patch_value. A sink that can send straight from the receive buffer (the runtime's
    // tx_queue, when its io backend lends that buffer) does so without copying and patches the
    // byte in place; received must then not be read again by the caller. False if the sink
    // is full or the payload too large (the sink counts it).
    virtual bool forward(const endpoint& destination, const datagram_ref& received,
                         size_t patch_offset, uint8_t patch_value) noexcept {
        mutable_bytes buffer = prepare(destination);
        if (buffer.empty())
            return false;
        if (received.payload.size() > buffer.size() || patch_offset >= received.payload.size()) {
            abandon();
            return false;
        }
        std::memcpy(buffer.data(), received.payload.data(), received.payload.size());
        buffer[patch_offset] = patch_value;
        commit(received.payload.size());
        return true;
    }

protected:
    ~datagram_sink() = default;
};

} // namespace ainet
