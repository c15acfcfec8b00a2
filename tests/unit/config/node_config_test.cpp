// Goal: node configs parse with documented defaults, relative paths resolve against the config
// file's directory, and every rejection names the offending field (JSON pointer) and the file.
#include "temp_dir.hpp"

#include <ainet/config/file.hpp>
#include <ainet/config/node_config.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace ainet::config {

namespace {

// Parses text that must be rejected; returns the error.
error_info rejected(std::string_view text, std::string_view name = "cfg/node.json") {
    auto parsed = parse_node_config(text, name);
    REQUIRE_FALSE(parsed);
    INFO(parsed.error().message());
    CHECK(parsed.error().file == name);
    return parsed.error();
}

} // namespace

TEST_CASE("an empty node config gets every default", "[config][node]") {
    auto c = parse_node_config("{}", "etc/ainet/node.json");
    REQUIRE(c);
    CHECK(c->key_file == std::filesystem::path("etc/ainet/node.key"));
    CHECK(c->data_dir == std::filesystem::path("etc/ainet/data"));
    CHECK(c->bootstrap_file.empty());
    CHECK(c->udp_listen == make_ipv4(0, 0, 0, 0, 7000));
    CHECK(c->http_listen == make_ipv4(127, 0, 0, 1, 8000));
    CHECK(c->http_listen.is_loopback());
    CHECK(c->shard_count == 0);
    CHECK(c->log == log_level::info);
    CHECK(c->limits.recv_buffer_count == limits{}.recv_buffer_count);
    CHECK(c->limits.timer_count_max == limits{}.timer_count_max);
    CHECK(validate(c->limits).empty());
}

TEST_CASE("a full node config parses field by field", "[config][node]") {
    auto c = parse_node_config(R"({
        "key_file": "/etc/ainet/node.key", "udp_listen": "[::1]:7100",
        "http_listen": "127.0.0.1:8100", "data_dir": "/var/lib/ainet", "shard_count": 4,
        "bootstrap_file": "boot.json", "log_level": "debug",
        "limits": {"recv_buffer_count": 1024, "shard_count_max": 8, "peer_count_max": 100}
    })",
                               "/srv/node.json");
    REQUIRE(c);
    CHECK(c->key_file == "/etc/ainet/node.key");
    CHECK(to_string(c->udp_listen) == "[::1]:7100");
    CHECK(to_string(c->http_listen) == "127.0.0.1:8100");
    CHECK(c->data_dir == "/var/lib/ainet");
    CHECK(c->shard_count == 4);
    CHECK(c->bootstrap_file == "/srv/boot.json");
    CHECK(c->log == log_level::debug);
    CHECK(c->limits.recv_buffer_count == 1024);
    CHECK(c->limits.shard_count_max == 8);
    CHECK(c->limits.peer_count_max == 100);
    CHECK(c->limits.datagram_size_max == limits{}.datagram_size_max);
    CHECK(effective_shard_count(*c, 64) == 4);
}

TEST_CASE("the sample node config in config/ is valid", "[config][node]") {
    auto c =
        load_node_config(std::filesystem::path(AINET_SOURCE_ROOT) / "config/node.example.json");
    INFO((c ? std::string() : c.error().message()));
    REQUIRE(c);
    CHECK(c->bootstrap_file.filename() == "bootstrap_nodes.json");
}

TEST_CASE("shard_count 0 means all cores, capped by the limit", "[config][node]") {
    auto c = parse_node_config(R"({"limits": {"shard_count_max": 4}})", "n.json");
    REQUIRE(c);
    CHECK(effective_shard_count(*c, 16) == 4);
    CHECK(effective_shard_count(*c, 2) == 2);
    CHECK(effective_shard_count(*c, 0) == 1);
}

TEST_CASE("every log level name parses", "[config][node]") {
    for (auto level :
         {log_level::trace, log_level::debug, log_level::info, log_level::warn, log_level::error}) {
        const std::string text = R"({"log_level": ")" + std::string(to_string(level)) + "\"}";
        auto c = parse_node_config(text, "n.json");
        REQUIRE(c);
        CHECK(c->log == level);
    }
    CHECK(rejected(R"({"log_level": "verbose"})").field == "/log_level");
    CHECK(rejected(R"({"log_level": "INFO"})").field == "/log_level");
}

