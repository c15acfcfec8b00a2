// Goal: a bootstrap node list made by make_document verifies and yields its records; the test
// vector of docs/PROTOCOL.md ("Bootstrap node lists (HTTP)") is reproduced byte for byte and
// verifies; signatures do not depend on key order, spacing or escaping; and every kind of bad
// list (forged, wrong signer, garbage, floats, duplicate keys, oversize, too many records,
// unknown fields, non-canonical values, issued in the future) is rejected whole and counted
// under its reason, while bad records inside a good list (forged, expired, from the future,
// duplicate, overlong lifetime) get their own verdicts and counters.
#include <ainet/core/encoding.hpp>
#include <ainet/discovery/bootstrap_document.hpp>
#include <ainet/discovery/known_nodes.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ainet::discovery {

namespace {

crypto::key_pair counting_key(uint8_t first) {
    REQUIRE(crypto::init());
    crypto::seed s{};
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<uint8_t>(first + i);
    return crypto::key_pair::from_seed(s);
}

endpoint ep(std::string_view text) { return parse_endpoint(text).value(); }

constexpr unix_ms t0{1700000000000}; // 2023-11-14T22:13:20Z
constexpr int64_t hour_ms = 3600 * 1000;

unix_ms at(int64_t offset_ms) { return unix_ms{static_cast<int64_t>(t0) + offset_ms}; }

node_record record_of(const crypto::key_pair& keys, uint16_t port, unix_ms issued,
                      unix_ms expires) {
    return make_node_record(keys, make_ipv4(192, 0, 2, 1, port),
                            make_ipv4(192, 0, 2, 1, static_cast<uint16_t>(port + 1000)), issued,
                            expires);
}

// --- The test vector, also in docs/PROTOCOL.md. Change both or neither. ---
// Signer: seed 00 01 .. 1f (the key of docs/protocol/signing.md's vector); second node: seed
// 20 21 .. 3f.
const std::string vector_record_a_signed =
    R"({"expires_at":1700086400000,"http":"192.0.2.1:8001","issued_at":1700000000000,)"
    R"("public_key":"03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",)"
    R"("udp":"192.0.2.1:7001"})";
const std::string vector_record_a_sig =
    "e6998b5a9de433c33a86b75384d92e45cf69bbdfccfcfccc586abfac22e61cb9"
    "e595e1b4d347c56dcf1a1991ffeeac9f1da9135db98fcd4c0f25c1d8c5e61b0e";
const std::string vector_record_b_signed =
    R"({"expires_at":1700600000000,"http":"[2001:db8::2]:8002","issued_at":1699999000000,)"
    R"("public_key":"29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7",)"
    R"("udp":"[2001:db8::2]:7002"})";
const std::string vector_record_b_sig =
    "aa6027a84cc3fb24fc683e5385b9a286756eb2834265815f309fe6877ba2c067"
    "0c29feb60843120d6851059d59ce2b2cfd4dc9f4b3216953577c7d2703add409";
const std::string vector_list_sig =
    "f0e544d539ea06df0f3e43b4a488e87a1c38f45067cbdb7b10dc1b25c5a4914d"
    "03499e52590d051e363eb36cc18c8042dbae6322a99201a3fbbfb23b8ab2ad09";

std::string with_sig(std::string signed_text, const std::string& sig) {
    // Inserts "signature" where JCS order puts it in a record: between public_key and udp.
    const auto at_udp = signed_text.find(",\"udp\":");
    signed_text.insert(at_udp, ",\"signature\":\"" + sig + "\"");
    return signed_text;
}

std::string vector_list_signed() {
    return R"({"issued_at":1700000060000,"nodes":[)" +
           with_sig(vector_record_a_signed, vector_record_a_sig) + "," +
           with_sig(vector_record_b_signed, vector_record_b_sig) +
           R"(],"signer":"03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",)"
           R"("version":1})";
}

std::string vector_document() {
    std::string text = vector_list_signed();
    text.insert(text.find(",\"signer\":"), ",\"signature\":\"" + vector_list_sig + "\"");
    return text;
}

std::vector<node_record> vector_records() {
    const auto a = counting_key(0x00);
    const auto b = counting_key(0x20);
    return {make_node_record(a, ep("192.0.2.1:7001"), ep("192.0.2.1:8001"),
                             unix_ms{1700000000000}, unix_ms{1700086400000}),
            make_node_record(b, ep("[2001:db8::2]:7002"), ep("[2001:db8::2]:8002"),
                             unix_ms{1699999000000}, unix_ms{1700600000000})};
}

// The text of the fenced block after "<!-- test-vector: name -->" in docs/PROTOCOL.md.
std::string doc_block(const std::string& name) {
    std::ifstream in(std::string(AINET_SOURCE_ROOT) + "/docs/PROTOCOL.md");
    REQUIRE(in);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string doc = buffer.str();
    const std::string marker = "<!-- test-vector: " + name + " -->";
    const size_t mark = doc.find(marker);
    if (mark == std::string::npos)
        return "missing marker " + marker;
    const size_t open = doc.find("```", mark);
    const size_t body = doc.find('\n', open);
    const size_t close = doc.find("\n```", body);
    if (open == std::string::npos || body == std::string::npos || close == std::string::npos)
        return "unterminated block " + name;
    return doc.substr(body + 1, close - body - 1);
}

result<verified_document> verify(std::string_view text, discovery_counters& counters,
                                 std::optional<node_id> signer = std::nullopt,
                                 unix_ms now = at(hour_ms), document_limits limits = {}) {
    return parse_and_verify_document(text, signer, now, limits, counters);
}

// Rejected whole, counted once under the reason, nothing else counted.
void expect_rejected(std::string_view text, errc reason,
                     std::optional<node_id> signer = std::nullopt, document_limits limits = {}) {
    discovery_counters counters;
    auto outcome = verify(text, counters, signer, at(hour_ms), limits);
    INFO(std::string(text.substr(0, 200)));
    REQUIRE_FALSE(outcome);
    CHECK(to_string(outcome.error()) == to_string(reason));
    CHECK(counters.rejected(reason) == 1);
    CHECK(counters.documents_accepted.load() == 0);
    for (size_t v = 0; v < record_verdict_count; ++v)
        CHECK(counters.records_by_verdict[v].load() == 0);
    for (size_t e = 1; e < errc_count; ++e)
        if (static_cast<errc>(e) != reason)
            CHECK(counters.documents_rejected[e].load() == 0);
}

std::string replace_once(std::string text, std::string_view from, std::string_view to) {
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    return text;
}

// Writes value with members in reverse order, spaces and newlines, and needless escapes, to
// check that signatures depend on values only.
void write_odd(std::string& out, const json_value& v) {
    switch (v.type) {
    case json_value::kind::null: out += " null "; return;
    case json_value::kind::boolean: out += v.boolean ? "true" : "false"; return;
    case json_value::kind::integer: out += "  " + std::to_string(v.integer) + "\n"; return;
    case json_value::kind::string:
        out += "\"";
        for (char c : v.string) {
            if (c == '/' || c == '.')
                out += c == '/' ? "\\/" : "\\u002E";
            else if (c == '"' || c == '\\')
                out += std::string("\\") + c;
            else
                out += c;
        }
        out += "\"";
        return;
    case json_value::kind::array:
        out += "[\n";
        for (size_t i = 0; i < v.array.size(); ++i) {
            out += i == 0 ? "  " : " ,\t";
            write_odd(out, v.array[i]);
        }
        out += "\n]";
        return;
    case json_value::kind::object:
        out += "{ ";
        for (size_t i = v.object.size(); i-- > 0;) {
            write_odd(out, json_value::make_string(v.object[i].key));
            out += " :\r\n";
            write_odd(out, v.object[i].value);
            if (i != 0)
                out += ",";
        }
        out += " }";
        return;
    }
}

} // namespace

