#include <ainet/node/registry_service.hpp>

#include <ainet/core/assert.hpp>
#include <ainet/core/counter.hpp>
#include <ainet/core/encoding.hpp>
#include <ainet/runtime/metrics.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <stdexcept>

namespace ainet::node {

// --- registry_store -------------------------------------------------------------------------

namespace {

constexpr std::string_view meta_key = "meta";

unix_ms wall_clock_now() noexcept {
    return unix_ms{std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count()};
}

bytes_view as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void entry_key(const crypto::public_key& key, std::string_view name, std::vector<uint8_t>& out) {
    out.assign(key.begin(), key.end());
    out.insert(out.end(), name.begin(), name.end());
}

} // namespace

store::result<registry_store> registry_store::open(const std::filesystem::path& directory,
                                                   const store::options& opts,
                                                   std::string* error_text) {
    auto env = store::environment::open(directory, opts, error_text);
    if (!env)
        return fail(env.error());
    registry_store s;
    s.m_env = std::make_unique<store::environment>(std::move(*env));
    auto entries = s.m_env->open_table(entries_table);
    auto meta = entries ? s.m_env->open_table(meta_table) : entries;
    if (!entries || !meta) {
        if (error_text != nullptr)
            *error_text = std::string(s.m_env->last_error());
        return fail(!entries ? entries.error() : meta.error());
    }
    s.m_entries = *entries;
    s.m_meta = *meta;
    s.m_batch = std::make_unique<store::write_batch>(*s.m_env);
    return s;
}

store::result<void> registry_store::load(registry::replica_meta& meta,
                                         std::vector<registry::durable_put>& puts,
                                         size_t& skipped) {
    AINET_TRY(txn, m_env->begin_read());
    AINET_TRY(stored_meta, txn.get(m_meta, as_bytes(meta_key)));
    meta = {};
    if (stored_meta) {
        byte_reader r(*stored_meta);
        auto hlc = r.u64();
        auto counter = r.u64();
        auto converged = r.u64();
        auto count = r.varint();
        if (hlc && counter && converged && count) {
            meta.hlc = *hlc;
            meta.local_counter = *counter;
            meta.last_converged_ms = static_cast<int64_t>(*converged);
            for (uint64_t i = 0; i < *count; ++i) {
                auto o = r.u64();
                auto c = r.varint();
                if (!o || !c)
                    break;
                meta.vv[registry::origin_id{*o}] = *c;
            }
        }
    }
    skipped = 0;
    AINET_TRY(visited, txn.scan_prefix(m_entries, {}, SIZE_MAX, [&](const store::entry& e) {
        byte_reader r(e.value);
        auto origin = r.u64();
        if (!origin) {
            ++skipped;
            return true;
        }
        auto counter = r.varint();
        if (!counter) {
            ++skipped;
            return true;
        }
        auto decoded = registry::decode(r.rest());
        if (!decoded || !registry::check_limits(*decoded)) {
            ++skipped;
            return true;
        }
        puts.push_back({registry::make_stored(std::move(*decoded)),
                        registry::dot{registry::origin_id{*origin}, *counter}});
        return true;
    }));
    (void)visited;
    return {};
}

store::result<void> registry_store::add(bool is_put, bytes_view key, bytes_view value,
                                        store::table t) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto added = is_put ? m_batch->put(t, key, value) : m_batch->erase(t, key);
        if (added)
            return {};
        if (added.error() != store::errc::batch_full || m_batch->empty())
            return fail(added.error());
        // Too much for one transaction: commit what we have and go on in the next one.
        AINET_TRY(sequence, m_batch->commit());
        (void)sequence;
    }
    return fail(store::errc::batch_full);
}

store::result<uint64_t> registry_store::write(const registry::durable_batch& batch,
                                              bool with_meta) {
    m_batch->clear();
    for (const auto& put : batch.puts) {
        entry_key(put.e->value.public_key, put.e->value.name, m_key);
        m_value.resize(8 + 10 + put.e->wire.size());
        byte_writer w(m_value);
        w.u64(static_cast<uint64_t>(put.d.origin));
        w.varint(put.d.counter);
        w.bytes(bytes_view(put.e->wire));
        m_value.resize(w.position());
        AINET_TRY_VOID(add(true, m_key, m_value, m_entries));
    }
    for (const auto& remove : batch.removes) {
        entry_key(remove.public_key, remove.name, m_key);
        AINET_TRY_VOID(add(false, m_key, {}, m_entries));
    }
    if (!with_meta)
        return m_batch->commit();
    const auto& meta = batch.meta;
    m_value.resize(8 * 3 + 10 + meta.vv.size() * 18);
    byte_writer w(m_value);
    w.u64(meta.hlc);
    w.u64(meta.local_counter);
    w.u64(static_cast<uint64_t>(meta.last_converged_ms));
    w.varint(meta.vv.size());
    for (const auto& [origin, counter] : meta.vv) {
        w.u64(static_cast<uint64_t>(origin));
        w.varint(counter);
    }
    AINET_ASSERT(w.ok());
    m_value.resize(w.position());
    AINET_TRY_VOID(add(true, as_bytes(meta_key), m_value, m_meta));
    return m_batch->commit();
}

