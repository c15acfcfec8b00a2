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
//   'o' peer(32) channel(u32 BE) seq(u64 BE) -> message u64 LE, payload
//   's' peer(32) channel(u32 BE)         -> acked u64 LE (sender position)
//   'r' peer(32) channel(u32 BE)         -> epoch u64 LE, processed u64 LE (receiver watermark)
// Big-endian channel and seq make LMDB's byte order the (peer, channel, seq) order that
// reliability::recovered_state asks for.
//
// Limits: the shard count must stay the same across restarts (sessions are restored on the
// shard whose directory holds them). Threads: the owning shard only. Lifecycle: open() ->
// load() once -> commit() per flush -> destruction.

#include <ainet/reliability/durability.hpp>
#include <ainet/store/environment.hpp>
#include <ainet/store/write_batch.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace ainet::node {

class messaging_store final : public reliability::durable_store {
public:
    // Operations per write transaction (a larger turn commits in several).
    static constexpr size_t batch_entry_count_max = 16384;
    static constexpr size_t batch_byte_count_max = size_t{8} << 20;

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
    struct session_marks {
        uint64_t acked = 0;   // committed sender position
        uint64_t highest = 0; // highest outbox seq put
    };
    bool apply(const reliability::persist_record& r,
               std::map<session_key, session_marks>& marks) noexcept;
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
