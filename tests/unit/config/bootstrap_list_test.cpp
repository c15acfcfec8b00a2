// Goal: bootstrap lists parse strictly; every rejection (unknown field, wrong type, bad key,
// bad endpoint, duplicates, too many nodes) names its field as a JSON pointer.
#include "temp_dir.hpp"

#include <ainet/config/bootstrap_list.hpp>
#include <ainet/core/encoding.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace ainet::config {

namespace {

std::string key(int i) {
    std::string k(64, '0');
    const std::string suffix = std::to_string(i);
    k.replace(64 - suffix.size(), suffix.size(), suffix);
    return k;
}

std::string node_json(const std::string& public_key, const std::string& udp,
                      const std::string& http) {
    return R"({"public_key": ")" + public_key + R"(", "udp": ")" + udp + R"(", "http": ")" +
           http + "\"}";
}

std::string list_json(const std::string& nodes) {
    return R"({"version": 1, "nodes": [)" + nodes + "]}";
}

error_info rejected(std::string_view text) {
    auto parsed = parse_bootstrap_list(text, "boot.json");
    REQUIRE_FALSE(parsed);
    INFO(parsed.error().message());
    CHECK(parsed.error().file == "boot.json");
    return parsed.error();
}

} // namespace

TEST_CASE("a bootstrap list parses in file order", "[config][bootstrap]") {
    const auto text = list_json(node_json(key(1), "127.0.0.1:7001", "127.0.0.1:8001") + "," +
                                node_json(std::string(64, 'A'), "[::1]:7002", "[::1]:8002"));
    auto l = parse_bootstrap_list(text, "boot.json");
    REQUIRE(l);
    REQUIRE(l->nodes.size() == 2);
    CHECK(to_hex(l->nodes[0].public_key.bytes) == key(1));
    CHECK(to_string(l->nodes[0].udp) == "127.0.0.1:7001");
    CHECK(to_string(l->nodes[0].http) == "127.0.0.1:8001");
    CHECK(to_hex(l->nodes[1].public_key.bytes) == std::string(64, 'a'));
    CHECK(to_string(l->nodes[1].udp) == "[::1]:7002");
}

TEST_CASE("an empty bootstrap list is allowed", "[config][bootstrap]") {
    auto l = parse_bootstrap_list(R"({"version": 1, "nodes": []})", "boot.json");
    REQUIRE(l);
    CHECK(l->nodes.empty());
}

TEST_CASE("the sample bootstrap list in config/ is valid", "[config][bootstrap]") {
    auto l = load_bootstrap_list(std::filesystem::path(AINET_SOURCE_ROOT) /
                                 "config/bootstrap_nodes.json");
    INFO((l ? std::string() : l.error().message()));
    REQUIRE(l);
    CHECK_FALSE(l->nodes.empty());
}

TEST_CASE("bootstrap list structure is checked", "[config][bootstrap]") {
    struct bad_case {
        std::string text;
        errc code;
        const char* field;
    };
    const std::string good = node_json(key(1), "127.0.0.1:7001", "127.0.0.1:8001");
    for (const auto& c : {
             bad_case{"[]", errc::wrong_type, "/"},
             bad_case{R"({"nodes": []})", errc::missing_field, "/version"},
             bad_case{R"({"version": 1})", errc::missing_field, "/nodes"},
             bad_case{R"({"version": 2, "nodes": []})", errc::bad_value, "/version"},
             bad_case{R"({"version": "1", "nodes": []})", errc::wrong_type, "/version"},
             bad_case{R"({"version": 1, "nodes": {}})", errc::wrong_type, "/nodes"},
             bad_case{R"({"version": 1, "nodes": [], "extra": 0})", errc::unknown_field, "/extra"},
             bad_case{list_json(good + ", 5"), errc::wrong_type, "/nodes/1"},
             bad_case{list_json(R"({"public_key": ")" + key(1) + R"(", "udp": "127.0.0.1:1"})"),
                      errc::missing_field, "/nodes/0/http"},
             bad_case{list_json(R"({"public_key": ")" + key(1) +
                                R"(", "udp": "127.0.0.1:1", "http": "127.0.0.1:2", "tcp": ""})"),
                      errc::unknown_field, "/nodes/0/tcp"},
             bad_case{list_json(
                          R"({"public_key": 5, "udp": "127.0.0.1:1", "http": "127.0.0.1:2"})"),
                      errc::wrong_type, "/nodes/0/public_key"},
             bad_case{list_json(R"({"public_key": ")" + key(1) +
                                R"(", "udp": 7001, "http": "127.0.0.1:2"})"),
                      errc::wrong_type, "/nodes/0/udp"},
         }) {
        INFO(c.text);
        auto e = rejected(c.text);
        CHECK(e.code == c.code);
        CHECK(e.field == c.field);
    }
}