// --- JSON ------------------------------------------------------------------------------------

namespace {

bool printable(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u >= 0x20 && u < 0x7f) || c == '\n' || c == '\t';
    });
}

nlohmann::json entry_json(const registry::entry& e) {
    nlohmann::json j = {{"public_key", to_hex(e.public_key)},
                        {"name", printable(e.name) ? e.name : std::string()},
                        {"name_base64", to_base64(as_bytes(e.name))},
                        {"value_base64", to_base64(as_bytes(e.value))},
                        {"hlc", e.hlc},
                        {"flags", e.flags},
                        {"tombstone", e.tombstone()},
                        {"signature", to_hex(e.signature)}};
    if (printable(e.value))
        j["value"] = e.value;
    return j;
}

http_response json_response(int status, const nlohmann::json& j) {
    return {status, "application/json", j.dump() + "\n"};
}

http_response error_response(int status, std::string_view reason) {
    return json_response(status, {{"error", std::string(reason)}});
}

std::string digest_hex(const merkle::digest& d) { return to_hex(d.bytes); }

} // namespace

std::string entry_to_json(const registry::entry& e) { return entry_json(e).dump(); }

std::optional<registry::entry> entry_from_json(std::string_view body, std::string& error) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        error = "body is not a JSON object";
        return std::nullopt;
    }
    // tombstone and name_base64 are what GET adds; PUT accepts and ignores them so that a GET
    // answer can be PUT back as it is (flags carries the tombstone bit).
    static constexpr std::string_view known[] = {"public_key", "name",      "value",
                                                 "value_base64", "hlc",     "flags",
                                                 "signature",  "tombstone", "name_base64"};
    for (auto it = j.begin(); it != j.end(); ++it)
        if (std::find(std::begin(known), std::end(known), it.key()) == std::end(known)) {
            error = "/" + it.key() + ": unknown field";
            return std::nullopt;
        }
    registry::entry e;
    auto hex_field = [&](const char* name, mutable_bytes out) {
        if (!j.contains(name) || !j[name].is_string()) {
            error = std::string("/") + name + ": missing or not a string";
            return false;
        }
        if (!from_hex_into(j[name].get<std::string>(), out)) {
            error = std::string("/") + name + ": not " + std::to_string(out.size() * 2) + " hex digits";
            return false;
        }
        return true;
    };
    if (!hex_field("public_key", e.public_key) || !hex_field("signature", e.signature))
        return std::nullopt;
    if (!j.contains("name") || !j["name"].is_string()) {
        error = "/name: missing or not a string";
        return std::nullopt;
    }
    e.name = j["name"].get<std::string>();
    if (j.contains("value") && j.contains("value_base64")) {
        // GET answers carry both for printable values; they must then agree.
        auto decoded = j["value_base64"].is_string()
                           ? from_base64(j["value_base64"].get<std::string>())
                           : from_base64("!");
        if (!j["value"].is_string() || !decoded ||
            std::string(decoded->begin(), decoded->end()) != j["value"].get<std::string>()) {
            error = "/value: value and value_base64 disagree";
            return std::nullopt;
        }
    }
    if (j.contains("value")) {
        if (!j["value"].is_string()) {
            error = "/value: not a string";
            return std::nullopt;
        }
        e.value = j["value"].get<std::string>();
    } else if (j.contains("value_base64")) {
        if (!j["value_base64"].is_string()) {
            error = "/value_base64: not a string";
            return std::nullopt;
        }
        auto decoded = from_base64(j["value_base64"].get<std::string>());
        if (!decoded) {
            error = "/value_base64: not base64";
            return std::nullopt;
        }
        e.value.assign(decoded->begin(), decoded->end());
    }
    if (!j.contains("hlc") || !j["hlc"].is_number_unsigned()) {
        error = "/hlc: missing or not an unsigned integer";
        return std::nullopt;
    }
    e.hlc = j["hlc"].get<uint64_t>();
    if (j.contains("flags")) {
        if (!j["flags"].is_number_unsigned() || j["flags"].get<uint64_t>() > 255) {
            error = "/flags: not an integer 0..255";
            return std::nullopt;
        }
        e.flags = static_cast<uint8_t>(j["flags"].get<uint64_t>());
    }
    return e;
}

// --- the request from the control thread -------------------------------------------------

struct registry_request {
    enum class op : uint8_t { put, get, list, root } kind = op::root;
    registry::entry e;
    crypto::public_key key{};
    bool has_key = false;
    std::string name;
    size_t limit = 0;
    bool verify = false;
    std::promise<registry_answer> promise;
    std::atomic<bool> answered{false};

    void answer(registry_answer a) {
        if (!answered.exchange(true))
            promise.set_value(std::move(a));
    }
};

