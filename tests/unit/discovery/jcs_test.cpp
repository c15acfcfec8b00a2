// Goal: the JCS canonicalizer produces RFC 8785's output for the examples that fit ainet's
// signed subset (key order by UTF-16 code units, string escaping, literals), rejects what the
// subset excludes (fractions, exponents, unsafe integers, bad UTF-8, lone surrogates, duplicate
// keys, deep nesting, oversize text) with the right reason, and is a fixed point on random
// values.
#include <ainet/discovery/jcs.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace ainet::discovery {

namespace {

constexpr size_t big = 1 << 20;

std::string canon(std::string_view text) {
    auto out = canonicalize(text, big);
    INFO(std::string(text));
    REQUIRE(out);
    return *out;
}

errc rejected(std::string_view text) {
    auto out = canonicalize(text, big);
    INFO(std::string(text));
    REQUIRE_FALSE(out);
    return out.error();
}

} // namespace

TEST_CASE("RFC 8785 3.2.3: object keys sort by UTF-16 code units", "[discovery][jcs]") {
    // The RFC's sorting example; U+1F600 (surrogates D83D DE00) sorts before U+FB33, which
    // byte (code point) order would put the other way round.
    const std::string text = R"({
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    })";
    CHECK(canon(text) == "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                         "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                         "\"\xe2\x82\xac\":\"Euro Sign\","
                         "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                         "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
    CHECK(utf16_less("\xf0\x9f\x98\x80", "\xef\xac\xb3"));
    CHECK_FALSE(utf16_less("\xef\xac\xb3", "\xf0\x9f\x98\x80"));
    CHECK(utf16_less("a", "ab"));
    CHECK_FALSE(utf16_less("ab", "ab"));
}

TEST_CASE("RFC 8785 3.2.2: strings and literals serialize as JCS says", "[discovery][jcs]") {
    // From the RFC's example object, without its "numbers" array (floats are outside the subset).
    const std::string text = R"({
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    })";
    CHECK(canon(text) == "{\"literals\":[null,true,false],"
                         "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    // The RFC's numbers are all non-integers or exponents.
    CHECK(rejected(R"({"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]})") ==
          errc::not_integer);
}

