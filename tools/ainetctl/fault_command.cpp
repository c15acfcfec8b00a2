#include "fault_command.hpp"

#include <ainet/core/endpoint.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ainet::ctl {

namespace {

struct fault_options {
    std::string http = "127.0.0.1:8000";
    std::optional<double> drop, duplicate, reorder;
    std::optional<uint32_t> delay_ms, jitter_ms, reorder_window_ms;
    std::optional<int64_t> seed;
    std::vector<std::string> block;
};

int call(const std::string& http, const char* method, const std::string& body) {
    auto at = parse_endpoint(http);
    if (!at) {
        std::cerr << "ainetctl fault: --http " << http << ": not an address (IP:PORT)\n";
        return 1;
    }
    std::string host = to_string(*at);
    host = host.substr(0, host.rfind(':'));
    if (!host.empty() && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    httplib::Client client(host, at->port);
    client.set_connection_timeout(2, 0);
    client.set_read_timeout(5, 0);
    auto response = std::string(method) == "GET"
                        ? client.Get("/admin/faults")
                        : client.Post("/admin/faults", body, "application/json");
    if (!response) {
        std::cerr << "ainetctl fault: " << method << " http://" << http
                  << "/admin/faults: " << httplib::to_string(response.error()) << '\n';
        return 1;
    }
    if (response->status != 200) {
        std::cerr << "ainetctl fault: status " << response->status << ": " << response->body;
        return 1;
    }
    std::cout << response->body;
    return 0;
}

std::string settings_json(const fault_options& o) {
    nlohmann::json body = nlohmann::json::object();
    if (o.drop)
        body["drop_probability"] = *o.drop;
    if (o.duplicate)
        body["duplicate_probability"] = *o.duplicate;
    if (o.reorder)
        body["reorder_probability"] = *o.reorder;
    if (o.delay_ms)
        body["delay_ms"] = *o.delay_ms;
    if (o.jitter_ms)
        body["jitter_ms"] = *o.jitter_ms;
    if (o.reorder_window_ms)
        body["reorder_window_ms"] = *o.reorder_window_ms;
    if (o.seed)
        body["seed"] = *o.seed;
    if (!o.block.empty())
        body["block"] = o.block;
    return body.dump();
}

} // namespace

void add_fault_command(CLI::App& app, int& status) {
    auto* fault = app.add_subcommand("fault", "fault injection on a running node (/admin/faults)");
    fault->require_subcommand(1);

    auto set_options = std::make_shared<fault_options>();
    auto* set = fault->add_subcommand("set", "replace the node's fault settings");
    set->add_option("--http", set_options->http, "the node's HTTP control address")
        ->capture_default_str();
    set->add_option("--drop", set_options->drop, "drop probability of received datagrams [0,1]");
    set->add_option("--duplicate", set_options->duplicate, "duplicate probability [0,1]");
    set->add_option("--delay-ms", set_options->delay_ms, "hold every received datagram (ms)");
    set->add_option("--jitter-ms", set_options->jitter_ms, "plus uniform [0, jitter] (ms)");
    set->add_option("--reorder", set_options->reorder, "reorder probability [0,1]");
    set->add_option("--reorder-window-ms", set_options->reorder_window_ms,
                    "extra hold of a reordered datagram, uniform [1, window] (ms)");
    set->add_option("--block", set_options->block,
                    "peer address (IP or IP:PORT) to cut off both ways; repeatable");
    set->add_option("--seed", set_options->seed, "seed of the fault decisions");
    set->callback([set_options, &status] {
        status = call(set_options->http, "POST", settings_json(*set_options));
    });

    auto clear_http = std::make_shared<std::string>("127.0.0.1:8000");
    auto* clear = fault->add_subcommand("clear", "turn every fault off");
    clear->add_option("--http", *clear_http, "the node's HTTP control address")
        ->capture_default_str();
    clear->callback([clear_http, &status] { status = call(*clear_http, "POST", "{}"); });

    auto show_http = std::make_shared<std::string>("127.0.0.1:8000");
    auto* show = fault->add_subcommand("show", "print the node's fault settings (JSON)");
    show->add_option("--http", *show_http, "the node's HTTP control address")
        ->capture_default_str();
    show->callback([show_http, &status] { status = call(*show_http, "GET", ""); });
}

} // namespace ainet::ctl