namespace {

constexpr uint32_t kind_request = 1;
constexpr uint32_t kind_slice_write = 2; // shard 0 -> a slice's owner: write this part
constexpr uint32_t kind_slice_done = 3;  // the owner -> shard 0: that part is durable
constexpr shard_id owner_shard{0};
// How soon a shard retries a slice commit that failed (the disk is not asked every turn).
constexpr duration slice_retry_delay = std::chrono::milliseconds(10);

// The body of kind_slice_write / kind_slice_done. part points into shard 0's commit pipeline,
// which keeps it unchanged until the done for it arrives (or the node is destroyed).
struct slice_message {
    uint64_t sequence = 0;
    const registry::durable_batch* part = nullptr;
    uint16_t slice = 0;
};
static_assert(std::is_trivially_copyable_v<slice_message>);
static_assert(sizeof(slice_message) <= sizeof(runtime::shard_message::body));

runtime::shard_message pack(uint32_t kind, const slice_message& m) noexcept {
    runtime::shard_message msg;
    msg.kind = kind;
    std::memcpy(msg.body.data(), &m, sizeof(m));
    msg.size = sizeof(m);
    return msg;
}

} // namespace

// --- the per-shard service ------------------------------------------------------------------

class registry_node::shard_part final : public shard_service {
public:
    shard_part(registry_node& owner, shard_id id) : m_owner(owner), m_id(id) {}

    void on_datagram(runtime::shard_context& ctx, const datagram_ref& d) noexcept override {
        if (m_id != owner_shard) {
            if (ctx.hand_over(owner_shard, d))
                bump(m_owner.m_counters.handoffs);
            else
                bump(m_owner.m_counters.handoff_failures);
            return;
        }
        if (backlog_full()) {
            bump(m_owner.m_counters.store_backpressure);
            return;
        }
        // hostile protocols: a responder's flight (reply, descend, delta entries) is larger
        // than the begin that asks for it, so sync answers only sources it knows (members of
        // the directory in any state, or the static peers): no amplification towards strangers.
        if (!known_source(ctx, d.source)) {
            bump(m_owner.m_counters.drop_unknown_source);
            return;
        }
        // end hostile protocols
        m_owner.m_engine->on_datagram(ctx.now, ctx.wall_now, d, ctx.tx);
    }

    void on_message(runtime::shard_context& ctx, uint32_t own_kind,
                    const runtime::shard_message& msg) noexcept override {
        if (own_kind == kind_slice_write || own_kind == kind_slice_done) {
            AINET_ASSERT(msg.size == sizeof(slice_message));
            slice_message m;
            std::memcpy(&m, msg.body.data(), sizeof(m));
            if (own_kind == kind_slice_write)
                on_slice_write(m);
            else
                on_slice_done(m);
            return;
        }
        if (own_kind != kind_request || msg.size != sizeof(void*))
            return;
        request_holder* holder = nullptr;
        std::memcpy(&holder, msg.body.data(), sizeof(holder));
        // Take a reference, then let the control side free the holder (request_holder).
        std::shared_ptr<registry_request> request = holder->request;
        holder->consumed.store(true, std::memory_order_release);
        if (m_id != owner_shard) {
            request->answer({});
            return;
        }
        serve(ctx, request);
    }

    duration on_tick(runtime::shard_context& ctx) noexcept override {
        if (m_id != owner_shard)
            return write_slice_jobs(ctx);
        if (ctx.now >= m_next_refresh) {
            refresh_peers();
            m_next_refresh = ctx.now + m_owner.m_options.sync_peer_refresh;
        }
        auto& engine = *m_owner.m_engine;
        if (engine.next_deadline() <= ctx.now)
            engine.tick(ctx.now, ctx.wall_now, ctx.tx);
        const bool failed = !make_durable(ctx);
        instant next = std::min(engine.next_deadline(), m_next_refresh);
        if (failed)
            next = std::min(next, ctx.now + slice_retry_delay);
        return next <= ctx.now ? duration::zero() : next - ctx.now;
    }

    bool on_drain(runtime::shard_context& ctx) noexcept override {
        if (m_id != owner_shard) {
            (void)write_slice_jobs(ctx);
            return m_jobs.empty() && m_acks.empty();
        }
        (void)make_durable(ctx);
        return m_owner.m_commits.empty() && !m_owner.m_replica->has_pending();
    }

