#pragma once
// The registry + sync cores in the simulator: a thin sim::node adapter (no Catch2 here, so the
// benchmark tool reuses it).
//
// Each node owns a registry::replica and a sync::engine fed from its context (local now, skewed
// wall clock, datagrams). Durability is modeled: every tick (durable_interval) the node takes
// the replica's durable batch, applies it to its simulated disk and acknowledges it
// (on_durable), and so does every datagram handler (one group commit per loop turn);
// persist() returns that disk, so a crash loses exactly what was not yet durable,
// and the writes whose tickets were released before the crash are the "acknowledged" ones the
// scenarios check. Writes are injected from scheduled world actions through write().

#include <ainet/core/bytes.hpp>
#include <ainet/registry/replica.hpp>
#include <ainet/sim/world.hpp>
#include <ainet/sync/engine.hpp>

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>
#include <memory>
#include <vector>

namespace ainet::sim::registry_sim {

struct acknowledged_write {
    registry::entry_ptr e;
    uint32_t node = 0;
};

// The process-wide blob pool: every replica of the run shares one copy of each verified entry.
class blob_pool final : public registry::entry_pool {
public:
    registry::entry_ptr find(bytes_view wire) override {
        auto it = m_blobs.find(view(wire));
        return it == m_blobs.end() ? nullptr : it->second;
    }
    void add(const registry::entry_ptr& e) override { m_blobs.emplace(view(e->wire), e); }
    [[nodiscard]] size_t size() const noexcept { return m_blobs.size(); }

private:
    static std::string_view view(bytes_view wire) {
        return {reinterpret_cast<const char*>(wire.data()), wire.size()};
    }
    // Keys view the blob's own wire bytes (immutable, kept alive by the value).
    std::unordered_map<std::string_view, registry::entry_ptr> m_blobs;
};

// What the scenario shares with its nodes (built before the world runs).
struct shared {
    registry::replica_config replica{};
    sync::engine_config engine{};
    std::vector<endpoint> addresses;   // every node's endpoint
    uint32_t peers_per_node = 0;       // 0: every other node is a peer
    // The longest a client write waits for its group commit when no datagram arrives (each
    // handler call also commits what it changed, as a shard does once per loop turn).
    duration durable_interval = std::chrono::milliseconds(100);
    std::vector<acknowledged_write> acknowledged;
    // Shares entry blobs between replicas when set (replica.pool is pointed at it).
    std::unique_ptr<blob_pool> pool;
};

class node final : public sim::node {
public:
    node(std::shared_ptr<shared> s, const node_spec& spec)
        : m_shared(std::move(s)), m_index(static_cast<uint32_t>(spec.index)) {
        auto rc = m_shared->replica;
        rc.origin = registry::origin_id{uint64_t{m_index} + 1};
        if (m_shared->pool)
            rc.pool = m_shared->pool.get();
        m_replica = std::make_unique<registry::replica>(rc);
        m_engine = std::make_unique<sync::engine>(*m_replica, m_shared->engine,
                                                  0x5eed0000ull + m_index * 7919ull + spec.incarnation);
        if (spec.persisted)
            restore(*spec.persisted);
    }

    void on_start(context& ctx) override {
        const auto& all = m_shared->addresses;
        const uint32_t n = static_cast<uint32_t>(all.size());
        if (m_shared->peers_per_node == 0 || m_shared->peers_per_node >= n - 1) {
            for (uint32_t i = 0; i < n; ++i)
                if (i != m_index)
                    m_engine->add_peer(all[i]);
        } else {
            for (uint32_t k = 0; k < m_shared->peers_per_node; ++k) {
                uint32_t j = static_cast<uint32_t>(ctx.random().next() % n);
                if (j != m_index)
                    m_engine->add_peer(all[j]);
            }
        }
        m_engine->tick(ctx.now(), ctx.wall(), ctx.out());
        arm(ctx);
    }
    void on_datagram(context& ctx, const datagram_ref& d) override {
        m_engine->on_datagram(ctx.now(), ctx.wall(), d, ctx.out());
        make_durable();
        arm(ctx);
    }
    void on_timer(context& ctx, uint64_t) override {
        m_armed = false;
        make_durable();
        m_engine->tick(ctx.now(), ctx.wall(), ctx.out());
        arm(ctx);
    }
    [[nodiscard]] std::vector<uint8_t> persist() const override;
    void on_crash() noexcept override {}

