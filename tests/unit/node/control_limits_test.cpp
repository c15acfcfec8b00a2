// Goal: the HTTP control plane limits of a node come from its config ("limits" object,
// core/limits.hpp): an operator who lowers them sees the node enforce the lowered values. And
// the public listener (public_http_listen) serves only what strangers may ask, while the admin
// listener serves everything.
#include <ainet/node/relay_node.hpp>

#include <httplib.h>

#include <catch2/catch.hpp>

#include <string>

using namespace ainet;
using namespace ainet::node;

namespace {

config::node_config limited_config() {
    config::node_config c;
    c.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    c.http_listen = make_ipv4(127, 0, 0, 1, 0);
    c.shard_count = 1;
    c.limits.http_threads = 3;
    c.limits.http_long_poll_count_max = 1;
    c.limits.http_requests_per_second = 5;
    c.limits.http_request_size_max = 2048;
    return c;
}

crypto::key_pair node_keys() {
    crypto::seed s{};
    s[0] = 92;
    return crypto::key_pair::from_seed(s);
}

// The value of an unlabelled metric line "name value" in Prometheus text, or -1.
double metric(const std::string& text, const std::string& name) {
    const std::string key = "\n" + name + " ";
    const size_t at = text.find(key);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + key.size()));
}

} // namespace

TEST_CASE("a node serves HTTP with the limits of its config", "[node][control]") {
    REQUIRE(crypto::init());
    relay_node node(limited_config(), node_keys());
    std::string error;
    REQUIRE(node.start(error));
    httplib::Client client("127.0.0.1", node.http_endpoint().port);
    client.set_connection_timeout(5);
    client.set_read_timeout(10);

    auto first = client.Get("/metrics");
    REQUIRE(first);
    CHECK(metric(first->body, "ainet_http_threads") == 3);

    // A body over http_request_size_max is refused before a handler sees it.
    auto big = client.Post("/metrics", std::string(4096, 'x'), "text/plain");
    REQUIRE(big);
    CHECK(big->status == 413);

    // 5 requests per second, burst 10: within 20 back-to-back requests some get 429.
    int limited = 0;
    for (int i = 0; i < 20; ++i) {
        auto r = client.Get("/healthz");
        REQUIRE(r);
        limited += r->status == 429;
    }
    CHECK(limited > 0);
    node.stop();
}

TEST_CASE("the public listener serves only its public endpoints; the admin one serves all",
          "[node][control]") {
    REQUIRE(crypto::init());
    config::node_config c;
    c.udp_listen = make_ipv4(127, 0, 0, 1, 0);
    c.http_listen = make_ipv4(127, 0, 0, 1, 0);
    c.public_http_listen = make_ipv4(127, 0, 0, 2, 0);
    c.shard_count = 1;
    relay_node node(c, node_keys());
    const auto answer = [](std::string body) {
        return [body](const http_request&) { return http_response{200, "text/plain", body}; };
    };
    node.handle_public_http("GET", "/bootstrap/nodes", answer("list\n"));
    node.handle_http("PUT", "/registry/entries", answer("stored\n"));
    std::string error;
    REQUIRE(node.start(error));
    REQUIRE(node.public_http_endpoint());
    CHECK(node.public_http_endpoint()->address[0] == 127);
    CHECK(node.public_http_endpoint()->address[3] == 2);

    httplib::Client open("127.0.0.2", node.public_http_endpoint()->port);
    open.set_connection_timeout(5);
    auto list = open.Get("/bootstrap/nodes");
    REQUIRE(list);
    CHECK(list->status == 200);
    CHECK(list->body == "list\n");
    auto health = open.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    for (const char* path : {"/metrics", "/admin/faults", "/status"}) {
        auto r = open.Get(path);
        REQUIRE(r);
        CHECK(r->status == 404);
    }
    auto put = open.Put("/registry/entries", "{}", "application/json");
    REQUIRE(put);
    CHECK(put->status == 404);

    httplib::Client admin("127.0.0.1", node.http_endpoint().port);
    admin.set_connection_timeout(5);
    auto admin_list = admin.Get("/bootstrap/nodes");
    REQUIRE(admin_list);
    CHECK(admin_list->body == "list\n");
    auto admin_put = admin.Put("/registry/entries", "{}", "application/json");
    REQUIRE(admin_put);
    CHECK(admin_put->status == 200);
    auto metrics = admin.Get("/metrics");
    REQUIRE(metrics);
    // The public listener's refusals are its own series.
    CHECK(metric(metrics->body, "ainet_http_public_rejected_not_found_total") == 4);
    CHECK(metric(metrics->body, "ainet_http_public_threads") == 2);
    node.stop();
}
