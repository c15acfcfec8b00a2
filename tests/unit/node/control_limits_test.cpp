// Goal: the HTTP control plane limits of a node come from its config ("limits" object,
// core/limits.hpp): an operator who lowers them sees the node enforce the lowered values.
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