TEST_CASE("make_document -> parse_and_verify_document round trip", "[discovery][document]") {
    const auto a = counting_key(0x00);
    const auto b = counting_key(0x20);
    const std::vector<node_record> records = {
        record_of(a, 7001, t0, at(24 * hour_ms)),
        make_node_record(b, ep("[2001:db8::2]:7002"), ep("[2001:db8::2]:8002"), t0,
                         at(24 * hour_ms))};
    const std::string text = make_document(a, records, at(60000));
    discovery_counters counters;
    auto v = verify(text, counters, a.id());
    REQUIRE(v);
    CHECK(v->signer == a.id());
    CHECK(v->issued_at == at(60000));
    CHECK(v->records == records);
    CHECK(v->verdicts ==
          std::vector<record_verdict>{record_verdict::accepted, record_verdict::accepted});
    CHECK(v->accepted_count == 2);
    CHECK(v->accepted() == records);
    CHECK(counters.documents_accepted.load() == 1);
    CHECK(counters.records(record_verdict::accepted) == 2);
    // The served text is already canonical.
    CHECK(canonicalize(text, 1 << 20).value() == text);
    // An empty list is a valid list.
    const std::string empty = make_document(a, {}, t0);
    auto e = verify(empty, counters, a.id());
    REQUIRE(e);
    CHECK(e->records.empty());
}

