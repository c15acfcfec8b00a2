#pragma once
// Error codes of the store module (LMDB persistence). Every LMDB return code maps to one of
// these; the LMDB message of the last failure is kept in environment::last_error().

#include <cstdint>
#include <string_view>

namespace ainet::store {

enum class errc : uint8_t {
    bad_argument = 1, // empty key, key above key_size_max, table name empty or too long, bad option
    io_error,         // the directory or a file could not be created or opened (an errno)
    map_full,         // the map size is exhausted (MDB_MAP_FULL); raise options::map_size_bytes
    tables_full,      // more named tables than options::tables_max (MDB_DBS_FULL)
    readers_full,     // more concurrent read transactions than options::readers_max
    txn_full,         // one write transaction touched too many pages (MDB_TXN_FULL)
    batch_full,       // a write_batch reached its entry or byte limit; commit first
    corrupted,        // the files are damaged or of another LMDB version/format
    unknown_table,    // a table handle that this environment did not open
    lmdb_error,       // any other LMDB failure; environment::last_error() has the code and text
};

[[nodiscard]] std::string_view to_string(errc e) noexcept;

} // namespace ainet::store
