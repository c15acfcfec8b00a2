// Goal: log lines have one fixed shape (time, level, node, shard, event, key=value fields), stay
// one line whatever the values hold, and cost nothing below the configured level.
#include <ainet/node/log.hpp>

#include <catch2/catch.hpp>

#include <regex>

using namespace ainet;
using namespace ainet::node;

TEST_CASE("log: line shape, levels and quoting", "[node][log]") {
    const log_level saved = current_log_level();
    set_log_level(log_level::warn);
    {
        log_event below(log_level::info, "ignored");
        below.field("k", "v");
        CHECK(below.line().empty());
    }
    CHECK_FALSE(log_enabled(log_level::debug));
    CHECK(log_enabled(log_level::error));

    {
        log_event e(log_level::error, shard_id{3}, "io_error");
        e.field("errno", 11).field("count", uint64_t{7}).field("peer", "127.0.0.1:7000");
        const std::regex shape(
            R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error node=\S+ shard=3 io_error errno=11 count=7 peer=127\.0\.0\.1:7000$)");
        CHECK(std::regex_match(e.line(), shape));
    }
    {
        log_event e(log_level::warn, "x");
        e.field("msg", "two words").field("evil", "a\nb\"c\\=\x01").field("empty", "");
        CHECK(e.line().find("msg=\"two words\"") != std::string::npos);
        CHECK(e.line().find(R"(evil="a\nb\"c\\=\x01")") != std::string::npos);
        CHECK(e.line().find("empty=\"\"") != std::string::npos);
        CHECK(e.line().find('\n') == std::string::npos);
    }
    set_log_level(saved);
}
