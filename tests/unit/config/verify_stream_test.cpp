// Goal: the `ainetctl verify --stream` line parser accepts exactly "PK_HEX MSG_HEX SIG_HEX"
// lines and the stream answers one ok/bad per input line, in order, identically with and
// without batching (batch verify vs single verify differential test).
#include "../support/rng.hpp"
#include "verify_stream.hpp"

#include <ainet/core/encoding.hpp>
#include <ainet/crypto/ed25519.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace ainet::ctl {

namespace {

const std::string pk_hex(64, 'a');
const std::string sig_hex(128, 'b');

crypto::key_pair test_keys(uint8_t tag) {
    REQUIRE(crypto::init());
    crypto::seed s{};
    s.fill(tag);
    return crypto::key_pair::from_seed(s);
}

std::string line_for(const crypto::key_pair& keys, const std::vector<uint8_t>& message,
                     const crypto::signature& sig) {
    return to_hex(keys.public_key_bytes()) + " " + (message.empty() ? "-" : to_hex(message)) +
           " " + to_hex(sig);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        out.push_back(line);
    return out;
}

} // namespace

TEST_CASE("a well-formed verify line parses", "[tools][verify_stream]") {
    auto l = parse_verify_line(pk_hex + " 0102ff " + sig_hex);
    REQUIRE(l);
    CHECK(l->key[0] == 0xaa);
    CHECK(l->message == std::vector<uint8_t>{0x01, 0x02, 0xff});
    CHECK(l->sig[63] == 0xbb);

    // Tabs, repeated separators, surrounding blanks and a CRLF ending are tolerated.
    auto t = parse_verify_line("  " + pk_hex + "\t\t00  " + sig_hex + " \r");
    REQUIRE(t);
    CHECK(t->message == std::vector<uint8_t>{0x00});
    // Upper-case hex is hex.
    CHECK(parse_verify_line(std::string(64, 'A') + " AB " + std::string(128, 'F')));
}

TEST_CASE("'-' is the empty message", "[tools][verify_stream]") {
    auto l = parse_verify_line(pk_hex + " - " + sig_hex);
    REQUIRE(l);
    CHECK(l->message.empty());
    CHECK(parse_verify_line(pk_hex + " -- " + sig_hex).error() == errc::bad_message_hex);
}

TEST_CASE("malformed verify lines give the right error", "[tools][verify_stream]") {
    struct bad_case {
        std::string line;
        errc expected;
    };
    for (const auto& c : {
             bad_case{"", errc::empty_line},
             bad_case{"   \t ", errc::empty_line},
             bad_case{"\r", errc::empty_line},
             bad_case{pk_hex, errc::field_count},
             bad_case{pk_hex + " 00", errc::field_count},
             bad_case{pk_hex + " 00 " + sig_hex + " 00", errc::field_count},
             bad_case{pk_hex + " 00 " + sig_hex + " extra words here", errc::field_count},
             bad_case{std::string(63, 'a') + "g 00 " + sig_hex, errc::bad_public_key_hex},
             bad_case{std::string(63, 'a') + " 00 " + sig_hex, errc::bad_public_key_hex},
             bad_case{std::string(62, 'a') + " 00 " + sig_hex, errc::public_key_size},
             bad_case{std::string(66, 'a') + " 00 " + sig_hex, errc::public_key_size},
             bad_case{pk_hex + " 0 " + sig_hex, errc::bad_message_hex},
             bad_case{pk_hex + " zz " + sig_hex, errc::bad_message_hex},
             bad_case{pk_hex + " 00 " + std::string(127, 'b') + "x", errc::bad_signature_hex},
             bad_case{pk_hex + " 00 " + std::string(126, 'b'), errc::signature_size},
             bad_case{pk_hex + " 00 " + std::string(130, 'b'), errc::signature_size},
             bad_case{pk_hex + " " + std::string(2 * verify_message_size_max + 2, '0') + " " +
                          sig_hex,
                      errc::message_too_long},
             bad_case{std::string(verify_line_size_max + 1, ' '), errc::line_too_long},
             bad_case{pk_hex + "\n00 " + sig_hex, errc::field_count}, // a newline is no separator
             bad_case{pk_hex + std::string(" 00\0 ", 5) + sig_hex, errc::bad_message_hex},
         }) {
        INFO(c.line.substr(0, 200));
        auto parsed = parse_verify_line(c.line);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error() == c.expected);
        CHECK_FALSE(to_string(parsed.error()).empty());
    }
    // The largest message is still accepted.
    CHECK(parse_verify_line(pk_hex + " " + std::string(2 * verify_message_size_max, '0') + " " +
                            sig_hex));
}

