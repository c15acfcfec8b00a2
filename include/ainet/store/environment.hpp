#pragma once
// store::environment: the node's on-disk state, one LMDB environment in one data directory.
//
// What it is. A directory holding LMDB's data.mdb and lock.mdb (both mode 0600; the directory is
// created 0700 when missing), a memory map of at most options::map_size_bytes, and up to
// options::tables_max named tables of byte-string keys and values, sorted by key bytes
// (lexicographic, unsigned). The registry keeps its entries and HLC state here, the reliability
// layer its outbox and delivery marks (issues #6 and #8, "Persistence").
//
// Reads: begin_read() gives a read_txn, an MVCC snapshot that never blocks and is never blocked
// by the writer; get() and cursors return views into the map that stay valid until the read_txn
// ends. Writes go through write_batch (write_batch.hpp): one write transaction per loop turn,
// durable (fdatasync) when commit() returns ok, numbered by a commit sequence that survives
// restarts.
//
// Threads. One thread (the shard or the node's storage thread) owns an environment, its tables,
// its batches and its read transactions; last_error() belongs to that thread. Read transactions
// are opened with MDB_NOTLS, so one thread may hold several at once.
//
// Lifecycle. open() (creates the directory and files if missing) -> open_table() for each table,
// once, at start-up -> reads and batch commits -> destruction closes the files. Every read_txn,
// cursor and write_batch must end before their environment; moving an environment keeps them
// valid (the state lives behind a pointer). Open a directory at most once per process at a time:
// LMDB's locks are POSIX record locks, which belong to the process, so closing a second
// environment on the same files would silently drop the first one's locks.
//
// Errors. Nothing throws (allocation failure aside). Every failure is a store::errc; the LMDB or
// system text of the most recent one is last_error(). Limits: key_size_max, table_name_size_max,
// tables_max_limit, readers_max_limit, the map size.

#include <ainet/core/bytes.hpp>
#include <ainet/core/result.hpp>
#include <ainet/store/errc.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ainet::store {

template <class T>
using result = ainet::result<T, errc>;

// LMDB's compiled-in MDB_MAXKEYSIZE (Debian 12 liblmdb0 0.9.24: 511); checked at open().
inline constexpr size_t key_size_max = 511;
inline constexpr size_t table_name_size_max = 64;
inline constexpr uint32_t tables_max_limit = 256;
inline constexpr uint32_t readers_max_limit = 1024;
// The smallest map open() accepts: room for LMDB's meta pages and a few data pages.
inline constexpr size_t map_size_min_bytes = 64 * 1024;

struct options {
    // Upper bound of data.mdb. LMDB reserves this much address space (not memory or disk) and
    // the file grows into it; a commit that needs more fails with map_full. 1 GiB by default:
    // ~2M registry entries of 400 B with B-tree overhead.
    size_t map_size_bytes = size_t{1} << 30;
    // Named tables the caller may open (the store's own "ainet.meta" table is extra).
    uint32_t tables_max = 16;
    // Concurrent read transactions over all threads and processes.
    uint32_t readers_max = 126;
    // false opens with MDB_NOSYNC: commits are not flushed, so a machine crash or power loss can
    // lose recent commits (a process crash cannot). For benchmarks only; acknowledging a client
    // write needs durable = true.
    bool durable = true;
};

// A named table, valid for the lifetime of the environment that opened it.
struct table {
    uint32_t dbi = 0;
};

struct entry {
    bytes_view key;
    bytes_view value;
};

namespace detail {
struct env_state;
} // namespace detail

class read_txn;
class write_batch;

// Iterates one table inside one read_txn; must not outlive it. The entries it returns are views
// into the map, valid until the read_txn ends.
class cursor {
public:
    cursor(cursor&& other) noexcept;
    cursor& operator=(cursor&& other) noexcept;
    cursor(const cursor&) = delete;
    cursor& operator=(const cursor&) = delete;
    ~cursor();

    // The first entry, or nullopt for an empty table.
    [[nodiscard]] result<std::optional<entry>> first() noexcept;
    // The first entry with a key >= key (the first entry for an empty key).
    [[nodiscard]] result<std::optional<entry>> seek(bytes_view key) noexcept;
    // The entry after the current one; nullopt at the end.
    [[nodiscard]] result<std::optional<entry>> next() noexcept;

private:
    friend class read_txn;
    cursor(detail::env_state* state, void* handle) noexcept : m_state(state), m_handle(handle) {}

    detail::env_state* m_state = nullptr;
    void* m_handle = nullptr; // MDB_cursor*
};

