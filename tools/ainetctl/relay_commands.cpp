#include "relay_commands.hpp"

#include <ainet/core/encoding.hpp>
#include <ainet/node/relay_client.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace ainet::ctl {

namespace {

struct relay_options {
    std::string relay;
    std::string key;
    std::string to;
    std::string text;
    uint32_t count = 1;
    uint32_t timeout_ms = 5000;
};

std::optional<node::relay_client> connect(const relay_options& o, int& status) {
    auto keys = crypto::load_key_file(o.key);
    if (!keys) {
        std::cerr << crypto::describe_key_file_error(o.key, keys.error()) << '\n';
        status = 1;
        return std::nullopt;
    }
    auto relay_at = parse_endpoint(o.relay);
    if (!relay_at) {
        std::cerr << "--relay " << o.relay << ": " << to_string(relay_at.error()) << '\n';
        status = 2;
        return std::nullopt;
    }
    endpoint bind_to = relay_at->family == address_family::ipv4 ? make_ipv4(0, 0, 0, 0, 0) : endpoint{};
    bind_to.family = relay_at->family;
    bind_to.port = 0;
    std::string error;
    auto client = node::relay_client::connect(*keys, *relay_at, bind_to,
                                              std::chrono::milliseconds(o.timeout_ms), error);
    if (!client) {
        std::cerr << "relay " << o.relay << ": " << error << '\n';
        status = 1;
    }
    return client;
}

int run_send(const relay_options& o) {
    int status = 0;
    node_id to;
    if (!from_hex_into(o.to, to.bytes)) {
        std::cerr << "--to: want a 64-character node id in hex\n";
        return 2;
    }
    auto client = connect(o, status);
    if (!client)
        return status;
    const bytes_view payload(reinterpret_cast<const uint8_t*>(o.text.data()), o.text.size());
    for (uint32_t i = 0; i < o.count; ++i)
        if (!client->send(to, payload))
            return 1;
    return 0;
}

int run_listen(const relay_options& o) {
    int status = 0;
    auto client = connect(o, status);
    if (!client)
        return status;
    std::cout << "listening as " << to_hex(client->id().bytes) << std::endl;
    for (uint32_t received = 0; received < o.count; ++received) {
        auto m = client->receive(std::chrono::milliseconds(o.timeout_ms));
        if (!m)
            return 1;
        std::cout << to_hex(m->source.bytes) << ' '
                  << std::string(m->payload.begin(), m->payload.end()) << std::endl;
    }
    return 0;
}

} // namespace

void add_relay_commands(CLI::App& app, int& status) {
    auto o = std::make_shared<relay_options>();
    auto* relay = app.add_subcommand("relay", "send or receive through a relay node");
    relay->require_subcommand(1);
    auto* send = relay->add_subcommand("send", "send text to a node through the relay");
    send->add_option("--relay", o->relay, "relay UDP address")->required();
    send->add_option("--key", o->key, "this agent's key file")->required();
    send->add_option("--to", o->to, "destination node id (hex)")->required();
    send->add_option("--text", o->text, "message text")->required();
    send->add_option("--count", o->count, "send it this many times")->check(CLI::Range(1u, 1000000u));
    send->add_option("--timeout-ms", o->timeout_ms, "handshake timeout");
    send->callback([o, &status] { status = run_send(*o); });
    auto* listen = relay->add_subcommand("listen", "print messages arriving through the relay");
    listen->add_option("--relay", o->relay, "relay UDP address")->required();
    listen->add_option("--key", o->key, "this agent's key file")->required();
    listen->add_option("--count", o->count, "exit after this many messages")->check(CLI::Range(1u, 1000000u));
    listen->add_option("--timeout-ms", o->timeout_ms, "give up after this long without a message");
    listen->callback([o, &status] { status = run_listen(*o); });
}

} // namespace ainet::ctl
