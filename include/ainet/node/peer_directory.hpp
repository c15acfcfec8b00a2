#pragma once
// peer_directory: the node's current view of the other nodes, published by the membership
// service and read by everything else in the node (registry sync, reliable messaging, the HTTP
// control plane, /metrics).
//
// Why a published snapshot and not a shared table: membership state is owned by one shard
// (share nothing); the readers sit on other shards and on the control thread. The owner builds
// an immutable peer_snapshot at most a few times a second and publishes it; readers take a
// reference-counted pointer to the current one (an atomic shared_ptr: no lock on the readers'
// side that the writer can hold for long) and keep it for as long as they need, typically one
// loop turn. Lookups are binary searches on the id-sorted vector.
//
// Partition events travel the same way: the snapshot carries the membership core's current
// partition state and an epoch that changes on every "partition suspected" / "partition healed"
// transition, so a reader that remembers the epoch it last acted on sees every transition even
// if it only looks once per turn.
//
// Threads: publish() from one thread (the membership owner) at a time; snapshot() from any.

#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace ainet::node {

enum class peer_state : uint8_t { alive, suspect, unreachable, dead, left };

struct peer_info {
    node_id id;
    endpoint udp;
    endpoint http;       // port 0 when unknown
    peer_state state = peer_state::alive;
    uint64_t incarnation = 0;
    int64_t rtt_us = -1; // -1 when not measured
    double score = 0;    // the discovery score, 0 when the node was not scored
};

struct peer_snapshot {
    std::vector<peer_info> peers; // sorted by id, one entry per id
    // Changes on every partition suspected/healed transition.
    uint64_t partition_epoch = 0;
    bool partition_suspected = false;
    std::vector<node_id> unreachable; // sorted; the set named by the last "suspected" event
    unix_ms published_at{0};

    [[nodiscard]] const peer_info* find(const node_id& id) const noexcept {
        auto it = std::lower_bound(peers.begin(), peers.end(), id,
                                   [](const peer_info& p, const node_id& key) { return p.id < key; });
        return it != peers.end() && it->id == id ? &*it : nullptr;
    }
};

class peer_directory {
public:
    peer_directory() : m_current(std::make_shared<const peer_snapshot>()) {}

    // Sorts by id and publishes. Entries with a duplicate id keep the first.
    void publish(peer_snapshot snapshot) {
        // Sorted by (id, position) rather than with std::stable_sort: libstdc++ 12's
        // stable_sort instantiates the deprecated get_temporary_buffer, which clang 19 rejects
        // under -Werror (the fuzz build compiles every TU that includes this header).
        std::vector<size_t> order(snapshot.peers.size());
        for (size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            const auto& pa = snapshot.peers[a];
            const auto& pb = snapshot.peers[b];
            return pa.id != pb.id ? pa.id < pb.id : a < b;
        });
        std::vector<peer_info> sorted;
        sorted.reserve(order.size());
        for (size_t i : order)
            sorted.push_back(std::move(snapshot.peers[i]));
        snapshot.peers = std::move(sorted);
        snapshot.peers.erase(std::unique(snapshot.peers.begin(), snapshot.peers.end(),
                                         [](const peer_info& a, const peer_info& b) {
                                             return a.id == b.id;
                                         }),
                             snapshot.peers.end());
        std::sort(snapshot.unreachable.begin(), snapshot.unreachable.end());
        m_current.store(std::make_shared<const peer_snapshot>(std::move(snapshot)),
                        std::memory_order_release);
    }

    [[nodiscard]] std::shared_ptr<const peer_snapshot> snapshot() const noexcept {
        return m_current.load(std::memory_order_acquire);
    }

private:
    std::atomic<std::shared_ptr<const peer_snapshot>> m_current;
};

} // namespace ainet::node
