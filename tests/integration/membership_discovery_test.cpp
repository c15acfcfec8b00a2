// Goal: real ainetd processes find each other from a bootstrap file that names only the first
// node (discovery over HTTP, membership over UDP), each on its own /16 of 127.0.0.0/8; a node
// killed with SIGKILL is declared dead by the others and found again when it restarts with its
// key and data directory. And a node whose bootstrap servers are hostile (forged list
// signature, forged record, expired record, oversized list, garbage) rejects every list or
// record, counts each reason in /metrics, and merges none of their nodes. One node of the
// cluster listens on wildcard addresses and announces reachable ones (membership.advertise_*);
// the restarted node comes back above its old incarnation (data/membership.state).
//
// The ainetd binary comes from the AINETD environment variable (meson sets it). Every wait is
// bounded; on failure the peer tables and the daemons' logs are printed.
#define CATCH_CONFIG_MAIN
#include <ainet/core/encoding.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/discovery/bootstrap_document.hpp>

#include "../unit/config/temp_dir.hpp"
#include "ainetd_process.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace ainet;
namespace fs = std::filesystem;

using test::read_text;
using test::write_text;

namespace {

crypto::key_pair keys_for(uint8_t group, uint8_t n) {
    crypto::seed s{};
    s[0] = 0x5e;
    s[1] = group;
    s[2] = n;
    s[3] = static_cast<uint8_t>(::getpid()); // concurrent runs get other identities
    return crypto::key_pair::from_seed(s);
}

std::string id_hex(const crypto::key_pair& k) { return to_hex(k.id().bytes); }





// One ainetd process with the addresses it listens on.
struct ainetd_process : test::ainetd_process {
    std::string udp;
    std::string http;
};

std::pair<std::string, int> split(const std::string& address) {
    const auto colon = address.rfind(':');
    return {address.substr(0, colon), std::stoi(address.substr(colon + 1))};
}

std::optional<std::string> http_get(const std::string& address, const std::string& path) {
    const auto [host, port] = split(address);
    httplib::Client client(host, port);
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(3, 0);
    auto response = client.Get(path.c_str());
    if (!response || response->status != 200)
        return std::nullopt;
    return response->body;
}

// id -> state from GET /peers (empty when the node does not answer).
std::map<std::string, std::string> peer_states(const ainetd_process& d) {
    std::map<std::string, std::string> states;
    auto body = http_get(d.http, "/peers");
    if (!body)
        return states;
    const auto table = nlohmann::json::parse(*body, nullptr, false);
    if (!table.is_array())
        return states;
    for (const auto& row : table)
        states[row.value("id", std::string())] = row.value("state", std::string());
    return states;
}

// The value of one sample line of /metrics ("name{labels}" exactly), or -1.
double metric(const ainetd_process& d, const std::string& sample) {
    auto body = http_get(d.http, "/metrics");
    if (!body)
        return -1;
    std::istringstream lines(*body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() > sample.size() && line.compare(0, sample.size(), sample) == 0 &&
            line[sample.size()] == ' ')
            return std::stod(line.substr(sample.size() + 1));
    }
    return -1;
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return done();
}

std::string bootstrap_json(const std::vector<std::tuple<std::string, std::string, std::string>>& nodes) {
    std::string text = "{\"version\":1,\"nodes\":[";
    for (size_t i = 0; i < nodes.size(); ++i) {
        const auto& [key, udp, http] = nodes[i];
        text += (i ? "," : "") + std::string("{\"public_key\":\"") + key + "\",\"udp\":\"" + udp +
                "\",\"http\":\"" + http + "\"}";
    }
    return text + "]}";
}