// A consistent snapshot of every table. Cheap to open (no lock, no syscall in steady state);
// keep it short, since pages it can still see are not reused by the writer while it lives.
class read_txn {
public:
    read_txn(read_txn&& other) noexcept;
    read_txn& operator=(read_txn&& other) noexcept;
    read_txn(const read_txn&) = delete;
    read_txn& operator=(const read_txn&) = delete;
    ~read_txn();

    // The value stored under key, or nullopt; a view valid until this read_txn ends.
    [[nodiscard]] result<std::optional<bytes_view>> get(table t, bytes_view key) noexcept;
    [[nodiscard]] result<cursor> open_cursor(table t) noexcept;
    // Number of entries in the table.
    [[nodiscard]] result<uint64_t> entry_count(table t) noexcept;

    // Calls visit(const entry&) for each key in [begin, end) in key order (an empty end means
    // to the end of the table), at most count_max times; visit returns false to stop early.
    // Returns the number of entries visited.
    template <class Visit>
    [[nodiscard]] result<size_t> scan_range(table t, bytes_view begin, bytes_view end,
                                            size_t count_max, Visit&& visit) noexcept {
        return scan(t, begin, count_max, [&](const entry& e) {
            if (!end.empty() && !key_less(e.key, end))
                return scan_step::done;
            return visit(e) ? scan_step::more : scan_step::stop;
        });
    }

    // Calls visit(const entry&) for each key that starts with prefix, in key order, at most
    // count_max times; visit returns false to stop early. Returns the number visited.
    template <class Visit>
    [[nodiscard]] result<size_t> scan_prefix(table t, bytes_view prefix, size_t count_max,
                                             Visit&& visit) noexcept {
        return scan(t, prefix, count_max, [&](const entry& e) {
            if (!has_prefix(e.key, prefix))
                return scan_step::done;
            return visit(e) ? scan_step::more : scan_step::stop;
        });
    }

    [[nodiscard]] static bool key_less(bytes_view a, bytes_view b) noexcept;
    [[nodiscard]] static bool has_prefix(bytes_view key, bytes_view prefix) noexcept;

private:
    friend class environment;
    enum class scan_step : uint8_t { more, stop, done };

    read_txn(detail::env_state* state, void* txn) noexcept : m_state(state), m_txn(txn) {}

    template <class Step>
    result<size_t> scan(table t, bytes_view start, size_t count_max, Step&& step) noexcept {
        AINET_TRY(c, open_cursor(t));
        AINET_TRY(current, c.seek(start));
        size_t visited = 0;
        while (current && visited < count_max) {
            const scan_step s = step(*current);
            if (s == scan_step::done)
                break;
            ++visited;
            if (s == scan_step::stop)
                break;
            auto advanced = c.next();
            if (!advanced)
                return fail(advanced.error());
            current = *advanced;
        }
        return visited;
    }

    detail::env_state* m_state = nullptr;
    void* m_txn = nullptr; // MDB_txn*, kept opaque so lmdb.h stays inside src/store
};

class environment {
public:
    // Opens (creating when missing) the environment in directory. On failure, when error_text
    // is given, it receives the LMDB or system message.
    [[nodiscard]] static result<environment> open(const std::filesystem::path& directory,
                                                  const options& opts = {},
                                                  std::string* error_text = nullptr) noexcept;

    environment(environment&& other) noexcept;
    environment& operator=(environment&& other) noexcept;
    environment(const environment&) = delete;
    environment& operator=(const environment&) = delete;
    ~environment();

    // Opens the named table, creating it if missing (a write transaction of its own). Call at
    // start-up, not while a write_batch is committing. Opening the same name twice returns the
    // same handle.
    [[nodiscard]] result<table> open_table(std::string_view name) noexcept;

    [[nodiscard]] result<read_txn> begin_read() noexcept;

    // The sequence number of the last successful write_batch commit (0 for a new store). It is
    // stored in the same transaction as the data, so after a crash it names exactly the last
    // commit that reached the disk.
    [[nodiscard]] uint64_t commit_sequence() const noexcept;

    // Bytes of data.mdb in use (last page used * page size) and the map size.
    [[nodiscard]] result<size_t> used_bytes() noexcept;
    [[nodiscard]] size_t map_size_bytes() const noexcept;

    // Text and raw LMDB/errno code of the most recent failure on this environment.
    [[nodiscard]] std::string_view last_error() const noexcept;
    [[nodiscard]] int last_error_code() const noexcept;

    [[nodiscard]] const std::filesystem::path& directory() const noexcept;

private:
    friend class write_batch;
    explicit environment(std::unique_ptr<detail::env_state> state) noexcept;

    std::unique_ptr<detail::env_state> m_state;
};

} // namespace ainet::store
