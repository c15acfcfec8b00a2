#include "env_state.hpp"

#include <ainet/core/assert.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace ainet::store {
namespace detail {

errc map_code(int code) noexcept {
    switch (code) {
    case MDB_MAP_FULL:
        return errc::map_full;
    case MDB_DBS_FULL:
        return errc::tables_full;
    case MDB_READERS_FULL:
        return errc::readers_full;
    case MDB_TXN_FULL:
        return errc::txn_full;
    case MDB_BAD_VALSIZE:
        return errc::bad_argument;
    case MDB_BAD_DBI:
        return errc::unknown_table;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
        return errc::corrupted;
    case EINVAL:
        return errc::bad_argument;
    default:
        break;
    }
    // Positive codes are errno values from the filesystem (ENOENT, EACCES, ENOSPC, EIO, ...).
    return code > 0 ? errc::io_error : errc::lmdb_error;
}

env_state::~env_state() {
    if (env != nullptr)
        mdb_env_close(env);
}

void env_state::record_text(errc e, int code, std::string_view text) noexcept {
    (void)e;
    last_code = code;
    const size_t size = std::min(text.size(), last_text.size() - 1);
    std::memcpy(last_text.data(), text.data(), size);
    last_text[size] = '\0';
}

errc env_state::record(int code) noexcept {
    const errc e = map_code(code);
    record_text(e, code, mdb_strerror(code));
    return e;
}

} // namespace detail

using detail::to_bytes;
using detail::to_val;