    void on_stop(runtime::shard_context& ctx) override {
        if (m_id != owner_shard) {
            (void)write_slice_jobs(ctx);
            return;
        }
        // What is still in flight when the shards stop is written by ~registry_node.
        (void)make_durable(ctx);
        for (auto& [ticket, request] : m_waiting)
            request->answer({});
        m_waiting.clear();
    }

private:
    void serve(runtime::shard_context& ctx, const std::shared_ptr<registry_request>& request) {
        auto& replica = *m_owner.m_replica;
        registry_answer a;
        switch (request->kind) {
        case registry_request::op::put: {
            if (backlog_full()) {
                bump(m_owner.m_counters.store_backpressure);
                a.error = "store unavailable: commit backlog full";
                request->answer(std::move(a));
                return;
            }
            auto ticket = replica.write(request->e, ctx.wall_now);
            if (!ticket) {
                const auto e = ticket.error();
                a.status = e == registry::errc::value_size || e == registry::errc::oversized ? 413
                           : e == registry::errc::not_newer                               ? 409
                           : e == registry::errc::store_full                              ? 507
                                                                                          : 400;
                a.error = std::string(registry::to_string(e));
                if (e == registry::errc::bad_signature)
                    bump(m_owner.m_counters.http_forged);
                request->answer(std::move(a));
                return;
            }
            m_waiting.emplace(*ticket, request);
            return; // answered by make_durable()
        }
        case registry_request::op::get: {
            auto e = replica.get(request->key, request->name);
            if (!e || e->value.tombstone()) {
                a.status = 404;
                a.error = e ? "deleted" : "not found";
            } else {
                a.status = 200;
                a.entries.push_back(e);
            }
            break;
        }
        case registry_request::op::list: {
            a.status = 200;
            const size_t limit = std::min(request->limit, list_limit_max);
            replica.for_each([&](const registry::entry_ptr& e, const registry::dot&) {
                if (a.entries.size() >= limit)
                    return;
                if (request->has_key && e->value.public_key != request->key)
                    return;
                a.entries.push_back(e);
            });
            break;
        }
        case registry_request::op::root: {
            a.status = 200;
            // The node root as the shards will publish it: the combination of the 16 top-level
            // branch digests (registry_shards.hpp), checked against the replica's own root.
            const auto root = combine_branch_digests(branch_digests(replica.tree()));
            AINET_ASSERT(root == replica.root());
            a.root_hex = digest_hex(root);
            a.entry_count = replica.size();
            a.vv = replica.vv();
            a.hlc = replica.meta().hlc;
            if (request->verify) {
                // From scratch: a fresh replica rebuilt from the stored entries alone.
                std::vector<registry::durable_put> puts;
                replica.for_each([&](const registry::entry_ptr& e, const registry::dot& d) {
                    puts.push_back({e, d});
                });
                registry::replica fresh(replica.config());
                fresh.restore(replica.meta(), puts);
                a.recomputed_root_hex = digest_hex(fresh.root());
            }
            break;
        }
        }
        request->answer(std::move(a));
    }

    // Shard 0: queues the replica's new batch in the commit pipeline, posts each part to its
    // slice's owner, writes its own parts, and completes the batches whose parts are all
    // durable, in order (then the client writes are released). False if a commit or a post
    // failed (retried soon).
    bool make_durable(runtime::shard_context& ctx) noexcept {
        auto& replica = *m_owner.m_replica;
        auto& pipeline = m_owner.m_commits;
        if (replica.has_pending())
            pipeline.push(replica.take_batch(), m_owner.m_slice_count);
        // One batch in flight (the front); what the replica hands over meanwhile is folded
        // into one waiting batch (registry_commit_pipeline::push), the next round's.
        while (!pipeline.batches.empty()) {
            auto& front = pipeline.batches.front();
            for (size_t i = 1; i < front.state.size(); ++i) {
                if (front.state[i] != registry_commit_pipeline::part_state::to_post)
                    continue;
                const auto owner = m_owner.slice_owner(i);
                if (owner == owner_shard) {
                    front.state[i] = registry_commit_pipeline::part_state::local;
                    continue;
                }
                const slice_message m{front.batch.sequence, &front.batch.part[i],
                                      static_cast<uint16_t>(i)};
                if (!ctx.post(owner, pack(m_owner.slot().kind(kind_slice_write), m)))
                    return false; // the queue is full: the rest is posted next turn
                front.state[i] = registry_commit_pipeline::part_state::posted;
                bump(m_owner.m_counters.slice_parts_posted);
            }
            // Shard 0's own parts (slice 0 with the meta, and slices beyond this node's
            // shards) in the turn the batch goes out: the slices' fdatasyncs overlap.
            for (size_t i = 0; i < front.state.size(); ++i) {
                if (front.state[i] != registry_commit_pipeline::part_state::local)
                    continue;
                if (!m_owner.m_store->write_part(i, front.batch.part[i])) {
                    bump(m_owner.m_counters.commit_failures);
                    return false;
                }
                front.state[i] = registry_commit_pipeline::part_state::done;
            }
            if (!front.parts_done())
                break; // the owners answer with kind_slice_done
            bump(m_owner.m_counters.commits);
            for (auto ticket : replica.on_durable(front.batch.sequence)) {
                auto it = m_waiting.find(ticket);
                if (it == m_waiting.end())
                    continue;
                registry_answer a;
                a.status = 201;
                a.entries.push_back(replica.get(it->second->e.public_key, it->second->e.name));
                if (!a.entries.back())
                    a.entries.clear();
                bump(m_owner.m_counters.http_puts_accepted);
                it->second->answer(std::move(a));
                m_waiting.erase(it);
            }
            pipeline.pop();
        }
        m_owner.m_counters.entries.store(replica.size(), std::memory_order_relaxed);
        return true;
    }

