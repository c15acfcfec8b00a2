#include "status_commands.hpp"

#include "table.hpp"

#include <ainet/node/prometheus_text.hpp>

#include <cmath>
#include <iostream>
#include <memory>
#include <string>

namespace ainet::ctl {

namespace {

struct status_options {
    std::string http = "127.0.0.1:8000";
    std::string filter;
    bool json = false;
};

// A JSON value as a table cell: strings bare, null as "-".
std::string cell(const nlohmann::json& v) {
    if (v.is_null())
        return "-";
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_boolean())
        return v.get<bool>() ? "yes" : "no";
    return v.dump();
}

std::string at(const nlohmann::json& j, const char* section, const char* field) {
    if (!j.contains(section) || !j[section].is_object() || !j[section].contains(field))
        return "-";
    return cell(j[section][field]);
}

int run_status(const status_options& o) {
    auto client = node_client("status", o.http);
    if (!client)
        return 2;
    std::string raw;
    auto s = get_json(*client, "status", "/status", &raw);
    if (!s || !s->is_object()) {
        if (s)
            std::cerr << "ainetctl status: the node answered something else than a JSON object\n";
        return 1;
    }
    if (o.json) {
        std::cout << raw;
        return 0;
    }
    const auto& j = *s;
    table fields({"FIELD", "VALUE"});
    fields.row({"node_id", cell(j.value("node_id", nlohmann::json()))});
    fields.row({"version", cell(j.value("version", nlohmann::json()))});
    fields.row({"uptime", human_duration(j.value("uptime_s", uint64_t{0}))});
    fields.row({"udp", cell(j.value("udp", nlohmann::json()))});
    fields.row({"http", cell(j.value("http", nlohmann::json()))});
    std::string backend = cell(j.value("backend", nlohmann::json()));
    if (const std::string why = j.value("backend_fallback", std::string()); !why.empty())
        backend += " (fallback: " + why + ")";
    fields.row({"backend", backend});
    fields.row({"shards", cell(j.value("shard_count", nlohmann::json()))});
    if (j.contains("peers") && j["peers"].is_object())
        fields.row({"peers", "alive " + at(j, "peers", "alive") + ", suspect " +
                                 at(j, "peers", "suspect") + ", unreachable " +
                                 at(j, "peers", "unreachable") + ", dead " + at(j, "peers", "dead")});
    else
        fields.row({"peers", "- (membership not running)"});
    if (j.contains("partition") && j["partition"].is_object())
        fields.row({"partition", std::string(j["partition"].value("suspected", false)
                                                 ? "SUSPECTED"
                                                 : "none") +
                                     " (" + at(j, "partition", "events") + " transitions)"});
    else
        fields.row({"partition", "-"});
    if (j.contains("registry") && j["registry"].is_object())
        fields.row({"registry", at(j, "registry", "entries") + " entries, root " +
                                    at(j, "registry", "root") +
                                    (j["registry"].contains("error")
                                         ? " (" + at(j, "registry", "error") + ")"
                                         : "")});
    else
        fields.row({"registry", "-"});
    if (j.contains("messaging") && j["messaging"].is_object())
        fields.row({"messaging", "outbox " + at(j, "messaging", "outbox") + ", inbox " +
                                     at(j, "messaging", "inbox") + ", long polls " +
                                     at(j, "messaging", "long_polls_waiting")});
    else
        fields.row({"messaging", "-"});
    fields.row({"discovery", j.contains("discovery") && j["discovery"].is_object()
                                 ? at(j, "discovery", "known_nodes") + " known nodes"
                                 : "-"});
    if (j.contains("http_control") && j["http_control"].is_object()) {
        const auto& h = j["http_control"];
        std::string rejected;
        if (h.contains("rejected") && h["rejected"].is_object())
            for (const auto& [reason, count] : h["rejected"].items())
                if (count.is_number() && count.get<uint64_t>() != 0)
                    rejected += (rejected.empty() ? "" : ", ") + reason + " " + count.dump();
        fields.row({"http control", at(j, "http_control", "threads_busy") + "/" +
                                        at(j, "http_control", "threads") + " threads busy, " +
                                        at(j, "http_control", "connections_queued") +
                                        " queued; rejected: " +
                                        (rejected.empty() ? "none" : rejected)});
    }
    fields.print(std::cout, true);
    if (j.contains("shards") && j["shards"].is_array() && !j["shards"].empty()) {
        table shards({"SHARD", "BACKEND", "RX_DATAGRAMS", "TX_DATAGRAMS"});
        for (const auto& row : j["shards"])
            shards.row({cell(row.value("shard", nlohmann::json())),
                        cell(row.value("backend", nlohmann::json())),
                        cell(row.value("rx_datagrams", nlohmann::json())),
                        cell(row.value("tx_datagrams", nlohmann::json()))});
        std::cout << '\n';
        shards.print(std::cout, true);
    }
    return 0;
}

std::string number(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15)
        return std::to_string(static_cast<long long>(v));
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    char text[64];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

std::string labels_text(const node::metric_sample& s) {
    std::string out;
    for (const auto& [k, v] : s.labels)
        out += (out.empty() ? "" : ",") + k + "=" + v;
    return out;
}

bool wanted(const std::string& name, const std::string& filter) {
    return filter.empty() || name.rfind(filter, 0) == 0 || name.rfind("ainet_" + filter, 0) == 0;
}

int run_metrics(const status_options& o) {
    auto client = node_client("metrics", o.http);
    if (!client)
        return 2;
    auto response = client->Get("/metrics");
    if (!response || response->status != 200) {
        std::cerr << "ainetctl metrics: GET /metrics: "
                  << (response ? "HTTP " + std::to_string(response->status)
                               : describe(response.error()))
                  << '\n';
        return 1;
    }
    std::string error;
    auto families = node::parse_prometheus_text(response->body, error);
    if (!families) {
        std::cerr << "ainetctl metrics: the answer is not Prometheus text: " << error << '\n';
        return 1;
    }
    if (o.json) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& f : *families) {
            if (!wanted(f.name, o.filter))
                continue;
            nlohmann::json samples = nlohmann::json::array();
            for (const auto& s : f.samples) {
                nlohmann::json labels = nlohmann::json::object();
                for (const auto& [k, v] : s.labels)
                    labels[k] = v;
                nlohmann::json value = std::isfinite(s.value) ? nlohmann::json(s.value)
                                                              : nlohmann::json(number(s.value));
                if (std::isfinite(s.value) && s.value == std::floor(s.value) && s.value >= 0 &&
                    s.value < 1.8e19)
                    value = static_cast<uint64_t>(s.value);
                samples.push_back({{"name", s.name}, {"labels", labels}, {"value", value}});
            }
            out[f.name] = {{"type", f.type}, {"help", f.help}, {"samples", samples}};
        }
        std::cout << out.dump() << '\n';
        return 0;
    }
    table t({"METRIC", "TYPE", "LABELS", "VALUE"});
    for (const auto& f : *families) {
        if (!wanted(f.name, o.filter))
            continue;
        if (f.samples.size() == 1 && f.samples[0].labels.empty()) {
            t.row({f.name, f.type, "", number(f.samples[0].value)});
            continue;
        }
        double total = 0;
        for (const auto& s : f.samples)
            total += s.value;
        // A sum over label sets means something for counters and gauges only.
        const bool summable = f.type == "counter" || f.type == "gauge";
        t.row({f.name, f.type, "(" + std::to_string(f.samples.size()) + " series)",
               summable ? number(total) : "-"});
        for (const auto& s : f.samples)
            t.row({"  " + (s.name == f.name ? std::string() : s.name), "", labels_text(s),
                   number(s.value)});
    }
    t.print(std::cout, true);
    return 0;
}

} // namespace

void add_status_commands(CLI::App& app, int& status) {
    auto o = std::make_shared<status_options>();
    auto* st = app.add_subcommand("status", "print a node's status (GET /status)");
    st->add_option("--http,--node", o->http, "the node's HTTP control address")
        ->capture_default_str();
    st->add_flag("--json", o->json, "print the node's JSON answer");
    st->callback([o, &status] { status = run_status(*o); });

    auto* metrics = app.add_subcommand("metrics", "print a node's metrics as a table (GET /metrics)");
    metrics->add_option("--http,--node", o->http, "the node's HTTP control address")
        ->capture_default_str();
    metrics->add_option("--filter", o->filter, "only families starting with PREFIX (or ainet_PREFIX)");
    metrics->add_flag("--json", o->json, "print {family: {type, help, samples}} as JSON");
    metrics->callback([o, &status] { status = run_metrics(*o); });
}

} // namespace ainet::ctl