namespace {

struct open_failure {
    errc code;
    std::string text;
};

// Opens the store's own table and reads the last commit sequence, in one write transaction.
result<void> open_meta(detail::env_state& state) noexcept {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(state.env, nullptr, 0, &txn);
    if (rc != 0)
        return fail(state.record(rc));
    rc = mdb_dbi_open(txn, detail::meta_table_name.data(), MDB_CREATE, &state.meta_dbi);
    if (rc == 0) {
        MDB_val key = to_val(to_bytes(detail::meta_commit_sequence_key));
        MDB_val value{};
        rc = mdb_get(txn, state.meta_dbi, &key, &value);
        if (rc == 0) {
            if (value.mv_size != sizeof(uint64_t)) {
                mdb_txn_abort(txn);
                state.record_text(errc::corrupted, MDB_CORRUPTED, "bad commit sequence record");
                return fail(errc::corrupted);
            }
            byte_reader reader(to_bytes(value));
            state.commit_sequence = reader.u64().value();
        } else if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return fail(state.record(rc));
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return fail(state.record(rc));
    return {};
}

} // namespace

environment::environment(std::unique_ptr<detail::env_state> state) noexcept
    : m_state(std::move(state)) {}
environment::environment(environment&& other) noexcept = default;
environment& environment::operator=(environment&& other) noexcept = default;
environment::~environment() = default;

result<environment> environment::open(const std::filesystem::path& directory, const options& opts,
                                      std::string* error_text) noexcept {
    auto report = [&](errc e, std::string_view text) {
        if (error_text != nullptr)
            *error_text = std::string(text);
        return fail(e);
    };
    if (directory.empty())
        return report(errc::bad_argument, "empty directory path");
    if (opts.map_size_bytes < map_size_min_bytes)
        return report(errc::bad_argument, "map size below map_size_min_bytes");
    if (opts.tables_max == 0 || opts.tables_max > tables_max_limit)
        return report(errc::bad_argument, "tables_max outside 1..tables_max_limit");
    if (opts.readers_max == 0 || opts.readers_max > readers_max_limit)
        return report(errc::bad_argument, "readers_max outside 1..readers_max_limit");

    std::error_code ec;
    const bool created = std::filesystem::create_directories(directory, ec);
    if (ec)
        return report(errc::io_error, directory.string() + ": " + ec.message());
    if (!std::filesystem::is_directory(directory, ec))
        return report(errc::io_error, directory.string() + ": not a directory");
    if (created) {
        // The store holds the node's state (and, in the registry, what it acknowledged): only
        // the node's user reads it.
        std::filesystem::permissions(directory, std::filesystem::perms::owner_all, ec);
        if (ec)
            return report(errc::io_error, directory.string() + ": " + ec.message());
    }

    auto state = std::make_unique<detail::env_state>();
    state->opts = opts;
    state->directory = directory;
    // LMDB numbers named tables after its two core ones (free list, main), meta included.
    state->opened.assign(opts.tables_max + 3, 0);
    auto lmdb_failure = [&](int rc) {
        const errc e = detail::map_code(rc);
        return report(e, directory.string() + ": " + mdb_strerror(rc));
    };
    int rc = mdb_env_create(&state->env);
    if (rc != 0) {
        state->env = nullptr;
        return lmdb_failure(rc);
    }
    if (mdb_env_get_maxkeysize(state->env) < static_cast<int>(key_size_max))
        return report(errc::corrupted, "liblmdb built with MDB_MAXKEYSIZE below key_size_max");
    if ((rc = mdb_env_set_mapsize(state->env, opts.map_size_bytes)) != 0 ||
        (rc = mdb_env_set_maxdbs(state->env, opts.tables_max + 1)) != 0 ||
        (rc = mdb_env_set_maxreaders(state->env, opts.readers_max)) != 0)
        return lmdb_failure(rc);
    // MDB_NOTLS: read transactions are not tied to a thread slot, so one thread can hold several
    // and hand one to another. MDB_NOSYNC only on explicit request (benchmarks).
    unsigned flags = MDB_NOTLS;
    if (!opts.durable)
        flags |= MDB_NOSYNC;
    rc = mdb_env_open(state->env, directory.c_str(), flags, 0600);
    if (rc != 0)
        return lmdb_failure(rc);
    if (auto meta = open_meta(*state); !meta)
        return report(meta.error(), directory.string() + ": " + state->last_text.data());
    return environment(std::move(state));
}

result<table> environment::open_table(std::string_view name) noexcept {
    auto& s = *m_state;
    if (name.empty() || name.size() > table_name_size_max || name == detail::meta_table_name) {
        s.record_text(errc::bad_argument, EINVAL, "table name empty, too long or reserved");
        return fail(errc::bad_argument);
    }
    const std::string name_z(name);
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(s.env, nullptr, 0, &txn);
    if (rc != 0)
        return fail(s.record(rc));
    MDB_dbi dbi = 0;
    rc = mdb_dbi_open(txn, name_z.c_str(), MDB_CREATE, &dbi);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return fail(s.record(rc));
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return fail(s.record(rc));
    AINET_ASSERT(dbi < s.opened.size());
    s.opened[dbi] = 1;
    return table{dbi};
}

result<read_txn> environment::begin_read() noexcept {
    MDB_txn* txn = nullptr;
    const int rc = mdb_txn_begin(m_state->env, nullptr, MDB_RDONLY, &txn);
    if (rc != 0)
        return fail(m_state->record(rc));
    return read_txn(m_state.get(), txn);
}

uint64_t environment::commit_sequence() const noexcept {
    return m_state->commit_sequence;
}

result<size_t> environment::used_bytes() noexcept {
    MDB_envinfo info{};
    MDB_stat stat{};
    int rc = mdb_env_info(m_state->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(m_state->env, &stat);
    if (rc != 0)
        return fail(m_state->record(rc));
    return (info.me_last_pgno + 1) * size_t{stat.ms_psize};
}

size_t environment::map_size_bytes() const noexcept {
    MDB_envinfo info{};
    if (mdb_env_info(m_state->env, &info) != 0)
        return m_state->opts.map_size_bytes;
    return info.me_mapsize;
}

std::string_view environment::last_error() const noexcept {
    return m_state->last_text.data();
}
int environment::last_error_code() const noexcept {
    return m_state->last_code;
}
const std::filesystem::path& environment::directory() const noexcept {
    return m_state->directory;
}

// read_txn

read_txn::read_txn(read_txn&& other) noexcept
    : m_state(std::exchange(other.m_state, nullptr)), m_txn(std::exchange(other.m_txn, nullptr)) {}

read_txn& read_txn::operator=(read_txn&& other) noexcept {
    if (this != &other) {
        if (m_txn != nullptr)
            mdb_txn_abort(static_cast<MDB_txn*>(m_txn));
        m_state = std::exchange(other.m_state, nullptr);
        m_txn = std::exchange(other.m_txn, nullptr);
    }
    return *this;
}

read_txn::~read_txn() {
    if (m_txn != nullptr)
        mdb_txn_abort(static_cast<MDB_txn*>(m_txn));
}

result<std::optional<bytes_view>> read_txn::get(table t, bytes_view key) noexcept {
    AINET_ASSERT(m_txn != nullptr);
    if (!m_state->is_open_table(t)) {
        m_state->record_text(errc::unknown_table, MDB_BAD_DBI, "table not opened here");
        return fail(errc::unknown_table);
    }
    if (key.empty() || key.size() > key_size_max) {
        m_state->record_text(errc::bad_argument, MDB_BAD_VALSIZE, "key empty or too long");
        return fail(errc::bad_argument);
    }
    MDB_val k = to_val(key);
    MDB_val v{};
    const int rc = mdb_get(static_cast<MDB_txn*>(m_txn), t.dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
        return std::optional<bytes_view>{};
    if (rc != 0)
        return fail(m_state->record(rc));
    return std::optional<bytes_view>{to_bytes(v)};
}

result<cursor> read_txn::open_cursor(table t) noexcept {
    AINET_ASSERT(m_txn != nullptr);
    if (!m_state->is_open_table(t)) {
        m_state->record_text(errc::unknown_table, MDB_BAD_DBI, "table not opened here");
        return fail(errc::unknown_table);
    }
    MDB_cursor* c = nullptr;
    const int rc = mdb_cursor_open(static_cast<MDB_txn*>(m_txn), t.dbi, &c);
    if (rc != 0)
        return fail(m_state->record(rc));
    return cursor(m_state, c);
}

result<uint64_t> read_txn::entry_count(table t) noexcept {
    AINET_ASSERT(m_txn != nullptr);
    if (!m_state->is_open_table(t)) {
        m_state->record_text(errc::unknown_table, MDB_BAD_DBI, "table not opened here");
        return fail(errc::unknown_table);
    }
    MDB_stat stat{};
    const int rc = mdb_stat(static_cast<MDB_txn*>(m_txn), t.dbi, &stat);
    if (rc != 0)
        return fail(m_state->record(rc));
    return uint64_t{stat.ms_entries};
}

bool read_txn::key_less(bytes_view a, bytes_view b) noexcept {
    // LMDB's default order: memcmp over the common length, then the shorter key first.
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

bool read_txn::has_prefix(bytes_view key, bytes_view prefix) noexcept {
    return key.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

// cursor

cursor::cursor(cursor&& other) noexcept
    : m_state(std::exchange(other.m_state, nullptr)),
      m_handle(std::exchange(other.m_handle, nullptr)) {}

cursor& cursor::operator=(cursor&& other) noexcept {
    if (this != &other) {
        if (m_handle != nullptr)
            mdb_cursor_close(static_cast<MDB_cursor*>(m_handle));
        m_state = std::exchange(other.m_state, nullptr);
        m_handle = std::exchange(other.m_handle, nullptr);
    }
    return *this;
}

cursor::~cursor() {
    // Read-only cursors may be closed after their transaction ended (LMDB documents this).
    if (m_handle != nullptr)
        mdb_cursor_close(static_cast<MDB_cursor*>(m_handle));
}

namespace {

result<std::optional<entry>> cursor_step(detail::env_state& state, void* handle, MDB_val* key,
                                         MDB_cursor_op op) noexcept {
    MDB_val k = key != nullptr ? *key : MDB_val{};
    MDB_val v{};
    const int rc = mdb_cursor_get(static_cast<MDB_cursor*>(handle), &k, &v, op);
    if (rc == MDB_NOTFOUND)
        return std::optional<entry>{};
    if (rc != 0)
        return fail(state.record(rc));
    return std::optional<entry>{entry{to_bytes(k), to_bytes(v)}};
}

} // namespace

result<std::optional<entry>> cursor::first() noexcept {
    AINET_ASSERT(m_handle != nullptr);
    return cursor_step(*m_state, m_handle, nullptr, MDB_FIRST);
}

result<std::optional<entry>> cursor::seek(bytes_view key) noexcept {
    AINET_ASSERT(m_handle != nullptr);
    if (key.empty())
        return first();
    if (key.size() > key_size_max) {
        m_state->record_text(errc::bad_argument, MDB_BAD_VALSIZE, "key too long");
        return fail(errc::bad_argument);
    }
    MDB_val k = to_val(key);
    return cursor_step(*m_state, m_handle, &k, MDB_SET_RANGE);
}

result<std::optional<entry>> cursor::next() noexcept {
    AINET_ASSERT(m_handle != nullptr);
    return cursor_step(*m_state, m_handle, nullptr, MDB_NEXT);
}

} // namespace ainet::store
