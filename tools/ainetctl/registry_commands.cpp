#include "registry_commands.hpp"

#include "table.hpp"

#include <ainet/core/encoding.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/registry/entry.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

namespace ainet::ctl {

namespace {

struct registry_options {
    std::string http = "127.0.0.1:8000";
    std::string key;
    std::string public_key;
    std::string name;
    std::string value;
    std::string value_base64;
    bool remove = false;
    uint64_t hlc = 0;
    uint32_t limit = 100;
    bool verify = false;
    bool json = false;
};

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

std::unique_ptr<httplib::Client> client_for(const registry_options& o) {
    return node_client("registry", o.http, 10);
}

// Prints the answer (the body with --json, else the error) and maps the status to an exit code.
int report(const httplib::Result& res, const registry_options& o, int want_status,
           const std::function<void(const nlohmann::json&)>& print) {
    if (!res) {
        std::cerr << "ainetctl: http " << o.http << ": " << describe(res.error()) << '\n';
        return exit_failed;
    }
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != want_status) {
        if (o.json)
            std::cout << res->body;
        else
            std::cerr << "ainetctl: " << res->status << ' '
                      << (j.is_object() && j.contains("error") ? j["error"].get<std::string>()
                                                               : res->body)
                      << '\n';
        return exit_failed;
    }
    if (o.json)
        std::cout << res->body;
    else if (!j.is_discarded())
        print(j);
    return exit_ok;
}

std::string url_path_escape(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[u >> 4]);
            out.push_back(hex[u & 0xf]);
        }
    }
    return out;
}

std::string value_text(const nlohmann::json& e) {
    if (e.contains("value"))
        return e["value"].get<std::string>();
    return "base64:" + e["value_base64"].get<std::string>();
}

int run_put(const registry_options& o) {
    auto keys = crypto::load_key_file(o.key);
    if (!keys) {
        std::cerr << "ainetctl: " << crypto::describe_key_file_error(o.key, keys.error()) << '\n';
        return exit_failed;
    }
    std::string value = o.value;
    if (!o.value_base64.empty()) {
        auto decoded = from_base64(o.value_base64);
        if (!decoded) {
            std::cerr << "ainetctl: --value-base64: not base64\n";
            return exit_usage;
        }
        value.assign(decoded->begin(), decoded->end());
    }
    if (o.remove)
        value.clear();
    uint64_t hlc = o.hlc;
    if (hlc == 0) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
        hlc = static_cast<uint64_t>(ms) << 16;
    }
    const uint8_t flags = o.remove ? registry::flag_tombstone : 0;
    registry::entry e;
    e.public_key = keys->public_key_bytes();
    e.name = o.name;
    e.value = value;
    e.hlc = hlc;
    e.flags = flags;
    if (auto limits = registry::check_limits(e); !limits) {
        std::cerr << "ainetctl: entry: " << registry::to_string(limits.error()) << '\n';
        return exit_usage;
    }
    e = registry::make_entry(*keys, o.name, value, hlc, flags);
    const bytes_view value_bytes(reinterpret_cast<const uint8_t*>(e.value.data()), e.value.size());
    nlohmann::json body = {{"public_key", to_hex(e.public_key)}, {"name", e.name},
                           {"value_base64", to_base64(value_bytes)}, {"hlc", e.hlc},
                           {"flags", e.flags}, {"signature", to_hex(e.signature)}};
    auto c = client_for(o);
    if (!c)
        return exit_usage;
    auto res = c->Put("/registry/entries", body.dump(), "application/json");
    return report(res, o, 201, [&](const nlohmann::json& j) {
        std::cout << j.value("public_key", "") << ' ' << j.value("name", "") << ' '
                  << j.value("hlc", uint64_t{0}) << '\n';
    });
}