// wildcard: listen on 0.0.0.0 and announce the 127.net.0.1 addresses through
// membership.advertise_udp / advertise_http instead.
void write_node(ainetd_process& d, const fs::path& dir, const crypto::key_pair& keys, int net,
                uint16_t port, const std::string& bootstrap, bool wildcard = false) {
    d.dir = dir;
    fs::create_directories(dir);
    REQUIRE(crypto::save_key_file(dir / "node.key", keys));
    d.udp = "127." + std::to_string(net) + ".0.1:" + std::to_string(port);
    d.http = "127." + std::to_string(net) + ".0.1:" + std::to_string(port + 1);
    const std::string listen_udp = wildcard ? "0.0.0.0:" + std::to_string(port) : d.udp;
    const std::string listen_http = wildcard ? "0.0.0.0:" + std::to_string(port + 1) : d.http;
    const std::string advertise = wildcard ? ",\"membership\":{\"advertise_udp\":\"" + d.udp +
                                                 "\",\"advertise_http\":\"" + d.http + "\"}"
                                           : std::string();
    write_text(dir / "bootstrap.json", bootstrap);
    write_text(
        dir / "node.json",
        "{\"key_file\":\"node.key\",\"udp_listen\":\"" + listen_udp + "\",\"http_listen\":\"" +
            listen_http + "\",\"data_dir\":\"data\",\"shard_count\":2," +
            "\"bootstrap_file\":\"bootstrap.json\",\"log_level\":\"info\"" + advertise + "}");
}

std::string describe(const std::vector<std::unique_ptr<ainetd_process>>& nodes) {
    std::string out;
    for (const auto& d : nodes) {
        out += "--- " + d->http + " /peers:\n" + http_get(d->http, "/peers").value_or("(none)\n");
        out += "--- log:\n" + read_text(d->dir / "log");
    }
    return out;
}

unix_ms wall() { return unix_ms{static_cast<int64_t>(std::time(nullptr)) * 1000}; }

} // namespace