    // Shard 0: the owner of a slice made a part durable.
    void on_slice_done(const slice_message& m) noexcept {
        AINET_ASSERT(m_id == owner_shard);
        for (auto& b : m_owner.m_commits.batches)
            if (b.batch.sequence == m.sequence) {
                AINET_ASSERT(m.slice < b.state.size() &&
                             b.state[m.slice] == registry_commit_pipeline::part_state::posted);
                b.state[m.slice] = registry_commit_pipeline::part_state::done;
                return;
            }
        AINET_ASSERT(false && "a slice done for no batch in the pipeline");
    }

    // A slice's owner: a part to write, in batch order (asserted: the pair queue is FIFO).
    void on_slice_write(const slice_message& m) noexcept {
        AINET_ASSERT(m_id != owner_shard && m.part != nullptr);
        AINET_ASSERT(m_owner.slice_owner(m.slice) == m_id);
        AINET_ASSERT(m_jobs.empty() || m_jobs.back().sequence < m.sequence);
        AINET_ASSERT(m.sequence > m_last_written);
        m_jobs.push_back(m);
    }

    // A slice's owner: writes its queued parts (one commit each), tells shard 0 which are
    // durable. Returns how long it may sleep.
    duration write_slice_jobs(runtime::shard_context& ctx) noexcept {
        bool failed = false;
        while (!m_jobs.empty()) {
            const auto& job = m_jobs.front();
            if (!m_owner.m_store->write_part(job.slice, *job.part)) {
                bump(m_owner.m_counters.commit_failures);
                failed = true;
                break;
            }
            m_last_written = job.sequence;
            m_acks.push_back(job);
            m_jobs.pop_front();
        }
        while (!m_acks.empty()) {
            if (!ctx.post(owner_shard, pack(m_owner.slot().kind(kind_slice_done), m_acks.front()))) {
                failed = true;
                break;
            }
            m_acks.pop_front();
        }
        return failed ? slice_retry_delay : duration::max();
    }

    // hostile protocols: true when the source is a static peer or a directory member (any
    // state). Without a directory every source is accepted (nothing to check against).
    bool known_source(runtime::shard_context& ctx, const endpoint& source) {
        if (m_owner.m_options.peers == nullptr)
            return true;
        if (std::binary_search(m_known.begin(), m_known.end(), source))
            return true;
        // A member that joined since the last refresh: look again, at most once per
        // sync_peer_refresh so that a flood of strangers costs no snapshot rebuilds.
        if (ctx.now < m_next_known_refresh)
            return false;
        m_next_known_refresh = ctx.now + m_owner.m_options.sync_peer_refresh;
        refresh_known(*m_owner.m_options.peers->snapshot());
        return std::binary_search(m_known.begin(), m_known.end(), source);
    }
    void refresh_known(const peer_snapshot& snapshot) {
        m_known = m_owner.m_options.static_peers;
        for (const auto& p : snapshot.peers)
            if (p.udp.port != 0)
                m_known.push_back(p.udp);
        std::sort(m_known.begin(), m_known.end());
        m_known.erase(std::unique(m_known.begin(), m_known.end()), m_known.end());
    }
    // end hostile protocols

    void refresh_peers() {
        std::vector<endpoint> want;
        std::shared_ptr<const peer_snapshot> snapshot;
        if (m_owner.m_options.peers != nullptr) {
            snapshot = m_owner.m_options.peers->snapshot();
            refresh_known(*snapshot); // hostile protocols
            for (const auto& p : snapshot->peers)
                if (p.state == peer_state::alive && p.udp.port != 0)
                    want.push_back(p.udp);
        }
        if (want.empty())
            want = m_owner.m_options.static_peers;
        std::sort(want.begin(), want.end());
        want.erase(std::unique(want.begin(), want.end()), want.end());
        auto& engine = *m_owner.m_engine;
        for (const auto& p : m_peers)
            if (!std::binary_search(want.begin(), want.end(), p))
                engine.remove_peer(p);
        for (const auto& p : want)
            if (!std::binary_search(m_peers.begin(), m_peers.end(), p))
                engine.add_peer(p);
        m_peers = std::move(want);
        m_owner.m_counters.sync_peers.store(m_peers.size(), std::memory_order_relaxed);

        if (snapshot && snapshot->partition_epoch != m_partition_epoch) {
            m_partition_epoch = snapshot->partition_epoch;
            std::vector<endpoint> named;
            for (const auto& id : snapshot->unreachable)
                if (const auto* p = snapshot->find(id); p != nullptr && p->udp.port != 0)
                    named.push_back(p->udp);
            if (snapshot->partition_suspected) {
                engine.on_partition_suspected(named);
                m_suspected = std::move(named);
            } else {
                // Healed: the peers cut off at the last "suspected" go first.
                named.insert(named.end(), m_suspected.begin(), m_suspected.end());
                engine.on_partition_healed(named);
                m_suspected.clear();
            }
            bump(m_owner.m_counters.partition_events);
        }
    }

    registry_node& m_owner;
    shard_id m_id;
    std::map<registry::write_ticket, std::shared_ptr<registry_request>> m_waiting;
    [[nodiscard]] bool backlog_full() const noexcept {
        return m_owner.m_commits.entries >= m_owner.m_options.backlog_entries_max;
    }

