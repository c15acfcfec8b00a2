#include <ainet/node/status_service.hpp>

#include <ainet/core/encoding.hpp>
#include <ainet/node/prometheus_text.hpp>
#include <ainet/node/registry_service.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>

namespace ainet::node {

namespace {

using nlohmann::json;

uint64_t as_count(double v) { return v > 0 && std::isfinite(v) ? static_cast<uint64_t>(v) : 0; }

// The family's sum as an integer, or JSON null when the family is absent.
json count_or_null(const std::vector<metric_family>& m, std::string_view name) {
    const auto v = sum_family(m, name);
    return v ? json(as_count(*v)) : json(nullptr);
}

uint64_t count_of(const std::vector<metric_family>& m, std::string_view name) {
    return as_count(sum_family(m, name).value_or(0));
}

// The sample of family `name` labelled shard="index", 0 when absent.
uint64_t shard_value(const std::vector<metric_family>& m, std::string_view name, uint16_t index) {
    const metric_family* f = find_family(m, name);
    if (f == nullptr)
        return 0;
    const std::string want = std::to_string(index);
    for (const auto& s : f->samples)
        for (const auto& [label, value] : s.labels)
            if (label == "shard" && value == want)
                return as_count(s.value);
    return 0;
}

json render_status(relay_node& node, const node_id& self, const status_options& options,
                   std::chrono::steady_clock::time_point started) {
    json out;
    out["node_id"] = to_hex(self.bytes);
    out["version"] = options.version;
    out["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    out["udp"] = to_string(node.udp_endpoint());
    out["http"] = to_string(node.http_endpoint());
    if (const auto open = node.public_http_endpoint())
        out["public_http"] = to_string(*open);
    out["backend"] = std::string(runtime::to_string(node.backend()));
    out["backend_fallback"] = node.backend_fallback_reason();
    out["shard_count"] = node.shard_count();

    std::string error;
    auto metrics = parse_prometheus_text(node.render_metrics(), error);
    if (!metrics) { // a bug in a renderer: say so rather than guess
        out["error"] = "cannot parse the node's own /metrics: " + error;
        return out;
    }
    const auto& m = *metrics;
    json shards = json::array();
    for (uint16_t i = 0; i < node.shard_count(); ++i)
        shards.push_back({{"shard", i},
                          {"backend", out["backend"]},
                          {"rx_datagrams", shard_value(m, "ainet_shard_rx_datagrams_total", i)},
                          {"tx_datagrams", shard_value(m, "ainet_shard_tx_datagrams_total", i)}});
    out["shards"] = std::move(shards);

    if (find_family(m, "ainet_membership_members_alive") != nullptr) {
        out["peers"] = {{"alive", count_of(m, "ainet_membership_members_alive")},
                        {"suspect", count_of(m, "ainet_membership_members_suspect")},
                        {"unreachable", count_of(m, "ainet_membership_members_unreachable")},
                        {"dead", count_of(m, "ainet_membership_members_dead")}};
        out["partition"] = {
            {"suspected", count_of(m, "ainet_membership_partition_suspected") != 0},
            {"events", count_of(m, "ainet_membership_partition_events_total")}};
    } else {
        out["peers"] = nullptr;
        out["partition"] = nullptr;
    }

    if (options.registry != nullptr) {
        const registry_answer root = options.registry->root(false);
        if (root.status == 200)
            out["registry"] = {{"entries", root.entry_count},
                               {"root", root.root_hex.substr(0, options.root_prefix_size)}};
        else
            out["registry"] = {{"entries", count_or_null(m, "ainet_registry_entries")},
                               {"root", nullptr},
                               {"error", "shard 0 did not answer in time"}};
    } else if (find_family(m, "ainet_registry_entries") != nullptr) {
        out["registry"] = {{"entries", count_of(m, "ainet_registry_entries")}, {"root", nullptr}};
    } else {
        out["registry"] = nullptr;
    }

    if (find_family(m, "ainet_messaging_inbox_messages") != nullptr)
        out["messaging"] = {{"outbox", count_or_null(m, "ainet_messaging_outbox_messages")},
                            {"inbox", count_of(m, "ainet_messaging_inbox_messages")},
                            {"long_polls_waiting",
                             count_or_null(m, "ainet_messaging_long_polls_waiting")}};
    else
        out["messaging"] = nullptr;

    out["discovery"] = find_family(m, "ainet_discovery_known_nodes") != nullptr
                           ? json{{"known_nodes", count_of(m, "ainet_discovery_known_nodes")}}
                           : json(nullptr);

    json rejected = json::object();
    for (const auto& f : m)
        if (f.name.rfind("ainet_http_rejected_", 0) == 0 && f.name.size() > 26)
            rejected[f.name.substr(20, f.name.size() - 26)] = count_of(m, f.name);
    out["http_control"] = {{"threads", count_of(m, "ainet_http_threads")},
                           {"threads_busy", count_of(m, "ainet_http_threads_busy")},
                           {"connections_queued", count_of(m, "ainet_http_connections_queued")},
                           {"served", count_of(m, "ainet_http_served_total")},
                           {"rejected", std::move(rejected)}};
    return out;
}

} // namespace

void install_status(relay_node& node, const node_id& self, status_options options) {
    const auto started = std::chrono::steady_clock::now();
    node.handle_http("GET", "/status", [&node, self, options, started](const http_request&) {
        return http_response{200, "application/json",
                             render_status(node, self, options, started).dump() + "\n"};
    });
}

} // namespace ainet::node
