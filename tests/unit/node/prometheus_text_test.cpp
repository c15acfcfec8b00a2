// Goal: the Prometheus text parser reads what the node's renderers write (families, HELP/TYPE,
// labels, histogram suffixes), sums families over labels, and refuses malformed lines with
// their line number instead of guessing.
#include <ainet/node/control_server.hpp>
#include <ainet/node/prometheus_text.hpp>
#include <ainet/runtime/metrics.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace ainet;
using namespace ainet::node;

TEST_CASE("prometheus text: families, labels, sums", "[node][metrics]") {
    std::string text;
    runtime::render_metric(text, "ainet_shards", "gauge", "shards running", 2);
    text += "# HELP ainet_x_total drops, by reason\n# TYPE ainet_x_total counter\n"
            "ainet_x_total{shard=\"0\",reason=\"a\\\"b\"} 3\n"
            "ainet_x_total{shard=\"1\",reason=\"c\"} 4\n"
            "# a comment\n\n"
            "# TYPE lat histogram\nlat_bucket{le=\"0.5\"} 1\nlat_bucket{le=\"+Inf\"} 2\n"
            "lat_sum 0.75\nlat_count 2\n"
            "untyped_one 1.5e3 1700000000\n";
    std::string error;
    auto families = parse_prometheus_text(text, error);
    INFO(error);
    REQUIRE(families);
    REQUIRE(families->size() == 4);
    const metric_family* shards = find_family(*families, "ainet_shards");
    REQUIRE(shards);
    CHECK(shards->type == "gauge");
    CHECK(shards->help == "shards running");
    REQUIRE(shards->samples.size() == 1);
    CHECK(shards->samples[0].value == 2);
    const metric_family* x = find_family(*families, "ainet_x_total");
    REQUIRE(x);
    CHECK(x->type == "counter");
    REQUIRE(x->samples.size() == 2);
    CHECK(x->samples[0].labels.size() == 2);
    CHECK(x->samples[0].labels[1].second == "a\"b");
    CHECK(sum_family(*families, "ainet_x_total") == 7.0);
    const metric_family* lat = find_family(*families, "lat");
    REQUIRE(lat);
    CHECK(lat->type == "histogram");
    CHECK(lat->samples.size() == 4);
    CHECK(std::isinf(lat->samples[1].value) == false); // the value, not the label, is 2
    CHECK(lat->samples[1].labels[0].second == "+Inf");
    CHECK(sum_family(*families, "untyped_one") == 1500.0);
    CHECK_FALSE(sum_family(*families, "absent").has_value());
}

TEST_CASE("prometheus text: malformed lines fail with their number", "[node][metrics]") {
    const char* bad[] = {
        "ok 1\n{x=\"1\"} 2\n",         // no name
        "ok 1\nname{x=1} 2\n",         // unquoted label value
        "ok 1\nname{x=\"1 2\n",        // unterminated
        "ok 1\nname\n",                // no value
        "ok 1\nname twelve\n",         // not a number
        "ok 1\nname{x=\"1\"}2\n",      // no space
        "ok 1\n# HELP  shards\n",     // HELP without a name (found by the fuzzer)
        "ok 1\n# TYPE a-b counter\n", // TYPE with a bad name
    };
    for (const char* text : bad) {
        std::string error;
        INFO(text);
        CHECK_FALSE(parse_prometheus_text(text, error));
        CHECK(error.rfind("line 2: ", 0) == 0);
    }
    std::string error;
    CHECK(parse_prometheus_text("", error));
    CHECK_FALSE(parse_prometheus_text(std::string(prometheus_line_size_max + 1, 'a'), error));
}

TEST_CASE("prometheus text: the control server's metrics parse, every refusal reason present",
          "[node][metrics]") {
    control_server_options options;
    options.listen = make_ipv4(127, 0, 0, 1, 0);
    control_server server(options);
    std::string text;
    server.render_metrics(text);
    std::string error;
    auto families = parse_prometheus_text(text, error);
    INFO(error);
    REQUIRE(families);
    for (const char* reason : {"bad_request", "not_found", "too_large", "rate_limited",
                               "overloaded", "read_timeout", "slow_request"}) {
        INFO(reason);
        CHECK(sum_family(*families, std::string("ainet_http_rejected_") + reason + "_total") == 0.0);
    }
    const metric_family* answers = find_family(*families, "ainet_http_answers_total");
    REQUIRE(answers);
    CHECK(answers->samples.size() >= 9);
    CHECK(sum_family(*families, "ainet_http_threads") == 2.0);
}
