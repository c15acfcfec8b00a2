// Goal: the encodings are frozen. Each message has a known-answer vector; encoding the fixed
// field values must give exactly these bytes, decoding the bytes must give back the values, and
// docs/PROTOCOL.md must hold the same vector (its "test-vector: <name>" blocks are read below),
// so the spec and the code cannot drift apart.
//
// The same hex is written in docs/PROTOCOL.md, section "Test vectors". Change both or neither;
// changing either is a protocol version bump.
#include <ainet/core/encoding.hpp>
#include <ainet/wire/messages.hpp>

#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// Inside ainet::wire so that errc means wire::errc and core names stay visible.
namespace ainet::wire {

namespace {

// Field values of the vectors: ids, nonces and signatures count up from a start byte. The
// signature bytes are arbitrary: wire carries signatures, it does not verify them.
node_id counting_id(uint8_t start) {
    node_id id;
    for (size_t i = 0; i < node_id_size; ++i)
        id.bytes[i] = static_cast<uint8_t>(start + i);
    return id;
}

template <size_t Size>
std::array<uint8_t, Size> counting(uint8_t start) {
    std::array<uint8_t, Size> out{};
    for (size_t i = 0; i < Size; ++i)
        out[i] = static_cast<uint8_t>(start + i);
    return out;
}

constexpr unix_ms vector_expiry{1700000000000}; // 2023-11-14T22:13:20Z
constexpr char relay_text[] = "hello, ainet";

const std::string hello_request_hex =
    "a14e010100004000"
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
    "0000000000000000000000000000000000000000000000000000000000000000";
const std::string hello_challenge_hex =
    "a14e010200002f00"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "0068e5cf8b010000"
    "04cb007107409c";
const std::string hello_hex = "a14e010300009b00"
                              "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
                              "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                              "0068e5cf8b010000"
                              "0620010db80000000000000000000000176cca"
                              "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                              "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
const std::string hello_signed_payload_hex =
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "0068e5cf8b010000"
    "0620010db80000000000000000000000176cca"
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const std::string hello_ack_hex =
    "a14e010400002400"
    "30750000"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf";
const std::string relay_data_hex =
    "a14e011000004d00"
    "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40"
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
    "08"
    "68656c6c6f2c2061696e6574";
const std::string ping_hex = "a14e012000001000"
                             "efcdab8967452301"
                             "00ca9a3b00000000";
const std::string pong_hex = "a14e012100001000"
                             "efcdab8967452301"
                             "00ca9a3b00000000";

hello vector_hello() {
    hello h;
    h.sender = counting_id(0x01);
    h.nonce = counting<hello_nonce_size>(0x40);
    h.expiry = vector_expiry;
    h.observed = parse_endpoint("[2001:db8::17]:51820").value();
    h.signature = counting<wire::signature_size>(0x80);
    return h;
}

struct vector_case {
    const char* name;
    message value;
    const std::string& hex;
};

std::vector<vector_case> all_vectors() {
    hello_challenge challenge;
    challenge.nonce = counting<hello_nonce_size>(0x40);
    challenge.expiry = vector_expiry;
    challenge.observed = parse_endpoint("203.0.113.7:40000").value();
    relay_data data;
    data.destination = counting_id(0x21);
    data.source = counting_id(0x01);
    data.hop_limit = 8;
    data.payload = bytes_view(reinterpret_cast<const uint8_t*>(relay_text), sizeof(relay_text) - 1);
    return {
        {"hello_request", hello_request{counting_id(0x01)}, hello_request_hex},
        {"hello_challenge", challenge, hello_challenge_hex},
        {"hello", vector_hello(), hello_hex},
        {"hello_ack", hello_ack{30000, counting_id(0xc0)}, hello_ack_hex},
        {"relay_data", data, relay_data_hex},
        {"ping", ping{0x0123456789abcdefull, 1000000000ull}, ping_hex},
        {"pong", pong{0x0123456789abcdefull, 1000000000ull}, pong_hex},
    };
}

// The hex of the block that follows "<!-- test-vector: name -->" in docs/PROTOCOL.md: a fenced
// block whose lines are hex bytes, optionally followed by "# comment".
std::string doc_vector(const std::string& doc, const std::string& name) {
    const std::string marker = "<!-- test-vector: " + name + " -->";
    const size_t at = doc.find(marker);
    if (at == std::string::npos)
        return "missing marker " + marker;
    const size_t open = doc.find("```", at);
    const size_t body = doc.find('\n', open);
    const size_t close = doc.find("\n```", body);
    if (open == std::string::npos || body == std::string::npos || close == std::string::npos)
        return "unterminated block for " + name;
    std::istringstream lines(doc.substr(body + 1, close - body - 1));
    std::string hex;
    for (std::string line; std::getline(lines, line);) {
        line = line.substr(0, line.find('#'));
        for (char c : line)
            if (!std::isspace(static_cast<unsigned char>(c)))
                hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return hex;
}

std::string read_protocol_doc() {
    std::ifstream in(std::string(AINET_SOURCE_ROOT) + "/docs/PROTOCOL.md");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("every message encodes to its test vector and decodes back", "[wire][vectors]") {
    for (const auto& v : all_vectors()) {
        INFO(v.name);
        std::array<uint8_t, 512> out{};
        const size_t size = encode(v.value, out).value();
        CHECK(to_hex(bytes_view(out).first(size)) == v.hex);
        const auto bytes = from_hex(v.hex).value();
        auto decoded = decode_message(bytes);
        REQUIRE(decoded);
        CHECK(*decoded == v.value);
        CHECK(type_of(*decoded) == type_of(v.value));
    }
}

TEST_CASE("hello signed payload test vector", "[wire][vectors]") {
    std::array<uint8_t, hello_signed_payload_size_max> out{};
    const size_t size = hello_signed_payload(vector_hello(), out).value();
    CHECK(to_hex(bytes_view(out).first(size)) == hello_signed_payload_hex);
}

TEST_CASE("docs/PROTOCOL.md holds the same test vectors", "[wire][vectors][docs]") {
    const std::string doc = read_protocol_doc();
    for (const auto& v : all_vectors()) {
        INFO(v.name);
        CHECK(doc_vector(doc, v.name) == v.hex);
    }
    CHECK(doc_vector(doc, "hello_signed_payload") == hello_signed_payload_hex);
}

} // namespace ainet::wire
