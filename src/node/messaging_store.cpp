#include <ainet/node/messaging_store.hpp>

#include <ainet/core/assert.hpp>

#include <algorithm>
#include <array>
#include <cstring>

namespace ainet::node {
namespace {

constexpr uint8_t prefix_meta = 'm';
constexpr uint8_t prefix_outbox = 'o';
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
void put_le(std::vector<uint8_t>& out, uint64_t v) {
    for (size_t i = 0; i < 8; ++i)
        out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t get_le(const uint8_t* in) noexcept {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i)
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
        if (k[0] == prefix_outbox && k.size() == outbox_key_size && v.size() >= 8) {
            const uint64_t seq = get_be(k.data() + session_key_size, 8);
            out.outbox.push_back({peer, channel, seq, get_le(v.data()),
                                  std::vector<uint8_t>(v.begin() + 8, v.end())});
            auto& m = m_marks[sk];
            m.highest = std::max(m.highest, seq);
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
    for (auto& [key, marks] : m_marks)
        marks.highest = std::max(marks.highest, marks.acked);
    // An outbox session without a sender record starts at 0; keys sort senders after outbox
    // ('o' < 's'), and the core wants them in (peer, channel) order, which they already are.
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

bool messaging_store::apply(const reliability::persist_record& r,
                            std::map<session_key, session_marks>& marks) noexcept {
    using reliability::record_kind;
    m_value.clear();
    const session_key sk{r.peer, static_cast<uint32_t>(r.channel)};
    switch (r.kind) {
    case record_kind::meta: {
        const uint8_t k = prefix_meta;
        put_le(m_value, r.epoch);
        put_le(m_value, r.message);
        return add_put(bytes_view(&k, 1), m_value);
    }
    case record_kind::outbox_put: {
        const auto k = make_key(prefix_outbox, r.peer, r.channel, r.seq);
        put_le(m_value, r.message);
        m_value.insert(m_value.end(), r.payload.begin(), r.payload.end());
        auto it = marks.find(sk);
        if (it == marks.end())
            it = marks.emplace(sk, m_marks.count(sk) ? m_marks[sk] : session_marks{}).first;
        it->second.highest = std::max(it->second.highest, r.seq);
        return add_put(k, m_value);
    }
    case record_kind::sender_acked: {
        auto it = marks.find(sk);
        if (it == marks.end())
            it = marks.emplace(sk, m_marks.count(sk) ? m_marks[sk] : session_marks{}).first;
        // The outbox of a session is contiguous from acked + 1 to highest: erase what the new
        // position covers, nothing else (bounded by the messages actually stored).
        const uint64_t last = std::min(r.seq, it->second.highest);
        for (uint64_t s = it->second.acked + 1; s <= last; ++s) {
            const auto k = make_key(prefix_outbox, r.peer, r.channel, s);
            if (!add_erase(k))
                return false;
        }
        it->second.acked = std::max(it->second.acked, r.seq);
        it->second.highest = std::max(it->second.highest, it->second.acked);
        const auto k = make_key(prefix_sender, r.peer, r.channel);
        put_le(m_value, it->second.acked);
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
    std::map<session_key, session_marks> marks;
    bool ok = true;
    for (const auto& r : records) {
        if (!apply(r, marks)) {
            ok = false;
            break;
        }
    }
    if (ok)
        ok = flush_batch();
    if (!ok) {
        m_batch.clear();
        // Partial transactions may have reached the disk; they only hold records that the
        // retry applies again, so the in-memory marks stay at the last fully committed turn
        // except that the outbox may hold fewer keys than `highest` says (erases are no-ops).
        return fail(reliability::errc::store_failed);
    }
    for (auto& [key, m] : marks)
        m_marks[key] = m;
    return {};
}

} // namespace ainet::node