TEST_CASE("the stream answers each line in order, with and without batching",
          "[tools][verify_stream]") {
    const auto alice = test_keys(1);
    const auto bob = test_keys(2);
    auto rng = test::seeded_rng(7);
    const auto message = test::random_bytes(rng, 40);
    const auto cli = crypto::sig_domain::cli_message;

    std::vector<std::string> lines;
    std::vector<std::string> expected;
    auto add = [&](std::string line, bool ok) {
        lines.push_back(std::move(line));
        expected.push_back(ok ? "ok" : "bad");
    };
    add(line_for(alice, message, alice.sign(cli, message)), true);
    add(line_for(bob, message, alice.sign(cli, message)), false);           // wrong key
    add(line_for(alice, {}, alice.sign(cli, {})), true);                    // "-" message
    add("garbage", false);                                                  // field count
    add(line_for(alice, message, alice.sign_raw(message)), false);          // other domain
    add("", false);                                                         // empty line
    auto tampered = message;
    tampered[3] ^= 1;
    add(line_for(alice, tampered, alice.sign(cli, message)), false);        // changed message
    add(std::string(verify_line_size_max + 10, 'a'), false);                // overlong
    add(line_for(bob, tampered, bob.sign(cli, tampered)), true);
    add(to_hex(alice.public_key_bytes()) + " 00 " + std::string(128, 'x'), false); // bad sig hex
    add(line_for(alice, message, alice.sign(cli, message)), true);

    std::string input;
    for (const auto& l : lines)
        input += l + "\n";
    input.pop_back(); // the last line has no newline and is still answered

    verify_stream_options options;
    options.domain = cli;
    std::string single_output;
    for (size_t batch : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}}) {
        INFO("batch " << batch);
        options.batch_size = batch;
        std::istringstream in(input);
        std::ostringstream out;
        std::ostringstream err;
        const auto counts = run_verify_stream(in, out, err, options);
        CHECK(lines_of(out.str()) == expected);
        CHECK(counts.line_count == lines.size());
        CHECK(counts.ok_count == 4);
        CHECK(counts.bad_count == lines.size() - 4);
        CHECK(counts.malformed_count == 4);
        // Malformed lines are reported with their line numbers.
        CHECK(err.str().find("line 4: ") != std::string::npos);
        CHECK(err.str().find("line 6: empty line") != std::string::npos);
        CHECK(err.str().find("line 8: line too long") != std::string::npos);
        CHECK(err.str().find("line 10: signature is not hex") != std::string::npos);
        if (batch == 0)
            single_output = out.str();
        else
            CHECK(out.str() == single_output);
    }
}

TEST_CASE("raw mode verifies plain Ed25519 over the message", "[tools][verify_stream]") {
    const auto keys = test_keys(3);
    const std::vector<uint8_t> message{1, 2, 3};
    const std::string input = line_for(keys, message, keys.sign_raw(message)) + "\n" +
                              line_for(keys, message, keys.sign(crypto::sig_domain::cli_message,
                                                                message)) +
                              "\n";
    for (size_t batch : {size_t{0}, size_t{2}}) {
        verify_stream_options options; // domain nullopt: raw
        options.batch_size = batch;
        std::istringstream in(input);
        std::ostringstream out, err;
        (void)run_verify_stream(in, out, err, options);
        CHECK(out.str() == "ok\nbad\n");
    }
}

TEST_CASE("an empty stream answers nothing", "[tools][verify_stream]") {
    std::istringstream in("");
    std::ostringstream out, err;
    const auto counts = run_verify_stream(in, out, err, {});
    CHECK(counts.line_count == 0);
    CHECK(out.str().empty());
    // A lone newline is one empty line.
    std::istringstream one("\n");
    CHECK(run_verify_stream(one, out, err, {}).line_count == 1);
    CHECK(out.str() == "bad\n");
}

} // namespace ainet::ctl