    // A client write through this node (the entry is already signed by its writer).
    bool write(const registry::entry& e, unix_ms wall) {
        auto t = m_replica->write(e, wall);
        if (!t)
            return false;
        m_pending_acks.emplace(*t, m_replica->get(e.public_key, e.name));
        return true;
    }
    [[nodiscard]] registry::replica& replica() noexcept { return *m_replica; }
    [[nodiscard]] sync::engine& engine() noexcept { return *m_engine; }

private:
    void arm(context& ctx) {
        if (m_armed)
            return;
        instant next = std::min(ctx.now() + m_shared->durable_interval, m_engine->next_deadline());
        if (next < ctx.now())
            next = ctx.now();
        if (ctx.arm(next, 0))
            m_armed = true;
    }
    void make_durable() {
        if (!m_replica->has_pending())
            return;
        auto batch = m_replica->take_batch();
        for (auto& p : batch.puts)
            m_disk[key_of(*p.e)] = p;
        for (auto& r : batch.removes)
            m_disk.erase(std::make_pair(r.public_key, r.name));
        m_meta = batch.meta;
        for (auto t : m_replica->on_durable(batch.sequence)) {
            auto it = m_pending_acks.find(t);
            if (it != m_pending_acks.end()) {
                m_shared->acknowledged.push_back(acknowledged_write{it->second, m_index});
                m_pending_acks.erase(it);
            }
        }
    }
    static std::pair<crypto::public_key, std::string> key_of(const registry::stored_entry& e) {
        return {e.value.public_key, e.value.name};
    }
    void restore(bytes_view blob);

    std::shared_ptr<shared> m_shared;
    uint32_t m_index;
    std::unique_ptr<registry::replica> m_replica;
    std::unique_ptr<sync::engine> m_engine;
    std::map<std::pair<crypto::public_key, std::string>, registry::durable_put> m_disk;
    registry::replica_meta m_meta;
    std::map<registry::write_ticket, registry::entry_ptr> m_pending_acks;
    bool m_armed = false;
};

inline std::vector<uint8_t> node::persist() const {
    size_t size = 64 + m_meta.vv.size() * 20;
    for (const auto& [k, p] : m_disk)
        size += 24 + p.e->wire.size();
    std::vector<uint8_t> out(size);
    byte_writer w(out);
    w.u64(m_meta.hlc);
    w.u64(m_meta.local_counter);
    w.u64(static_cast<uint64_t>(m_meta.last_converged_ms));
    w.varint(m_meta.vv.size());
    for (const auto& [o, c] : m_meta.vv) {
        w.u64(static_cast<uint64_t>(o));
        w.varint(c);
    }
    w.varint(m_disk.size());
    for (const auto& [k, p] : m_disk) {
        w.u64(static_cast<uint64_t>(p.d.origin));
        w.varint(p.d.counter);
        w.length_prefixed(bytes_view(p.e->wire));
    }
    out.resize(w.finish().value());
    return out;
}

inline void node::restore(bytes_view blob) {
    byte_reader r(blob);
    registry::replica_meta meta;
    meta.hlc = r.u64().value();
    meta.local_counter = r.u64().value();
    meta.last_converged_ms = static_cast<int64_t>(r.u64().value());
    const uint64_t vv_count = r.varint().value();
    for (uint64_t i = 0; i < vv_count; ++i) {
        const auto o = registry::origin_id{r.u64().value()};
        meta.vv[o] = r.varint().value();
    }
    const uint64_t count = r.varint().value();
    std::vector<registry::durable_put> puts;
    for (uint64_t i = 0; i < count; ++i) {
        registry::dot d{registry::origin_id{r.u64().value()}, 0};
        d.counter = r.varint().value();
        auto wire = r.length_prefixed(registry::entry_wire_size_max).value();
        auto e = registry::make_stored(registry::decode(wire).value());
        puts.push_back(registry::durable_put{e, d});
        m_disk[key_of(*e)] = puts.back();
    }
    m_meta = meta;
    m_replica->restore(meta, puts);
}

} // namespace ainet::sim::registry_sim
