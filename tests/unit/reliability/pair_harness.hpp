#pragma once
// Two reliability cores (a and b) joined by a seeded, lossy, reordering, duplicating in-memory
// network in virtual time. Each step() is one loop turn of both nodes: deliver what is due,
// tick, flush, collect events. Tests then check delivery order, the delivered set and counters.

#include <ainet/reliability/reliability_core.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace ainet::reliability::test {

inline node_id make_id(uint8_t tag) {
    node_id id;
    for (size_t i = 0; i < id.bytes.size(); ++i)
        id.bytes[i] = static_cast<uint8_t>(tag * 31 + i);
    return id;
}

struct capture_sink final : packet_sink {
    std::vector<uint8_t> buffer = std::vector<uint8_t>(65536);
    node_id to;
    std::vector<std::pair<node_id, std::vector<uint8_t>>> sent;
    uint32_t budget = UINT32_MAX; // datagrams this sink still takes
    mutable_bytes prepare(const node_id& peer) noexcept override {
        if (budget == 0)
            return {};
        to = peer;
        return buffer;
    }
    void commit(size_t size) noexcept override {
        --budget;
        sent.emplace_back(to, std::vector<uint8_t>(buffer.begin(),
                                                   buffer.begin() + static_cast<ptrdiff_t>(size)));
    }
    void abandon() noexcept override {}
};

struct delivered_message {
    channel_id channel;
    uint64_t seq;
    std::vector<uint8_t> payload;
};

struct side {
    node_id id;
    memory_store store;
    reliability_counters counters;
    reliability_config config;
    std::unique_ptr<reliability_core> core;
    bool up = true;
    std::vector<delivered_message> delivered;
    std::vector<event> events; // every event but delivered (payload-free)

    void start(instant now, const std::optional<recovered_state>& state = std::nullopt) {
        core = std::make_unique<reliability_core>(config, store, counters);
        if (state)
            core->restore(now, *state);
        up = true;
    }
};

struct in_flight_packet {
    instant at;
    uint64_t order;
    bool to_b;
    std::vector<uint8_t> bytes;
};

struct pair_harness {
    side a, b;
    instant now{1'000'000'000};
    duration turn = std::chrono::milliseconds(1);
    duration latency = std::chrono::milliseconds(5);
    duration jitter = std::chrono::milliseconds(2);
    double loss = 0;
    double duplicate = 0;
    double reorder = 0;       // probability of an extra delay of up to 20 ms
    bool partitioned = false; // everything dropped both ways
    std::mt19937_64 rng;
    std::vector<in_flight_packet> network;
    uint64_t order = 0;
    uint64_t datagrams = 0;
    uint64_t dropped = 0;

    explicit pair_harness(uint64_t seed, reliability_config config = {}) : rng(seed) {
        a.id = make_id(1);
        b.id = make_id(2);
        a.config = config;
        b.config = config;
        a.config.incarnation = seed * 2 + 1;
        b.config.incarnation = seed * 2 + 2;
        a.start(now);
        b.start(now);
    }

    double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng); }

    void transmit(bool to_b, const std::vector<uint8_t>& bytes) {
        ++datagrams;
        if (partitioned || uniform() < loss) {
            ++dropped;
            return;
        }
        const int copies = uniform() < duplicate ? 2 : 1;
        for (int c = 0; c < copies; ++c) {
            duration delay =
                latency + duration{static_cast<int64_t>(uniform() * double(jitter.count()))};
            if (uniform() < reorder)
                delay += duration{static_cast<int64_t>(uniform() * 20e6)};
            network.push_back({now + delay, order++, to_b, bytes});
        }
    }

    void turn_of(side& s, side& other, bool is_a) {
        if (!s.up)
            return;
        s.core->tick(now);
        capture_sink sink;
        s.core->flush(now, sink);
        for (auto& [to, bytes] : sink.sent) {
            REQUIRE(to == other.id);
            transmit(is_a, bytes);
        }
        for (const event& e : s.core->events()) {
            if (e.kind == event_kind::delivered) {
                auto p = s.core->payload_of(e);
                s.delivered.push_back({e.channel, e.seq, std::vector<uint8_t>(p.begin(), p.end())});
            } else {
                s.events.push_back(e);
            }
        }
        s.core->clear_events();
    }

    // One loop turn of both nodes at `now`, then time advances by `turn`.
    void step() {
        std::vector<in_flight_packet> due;
        auto split = std::partition(network.begin(), network.end(),
                                    [&](const in_flight_packet& p) { return p.at > now; });
        due.assign(std::make_move_iterator(split), std::make_move_iterator(network.end()));
        network.erase(split, network.end());
        std::sort(due.begin(), due.end(), [](const auto& x, const auto& y) {
            return x.at != y.at ? x.at < y.at : x.order < y.order;
        });
        for (auto& p : due) {
            side& to = p.to_b ? b : a;
            const side& from = p.to_b ? a : b;
            if (to.up)
                to.core->on_packet(now, from.id, p.bytes);
        }
        turn_of(a, b, true);
        turn_of(b, a, false);
        now = now + turn;
    }

    void run_for(duration d) {
        const instant end = now + d;
        while (now < end)
            step();
    }

    template <class Pred>
    bool run_until(Pred done, duration limit) {
        const instant end = now + limit;
        while (now < end) {
            step();
            if (done())
                return true;
        }
        return false;
    }

    size_t count(const side& s, event_kind kind) const {
        return static_cast<size_t>(std::count_if(s.events.begin(), s.events.end(),
                                                 [&](const event& e) { return e.kind == kind; }));
    }

    // Sends `count` messages a -> b on channel, each tagged with its index, in one turn.
    std::vector<message_id> send_many(uint32_t count, channel_id channel = channel_id{1},
                                      size_t size = 32, uint32_t first = 0) {
        std::vector<message_id> ids;
        for (uint32_t i = first; i < first + count; ++i) {
            std::vector<uint8_t> payload(std::max<size_t>(size, 4), 0x5a);
            for (size_t k = 0; k < 4; ++k)
                payload[k] = static_cast<uint8_t>(i >> (8 * k));
            auto id = a.core->send(now, b.id, channel, payload);
            REQUIRE(id);
            ids.push_back(*id);
        }
        return ids;
    }
};

inline uint32_t tag_of(const std::vector<uint8_t>& payload) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4 && k < payload.size(); ++k)
        v |= uint32_t{payload[k]} << (8 * k);
    return v;
}

// b received exactly tags first..first+count-1 on channel, in order, each once.
inline void check_exact_in_order(const std::vector<delivered_message>& delivered, uint32_t count,
                                 channel_id channel = channel_id{1}, uint32_t first = 0) {
    std::vector<uint32_t> tags;
    for (const auto& m : delivered)
        if (m.channel == channel)
            tags.push_back(tag_of(m.payload));
    REQUIRE(tags.size() == count);
    for (uint32_t i = 0; i < count; ++i)
        REQUIRE(tags[i] == first + i);
}

} // namespace ainet::reliability::test
