#include "peers_command.hpp"

#include <ainet/core/endpoint.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdio>
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
    auto at = parse_endpoint(o.http);
    if (!at) {
        std::cerr << "ainetctl peers: --http " << o.http << ": not an address (IP:PORT)\n";
        return 1;
    }
    std::string host = to_string(*at);
    host = host.substr(0, host.rfind(':'));
    if (!host.empty() && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    httplib::Client client(host, at->port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(5, 0);
    auto response = client.Get("/peers");
    if (!response || response->status != 200) {
        std::cerr << "ainetctl peers: GET http://" << o.http << "/peers: "
                  << (response ? "status " + std::to_string(response->status)
                               : httplib::to_string(response.error()))
                  << '\n';
        return 1;
    }
    const auto table = nlohmann::json::parse(response->body, nullptr, false);
    if (table.is_discarded() || !table.is_array()) {
        std::cerr << "ainetctl peers: the node answered something else than a JSON array\n";
        return 1;
    }
    if (o.json) {
        std::cout << response->body;
        return 0;
    }
    std::printf("%-16s %-22s %-22s %-11s %14s %9s %6s %-16s\n", "ID", "UDP", "HTTP", "STATE",
                "INCARNATION", "RTT_US", "SCORE", "NETGROUP");
    for (const auto& row : table) {
        const std::string id = row.value("id", std::string());
        const std::string http = row.value("http", std::string());
        std::printf("%-16s %-22s %-22s %-11s %14llu %9lld %6lld %-16s\n",
                    id.substr(0, 16).c_str(), row.value("udp", std::string()).c_str(),
                    http.empty() ? "-" : http.c_str(), row.value("state", std::string()).c_str(),
                    static_cast<unsigned long long>(row.value("incarnation", uint64_t{0})),
                    static_cast<long long>(row.value("rtt_us", int64_t{-1})),
                    static_cast<long long>(row.value("score", int64_t{0})),
                    row.value("netgroup", std::string()).c_str());
    }
    std::printf("%zu peers\n", table.size());
    return 0;
}

} // namespace

void add_peers_command(CLI::App& app, int& status) {
    auto options = std::make_shared<peers_options>();
    auto* peers = app.add_subcommand("peers", "print the node's peer table (GET /peers)");
    peers->add_option("--http", options->http, "the node's HTTP control address")
        ->capture_default_str();
    peers->add_flag("--json", options->json, "print the JSON table as the node answered it");
    peers->callback([options, &status] { status = run_peers(*options); });
}

} // namespace ainet::ctl
