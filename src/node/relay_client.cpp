#include <ainet/node/relay_client.hpp>

#include <ainet/relay/relay_core.hpp>

#include <ainet/wire/handshake.hpp>
#include <ainet/wire/header.hpp>
#include <ainet/wire/relay_data.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <thread>

namespace ainet::node {

namespace {

using clock = std::chrono::steady_clock;

bool send_to(const runtime::udp_socket& s, const endpoint& to, bytes_view bytes) {
    const runtime::socket_address address = runtime::to_sockaddr(to);
    return ::sendto(s.fd(), bytes.data(), bytes.size(), 0,
                    reinterpret_cast<const sockaddr*>(&address.storage), address.size) ==
           static_cast<ssize_t>(bytes.size());
}

// Receives one datagram from `from` within timeout; other senders' datagrams are skipped.
std::optional<std::vector<uint8_t>> receive_from(const runtime::udp_socket& s, const endpoint& from,
                                                 duration timeout) {
    const auto deadline = clock::now() + timeout;
    std::array<uint8_t, 65536> buffer{};
    while (clock::now() < deadline) {
        pollfd p{s.fd(), POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0)
            continue;
        runtime::socket_address address;
        address.size = sizeof(address.storage);
        const ssize_t got = ::recvfrom(s.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                       reinterpret_cast<sockaddr*>(&address.storage), &address.size);
        endpoint source;
        if (got < 0 || !runtime::from_sockaddr(reinterpret_cast<const sockaddr*>(&address.storage),
                                               address.size, source) ||
            source != from)
            continue;
        return std::vector<uint8_t>(buffer.begin(), buffer.begin() + got);
    }
    return std::nullopt;
}

template <class Message>
std::vector<uint8_t> encode(const Message& m) {
    std::vector<uint8_t> out(wire::encoded_size(m));
    if (!wire::encode(m, out))
        out.clear();
    return out;
}

} // namespace

std::optional<relay_client> relay_client::connect(const crypto::key_pair& keys, const endpoint& relay_at,
                                                  const endpoint& bind_to, duration timeout,
                                                  std::string& error) {
    runtime::socket_options options;
    options.reuse_port = false;
    auto socket = runtime::udp_socket::open(bind_to, options);
    if (!socket) {
        error = "cannot bind " + to_string(bind_to) + ": " + std::string(runtime::to_string(socket.error()));
        return std::nullopt;
    }
    relay_client client(std::move(socket).value(), relay_at, keys.id());
    const auto deadline = clock::now() + timeout;
    // Each attempt waits a fraction of the budget, so a lost datagram costs one retry.
    const duration attempt = std::max<duration>(std::chrono::milliseconds(50), timeout / 5);
    wire::hello_request request;
    request.sender = keys.id();
    error = "no hello_challenge from " + to_string(relay_at);
    while (clock::now() < deadline) {
        if (!send_to(client.m_socket, relay_at, encode(request))) {
            // Unreachable or refused: wait a little rather than spin until the deadline.
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        auto reply = receive_from(client.m_socket, relay_at, attempt);
        if (!reply)
            continue;
        auto view = wire::decode_datagram(*reply);
        if (!view || view->head.type != wire::message_type::hello_challenge)
            continue;
        auto challenge = wire::decode_hello_challenge(view->payload);
        if (!challenge)
            continue;
        const wire::hello h = relay::sign_hello(keys, *challenge);
        error = "no hello_ack from " + to_string(relay_at);
        if (!send_to(client.m_socket, relay_at, encode(h))) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        auto ack_bytes = receive_from(client.m_socket, relay_at, attempt);
        if (!ack_bytes)
            continue;
        auto ack_view = wire::decode_datagram(*ack_bytes);
        if (!ack_view || ack_view->head.type != wire::message_type::hello_ack)
            continue;
        auto ack = wire::decode_hello_ack(ack_view->payload);
        if (!ack)
            continue;
        client.m_relay_id = ack->relay;
        error.clear();
        return client;
    }
    return std::nullopt;
}

bool relay_client::send(const node_id& destination, bytes_view payload, uint8_t hop_limit) {
    wire::relay_data m;
    m.destination = destination;
    m.source = m_id;
    m.hop_limit = hop_limit;
    m.payload = payload;
    const auto bytes = encode(m);
    return !bytes.empty() && send_to(m_socket, m_relay, bytes);
}

std::optional<relay_client::message> relay_client::receive(duration timeout) {
    const auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
        auto bytes = receive_from(m_socket, m_relay, deadline - clock::now());
        if (!bytes)
            return std::nullopt;
        auto view = wire::decode_datagram(*bytes);
        if (!view || view->head.type != wire::message_type::relay_data)
            continue;
        auto data = wire::decode_relay_data(view->payload);
        if (!data || data->destination != m_id)
            continue;
        return message{data->source, data->hop_limit,
                       std::vector<uint8_t>(data->payload.begin(), data->payload.end())};
    }
    return std::nullopt;
}

} // namespace ainet::node
