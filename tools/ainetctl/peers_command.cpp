#include "peers_command.hpp"

#include "table.hpp"

#include <iostream>
#include <memory>
#include <string>

namespace ainet::ctl {

namespace {

struct peers_options {
    std::string http = "127.0.0.1:8000";
    bool json = false;
};

int run_peers(const peers_options& o) {
    auto client = node_client("peers", o.http);
    if (!client)
        return 1;
    std::string raw;
    const auto peers = get_json(*client, "peers", "/peers", &raw);
    if (!peers)
        return 1;
    if (!peers->is_array()) {
        std::cerr << "ainetctl peers: the node answered something else than a JSON array\n";
        return 1;
    }
    if (o.json) {
        std::cout << raw;
        return 0;
    }
    table t({"ID", "UDP", "HTTP", "STATE", "INCARNATION", "RTT_US", "SCORE", "NETGROUP"});
    for (const auto& row : *peers) {
        const std::string http = row.value("http", std::string());
        t.row({row.value("id", std::string()).substr(0, 16), row.value("udp", std::string()),
               http.empty() ? "-" : http, row.value("state", std::string()),
               std::to_string(row.value("incarnation", uint64_t{0})),
               std::to_string(row.value("rtt_us", int64_t{-1})),
               std::to_string(row.value("score", int64_t{0})), row.value("netgroup", std::string())});
    }
    t.print(std::cout, true);
    std::cout << peers->size() << " peers\n";
    return 0;
}

} // namespace

void add_peers_command(CLI::App& app, int& status) {
    auto options = std::make_shared<peers_options>();
    auto* peers = app.add_subcommand("peers", "print the node's peer table (GET /peers)");
    peers->add_option("--http,--node", options->http, "the node's HTTP control address")
        ->capture_default_str();
    peers->add_flag("--json", options->json, "print the JSON table as the node answered it");
    peers->callback([options, &status] { status = run_peers(*options); });
}

} // namespace ainet::ctl
