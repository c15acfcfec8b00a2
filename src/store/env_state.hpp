#pragma once
// Private to src/store: the state behind an environment, shared by its read transactions,
// cursors and write batches (they hold a pointer to it, so moving the environment is safe).

#include <ainet/store/environment.hpp>

#include <lmdb.h>

#include <array>
#include <vector>

namespace ainet::store::detail {

inline constexpr std::string_view meta_table_name = "ainet.meta";
inline constexpr std::string_view meta_commit_sequence_key = "commit_sequence";

struct env_state {
    MDB_env* env = nullptr;
    MDB_dbi meta_dbi = 0;
    uint64_t commit_sequence = 0;
    options opts;
    std::filesystem::path directory;
    // opened[dbi] != 0 for the tables open_table() handed out (LMDB dbi numbers are small
    // indices below tables_max + 3: two core tables and the meta table come first).
    std::vector<uint8_t> opened;
    int last_code = 0;
    std::array<char, 192> last_text{};

    env_state() = default;
    env_state(const env_state&) = delete;
    env_state& operator=(const env_state&) = delete;
    ~env_state();

    // Maps an LMDB or errno code to errc and records its text as the last error.
    [[nodiscard]] errc record(int code) noexcept;
    void record_text(errc e, int code, std::string_view text) noexcept;
    [[nodiscard]] bool is_open_table(table t) const noexcept {
        return t.dbi < opened.size() && opened[t.dbi] != 0;
    }
};

[[nodiscard]] errc map_code(int code) noexcept;

[[nodiscard]] inline MDB_val to_val(bytes_view bytes) noexcept {
    return MDB_val{bytes.size(), const_cast<uint8_t*>(bytes.data())};
}
[[nodiscard]] inline bytes_view to_bytes(const MDB_val& val) noexcept {
    return bytes_view(static_cast<const uint8_t*>(val.mv_data), val.mv_size);
}
[[nodiscard]] inline bytes_view to_bytes(std::string_view text) noexcept {
    return bytes_view(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

} // namespace ainet::store::detail
