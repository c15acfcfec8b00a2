// Fuzzes the whole membership core (decode + decide), not only the decoders: a core that knows
// three members takes a sequence of datagrams cut from the input (u16 LE size, then the bytes;
// the first byte of each picks its source, a member or a stranger), with a tick between them.
// Invariants, checked on every run: nothing crashes; every datagram sent while handling an
// input goes back to its source no larger than the input, or to a known member's address (a
// relayed probe, a direct answer to an accuser); nothing sent is above 1200 bytes.
#include <ainet/membership/membership_core.hpp>

#include <cstdlib>
#include <cstring>
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

crypto::key_pair key_of(uint8_t n) {
    crypto::seed s{};
    s.fill(n);
    return crypto::key_pair::from_seed(s);
}

struct fixture {
    crypto::key_pair self = key_of(1);
    std::vector<crypto::key_pair> keys{key_of(2), key_of(3), key_of(4)};
    std::vector<membership::claim> claims;
    std::vector<endpoint> sources{make_ipv4(10, 0, 0, 2, 7000), make_ipv4(10, 0, 0, 3, 7000),
                                  make_ipv4(10, 1, 0, 4, 7000), make_ipv4(192, 168, 1, 1, 9)};
    fixture() {
        for (size_t i = 0; i < keys.size(); ++i) {
            membership::claim c;
            c.kind = membership::claim_kind::alive;
            c.subject = keys[i].id();
            c.address = sources[i];
            membership::sign_claim(c, keys[i]);
            claims.push_back(c);
        }
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static fixture f;
    membership::membership_counters counters;
    membership::membership_core core(membership::membership_config{}, f.self,
                                     make_ipv4(10, 0, 0, 1, 7000), 42, counters);
    instant now{1'000'000'000};
    core.start(now);
    for (const auto& c : f.claims)
        core.learn(now, c, false);
    size_t at = 0;
    while (at + 3 <= size) {
        uint16_t chunk;
        std::memcpy(&chunk, data + at, 2);
        const uint8_t source = data[at + 2];
        at += 3;
        const size_t take = std::min<size_t>(chunk, size - at);
        const bytes_view input(data + at, take);
        at += take;
        const endpoint from = f.sources[source % f.sources.size()];
        sink out;
        core.on_datagram(now, datagram_ref{input, from}, out);
        for (const auto& [to, sent] : out.sent) {
            if (sent > membership::datagram_size_max)
                std::abort();
            const bool to_source = to == from;
            bool to_member = false;
            for (size_t i = 0; i < f.keys.size(); ++i)
                to_member = to_member || to == f.sources[i];
            if (to_source && sent > input.size() && !to_member)
                std::abort();
            if (!to_source && !to_member)
                std::abort();
        }
        now = now + std::chrono::milliseconds(source);
        sink ticks;
        core.tick(now, ticks);
    }
    return 0;
}
