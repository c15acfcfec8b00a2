// Fuzzes the relay's whole packet handling (decode + decide), not only the decoders: a relay
// core with two authenticated peers takes a batch of datagrams cut from the input, each from
// one of four sources (two with sessions, two strangers). Invariants, checked on every run:
// at most one reply per datagram, and no stranger ever gets a reply larger than what it sent.
#include <ainet/relay/relay_core.hpp>
#include <ainet/wire/handshake.hpp>
#include <ainet/wire/header.hpp>
#include <ainet/wire/relay_data.hpp>

#include <cstdlib>
#include <memory>
#include <vector>

using namespace ainet;

namespace {

struct sink final : datagram_sink {
    std::array<uint8_t, 2048> buffer{};
    endpoint to;
    std::vector<std::pair<endpoint, size_t>> sent;
    mutable_bytes prepare(const endpoint& destination) noexcept override {
        to = destination;
        return buffer;
    }
    void commit(size_t size) noexcept override { sent.emplace_back(to, size); }
    void abandon() noexcept override {}
};

const endpoint sources[4] = {make_ipv4(127, 0, 0, 2, 1000), make_ipv4(127, 0, 0, 3, 1000),
                             make_ipv4(10, 0, 0, 1, 7), make_ipv4(10, 0, 0, 2, 7)};

struct world {
    crypto::key_pair relay_keys = crypto::key_pair::from_seed(crypto::seed{1});
    crypto::mac_key cookie_key{3};
    relay::relay_counters counters;
    relay::relay_core core{relay::relay_config{}, relay_keys, cookie_key, counters};
    instant now{1'000'000'000};
    unix_ms wall{1'700'000'000'000};
    node_id peers[2];

    world() {
        for (uint8_t i = 0; i < 2; ++i) {
            crypto::seed s{};
            s[0] = static_cast<uint8_t>(10 + i);
            const auto peer = crypto::key_pair::from_seed(s);
            peers[i] = peer.id();
            wire::hello_challenge challenge;
            challenge.expiry = unix_ms{static_cast<int64_t>(wall) + 1'000'000'000};
            challenge.observed = sources[i];
            challenge.nonce = relay::relay_core::cookie(cookie_key, peer.id(), sources[i], challenge.expiry);
            const wire::hello h = relay::sign_hello(peer, challenge);
            std::array<uint8_t, 512> datagram{};
            const size_t datagram_size = wire::encode(h, datagram).value();
            sink out;
            const datagram_ref d{bytes_view(datagram.data(), datagram_size), sources[i]};
            core.on_datagrams(now, wall, std::span<const datagram_ref>(&d, 1), out);
            if (out.sent.size() != 1)
                std::abort();
        }
        for (const auto& r : core.route_outbox())
            core.apply_route(r);
        core.clear_route_outbox();
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static world w;
    // Input: repeated [source selector u8][length u8][bytes...].
    std::vector<datagram_ref> batch;
    std::vector<std::vector<uint8_t>> built;
    built.reserve(64);
    size_t offset = 0;
    while (offset + 2 <= size && batch.size() < 64) {
        const uint8_t selector = data[offset];
        const endpoint& from = sources[selector % 4];
        const size_t length = std::min<size_t>(data[offset + 1] * 4u, size - offset - 2);
        bytes_view chunk(data + offset + 2, length);
        if (selector & 0x80) {
            wire::relay_data m;
            m.destination = w.peers[(selector >> 4) & 1];
            m.source = w.peers[(selector >> 5) & 1];
            m.hop_limit = static_cast<uint8_t>(1 + (selector >> 2) % 3);
            m.payload = chunk.first(std::min<size_t>(chunk.size(), 1200));
            auto& out = built.emplace_back(wire::encoded_size(m));
            if (!wire::encode(m, out))
                std::abort();
            chunk = out;
        }
        batch.push_back({chunk, from});
        offset += 2 + length;
    }
    sink out;
    w.core.on_datagrams(w.now, w.wall, batch, out);
    if (out.sent.size() > batch.size())
        std::abort();
    for (const auto& [to, reply_size] : out.sent) {
        const bool stranger = to == sources[2] || to == sources[3];
        if (!stranger)
            continue;
        size_t largest = 0;
        for (const auto& d : batch)
            if (d.source == to)
                largest = std::max(largest, d.payload.size());
        if (reply_size > largest)
            std::abort();
    }
    return 0;
}
