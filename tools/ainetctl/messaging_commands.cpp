#include "messaging_commands.hpp"

#include "table.hpp"

#include <ainet/core/encoding.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

namespace ainet::ctl {
namespace {

struct messaging_options {
    std::string node = "127.0.0.1:8000";
    std::string to;
    uint32_t channel = 0;
    std::string body;
    std::string file;
    uint64_t wait_ms = 0;
    uint64_t max = 1024;
    bool ack = false;
    bool json = false;
};

std::unique_ptr<httplib::Client> client_for(const char* command, const std::string& node,
                                            uint64_t wait_ms) {
    return node_client(command, node, static_cast<time_t>(wait_ms / 1000 + 10));
}

int run_send(const messaging_options& o) {
    std::string body = o.body;
    if (!o.file.empty()) {
        std::ifstream in(o.file, std::ios::binary);
        if (!in) {
            std::cerr << "ainetctl send: cannot read " << o.file << '\n';
            return 2;
        }
        body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    nlohmann::json request = {
        {"to", o.to},
        {"channel", o.channel},
        {"body", to_base64(bytes_view(reinterpret_cast<const uint8_t*>(body.data()), body.size()))}};
    auto client = client_for("send", o.node, 0);
    if (!client)
        return 2;
    auto response = client->Post("/messages", request.dump(), "application/json");
    if (!response) {
        std::cerr << "ainetctl send: " << o.node << ": " << describe(response.error())
                  << '\n';
        return 1;
    }
    auto answer = nlohmann::json::parse(response->body, nullptr, false);
    if (response->status != 202 || !answer.is_object() || !answer.contains("id")) {
        std::cerr << "ainetctl send: HTTP " << response->status << ": "
                  << (answer.is_object() && answer.contains("error")
                          ? answer["error"].get<std::string>()
                          : response->body)
                  << '\n';
        return 1;
    }
    if (o.json)
        std::cout << answer.dump() << '\n';
    else
        std::cout << answer["id"].get<uint64_t>() << '\n';
    return 0;
}

int run_recv(const messaging_options& o) {
    auto client = client_for("recv", o.node, o.wait_ms);
    if (!client)
        return 2;
    const std::string path = "/messages?channel=" + std::to_string(o.channel) +
                             "&wait_ms=" + std::to_string(o.wait_ms) +
                             "&max=" + std::to_string(o.max);
    auto response = client->Get(path);
    if (!response) {
        std::cerr << "ainetctl recv: " << o.node << ": " << describe(response.error())
                  << '\n';
        return 2;
    }
    auto answer = nlohmann::json::parse(response->body, nullptr, false);
    if (response->status != 200 || !answer.is_object() || !answer.contains("messages")) {
        std::cerr << "ainetctl recv: HTTP " << response->status << ": " << response->body << '\n';
        return 2;
    }
    std::vector<uint64_t> ids;
    table t({"ID", "FROM", "SEQ", "BODY"});
    for (const auto& m : answer["messages"]) {
        ids.push_back(m["id"].get<uint64_t>());
        auto body = from_base64(m["body"].get<std::string>());
        t.row({std::to_string(m["id"].get<uint64_t>()), m["from"].get<std::string>(),
               std::to_string(m["seq"].get<uint64_t>()),
               body ? std::string(body->begin(), body->end()) : std::string("?")});
    }
    if (o.json)
        std::cout << answer.dump() << '\n';
    else
        t.print(std::cout, stdout_is_terminal());
    std::cout.flush();
    if (o.ack && !ids.empty()) {
        nlohmann::json request = {{"ids", ids}};
        auto acked = client->Post("/messages/ack", request.dump(), "application/json");
        if (!acked || acked->status != 200) {
            std::cerr << "ainetctl recv: ack failed\n";
            return 2;
        }
    }
    return ids.empty() ? 1 : 0;
}

} // namespace

void add_messaging_commands(CLI::App& app, int& status) {
    auto o = std::make_shared<messaging_options>();
    auto* send = app.add_subcommand("send", "send a reliable message through a node (HTTP)");
    send->add_option("--node,--http", o->node, "the node's HTTP control address")
        ->capture_default_str();
    send->add_option("--to", o->to, "destination node id (hex)")->required();
    send->add_option("--channel", o->channel, "channel (u32)")->required();
    auto* body = send->add_option("--body", o->body, "message text");
    auto* file = send->add_option("--file", o->file, "message bytes from a file");
    body->excludes(file);
    send->add_flag("--json", o->json, "print the node's JSON answer {\"id\": N}");
    send->callback([o, &status] {
        if (o->body.empty() && o->file.empty())
            std::cerr << "ainetctl send: sending an empty message (no --body or --file)\n";
        status = run_send(*o);
    });

    auto* recv = app.add_subcommand("recv", "receive reliable messages from a node (HTTP)");
    recv->add_option("--node,--http", o->node, "the node's HTTP control address")
        ->capture_default_str();
    recv->add_option("--channel", o->channel, "channel (u32)")->required();
    recv->add_option("--wait-ms", o->wait_ms, "wait this long for a message (long poll)");
    recv->add_option("--max", o->max, "return at most this many messages");
    recv->add_flag("--ack", o->ack, "acknowledge what was printed");
    recv->add_flag("--json", o->json, "print the node's JSON answer {\"messages\": [...]}");
    recv->callback([o, &status] { status = run_recv(*o); });
}

} // namespace ainet::ctl
