#include <ainet/node/messaging_store.hpp>

#include <ainet/core/assert.hpp>

#include <algorithm>
#include <array>
#include <numeric>
#include <tuple>
#include <cstring>

namespace ainet::node {
namespace {

constexpr uint8_t prefix_meta = 'm';
constexpr uint8_t prefix_outbox = 'o'; // one message (earlier versions)
constexpr uint8_t prefix_group = 'b';
constexpr uint8_t prefix_sender = 's';
constexpr uint8_t prefix_receiver = 'r';
constexpr size_t session_key_size = 1 + node_id_size + 4;
constexpr size_t outbox_key_size = session_key_size + 8;

void put_be(uint8_t* out, uint64_t v, size_t size) noexcept {
    for (size_t i = 0; i < size; ++i)
        out[i] = static_cast<uint8_t>(v >> (8 * (size - 1 - i)));
}
uint64_t get_be(const uint8_t* in, size_t size) noexcept {
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i)
        v = (v << 8) | in[i];
    return v;
}
void put_le(std::vector<uint8_t>& out, uint64_t v, size_t size = 8) {
    for (size_t i = 0; i < size; ++i)
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t get_le(const uint8_t* in, size_t size = 8) noexcept {
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i)
        v |= uint64_t{in[i]} << (8 * i);
    return v;
}

std::array<uint8_t, outbox_key_size> make_key(uint8_t prefix, const node_id& peer,
                                              channel_id channel, uint64_t seq = 0) noexcept {
    std::array<uint8_t, outbox_key_size> k{};
    k[0] = prefix;
    std::memcpy(k.data() + 1, peer.bytes.data(), node_id_size);
    put_be(k.data() + 1 + node_id_size, static_cast<uint32_t>(channel), 4);
    put_be(k.data() + session_key_size, seq, 8);
    return k;
}

} // namespace

messaging_store::messaging_store(store::environment env, store::table table)
    : m_env(std::move(env)), m_table(table),
      m_batch(m_env, store::batch_limits{batch_entry_count_max, batch_byte_count_max}) {}

std::unique_ptr<messaging_store> messaging_store::open(const std::filesystem::path& directory,
                                                       bool durable, std::string& error) {
    store::options opts;
    opts.durable = durable;
    opts.tables_max = 2;
    opts.map_size_bytes = size_t{1} << 30;
    auto env = store::environment::open(directory, opts, &error);
    if (!env) {
        error = directory.string() + ": " + std::string(store::to_string(env.error())) +
                (error.empty() ? "" : " (" + error + ")");
        return nullptr;
    }
    auto table = env->open_table("reliability");
    if (!table) {
        error = directory.string() + ": open table: " + std::string(store::to_string(table.error()));
        return nullptr;
    }
    return std::make_unique<messaging_store>(std::move(*env), *table);
}