TEST_CASE("ainetd nodes discover each other from one bootstrap entry, detect a crash and a "
          "restart") {
    REQUIRE(crypto::init());
    test::temp_dir tmp;
    const uint16_t port = test::free_port_base(4);
    constexpr int node_count = 5;
    std::vector<crypto::key_pair> keys;
    std::vector<std::unique_ptr<ainetd_process>> nodes;
    for (int i = 0; i < node_count; ++i) {
        keys.push_back(keys_for(1, static_cast<uint8_t>(i)));
        nodes.push_back(std::make_unique<ainetd_process>());
    }
    const std::string first_udp = "127.1.0.1:" + std::to_string(port);
    const std::string first_http = "127.1.0.1:" + std::to_string(port + 1);
    for (int i = 0; i < node_count; ++i) {
        // Only the first node is named anywhere; the first node starts alone.
        const std::string boot = i == 0 ? bootstrap_json({})
                                        : bootstrap_json({{id_hex(keys[0]), first_udp, first_http}});
        // Node 3 listens on wildcards (other ports: 0.0.0.0 covers every 127.x address) and
        // takes part through its membership.advertise_* addresses.
        const bool wildcard = i == 3;
        write_node(*nodes[i], tmp.path() / ("n" + std::to_string(i)), keys[i], i + 1,
                   static_cast<uint16_t>(wildcard ? port + 2 : port), boot, wildcard);
        nodes[i]->start();
    }

    const auto all_alive = [&](const std::vector<int>& members) {
        for (int i : members) {
            const auto states = peer_states(*nodes[i]);
            for (int j : members) {
                if (j == i)
                    continue;
                auto it = states.find(id_hex(keys[j]));
                if (it == states.end() || it->second != "alive")
                    return false;
            }
        }
        return true;
    };
    INFO("port base " << port);
    const bool converged = wait_until([&] { return all_alive({0, 1, 2, 3, 4}); },
                                      std::chrono::seconds(45));
    if (!converged)
        FAIL(describe(nodes));

    // The HTTP side too: every node's discovery learnt the others (from the first node's list
    // or their announcements), so /peers carries their http address and a score.
    {
        auto body = http_get(nodes[2]->http, "/peers");
        REQUIRE(body);
        const auto table = nlohmann::json::parse(*body);
        size_t with_http = 0;
        for (const auto& row : table)
            with_http += row.value("http", std::string()).empty() ? 0 : 1;
        CHECK(with_http >= 1);
        // Announcements ride on list fetches, which back off after a failure (the first node's
        // server may not have been up yet), so membership can converge before the first one.
        CHECK(wait_until(
            [&] { return metric(*nodes[0], "ainet_discovery_announces_accepted_total") >= 1; },
            std::chrono::seconds(30)));
        CHECK(metric(*nodes[0], "ainet_membership_members_alive") == node_count - 1);
    }

    // Its discovery state is on disk while it runs (written atomically as it learns). The
    // first write can come before it has learnt anyone, and later ones at most every
    // persist_interval (2 s): once it knows a node, wait past one interval so that what it
    // learnt is on disk before the SIGKILL (seen failing under ASan on CI without this).
    CHECK(wait_until([&] { return fs::exists(nodes[4]->dir / "data" / "discovery.state"); },
                     std::chrono::seconds(10)));
    CHECK(wait_until([&] { return metric(*nodes[4], "ainet_discovery_known_nodes") >= 1; },
                     std::chrono::seconds(20)));
    std::this_thread::sleep_for(std::chrono::seconds(3));

    // Its incarnation floor is on disk too; the restart must start above this incarnation.
    CHECK(fs::exists(nodes[4]->dir / "data" / "membership.state"));
    const double incarnation_before = metric(*nodes[4], "ainet_membership_incarnation");
    CHECK(incarnation_before > 0);

    // SIGKILL the last node: the others must declare it dead (or forget it).
    const std::string victim = id_hex(keys[4]);
    nodes[4]->kill(SIGKILL);
    const auto victim_gone = [&] {
        for (int i = 0; i < 4; ++i) {
            const auto states = peer_states(*nodes[i]);
            if (states.empty())
                return false;
            auto it = states.find(victim);
            if (it != states.end() && it->second != "dead" && it->second != "left")
                return false;
        }
        return true;
    };
    if (!wait_until(victim_gone, std::chrono::seconds(60)))
        FAIL(describe(nodes));
    CHECK(metric(*nodes[0], "ainet_membership_members_dead") >= 1);

    // Restart it with its key and data directory: rediscovered, and it sees everyone.
    nodes[4]->start();
    if (!wait_until([&] { return all_alive({0, 1, 2, 3, 4}); }, std::chrono::seconds(45)))
        FAIL(describe(nodes));
    // It came back with what it had learnt before the crash, above its old incarnation.
    CHECK(metric(*nodes[4], "ainet_discovery_restored_records_total") >= 1);
    CHECK(metric(*nodes[4], "ainet_membership_incarnation") > incarnation_before);

    for (auto& d : nodes)
        d->kill(SIGTERM);
}