TEST_CASE("relative paths resolve against the config file's directory", "[config][node]") {
    test::temp_dir dir;
    const auto file = dir.write("etc/node.json", R"({"key_file": "keys/node.key",
        "data_dir": "../var/data", "bootstrap_file": "boot.json"})");
    auto c = load_node_config(file);
    REQUIRE(c);
    CHECK(c->key_file == dir.path() / "etc/keys/node.key");
    CHECK(c->data_dir == dir.path() / "var/data");
    CHECK(c->bootstrap_file == dir.path() / "etc/boot.json");

    // Absolute paths stay as written; an empty bootstrap_file means none.
    auto d = parse_node_config(R"({"key_file": "/k/node.key", "bootstrap_file": ""})", "a/b.json");
    REQUIRE(d);
    CHECK(d->key_file == "/k/node.key");
    CHECK(d->bootstrap_file.empty());
    // A config named without a directory resolves against the working directory.
    auto e = parse_node_config(R"({"key_file": "x.key"})", "node.json");
    REQUIRE(e);
    CHECK(e->key_file == "x.key");
}

TEST_CASE("unknown fields are rejected by name", "[config][node]") {
    CHECK(rejected(R"({"udp_listn": "127.0.0.1:7000"})").field == "/udp_listn");
    auto e = rejected(R"({"limits": {"recv_buffers": 16}})");
    CHECK(e.code == errc::unknown_field);
    CHECK(e.field == "/limits/recv_buffers");
    // Keys are escaped as JSON pointer tokens and made printable.
    CHECK(rejected(R"({"a/b~c": 1})").field == "/a~1b~0c");
    CHECK(rejected("{\"bad\\nkey\": 1}").field == "/bad\\x0akey");
}

TEST_CASE("wrong JSON types are rejected by field", "[config][node]") {
    struct bad_case {
        const char* text;
        const char* field;
    };
    for (const auto& [text, field] : {
             bad_case{R"([])", "/"},
             bad_case{R"("node")", "/"},
             bad_case{R"({"udp_listen": 7000})", "/udp_listen"},
             bad_case{R"({"http_listen": null})", "/http_listen"},
             bad_case{R"({"key_file": ["a"]})", "/key_file"},
             bad_case{R"({"data_dir": true})", "/data_dir"},
             bad_case{R"({"shard_count": "4"})", "/shard_count"},
             bad_case{R"({"shard_count": 1.5})", "/shard_count"},
             bad_case{R"({"shard_count": 1.0})", "/shard_count"},
             bad_case{R"({"log_level": 3})", "/log_level"},
             bad_case{R"({"limits": []})", "/limits"},
             bad_case{R"({"limits": {"peer_count_max": "100"}})", "/limits/peer_count_max"},
             bad_case{R"({"bootstrap_file": {}})", "/bootstrap_file"},
         }) {
        INFO(text);
        auto e = rejected(text);
        CHECK(e.code == errc::wrong_type);
        CHECK(e.field == field);
    }
}

TEST_CASE("bad endpoints and ports are rejected", "[config][node]") {
    for (const char* value : {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "localhost:7000",
                              "::1:7000", "", "127.0.0.1:-5"}) {
        const std::string text = R"({"udp_listen": ")" + std::string(value) + "\"}";
        INFO(text);
        auto e = rejected(text);
        CHECK(e.code == errc::bad_endpoint);
        CHECK(e.field == "/udp_listen");
    }
    auto e = rejected(R"({"http_listen": "1.2.3.4:99999"})", "config/node.json");
    CHECK(e.message() ==
          "config/node.json: /http_listen: bad endpoint (want ip:port or [ipv6]:port)");
}

TEST_CASE("out-of-range numbers are rejected", "[config][node]") {
    CHECK(rejected(R"({"shard_count": -1})").field == "/shard_count");
    CHECK(rejected(R"({"shard_count": 65})").field == "/shard_count"); // default max is 64
    CHECK(rejected(R"({"shard_count": 3, "limits": {"shard_count_max": 2}})").field ==
          "/shard_count");
    CHECK(rejected(R"({"limits": {"peer_count_max": 4294967296}})").field ==
          "/limits/peer_count_max");
    CHECK(rejected(R"({"limits": {"peer_count_max": -1}})").field == "/limits/peer_count_max");
    CHECK(rejected(R"({"limits": {"peer_count_max": 1e30}})").field == "/limits/peer_count_max");
}

TEST_CASE("broken limit relations name the limit", "[config][node]") {
    auto e = rejected(R"({"limits": {"recv_buffer_count": 1000}})");
    CHECK(e.code == errc::bad_limits);
    CHECK(e.field == "/limits/recv_buffer_count");
    CHECK(e.reason.find("power of two") != std::string::npos);

    auto f = rejected(R"({"limits": {"recv_buffer_count": 32, "io_batch_size_max": 64}})");
    CHECK(f.field == "/limits/io_batch_size_max");

    auto g = rejected(R"({"limits": {"datagram_size_max": 10, "timer_count_max": 1}})");
    CHECK(g.field == "/limits/datagram_size_max");
    CHECK(g.reason.find("1 more") != std::string::npos);
}

