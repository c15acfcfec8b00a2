#pragma once
// messaging_store: the reliability core's durable_store (reliability/durability.hpp) on LMDB,
// through the store module's group commit (store/write_batch.hpp).
//
// One store per shard, in its own LMDB environment (data_dir/messaging/shard-<i>): a shard owns
// its sessions (pinned by reliability::shard_for), so it owns their outbox and watermarks too,
// and its commits never wait for another shard's. commit() is called once per flush, i.e. once
// per loop turn, and writes every record of the turn in one write transaction (one fdatasync).
// When a turn's records exceed the batch limits, they are committed in several transactions; a
// failure in any reports store_failed, and the core re-submits all of the turn's records at its
// next flush, which is safe because applying a record is idempotent (puts of the same bytes,
// erases of missing keys).
//
// Layout: one table "reliability", keys by prefix:
//   'm'                                  -> stream_epoch u64 LE, next_message u64 LE
//   'b' peer(32) channel(u32 BE) first(u64 BE) -> an outbox group: last u64 LE, then for each
//                                           seq first..last: message u64 LE, size u32 LE, payload
//   'o' peer(32) channel(u32 BE) seq(u64 BE) -> message u64 LE, payload (one message; written by
//                                           earlier versions, still read and erased)
//   's' peer(32) channel(u32 BE)         -> acked u64 LE (sender position)
//   'r' peer(32) channel(u32 BE)         -> epoch u64 LE, processed u64 LE (receiver watermark)
// A turn's consecutive outbox puts of one session become one group (at most group_count_max
// messages, group_bytes_max bytes), and a group is erased once the sender position passes its
// last message: LMDB does one put and one delete per group, not per message, which is what
// bounds small messages. Messages of a partly acknowledged group stay on disk until the rest is
// acknowledged; load() drops those at or below the sender position, so they are never resent.
//
// Limits: the shard count must stay the same across restarts (sessions are restored on the
// shard whose directory holds them). Threads: the owning shard only. Lifecycle: open() ->
// load() once -> commit() per flush -> destruction.

#include <ainet/reliability/durability.hpp>
#include <ainet/store/environment.hpp>
#include <ainet/store/write_batch.hpp>

#include <deque>
#include <filesystem>
#include <map>
#include <span>
#include <vector>
#include <memory>
#include <string>

namespace ainet::node {

class messaging_store final : public reliability::durable_store {
public:
    // Operations per write transaction (a larger turn commits in several).
    static constexpr size_t batch_entry_count_max = 16384;
    static constexpr size_t batch_byte_count_max = size_t{8} << 20;
    // One outbox group (one LMDB value).
    static constexpr size_t group_count_max = 4096;
    static constexpr size_t group_bytes_max = size_t{256} << 10;

    // Opens (creating) the environment in directory. durable = false: no fdatasync (benchmarks).
    [[nodiscard]] static std::unique_ptr<messaging_store>
    open(const std::filesystem::path& directory, bool durable, std::string& error);

    // Everything committed so far, for reliability_core::restore(). False (error set) when the
    // environment cannot be read or holds a record that does not decode.
    [[nodiscard]] bool load(reliability::recovered_state& out, std::string& error);

    [[nodiscard]] reliability::result<void> commit(std::span<const reliability::persist_record> records) noexcept
        override;

    [[nodiscard]] const store::batch_counters& counters() const noexcept { return m_batch.counters(); }
    [[nodiscard]] uint64_t commit_count() const noexcept { return m_commits; }

    messaging_store(store::environment env, store::table table);

private:
    using session_key = std::pair<node_id, uint32_t>;
    struct group {
        uint64_t first = 0;
        uint64_t last = 0;
        uint8_t prefix = 0; // 'b', or 'o' for a single message of the old layout
    };
    struct session_marks {
        uint64_t acked = 0;        // committed sender position
        std::deque<group> groups;  // on disk, ascending
    };
    // What one commit changes in a session's marks; applied only when the commit succeeds.
    struct session_delta {
        uint64_t acked = 0;
        size_t popped = 0;         // groups erased from the front of the committed ones
        std::vector<group> added;  // new groups, after the committed ones
    };
    bool apply(const reliability::persist_record& r, size_t& next,
               std::span<const reliability::persist_record> records,
               std::map<session_key, session_delta>& deltas) noexcept;
    bool put_group(std::span<const reliability::persist_record> run, session_delta& delta) noexcept;
    bool add_put(bytes_view key, bytes_view value) noexcept;
    bool add_erase(bytes_view key) noexcept;
    bool flush_batch() noexcept;

    store::environment m_env;
    store::table m_table;
    store::write_batch m_batch;
    std::map<session_key, session_marks> m_marks;
    std::vector<uint8_t> m_value;
    uint64_t m_commits = 0;
};

} // namespace ainet::node