    // A slice owner's parts to write and the dones it still has to post (FIFO).
    std::deque<slice_message> m_jobs;
    std::deque<slice_message> m_acks;
    uint64_t m_last_written = 0;
    std::vector<endpoint> m_peers;  // sorted
    std::vector<endpoint> m_known;  // sorted: sources sync answers (hostile protocols)
    instant m_next_known_refresh{INT64_MIN};
    std::vector<endpoint> m_suspected;
    uint64_t m_partition_epoch = 0;
    instant m_next_refresh{INT64_MIN};
};

// --- registry_node --------------------------------------------------------------------------

registry_node::registry_node(registry_node_options options, const crypto::key_pair& keys)
    : m_options(std::move(options)) {
    if (static_cast<uint64_t>(m_options.replica.origin) <= 1) {
        // The origin names this replica in version vectors: the node key's first 8 bytes.
        uint64_t origin = 0;
        std::memcpy(&origin, keys.public_key_bytes().data(), sizeof(origin));
        m_options.replica.origin = registry::origin_id{origin == 0 ? 1 : origin};
    }
    m_options.replica.pool = nullptr;
    m_slice_count = registry_slice_count(m_options.shard_count);
    registry::replica_meta meta;
    std::vector<registry::durable_put> puts;
    registry_slices::load_report loaded;
    m_store = std::make_unique<registry_slices>(m_options.store_directory, m_slice_count,
                                                m_options.store, meta, puts, loaded);
    const size_t skipped = loaded.skipped;
    m_counters.moved_at_start.store(loaded.moved, std::memory_order_relaxed);
    m_counters.restored_skipped.store(skipped, std::memory_order_relaxed);
    m_counters.restored.store(puts.size(), std::memory_order_relaxed);
    m_replica = std::make_unique<registry::replica>(m_options.replica);
    m_replica->restore(meta, puts);
    m_counters.purged_at_start.store(m_replica->purge_if_stale(wall_clock_now()),
                                     std::memory_order_relaxed);
    m_counters.entries.store(m_replica->size(), std::memory_order_relaxed);
    m_engine = std::make_unique<sync::engine>(*m_replica, m_options.engine, m_options.seed);
}

registry_node::~registry_node() {
    // The node (and so every shard) has stopped: write what was still in flight, in order.
    if (m_replica->has_pending())
        m_commits.push(m_replica->take_batch(), m_slice_count);
    if (!m_commits.empty()) {
        const size_t failed = m_commits.flush(*m_store);
        m_counters.commit_failures.fetch_add(failed, std::memory_order_relaxed);
    }
}

const registry::replica_counters& registry_node::replica_counters() const noexcept {
    return m_replica->counters();
}
const sync::engine_counters& registry_node::engine_counters() const noexcept {
    return m_engine->counters();
}

void registry_node::attach(relay_node& node) {
    AINET_ASSERT(m_node == nullptr);
    m_node = &node;
    shard_service_registration r;
    r.name = "registry";
    r.type_first = 0x40;
    r.type_last = 0x4f;
    r.make = [this](shard_id id, uint16_t shard_count,
                    service_slot slot) -> std::unique_ptr<shard_service> {
        m_slot.store(slot.number(), std::memory_order_relaxed);
        m_node_shard_count.store(shard_count, std::memory_order_relaxed);
        return std::make_unique<shard_part>(*this, id);
    };
    node.add_service(std::move(r));
    node.handle_http("PUT", "/registry/entries",
                     [this](const http_request& q) { return handle_put(q); });
    node.handle_http("GET", "/registry/entries",
                     [this](const http_request& q) { return handle_list(q); });
    node.handle_http("GET", "/registry/entries/*",
                     [this](const http_request& q) { return handle_get(q); });
    node.handle_http("GET", "/registry/root",
                     [this](const http_request& q) { return handle_root(q); });
    node.add_metrics([this](std::string& out) { render_metrics(out); });
}

registry_answer registry_node::call(std::shared_ptr<registry_request> request) {
    const uint32_t slot = m_slot.load(std::memory_order_relaxed);
    if (m_node == nullptr || slot == 0) {
        bump(m_counters.http_timeouts);
        return {};
    }
    auto future = request->promise.get_future();
    runtime::shard_message msg;
    msg.kind = service_slot(slot).kind(kind_request);
    request_holder* holder = nullptr;
    {
        // The control side owns the holders: a message a stopped shard never reads would
        // otherwise leak its holder. Free the ones the shard has consumed, keep this one.
        std::lock_guard lock(m_holders_mutex);
        std::erase_if(m_holders, [](const std::unique_ptr<request_holder>& h) {
            return h->consumed.load(std::memory_order_acquire);
        });
        m_holders.push_back(std::make_unique<request_holder>());
        holder = m_holders.back().get();
        holder->request = request;
    }
    std::memcpy(msg.body.data(), &holder, sizeof(holder));
    msg.size = sizeof(holder);
    if (!m_node->post_from_control(owner_shard, msg)) {
        holder->consumed.store(true, std::memory_order_release); // never sent: free it next time
        bump(m_counters.http_timeouts);
        return {};
    }
    if (future.wait_for(m_options.request_timeout) != std::future_status::ready) {
        bump(m_counters.http_timeouts);
        return {};
    }
    try {
        return future.get();
    } catch (const std::future_error&) { // the shard stopped before answering
        bump(m_counters.http_timeouts);
        return {};
    }
}

