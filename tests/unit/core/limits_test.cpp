// Goal: the default limits are valid and each broken relation is reported by field name.
#include <ainet/core/limits.hpp>

#include <catch2/catch.hpp>

using namespace ainet;

TEST_CASE("default limits are valid", "[core][limits]") { CHECK(validate(limits{}).empty()); }

TEST_CASE("invalid limits name their field", "[core][limits]") {
    limits l;
    l.recv_buffer_count = 1000;
    auto problems = validate(l);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].rfind("recv_buffer_count:", 0) == 0);

    limits m;
    m.io_batch_size_max = 0;
    m.datagram_size_max = 100;
    CHECK(validate(m).size() == 2);
}
