// Goal: every message has exactly one encoding. Random messages round-trip (decode(encode(x)) ==
// x and re-encoding gives the same bytes); no prefix of a datagram decodes; every single-byte
// mutation is either rejected or decodes to a message that re-encodes to the mutated bytes; and
// each field's range check holds on both the encode and the decode side.
#include <ainet/crypto/ed25519.hpp>
#include <ainet/wire/messages.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

// Inside ainet::wire so that errc means wire::errc and core names stay visible.
namespace ainet::wire {

// wire carries signatures and keys without depending on crypto; the sizes must agree.
static_assert(wire::signature_size == crypto::signature_size);
static_assert(node_id_size == crypto::public_key_size);

namespace {

// Backing store for relay_data payloads, which the message only borrows.
using payload_store = std::vector<uint8_t>;

template <size_t Size>
std::array<uint8_t, Size> random_array(std::mt19937_64& rng) {
    std::array<uint8_t, Size> out{};
    for (auto& b : out)
        b = static_cast<uint8_t>(rng());
    return out;
}

node_id random_node_id(std::mt19937_64& rng) {
    return node_id{random_array<node_id_size>(rng)};
}

endpoint random_endpoint(std::mt19937_64& rng) {
    endpoint e;
    e.family = rng() % 2 ? address_family::ipv4 : address_family::ipv6;
    for (size_t i = 0; i < e.address_size(); ++i)
        e.address[i] = static_cast<uint8_t>(rng());
    if (is_ipv4_mapped(e))
        e.address[0] = 0x20;
    e.port = static_cast<uint16_t>(1 + rng() % 65535);
    return e;
}

unix_ms random_expiry(std::mt19937_64& rng) {
    switch (rng() % 8) {
    case 0:
        return unix_ms{0};
    case 1:
        return unix_ms{INT64_MAX};
    default:
        return unix_ms{static_cast<int64_t>(rng() >> 1)};
    }
}

// A random message of the index-th alternative; relay_data payloads (stored in store) take up
// to relay_payload_size bytes.
message random_message(std::mt19937_64& rng, size_t index, payload_store& store,
                       size_t relay_payload_size = 1400) {
    switch (index) {
    case 0:
        return hello_request{random_node_id(rng)};
    case 1:
        return hello_challenge{random_array<hello_nonce_size>(rng), random_expiry(rng),
                               random_endpoint(rng)};
    case 2:
        return hello{random_node_id(rng), random_array<hello_nonce_size>(rng), random_expiry(rng),
                     random_endpoint(rng), random_array<wire::signature_size>(rng)};
    case 3:
        return hello_ack{static_cast<uint32_t>(1 + rng() % UINT32_MAX), random_node_id(rng)};
    case 4: {
        store = test::random_bytes(rng, rng() % 4 == 0 ? 0 : rng() % (relay_payload_size + 1));
        return relay_data{random_node_id(rng), random_node_id(rng),
                          static_cast<uint8_t>(1 + rng() % hop_limit_max), bytes_view(store)};
    }
    case 5:
        return ping{rng(), rng()};
    default:
        return pong{rng(), rng()};
    }
}

constexpr size_t message_kind_count = std::variant_size_v<message>;

std::vector<uint8_t> encode_to_vector(const message& m) {
    std::vector<uint8_t> out(encoded_size(m));
    auto size = encode(m, out);
    REQUIRE(size);
    REQUIRE(*size == out.size());
    return out;
}

// Every byte at or after offset: does the decoded message re-encode to exactly these bytes?
bool reencodes_identically(bytes_view datagram, const message& decoded) {
    std::vector<uint8_t> again(encoded_size(decoded));
    auto size = encode(decoded, again);
    return size && *size == datagram.size() &&
           std::equal(again.begin(), again.end(), datagram.begin(), datagram.end());
}

} // namespace

TEST_CASE("every message round-trips with random field values", "[wire][messages][property]") {
    auto rng = test::seeded_rng(200);
    payload_store store;
    for (size_t kind = 0; kind < message_kind_count; ++kind) {
        for (int i = 0; i < 2000; ++i) {
            const message original = random_message(rng, kind, store);
            const auto datagram = encode_to_vector(original);
            auto view = decode_datagram(datagram);
            REQUIRE(view);
            CHECK(view->head.type == type_of(original));
            auto decoded = decode_message(datagram);
            REQUIRE(decoded);
            REQUIRE(decoded->index() == kind);
            REQUIRE(*decoded == original);
            REQUIRE(reencodes_identically(datagram, *decoded));
        }
    }
}

TEST_CASE("per-type decoders agree with decode_message", "[wire][messages]") {
    auto rng = test::seeded_rng(201);
    payload_store store;
    for (int i = 0; i < 200; ++i) {
        const auto request = std::get<hello_request>(random_message(rng, 0, store));
        const auto challenge = std::get<hello_challenge>(random_message(rng, 1, store));
        const auto h = std::get<hello>(random_message(rng, 2, store));
        const auto ack = std::get<hello_ack>(random_message(rng, 3, store));
        const auto data = std::get<relay_data>(random_message(rng, 4, store));
        const auto p = std::get<ping>(random_message(rng, 5, store));
        const auto q = make_pong(p);
        auto payload_of = [](const std::vector<uint8_t>& d) {
            return bytes_view(d).subspan(header_size);
        };
        const auto e0 = encode_to_vector(request);
        CHECK(decode_hello_request(payload_of(e0)).value() == request);
        const auto e1 = encode_to_vector(challenge);
        CHECK(decode_hello_challenge(payload_of(e1)).value() == challenge);
        const auto e2 = encode_to_vector(h);
        CHECK(decode_hello(payload_of(e2)).value() == h);
        const auto e3 = encode_to_vector(ack);
        CHECK(decode_hello_ack(payload_of(e3)).value() == ack);
        const auto e4 = encode_to_vector(data);
        CHECK(decode_relay_data(payload_of(e4)).value() == data);
        const auto e5 = encode_to_vector(p);
        CHECK(decode_ping(payload_of(e5)).value() == p);
        const auto e6 = encode_to_vector(q);
        CHECK(decode_pong(payload_of(e6)).value() == q);
        CHECK(q.nonce == p.nonce);
        CHECK(q.sender_time_ns == p.sender_time_ns);
    }
}

TEST_CASE("no proper prefix of a datagram decodes", "[wire][messages]") {
    auto rng = test::seeded_rng(202);
    payload_store store;
    for (size_t kind = 0; kind < message_kind_count; ++kind) {
        for (int i = 0; i < 20; ++i) {
            const auto datagram = encode_to_vector(random_message(rng, kind, store));
            for (size_t size = 0; size < datagram.size(); ++size)
                REQUIRE_FALSE(decode_message(bytes_view(datagram).first(size)));
        }
    }
}

TEST_CASE("truncated payloads behind a consistent header are rejected", "[wire][messages]") {
    // The header's payload_size is patched to match each prefix, so only the payload decoder
    // stands between a short payload and acceptance. relay_data's payload is "the rest", so a
    // shorter relay_data that still holds its fixed fields is a different valid message.
    auto rng = test::seeded_rng(203);
    payload_store store;
    for (size_t kind = 0; kind < message_kind_count; ++kind) {
        for (int i = 0; i < 20; ++i) {
            const auto datagram = encode_to_vector(random_message(rng, kind, store));
            for (size_t size = header_size; size < datagram.size(); ++size) {
                std::vector<uint8_t> cut(datagram.begin(),
                                         datagram.begin() + static_cast<std::ptrdiff_t>(size));
                const auto payload_size = static_cast<uint16_t>(size - header_size);
                cut[6] = static_cast<uint8_t>(payload_size);
                cut[7] = static_cast<uint8_t>(payload_size >> 8);
                auto decoded = decode_message(cut);
                if (kind == 4 && payload_size >= relay_data_fixed_size) {
                    REQUIRE(decoded);
                    REQUIRE(reencodes_identically(cut, *decoded));
                } else {
                    REQUIRE_FALSE(decoded);
                    REQUIRE(decoded.error() == errc::truncated);
                }
            }
        }
    }
}

TEST_CASE("single-byte mutations are rejected or re-encode identically",
          "[wire][messages][property]") {
    auto rng = test::seeded_rng(204);
    payload_store store;
    size_t accepted = 0;
    size_t rejected = 0;
    for (size_t kind = 0; kind < message_kind_count; ++kind) {
        for (int i = 0; i < 3; ++i) {
            // Short relay payloads keep the loop small; the payload bytes are opaque anyway.
            const auto datagram = encode_to_vector(random_message(rng, kind, store, 40));
            for (size_t position = 0; position < datagram.size(); ++position) {
                for (int value = 0; value < 256; ++value) {
                    if (value == datagram[position])
                        continue;
                    auto mutated = datagram;
                    mutated[position] = static_cast<uint8_t>(value);
                    auto decoded = decode_message(mutated);
                    if (decoded) {
                        ++accepted;
                        REQUIRE(reencodes_identically(mutated, *decoded));
                    } else {
                        ++rejected;
                    }
                }
            }
        }
    }
    CHECK(accepted > 0);
    CHECK(rejected > 0);
}

TEST_CASE("encoders report a short buffer and never write past it", "[wire][messages]") {
    auto rng = test::seeded_rng(205);
    payload_store store;
    for (size_t kind = 0; kind < message_kind_count; ++kind) {
        const message m = random_message(rng, kind, store);
        const size_t size = encoded_size(m);
        for (size_t available = 0; available < size; ++available) {
            std::vector<uint8_t> buffer(available + 8, 0xEE);
            auto r = encode(m, mutable_bytes(buffer).first(available));
            REQUIRE(r.error() == errc::buffer_full);
            REQUIRE(std::all_of(buffer.begin() + static_cast<std::ptrdiff_t>(available),
                                buffer.end(), [](uint8_t b) { return b == 0xEE; }));
        }
        std::vector<uint8_t> roomy(size + 100);
        CHECK(encode(m, roomy).value() == size);
    }
}

TEST_CASE("trailing bytes after a fixed-size message are rejected", "[wire][messages]") {
    auto rng = test::seeded_rng(206);
    payload_store store;
    for (size_t kind : {0u, 1u, 2u, 3u, 5u, 6u}) {
        auto datagram = encode_to_vector(random_message(rng, kind, store));
        std::vector<uint8_t> payload(datagram.begin() + header_size, datagram.end());
        payload.push_back(0);
        const auto type = static_cast<message_type>(datagram[3]);
        CHECK(decode_payload(type, payload).error() == errc::trailing_bytes);
    }
}

TEST_CASE("hello_request padding must be zero and makes it as large as any challenge",
          "[wire][messages][handshake]") {
    const hello_request request{};
    const auto datagram = encode_to_vector(request);
    CHECK(datagram.size() == 72);
    hello_challenge largest;
    largest.observed.family = address_family::ipv6;
    largest.observed.address[0] = 0x20;
    largest.observed.port = 1;
    CHECK(encoded_size(largest) <= datagram.size());
    for (size_t offset = header_size + node_id_size; offset < datagram.size(); ++offset) {
        auto bad = datagram;
        bad[offset] = 1;
        CHECK(decode_message(bad).error() == errc::bad_padding);
    }
}

TEST_CASE("endpoints have one encoding", "[wire][messages][endpoint]") {
    hello_challenge c;
    c.observed = make_ipv4(192, 0, 2, 1, 9000);
    auto datagram = encode_to_vector(c);
    const size_t family_at = header_size + hello_nonce_size + 8;
    REQUIRE(datagram[family_at] == 4);

    SECTION("family other than 4 or 6") {
        for (int family = 0; family < 256; ++family) {
            if (family == 4 || family == 6)
                continue;
            auto bad = datagram;
            bad[family_at] = static_cast<uint8_t>(family);
            CHECK(decode_message(bad).error() == errc::bad_endpoint);
        }
    }
    SECTION("port 0") {
        auto bad = datagram;
        bad[family_at + 5] = 0;
        bad[family_at + 6] = 0;
        CHECK(decode_message(bad).error() == errc::bad_endpoint);
        hello_challenge zero_port = c;
        zero_port.observed.port = 0;
        std::array<uint8_t, 128> out{};
        CHECK(encode(zero_port, out).error() == errc::bad_endpoint);
    }
    SECTION("IPv4-mapped IPv6") {
        hello_challenge mapped = c;
        mapped.observed = parse_endpoint("[::ffff:192.0.2.1]:9000").value();
        REQUIRE(is_ipv4_mapped(mapped.observed));
        std::array<uint8_t, 128> out{};
        CHECK(encode(mapped, out).error() == errc::bad_endpoint);
        // Built by hand: the decoder refuses it as well.
        hello_challenge v6 = c;
        v6.observed = parse_endpoint("[::fffe:192.0.2.1]:9000").value();
        auto bytes = encode_to_vector(v6);
        bytes[family_at + 1 + 11] = 0xff;
        CHECK(decode_message(bytes).error() == errc::bad_endpoint);
    }
    SECTION("IPv4 endpoint with bytes in the unused address tail") {
        hello_challenge dirty = c;
        dirty.observed.address[15] = 1;
        std::array<uint8_t, 128> out{};
        CHECK(encode(dirty, out).error() == errc::bad_endpoint);
    }
}

TEST_CASE("expiry must fit a non-negative int64", "[wire][messages][handshake]") {
    hello_challenge c;
    c.observed = make_ipv4(192, 0, 2, 1, 9000);
    c.expiry = unix_ms{-1};
    std::array<uint8_t, 128> out{};
    CHECK(encode(c, out).error() == errc::bad_field);
    hello h;
    h.observed = c.observed;
    h.expiry = unix_ms{-5};
    CHECK(encode(h, out).error() == errc::bad_field);
    CHECK(hello_signed_payload(h, out).error() == errc::bad_field);

    c.expiry = unix_ms{INT64_MAX};
    auto datagram = encode_to_vector(c);
    const size_t expiry_top = header_size + hello_nonce_size + 7;
    REQUIRE(datagram[expiry_top] == 0x7f);
    datagram[expiry_top] = 0x80;
    CHECK(decode_message(datagram).error() == errc::bad_field);
}

TEST_CASE("hello_ack lease must be positive", "[wire][messages][handshake]") {
    std::array<uint8_t, 64> out{};
    CHECK(encode(hello_ack{0, {}}, out).error() == errc::bad_field);
    auto datagram = encode_to_vector(hello_ack{1, {}});
    datagram[header_size] = 0;
    CHECK(decode_message(datagram).error() == errc::bad_field);
}

TEST_CASE("hello_signed_payload is nonce, expiry, endpoint, node id",
          "[wire][messages][handshake]") {
    auto rng = test::seeded_rng(207);
    payload_store store;
    for (int i = 0; i < 500; ++i) {
        const auto h = std::get<hello>(random_message(rng, 2, store));
        std::array<uint8_t, hello_signed_payload_size_max> out{};
        const size_t size = hello_signed_payload(h, out).value();
        CHECK(size == hello_signed_payload_size_max -
                          (endpoint_encoded_size_max - endpoint_encoded_size(h.observed)));
        byte_reader r(bytes_view(out).first(size));
        CHECK(r.fixed<hello_nonce_size>().value() == h.nonce);
        CHECK(r.u64().value() == static_cast<uint64_t>(h.expiry));
        auto observed = read_endpoint(r);
        CHECK(observed.value() == h.observed);
        CHECK(r.fixed<node_id_size>().value() == h.sender.bytes);
        CHECK(r.at_end());
        // The signature is not part of what it signs.
        hello other = h;
        other.signature[0] ^= 1;
        std::array<uint8_t, hello_signed_payload_size_max> out2{};
        CHECK(hello_signed_payload(other, out2).value() == size);
        CHECK(out == out2);
        CHECK(hello_signed_payload(h, mutable_bytes(out2).first(size - 1)).error() ==
              errc::buffer_full);
    }
}

TEST_CASE("relay_data hop limit, payload limit and borrowing", "[wire][messages][relay]") {
    std::vector<uint8_t> body(100, 0x5A);
    relay_data d{node_id{}, node_id{}, 1, bytes_view(body)};
    std::vector<uint8_t> out(relay_payload_size_max + relay_data_fixed_size + header_size + 1);

    SECTION("hop limit 1..16 on both sides") {
        for (int hop_limit = 0; hop_limit < 256; ++hop_limit) {
            d.hop_limit = static_cast<uint8_t>(hop_limit);
            const bool valid = hop_limit >= 1 && hop_limit <= hop_limit_max;
            CHECK(encode(d, out).has_value() == valid);
            d.hop_limit = 1;
            auto datagram = encode_to_vector(d);
            datagram[relay_data_hop_limit_offset] = static_cast<uint8_t>(hop_limit);
            auto decoded = decode_message(datagram);
            CHECK(decoded.has_value() == valid);
            if (valid)
                CHECK(std::get<relay_data>(*decoded).hop_limit == hop_limit);
            else
                CHECK(decoded.error() == errc::bad_field);
        }
    }
    SECTION("payload up to relay_payload_size_max") {
        std::vector<uint8_t> largest(relay_payload_size_max, 0x11);
        d.payload = bytes_view(largest);
        const size_t size = encode(d, out).value();
        CHECK(size == datagram_size_max);
        CHECK(decode_message(bytes_view(out).first(size)).value() == message(d));
        std::vector<uint8_t> too_big(relay_payload_size_max + 1, 0x11);
        d.payload = bytes_view(too_big);
        CHECK(encode(d, out).error() == errc::field_too_long);
        std::vector<uint8_t> payload(relay_data_fixed_size + relay_payload_size_max + 1, 0);
        payload[2 * node_id_size] = 1;
        CHECK(decode_relay_data(payload).error() == errc::field_too_long);
    }
    SECTION("the decoded payload borrows from the datagram") {
        const auto datagram = encode_to_vector(d);
        auto decoded = decode_relay_data(bytes_view(datagram).subspan(header_size)).value();
        CHECK(decoded.payload.data() == datagram.data() + header_size + relay_data_fixed_size);
        CHECK(decoded.payload.size() == body.size());
    }
}

TEST_CASE("the header's type code decides how a payload is read", "[wire][messages]") {
    // A ping payload is not a pong datagram's only reading: the type code in the header decides,
    // so the same 16 payload bytes under the two types are two different messages.
    const ping p{7, 9};
    auto datagram = encode_to_vector(p);
    datagram[3] = static_cast<uint8_t>(message_type::pong);
    auto decoded = decode_message(datagram);
    REQUIRE(decoded);
    CHECK(std::get<pong>(*decoded) == make_pong(p));
    datagram[3] = static_cast<uint8_t>(message_type::hello_ack);
    CHECK(decode_message(datagram).error() == errc::truncated);
}

} // namespace ainet::wire