registry_answer registry_node::put(const registry::entry& e) {
    auto r = std::make_shared<registry_request>();
    r->kind = registry_request::op::put;
    r->e = e;
    return call(std::move(r));
}

registry_answer registry_node::get(const crypto::public_key& key, const std::string& name) {
    auto r = std::make_shared<registry_request>();
    r->kind = registry_request::op::get;
    r->key = key;
    r->name = name;
    return call(std::move(r));
}

registry_answer registry_node::list(const std::optional<crypto::public_key>& key, size_t limit) {
    auto r = std::make_shared<registry_request>();
    r->kind = registry_request::op::list;
    r->has_key = key.has_value();
    if (key)
        r->key = *key;
    r->limit = limit;
    return call(std::move(r));
}

registry_answer registry_node::root(bool verify) {
    auto r = std::make_shared<registry_request>();
    r->kind = registry_request::op::root;
    r->verify = verify;
    return call(std::move(r));
}

http_response registry_node::handle_put(const http_request& request) {
    std::string error;
    auto e = entry_from_json(request.body, error);
    if (!e) {
        bump(m_counters.http_puts_rejected);
        return error_response(400, error);
    }
    if (e->value.size() > registry::value_size_max) {
        bump(m_counters.http_puts_rejected);
        return error_response(413, registry::to_string(registry::errc::value_size));
    }
    auto a = put(*e);
    if (a.status == 201)
        return json_response(201, a.entries.empty() ? nlohmann::json::object()
                                                    : entry_json(a.entries.front()->value));
    if (a.status == 503)
        return error_response(503, "registry did not answer in time");
    bump(m_counters.http_puts_rejected);
    return error_response(a.status, a.error);
}

http_response registry_node::handle_get(const http_request& request) {
    constexpr std::string_view prefix = "/registry/entries/";
    std::string_view rest(request.path);
    if (rest.substr(0, prefix.size()) != prefix)
        return error_response(404, "not found");
    rest.remove_prefix(prefix.size());
    const auto slash = rest.find('/');
    crypto::public_key key{};
    if (slash == std::string_view::npos || !from_hex_into(rest.substr(0, slash), key))
        return error_response(400, "path: /registry/entries/<public_key hex>/<name>");
    auto a = get(key, std::string(rest.substr(slash + 1)));
    if (a.status == 200)
        return json_response(200, entry_json(a.entries.front()->value));
    if (a.status == 503)
        return error_response(503, "registry did not answer in time");
    return error_response(a.status, a.error);
}

http_response registry_node::handle_list(const http_request& request) {
    std::optional<crypto::public_key> key;
    size_t limit = 100;
    if (auto it = request.query.find("public_key"); it != request.query.end()) {
        crypto::public_key k{};
        if (!from_hex_into(it->second, k))
            return error_response(400, "public_key: not 64 hex digits");
        key = k;
    }
    if (auto it = request.query.find("limit"); it != request.query.end()) {
        try {
            limit = std::stoul(it->second);
        } catch (const std::exception&) {
            return error_response(400, "limit: not a number");
        }
        if (limit == 0 || limit > list_limit_max)
            return error_response(400, "limit: 1.." + std::to_string(list_limit_max));
    }
    auto a = list(key, limit);
    if (a.status != 200)
        return error_response(503, "registry did not answer in time");
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : a.entries)
        entries.push_back(entry_json(e->value));
    return json_response(200, {{"entries", entries}, {"count", a.entries.size()},
                               {"truncated", a.entries.size() >= limit}});
}

http_response registry_node::handle_root(const http_request& request) {
    bool verify = false;
    if (auto it = request.query.find("verify"); it != request.query.end())
        verify = it->second == "1" || it->second == "true";
    auto a = root(verify);
    if (a.status != 200)
        return error_response(503, "registry did not answer in time");
    nlohmann::json vv = nlohmann::json::object();
    for (const auto& [origin, counter] : a.vv) {
        char hex[17];
        std::snprintf(hex, sizeof(hex), "%016llx",
                      static_cast<unsigned long long>(static_cast<uint64_t>(origin)));
        vv[hex] = counter;
    }
    nlohmann::json j = {{"root", a.root_hex},
                        {"entries", a.entry_count},
                        {"hlc", a.hlc},
                        {"origins", a.vv.size()},
                        {"version_vector", vv}};
    if (verify) {
        j["recomputed_root"] = a.recomputed_root_hex;
        j["root_matches"] = a.recomputed_root_hex == a.root_hex;
    }
    return json_response(200, j);
}

