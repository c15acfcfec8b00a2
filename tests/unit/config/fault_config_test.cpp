// Goal: fault settings parse strictly (the node config's "faults" object and POST
// /admin/faults share the format), every rejection names the field, and to_json parses back
// to the same settings.
#include <ainet/config/fault_config.hpp>
#include <ainet/config/node_config.hpp>

#include <catch2/catch.hpp>

namespace ainet::config {

TEST_CASE("an empty fault object is inactive", "[config][faults]") {
    auto c = parse_fault_config("{}", "body");
    REQUIRE(c);
    CHECK_FALSE(c->active());
    CHECK_FALSE(c->holds());
    auto n = parse_node_config("{}", "node.json");
    REQUIRE(n);
    CHECK_FALSE(n->faults.active());
}

TEST_CASE("every fault field parses and round-trips through to_json", "[config][faults]") {
    auto c = parse_fault_config(
        R"({"drop_probability": 0.25, "duplicate_probability": 0.5, "delay_ms": 20,
            "jitter_ms": 5, "reorder_probability": 1, "reorder_window_ms": 7,
            "block": ["127.0.0.3", "127.0.0.4:7004", "::1", "[::2]:9"], "seed": 42})",
        "body");
    REQUIRE(c);
    CHECK(c->active());
    CHECK(c->holds());
    CHECK(c->drop_probability == 0.25);
    CHECK(c->delay_ms == 20);
    REQUIRE(c->block.size() == 4);
    CHECK(c->block[0].any_port);
    CHECK(c->block[0].matches(make_ipv4(127, 0, 0, 3, 1234)));
    CHECK_FALSE(c->block[0].matches(make_ipv4(127, 0, 0, 4, 1234)));
    CHECK_FALSE(c->block[1].any_port);
    CHECK(c->block[1].matches(make_ipv4(127, 0, 0, 4, 7004)));
    CHECK_FALSE(c->block[1].matches(make_ipv4(127, 0, 0, 4, 7005)));
    CHECK(c->block[2].any_port);
    CHECK(c->block[2].address.family == address_family::ipv6);
    auto back = parse_fault_config(to_json(*c), "json");
    REQUIRE(back);
    CHECK(*back == *c);
}

TEST_CASE("fault settings are rejected with the field named", "[config][faults]") {
    const auto field_of = [](std::string_view text) {
        auto c = parse_fault_config(text, "body");
        REQUIRE_FALSE(c);
        INFO(c.error().message());
        return c.error().field;
    };
    CHECK(field_of(R"({"drop_probability": 1.5})") == "/drop_probability");
    CHECK(field_of(R"({"drop_probability": "x"})") == "/drop_probability");
    CHECK(field_of(R"({"delay_ms": 10001})") == "/delay_ms");
    CHECK(field_of(R"({"reorder_probability": 0.1, "reorder_window_ms": 0})") ==
          "/reorder_window_ms");
    CHECK(field_of(R"({"block": ["nonsense"]})") == "/block/0");
    CHECK(field_of(R"({"block": ["127.0.0.1", "127.0.0.1"]})") == "/block/1");
    CHECK(field_of(R"({"block": "127.0.0.1"})") == "/block");
    CHECK(field_of(R"({"loss": 0.1})") == "/loss");
    CHECK(field_of(R"({"seed": -1})") == "/seed");

    auto n = parse_node_config(R"({"faults": {"jitter_ms": -3}})", "node.json");
    REQUIRE_FALSE(n);
    CHECK(n.error().field == "/faults/jitter_ms");
    auto ok = parse_node_config(R"({"faults": {"block": ["127.0.0.9"]}})", "node.json");
    REQUIRE(ok);
    CHECK(ok->faults.active());
}

} // namespace ainet::config
