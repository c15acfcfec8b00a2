#pragma once
// A tiny in-memory network for sync tests: engines exchange datagrams through queues, with
// optional loss, duplication and reordering from a seeded generator.

#include "../registry/registry_test_support.hpp"

#include <ainet/core/endpoint.hpp>
#include <ainet/sync/engine.hpp>

#include <deque>
#include <memory>
#include <random>

namespace ainet::test {

struct sync_net {
    struct packet {
        size_t from;
        endpoint to;
        std::vector<uint8_t> bytes;
    };
    struct sink final : datagram_sink {
        sync_net* net = nullptr;
        size_t from = 0;
        std::vector<uint8_t> buffer = std::vector<uint8_t>(1500);
        endpoint to{};
        mutable_bytes prepare(const endpoint& destination) noexcept override {
            to = destination;
            return buffer;
        }
        void commit(size_t size) noexcept override {
            net->queue.push_back(packet{from, to, std::vector<uint8_t>(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(size))});
            net->bytes += size;
            ++net->datagrams;
            net->largest = std::max(net->largest, size);
        }
        void abandon() noexcept override {}
    };
    struct node {
        std::unique_ptr<registry::replica> replica;
        std::unique_ptr<sync::engine> engine;
        endpoint address;
        sink out;
    };

    std::vector<node> nodes;
    std::deque<packet> queue;
    std::mt19937_64 rng;
    uint32_t loss_percent = 0, duplicate_percent = 0, reorder_percent = 0;
    uint64_t bytes = 0, datagrams = 0;
    size_t largest = 0;
    instant now{1'000'000'000};
    int64_t wall_ms = test_wall_ms;

    explicit sync_net(uint64_t seed) : rng(seed) {}

    size_t add(const registry::replica_config& rc, const sync::engine_config& ec) {
        node n;
        n.replica = std::make_unique<registry::replica>(rc);
        n.engine = std::make_unique<sync::engine>(*n.replica, ec, rng());
        n.address = make_ipv4(10, 0, 0, static_cast<uint8_t>(nodes.size() + 1), 4000);
        nodes.push_back(std::move(n));
        for (auto& x : nodes) {
            x.out.net = this;
            x.out.from = static_cast<size_t>(&x - nodes.data());
        }
        return nodes.size() - 1;
    }
    unix_ms wall() const { return unix_ms{wall_ms}; }
    size_t index_of(const endpoint& e) const {
        for (size_t i = 0; i < nodes.size(); ++i)
            if (nodes[i].address == e)
                return i;
        return nodes.size();
    }
    // Delivers until the queue is empty (or max deliveries).
    void deliver_all(size_t max = 1'000'000) {
        while (!queue.empty() && max-- > 0) {
            size_t pick = 0;
            if (reorder_percent && queue.size() > 1 && rng() % 100 < reorder_percent)
                pick = 1 + rng() % (queue.size() - 1);
            packet p = std::move(queue[pick]);
            queue.erase(queue.begin() + static_cast<ptrdiff_t>(pick));
            if (loss_percent && rng() % 100 < loss_percent)
                continue;
            const size_t to = index_of(p.to);
            if (to == nodes.size())
                continue;
            const int copies = duplicate_percent && rng() % 100 < duplicate_percent ? 2 : 1;
            for (int c = 0; c < copies; ++c)
                nodes[to].engine->on_datagram(now, wall(), datagram_ref{p.bytes, nodes[p.from].address},
                                              nodes[to].out);
        }
    }
    void advance(duration d) {
        now = now + d;
        wall_ms += std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
        for (auto& n : nodes)
            n.engine->tick(now, wall(), n.out);
    }
};

} // namespace ainet::test