void registry_node::render_metrics(std::string& out) const {
#define AINET_RENDER_REGISTRY_NODE(name, help)                                                     \
    runtime::render_metric(out, "ainet_registry_" #name "_total", "counter", help,                 \
                           m_counters.name.load(std::memory_order_relaxed));
    AINET_REGISTRY_NODE_COUNTERS(AINET_RENDER_REGISTRY_NODE)
#undef AINET_RENDER_REGISTRY_NODE
    auto gauge = [&](const char* name, const char* help, uint64_t v) {
        runtime::render_metric(out, name, "gauge", help, v);
    };
    gauge("ainet_registry_entries", "registry entries held (tombstones included)",
          m_counters.entries.load(std::memory_order_relaxed));
    gauge("ainet_registry_sync_peers", "registry sync peers",
          m_counters.sync_peers.load(std::memory_order_relaxed));
    gauge("ainet_registry_restored_entries", "entries restored from the store at start",
          m_counters.restored.load(std::memory_order_relaxed));
    gauge("ainet_registry_purged_at_start", "entries purged as stale at start",
          m_counters.purged_at_start.load(std::memory_order_relaxed));
    gauge("ainet_registry_store_slices", "registry store slices (LMDB environments)",
          m_slice_count);
    out.append("# HELP ainet_registry_slice_commits_total commits per registry store slice\n"
               "# TYPE ainet_registry_slice_commits_total counter\n");
    for (size_t i = 0; i < m_slice_count; ++i)
        out.append("ainet_registry_slice_commits_total{slice=\"")
            .append(std::to_string(i))
            .append("\"} ")
            .append(std::to_string(
                m_store->slice(i).counters().commits.load(std::memory_order_relaxed)))
            .append("\n");
    gauge("ainet_registry_moved_at_start",
          "entries moved to another store slice at start (shard count changed)",
          m_counters.moved_at_start.load(std::memory_order_relaxed));
    const auto& rc = m_replica->counters();
    out.append("# HELP ainet_registry_dropped_total received entries dropped, by reason\n"
               "# TYPE ainet_registry_dropped_total counter\n");
    for (size_t i = 0; i < static_cast<size_t>(registry::drop_reason::count_); ++i) {
        const auto r = static_cast<registry::drop_reason>(i);
        out.append("ainet_registry_dropped_total{reason=\"")
            .append(registry::to_string(r))
            .append("\"} ")
            .append(std::to_string(rc.dropped_by(r)))
            .append("\n");
    }
    auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v) {
        runtime::render_metric(out, name, "counter", help, v.load(std::memory_order_relaxed));
    };
    counter("ainet_registry_received_total", "entries handed to the replica by sync", rc.received);
    counter("ainet_registry_applied_total", "entries that changed the replica", rc.applied);
    counter("ainet_registry_duplicates_total", "entries equal to or older than the stored one",
            rc.duplicates);
    counter("ainet_registry_local_writes_total", "client writes accepted", rc.local_writes);
    counter("ainet_registry_tombstones_collected_total", "tombstones collected",
            rc.tombstones_collected);
    counter("ainet_registry_purged_stale_total", "entries purged as stale", rc.purged_stale);
    // The registry's store (the only LMDB writer in the node so far).
    // Summed over the registry's store slices (registry_shards.hpp).
#define AINET_RENDER_STORE(name, help)                                                             \
    runtime::render_metric(out, "ainet_store_" #name "_total", "counter", help,                    \
                           m_store->counter_sum(&store::batch_counters::name));
    AINET_STORE_COUNTERS(AINET_RENDER_STORE)
#undef AINET_RENDER_STORE
    const auto& ec = m_engine->counters();
    counter("ainet_registry_sync_sessions_started_total", "sync sessions initiated",
            ec.sessions_started);
    counter("ainet_registry_sync_sessions_accepted_total", "sync sessions accepted",
            ec.sessions_accepted);
    counter("ainet_registry_sync_converged_total", "sync sessions ended with equal roots",
            ec.converged);
    counter("ainet_registry_sync_diverged_total", "sync sessions ended diverged", ec.diverged);
    counter("ainet_registry_sync_timed_out_total", "sync sessions timed out", ec.timed_out);
    counter("ainet_registry_sync_malformed_total", "sync datagrams that did not decode",
            ec.malformed);
    // hostile protocols: the engine's other drop reasons.
    counter("ainet_registry_sync_unknown_session_total",
            "sync datagrams dropped: no session (late, duplicated or not a begin)",
            ec.unknown_session);
    counter("ainet_registry_sync_stale_flight_total",
            "sync datagrams dropped: a flight or chunk already received", ec.stale_flight);
    counter("ainet_registry_sync_refused_full_total",
            "sync begins dropped: sessions_max sessions open", ec.refused_full);
    // end hostile protocols
    counter("ainet_registry_sync_datagrams_sent_total", "sync datagrams sent", ec.datagrams_sent);
    counter("ainet_registry_sync_bytes_sent_total", "sync bytes sent", ec.bytes_sent);
    counter("ainet_registry_sync_entries_sent_total", "entries sent by sync", ec.entries_sent);
    counter("ainet_registry_sync_send_failed_total", "sync datagrams the send queue refused",
            ec.send_failed);
}

} // namespace ainet::node