bool messaging_store::load(reliability::recovered_state& out, std::string& error) {
    out = {};
    auto txn = m_env.begin_read();
    if (!txn) {
        error = "begin_read: " + std::string(store::to_string(txn.error()));
        return false;
    }
    bool bad = false;
    auto visited = txn->scan_prefix(m_table, {}, SIZE_MAX, [&](const store::entry& e) {
        const auto& k = e.key;
        const auto& v = e.value;
        if (k.size() == 1 && k[0] == prefix_meta && v.size() == 16) {
            out.stream_epoch = get_le(v.data());
            out.next_message = get_le(v.data() + 8);
            return true;
        }
        if (k.size() < session_key_size) {
            bad = true;
            return false;
        }
        node_id peer;
        std::memcpy(peer.bytes.data(), k.data() + 1, node_id_size);
        const auto channel = channel_id{static_cast<uint32_t>(get_be(k.data() + 1 + node_id_size, 4))};
        const session_key sk{peer, static_cast<uint32_t>(channel)};
        if (k[0] == prefix_group && k.size() == outbox_key_size && v.size() >= 8) {
            const uint64_t first = get_be(k.data() + session_key_size, 8);
            const uint64_t last = get_le(v.data());
            if (first == 0 || last < first) {
                bad = true;
                return false;
            }
            size_t at = 8;
            for (uint64_t seq = first; seq <= last; ++seq) {
                if (v.size() - at < 12) {
                    bad = true;
                    return false;
                }
                const uint64_t message = get_le(v.data() + at);
                const auto size = static_cast<size_t>(get_le(v.data() + at + 8, 4));
                at += 12;
                if (v.size() - at < size) {
                    bad = true;
                    return false;
                }
                out.outbox.push_back({peer, channel, seq, message,
                                      std::vector<uint8_t>(v.begin() + static_cast<ptrdiff_t>(at),
                                                           v.begin() + static_cast<ptrdiff_t>(at + size))});
                at += size;
            }
            if (at != v.size()) {
                bad = true;
                return false;
            }
            m_marks[sk].groups.push_back({first, last, prefix_group});
        } else if (k[0] == prefix_outbox && k.size() == outbox_key_size && v.size() >= 8) {
            const uint64_t seq = get_be(k.data() + session_key_size, 8);
            out.outbox.push_back({peer, channel, seq, get_le(v.data()),
                                  std::vector<uint8_t>(v.begin() + 8, v.end())});
            m_marks[sk].groups.push_back({seq, seq, prefix_outbox});
        } else if (k[0] == prefix_sender && k.size() == session_key_size && v.size() == 8) {
            out.senders.push_back({peer, channel, get_le(v.data())});
            m_marks[sk].acked = get_le(v.data());
        } else if (k[0] == prefix_receiver && k.size() == session_key_size && v.size() == 16) {
            out.receivers.push_back({peer, channel, get_le(v.data()), get_le(v.data() + 8)});
        } else {
            bad = true;
            return false;
        }
        return true;
    });
    if (!visited) {
        error = "scan: " + std::string(store::to_string(visited.error()));
        return false;
    }
    if (bad) {
        error = "a record that does not decode";
        return false;
    }
    // Groups ('b') sort before single messages ('o') of older versions: order every session's
    // groups and messages by seq, and drop what the sender position already covers (the part of
    // a group acknowledged before the rest) and any message a retried commit wrote twice.
    for (auto& [key, marks] : m_marks)
        std::sort(marks.groups.begin(), marks.groups.end(),
                  [](const group& a, const group& b) { return a.first < b.first; });
    // In (peer, channel, seq) order, equal keys in load order (a retried commit's later write
    // last). Sorted by (key, load position) rather than with std::stable_sort: libstdc++ 12's
    // stable_sort instantiates the deprecated get_temporary_buffer, which clang 19 rejects.
    std::vector<uint32_t> by_key(out.outbox.size());
    std::iota(by_key.begin(), by_key.end(), uint32_t{0});
    std::sort(by_key.begin(), by_key.end(), [&out](uint32_t x, uint32_t y) {
        const auto& a = out.outbox[x];
        const auto& b = out.outbox[y];
        return std::tie(a.peer, a.channel, a.seq, x) < std::tie(b.peer, b.channel, b.seq, y);
    });
    std::vector<reliability::recovered_state::outbox_message> kept;
    kept.reserve(out.outbox.size());
    for (const uint32_t index : by_key) {
        auto& m = out.outbox[index];
        const auto it = m_marks.find({m.peer, static_cast<uint32_t>(m.channel)});
        if (it != m_marks.end() && m.seq <= it->second.acked)
            continue;
        if (!kept.empty() && kept.back().peer == m.peer && kept.back().channel == m.channel &&
            kept.back().seq == m.seq) {
            kept.back() = std::move(m); // the later write of a retried commit
            continue;
        }
        kept.push_back(std::move(m));
    }
    out.outbox = std::move(kept);
    // An outbox session without a sender record starts at 0; the core wants senders in
    // (peer, channel) order, which the key order gives.
    return true;
}

bool messaging_store::flush_batch() noexcept {
    if (m_batch.empty())
        return true;
    auto seq = m_batch.commit();
    if (!seq)
        return false;
    ++m_commits;
    return true;
}

bool messaging_store::add_put(bytes_view key, bytes_view value) noexcept {
    auto r = m_batch.put(m_table, key, value);
    if (!r && r.error() == store::errc::batch_full) {
        if (!flush_batch())
            return false;
        r = m_batch.put(m_table, key, value);
    }
    return r.has_value();
}

bool messaging_store::add_erase(bytes_view key) noexcept {
    auto r = m_batch.erase(m_table, key);
    if (!r && r.error() == store::errc::batch_full) {
        if (!flush_batch())
            return false;
        r = m_batch.erase(m_table, key);
    }
    return r.has_value();
}

bool messaging_store::put_group(std::span<const reliability::persist_record> run,
                                session_delta& delta) noexcept {
    const auto& head = run.front();
    const auto k = make_key(prefix_group, head.peer, head.channel, head.seq);
    m_value.clear();
    put_le(m_value, run.back().seq);
    for (const auto& r : run) {
        put_le(m_value, r.message);
        put_le(m_value, r.payload.size(), 4);
        m_value.insert(m_value.end(), r.payload.begin(), r.payload.end());
    }
    delta.added.push_back({head.seq, run.back().seq, prefix_group});
    return add_put(k, m_value);
}

