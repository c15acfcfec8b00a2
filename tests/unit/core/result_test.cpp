// Goal: result<T> carries a value or an error, AINET_TRY propagates errors unchanged.
#include <ainet/core/bytes.hpp>
#include <ainet/core/result.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using namespace ainet;

namespace {

result<int, errc> half(int x) {
    if (x % 2 != 0)
        return fail(errc::wrong_size);
    return x / 2;
}

result<int, errc> quarter(int x) {
    AINET_TRY(h, half(x));
    AINET_TRY(q, half(h));
    return q;
}

result<void, errc> check_even(int x) {
    if (x % 2 != 0)
        return fail(errc::wrong_size);
    return {};
}

result<int, errc> via_void(int x) {
    AINET_TRY_VOID(check_even(x));
    return x;
}

} // namespace

TEST_CASE("result holds a value or an error", "[core][result]") {
    auto ok = half(8);
    REQUIRE(ok);
    CHECK(*ok == 4);
    auto bad = half(3);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::wrong_size);
    CHECK(bad.value_or(-1) == -1);
}

TEST_CASE("AINET_TRY propagates the first error", "[core][result]") {
    CHECK(quarter(8).value() == 2);
    CHECK(quarter(6).error() == errc::wrong_size);
    CHECK(via_void(4).value() == 4);
    CHECK(via_void(5).error() == errc::wrong_size);
}

TEST_CASE("result holds move-only values", "[core][result]") {
    result<std::unique_ptr<std::string>, errc> r = std::make_unique<std::string>("x");
    auto owned = std::move(r).value();
    CHECK(*owned == "x");
}

TEST_CASE("every core errc has a name", "[core][result]") {
    for (int e = 1; e <= static_cast<int>(errc::bad_endpoint); ++e)
        CHECK(to_string(static_cast<errc>(e)) != "unknown core error");
}
