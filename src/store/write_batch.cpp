#include "env_state.hpp"

#include <ainet/store/write_batch.hpp>

#include <ainet/core/assert.hpp>

#include <cerrno>
#include <limits>

namespace ainet::store {

using detail::to_bytes;
using detail::to_val;

write_batch::write_batch(environment& env, batch_limits limits) : m_env(&env), m_limits(limits) {
    AINET_ASSERT(limits.entry_count_max > 0);
    // Offsets into the arena are 32-bit.
    AINET_ASSERT(limits.byte_count_max <= std::numeric_limits<uint32_t>::max());
    m_ops.reserve(limits.entry_count_max);
    m_arena.reserve(limits.byte_count_max);
}

result<void> write_batch::put(table t, bytes_view key, bytes_view value) noexcept {
    return add(t, key, value, true);
}

result<void> write_batch::erase(table t, bytes_view key) noexcept {
    return add(t, key, {}, false);
}

result<void> write_batch::add(table t, bytes_view key, bytes_view value, bool is_put) noexcept {
    auto& state = *m_env->m_state;
    if (!state.is_open_table(t)) {
        bump(m_counters.rejected_bad_argument);
        state.record_text(errc::unknown_table, MDB_BAD_DBI, "table not opened here");
        return fail(errc::unknown_table);
    }
    if (key.empty() || key.size() > key_size_max) {
        bump(m_counters.rejected_bad_argument);
        state.record_text(errc::bad_argument, MDB_BAD_VALSIZE, "key empty or too long");
        return fail(errc::bad_argument);
    }
    const size_t size = key.size() + value.size();
    if (m_ops.size() >= m_limits.entry_count_max ||
        size > m_limits.byte_count_max - m_arena.size()) {
        bump(m_counters.rejected_batch_full);
        state.record_text(errc::batch_full, ENOBUFS, "write batch at its entry or byte limit");
        return fail(errc::batch_full);
    }
    const auto key_offset = static_cast<uint32_t>(m_arena.size());
    m_arena.insert(m_arena.end(), key.begin(), key.end());
    const auto value_offset = static_cast<uint32_t>(m_arena.size());
    m_arena.insert(m_arena.end(), value.begin(), value.end());
    m_ops.push_back(op{t.dbi, is_put, key_offset, static_cast<uint32_t>(key.size()), value_offset,
                       static_cast<uint32_t>(value.size())});
    bump(is_put ? m_counters.puts : m_counters.erases);
    return {};
}

void write_batch::clear() noexcept {
    m_ops.clear();
    m_arena.clear();
}

result<uint64_t> write_batch::commit() noexcept {
    auto& state = *m_env->m_state;
    if (m_ops.empty())
        return state.commit_sequence;

    const uint64_t sequence = state.commit_sequence + 1;
    const size_t entries = m_ops.size();
    const size_t bytes = m_arena.size();
    auto failed = [&](int rc) {
        clear();
        bump(m_counters.commit_failures);
        return fail(state.record(rc));
    };

    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(state.env, nullptr, 0, &txn);
    if (rc != 0)
        return failed(rc);
    const bytes_view arena(m_arena);
    for (const op& o : m_ops) {
        MDB_val key = to_val(arena.subspan(o.key_offset, o.key_size));
        if (o.is_put) {
            MDB_val value = to_val(arena.subspan(o.value_offset, o.value_size));
            rc = mdb_put(txn, o.dbi, &key, &value, 0);
        } else {
            rc = mdb_del(txn, o.dbi, &key, nullptr);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
        if (rc != 0) {
            mdb_txn_abort(txn);
            return failed(rc);
        }
    }
    // The sequence travels in the same transaction as the data: after a crash, the stored
    // sequence names exactly the last batch that is on disk.
    std::array<uint8_t, sizeof(uint64_t)> encoded{};
    byte_writer writer(encoded);
    writer.u64(sequence);
    MDB_val seq_key = to_val(to_bytes(detail::meta_commit_sequence_key));
    MDB_val seq_value = to_val(writer.written());
    rc = mdb_put(txn, state.meta_dbi, &seq_key, &seq_value, 0);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return failed(rc);
    }
    // mdb_txn_commit writes the pages and, unless MDB_NOSYNC, fdatasyncs before returning; it
    // frees the transaction whether or not it succeeds.
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return failed(rc);

    state.commit_sequence = sequence;
    clear();
    bump(m_counters.commits);
    bump(m_counters.entries_committed, entries);
    bump(m_counters.bytes_committed, bytes);
    if (entries > m_counters.largest_commit_entries.load(std::memory_order_relaxed))
        m_counters.largest_commit_entries.store(entries, std::memory_order_relaxed);
    return sequence;
}

} // namespace ainet::store