TEST_CASE("the HTTP control plane limits come from the config", "[config][node]") {
    auto c = parse_node_config(R"({"limits": {
        "http_threads": 12, "http_pending_connection_count_max": 16,
        "http_requests_per_second": 50, "http_read_timeout_ms": 1000,
        "http_request_deadline_ms": 3000, "http_write_timeout_ms": 2000,
        "http_keep_alive_timeout_ms": 500, "http_keep_alive_request_count_max": 10,
        "http_long_poll_count_max": 6}})",
                               "/srv/node.json");
    REQUIRE(c);
    CHECK(c->limits.http_threads == 12);
    CHECK(c->limits.http_pending_connection_count_max == 16);
    CHECK(c->limits.http_requests_per_second == 50);
    CHECK(c->limits.http_read_timeout_ms == 1000);
    CHECK(c->limits.http_request_deadline_ms == 3000);
    CHECK(c->limits.http_write_timeout_ms == 2000);
    CHECK(c->limits.http_keep_alive_timeout_ms == 500);
    CHECK(c->limits.http_keep_alive_request_count_max == 10);
    CHECK(c->limits.http_long_poll_count_max == 6);

    // Long polls must leave a thread for everything else; a request may not have less time
    // than one read.
    auto polls = rejected(R"({"limits": {"http_threads": 4, "http_long_poll_count_max": 4}})");
    CHECK(polls.field == "/limits/http_long_poll_count_max");
    auto deadline =
        rejected(R"({"limits": {"http_read_timeout_ms": 5000, "http_request_deadline_ms": 1000}})");
    CHECK(deadline.field == "/limits/http_request_deadline_ms");
    CHECK(rejected(R"({"limits": {"http_threads": 1}})").field == "/limits/http_threads");
    CHECK(rejected(R"({"limits": {"http_requests_per_second": 0}})").field ==
          "/limits/http_requests_per_second");
}

TEST_CASE("the public HTTP listener is optional, announced, and apart from the admin one",
          "[config][node]") {
    auto none = parse_node_config("{}", "/srv/node.json");
    REQUIRE(none);
    CHECK_FALSE(none->public_http_listen);
    CHECK(announced_http(*none) == none->http_listen);

    auto set = parse_node_config(
        R"({"http_listen": "127.0.0.1:8000", "public_http_listen": "0.0.0.0:8080"})", "/n.json");
    REQUIRE(set);
    CHECK(set->public_http_listen == make_ipv4(0, 0, 0, 0, 8080));
    CHECK_FALSE(announced_http(*set)); // a wildcard nobody can reach: advertise_http needed

    auto specific = parse_node_config(R"({"public_http_listen": "192.0.2.1:8080",
        "membership": {"advertise_http": "203.0.113.7:80"}})",
                                      "/n.json");
    REQUIRE(specific);
    CHECK(announced_http(*specific) == make_ipv4(203, 0, 113, 7, 80));
    specific->membership.advertise_http.reset();
    CHECK(announced_http(*specific) == make_ipv4(192, 0, 2, 1, 8080));

    auto same =
        rejected(R"({"http_listen": "127.0.0.1:8000", "public_http_listen": "127.0.0.1:8000"})");
    CHECK(same.field == "/public_http_listen");
}

TEST_CASE("empty and NUL-containing paths are rejected", "[config][node]") {
    CHECK(rejected(R"({"key_file": ""})").field == "/key_file");
    CHECK(rejected(R"({"data_dir": ""})").field == "/data_dir");
    CHECK(rejected(R"({"key_file": "a\u0000b"})").field == "/key_file");
    CHECK(rejected("{\"data_dir\": \"" + std::string(5000, 'a') + "\"}").field == "/data_dir");
}

TEST_CASE("malformed JSON, duplicate keys and deep nesting are syntax errors", "[config][node]") {
    for (const char* text :
         {"", "{", "{\"key_file\": }", "{} {}", "{\"a\": 1,}", "// c\n{}", "\xff"}) {
        INFO(text);
        CHECK(rejected(text).code == errc::syntax);
    }
    auto dup = rejected(R"({"udp_listen": "127.0.0.1:1", "udp_listen": "127.0.0.1:2"})");
    CHECK(dup.code == errc::syntax);
    CHECK(dup.field == "/udp_listen");
    CHECK(dup.reason == "duplicate key");
    auto nested_dup = rejected(R"({"limits": {"peer_count_max": 5, "peer_count_max": 6}})");
    CHECK(nested_dup.field == "/limits/peer_count_max");

    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    auto e = rejected(deep);
    CHECK(e.code == errc::syntax);
    CHECK(e.reason.find("nested deeper") != std::string::npos);
}