TEST_CASE("bad public keys are rejected", "[config][bootstrap]") {
    for (const std::string& bad : {std::string(63, 'a'), std::string(65, 'a'), std::string(62, 'a'),
                                   std::string(66, 'a'), std::string(63, 'a') + "g",
                                   std::string(), "0x" + std::string(62, 'a'),
                                   std::string(63, 'a') + " "}) {
        const auto text = list_json(node_json("x", "127.0.0.1:7001", "127.0.0.1:8001")
                                        .replace(16, 1, bad));
        INFO(text);
        auto e = rejected(text);
        CHECK(e.code == errc::bad_public_key);
        CHECK(e.field == "/nodes/0/public_key");
    }
}

TEST_CASE("bad endpoints and ports are rejected in node entries", "[config][bootstrap]") {
    const std::string first = node_json(key(1), "127.0.0.1:7001", "127.0.0.1:8001");
    auto e = rejected(list_json(first + "," + node_json(key(2), "127.0.0.1:70000", "127.0.0.1:1")));
    CHECK(e.code == errc::bad_endpoint);
    CHECK(e.field == "/nodes/1/udp");
    auto f = rejected(list_json(first + "," + first.substr(0, 0) +
                                node_json(key(2), "127.0.0.1:7002", "host:80")));
    CHECK(f.field == "/nodes/1/http");
    CHECK(rejected(list_json(node_json(key(1), "127.0.0.1:0", "127.0.0.1:1"))).field ==
          "/nodes/0/udp");
}

TEST_CASE("duplicate public keys and udp endpoints are rejected", "[config][bootstrap]") {
    const std::string a = node_json(key(1), "127.0.0.1:7001", "127.0.0.1:8001");
    auto e = rejected(list_json(a + "," + node_json(key(2), "127.0.0.1:7002", "127.0.0.1:8002") +
                                "," + node_json(key(1), "127.0.0.1:7003", "127.0.0.1:8003")));
    CHECK(e.code == errc::duplicate);
    CHECK(e.field == "/nodes/2/public_key");
    CHECK(e.reason.find("/nodes/0") != std::string::npos);
    // Keys compare as bytes: upper- and lower-case hex of one key are the same key.
    std::string upper = key(1);
    upper[0] = 'A';
    std::string lower = key(1);
    lower[0] = 'a';
    CHECK(rejected(list_json(node_json(upper, "127.0.0.1:1", "127.0.0.1:2") + "," +
                             node_json(lower, "127.0.0.1:3", "127.0.0.1:4")))
              .field == "/nodes/1/public_key");

    auto f = rejected(list_json(a + "," + node_json(key(2), "127.0.0.1:7001", "127.0.0.1:9001")));
    CHECK(f.code == errc::duplicate);
    CHECK(f.field == "/nodes/1/udp");
    // The same http address for two nodes is not an error (one host may front several).
    CHECK(parse_bootstrap_list(
        list_json(a + "," + node_json(key(2), "127.0.0.1:7002", "127.0.0.1:8001")), "b.json"));
}

TEST_CASE("a bootstrap list is capped at bootstrap_node_count_max nodes", "[config][bootstrap]") {
    auto nodes_text = [](size_t count) {
        std::string nodes;
        for (size_t i = 0; i < count; ++i) {
            if (i)
                nodes += ",";
            nodes += node_json(key(static_cast<int>(i)),
                               "10.0." + std::to_string(i / 250) + "." +
                                   std::to_string(i % 250 + 1) + ":7000",
                               "127.0.0.1:8000");
        }
        return list_json(nodes);
    };
    auto at_cap = parse_bootstrap_list(nodes_text(bootstrap_node_count_max), "b.json");
    INFO((at_cap ? std::string() : at_cap.error().message()));
    REQUIRE(at_cap);
    CHECK(at_cap->nodes.size() == bootstrap_node_count_max);
    auto e = rejected(nodes_text(bootstrap_node_count_max + 1));
    CHECK(e.code == errc::too_many);
    CHECK(e.field == "/nodes");
}

TEST_CASE("duplicate JSON keys inside a node entry name the entry", "[config][bootstrap]") {
    const std::string a = node_json(key(1), "127.0.0.1:7001", "127.0.0.1:8001");
    auto e = rejected(
        list_json(a + "," + a + "," +
                  R"({"public_key": "x", "udp": "127.0.0.1:1", "udp": "127.0.0.1:2"})"));
    CHECK(e.code == errc::syntax);
    CHECK(e.field == "/nodes/2/udp");
}

TEST_CASE("bootstrap files are read with the size cap", "[config][bootstrap]") {
    test::temp_dir dir;
    const auto file = dir.write("boot.json", R"({"version": 1, "nodes": []})");
    CHECK(load_bootstrap_list(file));
    auto missing = load_bootstrap_list(dir.path() / "nope.json");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == errc::file_io);
}

} // namespace ainet::config