TEST_CASE("a node rejects and counts hostile bootstrap lists and merges nothing from them") {
    REQUIRE(crypto::init());
    test::temp_dir tmp;
    const uint16_t port = test::free_port_base(4);

    // Fake nodes the hostile lists describe: none may ever show up at the victim.
    const crypto::key_pair forged = keys_for(2, 100), expired = keys_for(2, 101);
    const endpoint fake_udp = make_ipv4(127, 99, 0, 1, 9);
    const endpoint fake_http = make_ipv4(127, 99, 0, 1, 10);

    struct hostile {
        std::string name;
        crypto::key_pair keys;
        std::string body;
        std::string address;
        std::unique_ptr<httplib::Server> server;
        std::thread thread;
    };
    std::vector<hostile> servers;
    const auto add = [&](std::string name, std::string body) {
        const auto n = static_cast<uint8_t>(servers.size());
        hostile h{std::move(name), keys_for(3, n), std::move(body), "", nullptr, {}};
        h.address = "127." + std::to_string(20 + n) + ".0.1:" + std::to_string(port + 1);
        servers.push_back(std::move(h));
    };
    add("forged list signature", "");
    add("forged record", "");
    add("expired record", "");
    add("huge list", "{\"pad\":\"" + std::string(300 * 1024, 'a') + "\"}");
    add("garbage", "{\"version\":1,\"nodes\":[ this is not json");

    const unix_ms now = wall();
    {
        // A properly signed list, then its own signature damaged.
        const auto good = discovery::make_node_record(forged, fake_udp, fake_http, now,
                                                      unix_ms{static_cast<int64_t>(now) + 3600000});
        std::string text = discovery::make_document(servers[0].keys, std::vector{good}, now);
        const auto signer_at = text.find("\"signer\":\"");
        const auto sig_at = text.rfind("\"signature\":\"", signer_at);
        REQUIRE(sig_at != std::string::npos);
        char& c = text[sig_at + 13];
        c = c == '0' ? '1' : '0';
        servers[0].body = text;
    }
    {
        auto record = discovery::make_node_record(forged, fake_udp, fake_http, now,
                                                  unix_ms{static_cast<int64_t>(now) + 3600000});
        record.sig[0] ^= 1;
        servers[1].body = discovery::make_document(servers[1].keys, std::vector{record}, now);
    }
    {
        const auto old = discovery::make_node_record(
            expired, fake_udp, fake_http, unix_ms{static_cast<int64_t>(now) - 7200000},
            unix_ms{static_cast<int64_t>(now) - 3600000});
        servers[2].body = discovery::make_document(servers[2].keys, std::vector{old}, now);
    }

    std::vector<std::tuple<std::string, std::string, std::string>> statics;
    for (auto& h : servers) {
        h.server = std::make_unique<httplib::Server>();
        h.server->Get("/bootstrap/nodes", [&h](const httplib::Request&, httplib::Response& res) {
            res.set_content(h.body, "application/json");
        });
        const auto [host, p] = split(h.address);
        REQUIRE(h.server->bind_to_port(host.c_str(), p));
        h.thread = std::thread([&h] { h.server->listen_after_bind(); });
        const std::string udp = host + ":" + std::to_string(p - 1);
        statics.emplace_back(id_hex(h.keys), udp, h.address);
    }

    ainetd_process node;
    write_node(node, tmp.path() / "victim", keys_for(2, 0), 30, port, bootstrap_json(statics));
    node.start();

    const auto counted = [&] {
        return metric(node, "ainet_discovery_lists_rejected_total{reason=\"bad_signature\"}") >= 1 &&
               metric(node, "ainet_discovery_lists_rejected_total{reason=\"too_large\"}") >= 1 &&
               metric(node, "ainet_discovery_lists_rejected_total{reason=\"syntax\"}") >= 1 &&
               metric(node, "ainet_discovery_records_total{verdict=\"bad_signature\"}") >= 1 &&
               metric(node, "ainet_discovery_records_total{verdict=\"expired\"}") >= 1;
    };
    const bool all_counted = wait_until(counted, std::chrono::seconds(30));
    INFO("metrics:\n" << http_get(node.http, "/metrics").value_or("(none)") << "\nlog:\n"
                      << read_text(node.dir / "log"));
    CHECK(all_counted);
    CHECK(metric(node, "ainet_discovery_records_added_total") == 0);
    CHECK(metric(node, "ainet_discovery_known_nodes") == 0);
    const auto states = peer_states(node);
    CHECK(states.count(id_hex(forged)) == 0);
    CHECK(states.count(id_hex(expired)) == 0);
    for (const auto& h : servers)
        CHECK(states.count(id_hex(h.keys)) == 0);

    // The node's own list is served, and a client asking too fast gets 429 (counted).
    {
        const auto [host, p] = split(node.http);
        httplib::Client client(host, p);
        client.set_connection_timeout(1, 0);
        int ok = 0, limited = 0;
        for (int i = 0; i < 40; ++i) {
            auto response = client.Get("/bootstrap/nodes");
            REQUIRE(response);
            ok += response->status == 200 ? 1 : 0;
            limited += response->status == 429 ? 1 : 0;
        }
        CHECK(ok >= 1);
        CHECK(limited >= 1);
        CHECK(metric(node, "ainet_discovery_rate_limited_total") >= 1);
    }

    node.kill(SIGTERM);
    for (auto& h : servers) {
        h.server->stop();
        h.thread.join();
    }
}