TEST_CASE("the bootstrap test vector of docs/PROTOCOL.md", "[discovery][document][vectors]") {
    const auto records = vector_records();
    CHECK(record_signed_text(records[0]) == vector_record_a_signed);
    CHECK(to_hex(records[0].sig) == vector_record_a_sig);
    CHECK(record_signed_text(records[1]) == vector_record_b_signed);
    CHECK(to_hex(records[1].sig) == vector_record_b_sig);
    const std::string text = make_document(counting_key(0x00), records, unix_ms{1700000060000});
    CHECK(text == vector_document());
    auto parsed = parse_json(text, 1 << 20);
    REQUIRE(parsed);
    CHECK(canonicalize_without(*parsed, "signature") == vector_list_signed());

    discovery_counters counters;
    auto v = parse_and_verify_document(text, counting_key(0x00).id(), unix_ms{1700000100000}, {},
                                       counters);
    REQUIRE(v);
    CHECK(v->accepted_count == 2);

    // The same texts, in the document.
    CHECK(doc_block("bootstrap_record_a_signed") == vector_record_a_signed);
    CHECK(doc_block("bootstrap_record_a_signature") == vector_record_a_sig);
    CHECK(doc_block("bootstrap_record_b_signed") == vector_record_b_signed);
    CHECK(doc_block("bootstrap_record_b_signature") == vector_record_b_sig);
    CHECK(doc_block("bootstrap_list_signed") == vector_list_signed());
    CHECK(doc_block("bootstrap_list_signature") == vector_list_sig);
    CHECK(doc_block("bootstrap_document") == vector_document());
}

TEST_CASE("signatures survive any key order, whitespace and escaping", "[discovery][document]") {
    const std::string text = vector_document();
    std::string odd;
    write_odd(odd, parse_json(text, 1 << 20).value());
    REQUIRE(odd != text);
    INFO(odd);
    discovery_counters counters;
    auto v = parse_and_verify_document(odd, counting_key(0x00).id(), unix_ms{1700000100000}, {},
                                       counters);
    REQUIRE(v);
    CHECK(v->accepted_count == 2);
    CHECK(v->records == vector_records());
    CHECK(canonicalize(odd, 1 << 20).value() == text);
}

TEST_CASE("a forged or mis-signed list is rejected whole and counted",
          "[discovery][document][reject]") {
    const auto a = counting_key(0x00);
    const auto b = counting_key(0x20);
    const std::vector<node_record> records = {record_of(a, 7001, t0, at(24 * hour_ms))};
    const std::string text = make_document(a, records, t0);

    SECTION("a flipped bit in the list signature") {
        const auto sig_at = text.find("\"signature\":\"", text.find("],")) + 13;
        std::string forged = text;
        forged[sig_at] = forged[sig_at] == '0' ? '1' : '0';
        expect_rejected(forged, errc::bad_signature);
    }
    SECTION("a changed record after signing (the list covers its records)") {
        expect_rejected(replace_once(text, "192.0.2.1:7001", "192.0.2.1:7009"),
                        errc::bad_signature);
    }
    SECTION("signed by another key but naming the expected signer") {
        std::string forged = make_document(b, records, t0);
        forged = replace_once(forged, to_hex(b.public_key_bytes()), to_hex(a.public_key_bytes()));
        expect_rejected(forged, errc::bad_signature, a.id());
    }
    SECTION("validly signed by another node than the one asked") {
        expect_rejected(make_document(b, records, t0), errc::wrong_signer, a.id());
    }
    SECTION("issued beyond the clock skew in the future") {
        expect_rejected(make_document(a, records, at(hour_ms + 5 * 60 * 1000 + 1)),
                        errc::not_yet_valid);
        discovery_counters counters;
        CHECK(verify(make_document(a, records, at(hour_ms + 5 * 60 * 1000)), counters));
    }
    SECTION("a signature under another domain (a record's signature used as the list's)") {
        const node_record own = record_of(a, 7001, t0, at(24 * hour_ms));
        const auto sig_at = text.find("\"signature\":\"", text.find("],")) + 13;
        std::string forged = text;
        forged.replace(sig_at, 2 * crypto::signature_size, to_hex(own.sig));
        expect_rejected(forged, errc::bad_signature);
    }
}

