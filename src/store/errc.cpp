#include <ainet/store/errc.hpp>

namespace ainet::store {

std::string_view to_string(errc e) noexcept {
    switch (e) {
    case errc::bad_argument: return "bad argument";
    case errc::io_error: return "i/o error";
    case errc::map_full: return "map full (raise the store map size)";
    case errc::tables_full: return "too many tables";
    case errc::readers_full: return "too many read transactions";
    case errc::txn_full: return "write transaction too large";
    case errc::batch_full: return "write batch full";
    case errc::corrupted: return "store files corrupted or incompatible";
    case errc::unknown_table: return "unknown table";
    case errc::lmdb_error: return "lmdb error";
    }
    return "unknown store error";
}

} // namespace ainet::store
