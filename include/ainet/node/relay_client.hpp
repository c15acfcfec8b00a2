#pragma once
// A blocking peer of a relay, for tools, tests, the demo and the benchmark harness (not for the
// data path of a node): it opens a UDP socket, runs the hello handshake against a relay, then
// sends and receives relay_data. One thread at a time.

#include <ainet/core/endpoint.hpp>
#include <ainet/core/time.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/runtime/udp_socket.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ainet::node {

class relay_client {
public:
    struct message {
        node_id source;
        uint8_t hop_limit;
        std::vector<uint8_t> payload;
    };

    // Binds bind_to (port 0: any), then proves keys to the relay at relay_at, retrying the
    // handshake until timeout. On failure error says which step failed.
    [[nodiscard]] static std::optional<relay_client> connect(const crypto::key_pair& keys,
                                                             const endpoint& relay_at,
                                                             const endpoint& bind_to,
                                                             duration timeout, std::string& error);

    // Sends payload to destination through the relay. False if the kernel refused it.
    bool send(const node_id& destination, bytes_view payload, uint8_t hop_limit = 8);
    // Waits up to timeout for the next relay_data addressed to this client.
    [[nodiscard]] std::optional<message> receive(duration timeout);

    [[nodiscard]] const runtime::udp_socket& socket() const noexcept { return m_socket; }
    [[nodiscard]] endpoint local_endpoint() const { return m_socket.local_endpoint(); }
    [[nodiscard]] node_id id() const noexcept { return m_id; }
    [[nodiscard]] node_id relay_id() const noexcept { return m_relay_id; }

private:
    relay_client(runtime::udp_socket socket, const endpoint& relay_at, node_id id)
        : m_socket(std::move(socket)), m_relay(relay_at), m_id(id) {}

    runtime::udp_socket m_socket;
    endpoint m_relay;
    node_id m_id;
    node_id m_relay_id;
};

} // namespace ainet::node
