// Goal: endpoints parse strictly and print back to the same text.
#include <ainet/core/endpoint.hpp>

#include <catch2/catch.hpp>

using namespace ainet;

TEST_CASE("endpoints round-trip through text", "[core][endpoint]") {
    for (const char* text : {"127.0.0.1:7000", "10.1.2.3:1", "[::1]:65535", "[2001:db8::1]:443"}) {
        auto e = parse_endpoint(text);
        REQUIRE(e);
        CHECK(to_string(*e) == text);
    }
    CHECK(parse_endpoint("127.0.0.1:7000")->is_loopback());
    CHECK(parse_endpoint("[::1]:7000")->is_loopback());
    CHECK_FALSE(parse_endpoint("10.0.0.1:7000")->is_loopback());
    CHECK(parse_endpoint("127.0.0.1:7000").value() == make_ipv4(127, 0, 0, 1, 7000));
}

TEST_CASE("malformed endpoints are rejected", "[core][endpoint]") {
    for (const char* text : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                             "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:080", "localhost:80",
                             "127.1:80", "[::1]80", "[::1]", "::1:80", "[fe80::1%eth0]:80",
                             "1.2.3.4:5x", "[127.0.0.1]:80"})
        CHECK(parse_endpoint(text).error() == errc::bad_endpoint);
}