TEST_CASE("oversize files are rejected before parsing", "[config][node]") {
    test::temp_dir dir;
    std::string big = "{\"key_file\": \"" + std::string(config_file_size_max, 'a') + "\"}";
    const auto file = dir.write("big.json", big);
    auto c = load_node_config(file);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::file_too_large);
    CHECK(c.error().file == file.string());
    CHECK(c.error().message().rfind(file.string() + ": ", 0) == 0);
    // The string parser has the same cap.
    CHECK(parse_node_config(big, "big.json").error().code == errc::file_too_large);

    // Exactly at the cap is still read (and then judged on its content).
    std::string at_cap(config_file_size_max, ' ');
    at_cap[0] = '{';
    at_cap[at_cap.size() - 1] = '}';
    CHECK(load_node_config(dir.write("cap.json", at_cap)));
}

TEST_CASE("missing and unreadable files are reported with the path", "[config][node]") {
    test::temp_dir dir;
    auto c = load_node_config(dir.path() / "absent.json");
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::file_io);
    CHECK(c.error().message().find("absent.json") != std::string::npos);
    auto d = load_node_config(dir.path()); // a directory
    REQUIRE_FALSE(d);
    CHECK(d.error().code == errc::file_io);
}

TEST_CASE("error messages join file, field and reason", "[config][errc]") {
    error_info e{errc::bad_value, "a.json", "/x", "must be positive"};
    CHECK(e.message() == "a.json: /x: must be positive");
    error_info whole{errc::file_io, "a.json", "", ""};
    CHECK(whole.message() == "a.json: cannot read file");
    for (int code = 1; code <= static_cast<int>(errc::bad_limits); ++code)
        CHECK(to_string(static_cast<errc>(code)) != "unknown config error");
}

} // namespace ainet::config

namespace ainet::config {

// membership/discovery
TEST_CASE("membership advertise addresses parse and name their field when bad",
          "[config][node][membership]") {
    // Goal: a node that listens on a wildcard can still run membership and discovery by
    // announcing a reachable address; bad or wildcard advertise addresses are rejected by name.
    auto none = parse_node_config(R"({"udp_listen": "0.0.0.0:7000"})", "n.json");
    REQUIRE(none);
    CHECK_FALSE(none->membership.advertise_udp);
    CHECK_FALSE(announced_udp(*none)); // a wildcard listen announces nothing
    CHECK(announced_http(*none) == make_ipv4(127, 0, 0, 1, 8000));

    auto set = parse_node_config(R"({"udp_listen": "0.0.0.0:7000", "http_listen": "[::]:8000",
        "membership": {"advertise_udp": "203.0.113.7:7001", "advertise_http": "[2001:db8::1]:8001"}})",
                                 "n.json");
    REQUIRE(set);
    CHECK(set->membership.advertise_udp == make_ipv4(203, 0, 113, 7, 7001));
    CHECK(announced_udp(*set) == make_ipv4(203, 0, 113, 7, 7001));
    REQUIRE(set->membership.advertise_http);
    CHECK(set->membership.advertise_http->port == 8001);
    CHECK(announced_http(*set) == set->membership.advertise_http);

    auto specific = parse_node_config(R"({"udp_listen": "10.1.2.3:7000"})", "n.json");
    REQUIRE(specific);
    CHECK(announced_udp(*specific) == make_ipv4(10, 1, 2, 3, 7000));

    struct bad_case {
        const char* text;
        errc code;
        const char* field;
    };
    for (const bad_case& c : {
             bad_case{R"({"membership": {"advertise_udp": "0.0.0.0:7000"}})", errc::bad_endpoint,
                      "/membership/advertise_udp"},
             bad_case{R"({"membership": {"advertise_http": "[::]:8000"}})", errc::bad_endpoint,
                      "/membership/advertise_http"},
             bad_case{R"({"membership": {"advertise_udp": "10.0.0.1:0"}})", errc::bad_endpoint,
                      "/membership/advertise_udp"},
             bad_case{R"({"membership": {"advertise_udp": 7000}})", errc::wrong_type,
                      "/membership/advertise_udp"},
             bad_case{R"({"membership": {"advertise": "10.0.0.1:7000"}})", errc::unknown_field,
                      "/membership/advertise"},
             bad_case{R"({"membership": []})", errc::wrong_type, "/membership"},
         }) {
        INFO(c.text);
        auto e = rejected(c.text);
        CHECK(e.code == c.code);
        CHECK(e.field == c.field);
    }
}

} // namespace ainet::config