TEST_CASE("JCS string escaping: only the seven short escapes and \\u00xx", "[discovery][jcs]") {
    CHECK(canon(R"("\b\f\n\r\t\"\\")") == R"("\b\f\n\r\t\"\\")");
    CHECK(canon(R"("\u0000\u0001\u001F\u000B")") == R"("\u0000\u0001\u001f\u000b")");
    CHECK(canon(R"("\u007f\u0020\/")") == "\"\x7f /\"");
    CHECK(canon(R"("\u00e9\u00E9")") == "\"\xc3\xa9\xc3\xa9\"");
    CHECK(canon("\"\xf0\x9f\x98\x80\"") == "\"\xf0\x9f\x98\x80\"");
    CHECK(canon(R"("\ud83d\ude00")") == "\"\xf0\x9f\x98\x80\"");
    CHECK(canon(R"("<\u2028>")") == "\"<\xe2\x80\xa8>\"");
}

TEST_CASE("JCS integers: plain decimal within +-(2^53-1), nothing else", "[discovery][jcs]") {
    CHECK(canon("0") == "0");
    CHECK(canon("-0") == "0");
    CHECK(canon(" 42 ") == "42");
    CHECK(canon("-17") == "-17");
    CHECK(canon("9007199254740991") == "9007199254740991");
    CHECK(canon("-9007199254740991") == "-9007199254740991");
    CHECK(rejected("9007199254740992") == errc::integer_out_of_range);
    CHECK(rejected("-9007199254740992") == errc::integer_out_of_range);
    CHECK(rejected("123456789012345678901234567890") == errc::integer_out_of_range);
    CHECK(rejected("1.0") == errc::not_integer);
    CHECK(rejected("1e3") == errc::not_integer);
    CHECK(rejected("1E+3") == errc::not_integer);
    CHECK(rejected("-0.0") == errc::not_integer);
    CHECK(rejected("01") == errc::syntax);
    CHECK(rejected("1.") == errc::syntax);
    CHECK(rejected("1e") == errc::syntax);
    CHECK(rejected("+1") == errc::syntax);
    CHECK(rejected("-") == errc::syntax);
    CHECK(rejected(".5") == errc::syntax);
    CHECK(rejected("0x10") == errc::syntax);
}

TEST_CASE("JCS input must be valid UTF-8 without lone surrogates", "[discovery][jcs]") {
    CHECK(rejected("\"\xc0\xaf\"") == errc::bad_utf8);         // overlong '/'
    CHECK(rejected("\"\xe0\x80\xaf\"") == errc::bad_utf8);     // overlong, 3 bytes
    CHECK(rejected("\"\xed\xa0\x80\"") == errc::bad_utf8);     // encoded surrogate U+D800
    CHECK(rejected("\"\xf4\x90\x80\x80\"") == errc::bad_utf8); // above U+10FFFF
    CHECK(rejected("\"\xe2\x82\"") == errc::bad_utf8);         // truncated sequence
    CHECK(rejected("\"\x80\"") == errc::bad_utf8);             // lone continuation byte
    CHECK(rejected("\"\xff\"") == errc::bad_utf8);
    CHECK(rejected(R"("\ud800")") == errc::bad_utf8);
    CHECK(rejected(R"("\udc00")") == errc::bad_utf8);
    CHECK(rejected(R"("\ud83d\u0041")") == errc::bad_utf8);
    CHECK(rejected(R"("\ud83dx")") == errc::bad_utf8);
    CHECK(is_valid_utf8("plain \xc3\xa9 \xf0\x9f\x98\x80"));
    CHECK_FALSE(is_valid_utf8("\xed\xbf\xbf"));
}

TEST_CASE("JCS rejects duplicate keys, deep nesting, bad syntax and oversize text",
          "[discovery][jcs]") {
    CHECK(rejected(R"({"a":1,"a":2})") == errc::duplicate_key);
    CHECK(rejected(R"({"a":1,"\u0061":1})") == errc::duplicate_key); // equal after unescaping
    CHECK(canon(R"({"a":{"a":1}})") == R"({"a":{"a":1}})");        // same key, other objects

    const std::string ok_depth = std::string(json_depth_max, '[') + std::string(json_depth_max, ']');
    CHECK(canon(ok_depth) == ok_depth);
    const std::string too_deep =
        std::string(json_depth_max + 1, '[') + std::string(json_depth_max + 1, ']');
    CHECK(rejected(too_deep) == errc::too_deep);
    CHECK(rejected(std::string(100000, '[')) == errc::too_deep);

    for (const char* bad : {"", " ", "[1,]", "{\"a\":1,}", "[1] x", "{a:1}", "{'a':1}", "tru",
                            "nul", "[", "{\"a\"}", "\"abc", "\"a\tb\"", "\"\\x\"", "\"\\u12\"",
                            "[1 2]", "//c\n1", "NaN", "Infinity"}) {
        INFO(bad);
        CHECK(rejected(bad) == errc::syntax);
    }
    auto small = parse_json("[1, 2, 3]", 8);
    REQUIRE_FALSE(small);
    CHECK(small.error() == errc::too_large);
}

TEST_CASE("JCS formatting: whitespace and key order do not change the output",
          "[discovery][jcs]") {
    CHECK(canon(" {\n \"b\" : [ 1 , { \"z\":null, \"y\" : true } ] ,\t\"a\":\"x\"\r\n} ") ==
          R"({"a":"x","b":[1,{"y":true,"z":null}]})");
    CHECK(canon("[]") == "[]");
    CHECK(canon("{}") == "{}");
    CHECK(canon(R"({"a":{}, "b":[]})") == R"({"a":{},"b":[]})");
}

namespace {

std::string random_utf8(std::mt19937_64& rng) {
    static const char* pieces[] = {"a", "Z", "0", "\"", "\\", "/", "\n", "\x01", "\x1f", "\x7f",
                                   "\xc2\x80", "\xc3\xb6", "\xe2\x82\xac", "\xef\xac\xb3",
                                   "\xef\xbf\xbf", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", " "};
    std::string out;
    const size_t size = rng() % 6;
    for (size_t i = 0; i < size; ++i)
        out += pieces[rng() % std::size(pieces)];
    return out;
}

json_value random_value(std::mt19937_64& rng, size_t depth) {
    const auto pick = rng() % (depth >= 4 ? 4 : 6);
    switch (pick) {
    case 0: return json_value{};
    case 1: return json_value::make_bool(rng() % 2 == 0);
    case 2: {
        const auto magnitude = static_cast<int64_t>(rng() % static_cast<uint64_t>(json_integer_max + 1));
        return json_value::make_integer(rng() % 2 == 0 ? magnitude : -magnitude);
    }
    case 3: return json_value::make_string(random_utf8(rng));
    case 4: {
        auto v = json_value::make_array();
        const size_t count = rng() % 4;
        for (size_t i = 0; i < count; ++i)
            v.array.push_back(random_value(rng, depth + 1));
        return v;
    }
    default: {
        auto v = json_value::make_object();
        const size_t count = rng() % 5;
        for (size_t i = 0; i < count; ++i) {
            std::string key = random_utf8(rng);
            if (v.find(key) == nullptr)
                v.add(std::move(key), random_value(rng, depth + 1));
        }
        return v;
    }
    }
}

std::u16string to_utf16(std::string_view utf8) {
    // Test oracle: a plain decoder, independent of utf16_cursor.
    std::u16string out;
    for (size_t i = 0; i < utf8.size();) {
        const auto b = static_cast<uint8_t>(utf8[i]);
        uint32_t cp = 0;
        size_t size = 1;
        if (b < 0x80) {
            cp = b;
        } else if (b < 0xe0) {
            cp = b & 0x1fu;
            size = 2;
        } else if (b < 0xf0) {
            cp = b & 0x0fu;
            size = 3;
        } else {
            cp = b & 0x07u;
            size = 4;
        }
        for (size_t k = 1; k < size; ++k)
            cp = (cp << 6) | (static_cast<uint8_t>(utf8[i + k]) & 0x3fu);
        i += size;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
    }
    return out;
}

} // namespace

TEST_CASE("JCS output is a fixed point and parses back to the same value (random values)",
          "[discovery][jcs][property]") {
    auto rng = test::seeded_rng(1);
    for (int i = 0; i < 2000; ++i) {
        const json_value v = random_value(rng, 0);
        const std::string once = canonicalize(v);
        INFO(once);
        auto reparsed = parse_json(once, big);
        REQUIRE(reparsed);
        CHECK(canonicalize(*reparsed) == once);
    }
}

TEST_CASE("utf16_less agrees with comparing UTF-16 strings (random strings)",
          "[discovery][jcs][property]") {
    auto rng = test::seeded_rng(2);
    for (int i = 0; i < 5000; ++i) {
        const std::string a = random_utf8(rng);
        const std::string b = random_utf8(rng);
        CHECK(utf16_less(a, b) == (to_utf16(a) < to_utf16(b)));
    }
}

} // namespace ainet::discovery