TEST_CASE("garbage, floats, duplicate keys and oversize input are rejected and counted",
          "[discovery][document][reject]") {
    const auto a = counting_key(0x00);
    const std::string text =
        make_document(a, std::vector<node_record>{record_of(a, 7001, t0, at(24 * hour_ms))}, t0);

    expect_rejected("", errc::syntax);
    expect_rejected("not json", errc::syntax);
    expect_rejected(text.substr(0, text.size() - 1), errc::syntax);
    expect_rejected(text + "x", errc::syntax);
    expect_rejected(std::string_view("\x00\x01\x02", 3), errc::syntax);
    expect_rejected("[1,2,3]", errc::wrong_type);
    expect_rejected("\"\xff\"", errc::bad_utf8);
    expect_rejected(std::string(1000, '['), errc::too_deep);
    // Floats in signed JSON, even integral ones.
    expect_rejected(replace_once(text, "\"issued_at\":1700000000000,\"nodes\"",
                                 "\"issued_at\":1700000000000.0,\"nodes\""),
                    errc::not_integer);
    expect_rejected(replace_once(text, "\"version\":1", "\"version\":1e0"), errc::not_integer);
    expect_rejected(replace_once(text, "\"version\":1", "\"version\":9007199254740993"),
                    errc::integer_out_of_range);
    // Duplicate keys: JSON parsers disagree on which one wins, so neither does.
    expect_rejected(replace_once(text, "\"version\":1", "\"version\":1,\"version\":1"),
                    errc::duplicate_key);
    expect_rejected(replace_once(text, "\"udp\":", "\"udp\":\"192.0.2.1:7001\",\"udp\":"),
                    errc::duplicate_key);
    // Size limit, checked before parsing.
    document_limits small;
    small.document_size_max = text.size() - 1;
    expect_rejected(text, errc::too_large, std::nullopt, small);
    expect_rejected(std::string(300 * 1024, ' '), errc::too_large);
}

TEST_CASE("structural faults reject the whole list", "[discovery][document][reject]") {
    const auto a = counting_key(0x00);
    const std::string text =
        make_document(a, std::vector<node_record>{record_of(a, 7001, t0, at(24 * hour_ms))}, t0);
    const std::string key_hex = to_hex(a.public_key_bytes());

    expect_rejected(replace_once(text, "\"version\":1", "\"version\":1,\"extra\":0"),
                    errc::unknown_field);
    expect_rejected(replace_once(text, "\"udp\":", "\"port\":1,\"udp\":"), errc::unknown_field);
    expect_rejected(replace_once(text, ",\"version\":1", ""), errc::missing_field);
    expect_rejected(replace_once(text, "\"http\":\"192.0.2.1:8001\",", ""), errc::missing_field);
    expect_rejected(replace_once(text, "\"version\":1", "\"version\":\"1\""), errc::wrong_type);
    expect_rejected(replace_once(text, "\"version\":1", "\"version\":2"), errc::bad_value);
    expect_rejected(replace_once(text, "\"nodes\":[", "\"nodes\":[1,"), errc::wrong_type);
    expect_rejected(replace_once(text, "\"expires_at\":1700086400000",
                                 "\"expires_at\":\"1700086400000\""),
                    errc::wrong_type);
    expect_rejected(replace_once(text, "\"expires_at\":1700086400000", "\"expires_at\":-1"),
                    errc::bad_value);
    expect_rejected(replace_once(text, "\"version\":1", "\"version\":null"), errc::wrong_type);
    // One text per value: uppercase hex and non-canonical endpoints are not ainet's output.
    std::string upper = key_hex;
    for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    expect_rejected(replace_once(text, "\"signer\":\"" + key_hex, "\"signer\":\"" + upper),
                    errc::bad_value);
    expect_rejected(replace_once(text, "\"signer\":\"" + key_hex, "\"signer\":\"" + key_hex + "00"),
                    errc::bad_value);
    expect_rejected(replace_once(text, "192.0.2.1:7001", "192.0.2.1:07001"), errc::bad_value);
    expect_rejected(replace_once(text, "192.0.2.1:7001", "192.0.2.1:0"), errc::bad_value);
    expect_rejected(replace_once(text, "192.0.2.1:7001", "example.com:7001"), errc::bad_value);
}

