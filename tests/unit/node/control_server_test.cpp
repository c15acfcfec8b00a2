// Goal: the control server answers registered routes, refuses oversize bodies with 413 and
// floods from one client with 429, and counts both.
#include <ainet/node/control_server.hpp>

#include <httplib.h>

#include <catch2/catch.hpp>

using namespace ainet;
using namespace ainet::node;

TEST_CASE("control server routes, size limit and rate limit", "[node][http]") {
    control_server_options options;
    options.listen = make_ipv4(127, 0, 0, 1, 0);
    options.request_size_max = 1024;
    options.requests_per_second = 5;
    control_server server(options);
    server.handle("GET", "/healthz", [](const http_request&) { return http_response{200, "text/plain", "ok\n"}; });
    server.handle("POST", "/echo", [](const http_request& r) { return http_response{200, "text/plain", r.body}; });
    server.handle("GET", "/items/*", [](const http_request& r) { return http_response{200, "text/plain", r.path}; });
    std::string error;
    REQUIRE(server.start(error));

    httplib::Client client("127.0.0.1", server.local_endpoint().port);
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(health->body == "ok\n");

    auto item = client.Get("/items/abc/def");
    REQUIRE(item);
    CHECK(item->body == "/items/abc/def");

    auto missing = client.Get("/nope");
    REQUIRE(missing);
    CHECK(missing->status == 404);

    auto big = client.Post("/echo", std::string(4096, 'x'), "text/plain");
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(server.rejected_too_large() == 1);

    // The bucket holds a burst of 2 x 5 requests; well past that, 429 must appear.
    int refused = 0;
    for (int i = 0; i < 40; ++i) {
        auto r = client.Get("/healthz");
        if (r && r->status == 429)
            ++refused;
    }
    CHECK(refused > 0);
    CHECK(server.rejected_rate_limited() == static_cast<uint64_t>(refused));
    server.stop();
}