bool messaging_store::apply(const reliability::persist_record& r, size_t& next,
                            std::span<const reliability::persist_record> records,
                            std::map<session_key, session_delta>& deltas) noexcept {
    using reliability::record_kind;
    const session_key sk{r.peer, static_cast<uint32_t>(r.channel)};
    const auto delta_of = [&]() -> session_delta& {
        auto it = deltas.find(sk);
        if (it == deltas.end()) {
            session_delta d;
            if (const auto m = m_marks.find(sk); m != m_marks.end())
                d.acked = m->second.acked;
            it = deltas.emplace(sk, std::move(d)).first;
        }
        return it->second;
    };
    m_value.clear();
    switch (r.kind) {
    case record_kind::meta: {
        const uint8_t k = prefix_meta;
        put_le(m_value, r.epoch);
        put_le(m_value, r.message);
        return add_put(bytes_view(&k, 1), m_value);
    }
    case record_kind::outbox_put: {
        // The run of this session's consecutive messages that starts here becomes one group.
        size_t end = next;
        size_t bytes = r.payload.size();
        while (end < records.size() && end - (next - 1) < group_count_max) {
            const auto& q = records[end];
            if (q.kind != record_kind::outbox_put || q.peer != r.peer || q.channel != r.channel ||
                q.seq != records[end - 1].seq + 1 || bytes + q.payload.size() > group_bytes_max)
                break;
            bytes += q.payload.size();
            ++end;
        }
        const auto run = records.subspan(next - 1, end - (next - 1));
        next = end;
        return put_group(run, delta_of());
    }
    case record_kind::sender_acked: {
        session_delta& d = delta_of();
        d.acked = std::max(d.acked, r.seq);
        // Erase every group the position now covers whole: committed ones first, then this
        // commit's own (bounded by the groups, not by the messages).
        const auto m = m_marks.find(sk);
        const size_t committed = m == m_marks.end() ? 0 : m->second.groups.size();
        while (d.popped < committed && m->second.groups[d.popped].last <= d.acked) {
            const group& g = m->second.groups[d.popped];
            if (!add_erase(make_key(g.prefix, r.peer, r.channel, g.first)))
                return false;
            ++d.popped;
        }
        if (d.popped == committed) {
            size_t gone = 0;
            while (gone < d.added.size() && d.added[gone].last <= d.acked) {
                if (!add_erase(make_key(prefix_group, r.peer, r.channel, d.added[gone].first)))
                    return false;
                ++gone;
            }
            d.added.erase(d.added.begin(), d.added.begin() + static_cast<ptrdiff_t>(gone));
        }
        const auto k = make_key(prefix_sender, r.peer, r.channel);
        put_le(m_value, d.acked);
        return add_put(bytes_view(k.data(), session_key_size), m_value);
    }
    case record_kind::receiver_watermark: {
        const auto k = make_key(prefix_receiver, r.peer, r.channel);
        put_le(m_value, r.epoch);
        put_le(m_value, r.seq);
        return add_put(bytes_view(k.data(), session_key_size), m_value);
    }
    }
    return false;
}

reliability::result<void> messaging_store::commit(std::span<const reliability::persist_record> records) noexcept {
    std::map<session_key, session_delta> deltas;
    bool ok = true;
    for (size_t next = 0; next < records.size();) {
        const auto& r = records[next++];
        if (!apply(r, next, records, deltas)) {
            ok = false;
            break;
        }
    }
    if (ok)
        ok = flush_batch();
    if (!ok) {
        m_batch.clear();
        // Partial transactions may have reached the disk; they only hold records that the
        // retry writes again (a group's key is its first seq, so a retried group replaces the
        // partial one) or erases of groups the marks still list (erased again: a no-op), and
        // load() drops anything at or below the sender position.
        return fail(reliability::errc::store_failed);
    }
    for (auto& [key, d] : deltas) {
        session_marks& m = m_marks[key];
        m.acked = std::max(m.acked, d.acked);
        m.groups.erase(m.groups.begin(), m.groups.begin() + static_cast<ptrdiff_t>(d.popped));
        m.groups.insert(m.groups.end(), d.added.begin(), d.added.end());
    }
    return {};
}

} // namespace ainet::node