TEST_CASE("a huge list is rejected whole: too many records", "[discovery][document][reject]") {
    const auto a = counting_key(0x00);
    document_limits limits;
    limits.records_max = 4;
    std::vector<node_record> records;
    for (uint8_t i = 0; i < 5; ++i)
        records.push_back(record_of(counting_key(static_cast<uint8_t>(0x40 + i)),
                                    static_cast<uint16_t>(7001 + i), t0, at(24 * hour_ms)));
    expect_rejected(make_document(a, records, t0), errc::too_many_records, a.id(), limits);
    records.pop_back();
    discovery_counters counters;
    auto v = verify(make_document(a, records, t0), counters, a.id(), at(hour_ms), limits);
    REQUIRE(v);
    CHECK(v->accepted_count == 4);
}

TEST_CASE("bad records inside a good list get their own verdicts; only good ones merge",
          "[discovery][document][records]") {
    const auto server = counting_key(0x00);
    std::vector<crypto::key_pair> keys;
    for (uint8_t i = 0; i < 8; ++i)
        keys.push_back(counting_key(static_cast<uint8_t>(0x40 + 7 * i)));
    const unix_ms now = at(hour_ms);
    const int64_t skew = document_limits{}.clock_skew_ms_max;
    const int64_t lifetime_max = document_limits{}.record_lifetime_ms_max;

    node_record forged = record_of(keys[1], 7002, t0, at(24 * hour_ms));
    forged.udp.port = 9999; // a changed address under the old signature
    node_record impersonation = record_of(keys[6], 7007, t0, at(24 * hour_ms));
    impersonation.id = keys[5].id(); // claims another node's key
    const std::vector<node_record> records = {
        record_of(keys[0], 7001, t0, at(24 * hour_ms)),                           // good
        forged,                                                                   // bad signature
        record_of(keys[2], 7003, at(-2 * hour_ms), at(-1)),                       // expired (now - hour - 1)
        record_of(keys[3], 7004, at(hour_ms + skew + 1), at(30 * hour_ms)),       // from the future
        record_of(keys[0], 7005, at(1), at(24 * hour_ms)),                        // duplicate key
        record_of(keys[4], 7006, at(-1000), at(-1000 + lifetime_max + 1)),        // lifetime too long
        impersonation,                                                            // bad signature
        record_of(keys[7], 7008, at(hour_ms + skew), at(hour_ms + skew + 1)),     // skew edge: good
    };
    const std::string text = make_document(server, records, t0);
    discovery_counters counters;
    auto v = verify(text, counters, server.id(), now);
    REQUIRE(v);
    CHECK(v->verdicts == std::vector<record_verdict>{
                             record_verdict::accepted, record_verdict::bad_signature,
                             record_verdict::expired, record_verdict::not_yet_valid,
                             record_verdict::duplicate, record_verdict::bad_lifetime,
                             record_verdict::bad_signature, record_verdict::accepted});
    CHECK(v->accepted_count == 2);
    CHECK(counters.documents_accepted.load() == 1);
    CHECK(counters.records(record_verdict::accepted) == 2);
    CHECK(counters.records(record_verdict::bad_signature) == 2);
    CHECK(counters.records(record_verdict::expired) == 1);
    CHECK(counters.records(record_verdict::not_yet_valid) == 1);
    CHECK(counters.records(record_verdict::duplicate) == 1);
    CHECK(counters.records(record_verdict::bad_lifetime) == 1);

    known_nodes table({});
    const auto report = table.merge(*v);
    CHECK(report.added == std::vector<node_id>{keys[0].id(), keys[7].id()});
    CHECK(table.size() == 2);
    CHECK(table.find(keys[1].id()) == nullptr);
    CHECK(table.find(keys[5].id()) == nullptr);
    CHECK(*table.find(keys[0].id()) == records[0]);

    // Record expiry is exclusive: at expires_at the record is gone.
    discovery_counters later;
    auto v2 = verify(text, later, server.id(), at(24 * hour_ms));
    REQUIRE(v2);
    CHECK(v2->verdicts[0] == record_verdict::expired);
}

TEST_CASE("single-record verification matches the batch verdict", "[discovery][document]") {
    const auto records = vector_records();
    for (const auto& r : records)
        CHECK(verify_record(r));
    node_record changed = records[0];
    changed.expires_at = unix_ms{static_cast<int64_t>(changed.expires_at) + 1};
    CHECK_FALSE(verify_record(changed));
}

} // namespace ainet::discovery