int run_get(const registry_options& o) {
    std::string pk = o.public_key;
    if (pk.empty() && !o.key.empty()) {
        auto keys = crypto::load_key_file(o.key);
        if (!keys) {
            std::cerr << "ainetctl: " << crypto::describe_key_file_error(o.key, keys.error()) << '\n';
            return exit_failed;
        }
        pk = to_hex(keys->public_key_bytes());
    }
    if (pk.empty()) {
        std::cerr << "ainetctl: registry get needs --public-key or --key\n";
        return exit_usage;
    }
    auto c = client_for(o);
    if (!c)
        return exit_usage;
    auto res = c->Get("/registry/entries/" + pk + "/" + url_path_escape(o.name));
    return report(res, o, 200, [](const nlohmann::json& j) { std::cout << value_text(j) << '\n'; });
}

int run_list(const registry_options& o) {
    std::string path = "/registry/entries?limit=" + std::to_string(o.limit);
    if (!o.public_key.empty())
        path += "&public_key=" + o.public_key;
    auto c = client_for(o);
    if (!c)
        return exit_usage;
    auto res = c->Get(path);
    return report(res, o, 200, [](const nlohmann::json& j) {
        table t({"PUBLIC_KEY", "NAME", "HLC", "VALUE"});
        for (const auto& e : j["entries"])
            t.row({e["public_key"].get<std::string>(), e["name"].get<std::string>(),
                   std::to_string(e["hlc"].get<uint64_t>()),
                   e["tombstone"].get<bool>() ? "<deleted>" : value_text(e)});
        t.print(std::cout, stdout_is_terminal());
    });
}

int run_root(const registry_options& o) {
    auto c = client_for(o);
    if (!c)
        return exit_usage;
    auto res = c->Get(o.verify ? "/registry/root?verify=1" : "/registry/root");
    int rc = report(res, o, 200, [](const nlohmann::json& j) {
        std::cout << j["root"].get<std::string>() << ' ' << j["entries"].get<uint64_t>() << '\n';
    });
    if (rc == exit_ok && o.verify) {
        auto j = nlohmann::json::parse(res->body, nullptr, false);
        if (!j.is_object() || !j.value("root_matches", false)) {
            std::cerr << "ainetctl: the root does not match the root recomputed from scratch\n";
            return exit_failed;
        }
    }
    return rc;
}

} // namespace

void add_registry_commands(CLI::App& app, int& status) {
    auto o = std::make_shared<registry_options>();
    auto* registry = app.add_subcommand("registry", "read and write a node's registry over HTTP");
    registry->require_subcommand(1);
    auto common = [&](CLI::App* sub) {
        sub->add_option("--http,--node", o->http, "the node's HTTP control address (default 127.0.0.1:8000)");
        sub->add_flag("--json", o->json, "print the node's JSON answer");
    };
    auto* put = registry->add_subcommand("put", "sign and write an entry (201 once durable)");
    common(put);
    put->add_option("--key", o->key, "the writer's key file")->required();
    put->add_option("--name", o->name, "entry name (1..64 bytes)")->required();
    put->add_option("--value", o->value, "value text");
    put->add_option("--value-base64", o->value_base64, "value bytes, base64");
    put->add_flag("--delete", o->remove, "write a tombstone");
    put->add_option("--hlc", o->hlc, "timestamp (default: the local clock, unix ms << 16)");
    put->callback([o, &status] { status = run_put(*o); });
    auto* get = registry->add_subcommand("get", "print an entry's value");
    common(get);
    get->add_option("--public-key", o->public_key, "the writer's public key (hex)");
    get->add_option("--key", o->key, "or the writer's key file");
    get->add_option("--name", o->name, "entry name")->required();
    get->callback([o, &status] { status = run_get(*o); });
    auto* list = registry->add_subcommand("list", "list entries (bounded)");
    common(list);
    list->add_option("--public-key", o->public_key, "only this writer's entries (hex)");
    list->add_option("--limit", o->limit, "at most this many")->check(CLI::Range(1u, 1000u));
    list->callback([o, &status] { status = run_list(*o); });
    auto* root = registry->add_subcommand("root", "print the Merkle root and entry count");
    common(root);
    root->add_flag("--verify", o->verify, "also recompute the root from scratch; exit 1 if it differs");
    root->callback([o, &status] { status = run_root(*o); });
}

} // namespace ainet::ctl
