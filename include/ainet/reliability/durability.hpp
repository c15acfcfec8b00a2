#pragma once
// The reliability core's durability interface: what it asks to be made durable, the store that
// does it, and the state a restarted node restores from.
//
// The core never touches a disk. Once per loop turn, flush() hands every record of the turn to
// durable_store::commit() in one call (a group commit: the LMDB store of the `store` module
// writes them in one transaction); only when commit() succeeds does the core treat the turn's
// new messages as accepted (event `accepted`) and send them, and only then does a receiver
// acknowledge what it has processed. A failed commit keeps the records and retries at the next
// flush; nothing is sent on the strength of state that is not durable.
//
// Records, applied in order (a store must apply them in order, all or nothing per commit):
//   outbox_put          (peer, channel, seq, message_id, payload): a message accepted for peer
//   sender_acked        (peer, channel, seq): every outbox message <= seq is gone (acknowledged
//                       or expired); also the session's sequence position after a restart
//   receiver_watermark  (peer, channel, seq, epoch): processed through seq of the peer's stream
//                       with that stream epoch (a restarted receiver neither loses nor
//                       re-delivers anything at or below it)
//   meta                (epoch, value = next message id): this node's stream epoch and id counter
//
// memory_store is the in-memory implementation (tests, the simulator); its encode() blob plays "the disk" across a simulated crash, and decode_state()
// turns that blob (untrusted: fuzzed) back into a recovered_state. Not thread-safe: one shard.

#include <ainet/core/bytes.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/reliability/errc.hpp>

#include <cstdint>
#include <map>
#include <span>
#include <tuple>
#include <vector>

namespace ainet::reliability {

// Assigned by the sending core, unique per node across restarts with state.
enum class message_id : uint64_t {};

enum class record_kind : uint8_t {
    outbox_put = 1,
    sender_acked = 2,
    receiver_watermark = 3,
    meta = 4
};

struct persist_record {
    record_kind kind = record_kind::meta;
    node_id peer;
    channel_id channel{};
    uint64_t seq = 0;
    uint64_t message = 0; // outbox_put: the message id; meta: the next message id
    uint64_t epoch = 0;   // receiver_watermark: the peer's stream epoch; meta: our stream epoch
    bytes_view payload;   // outbox_put only; borrowed for the duration of commit()
};

class durable_store {
public:
    // Makes every record durable, in order, all or nothing. Called once per flush.
    [[nodiscard]] virtual result<void> commit(std::span<const persist_record> records) noexcept = 0;

protected:
    ~durable_store() = default;
};

// A node without persistence: commit() keeps nothing and always succeeds, so a restart starts
// empty (the peers see a new stream epoch). Unlike memory_store it costs nothing per record,
// which is what "persistence off" should cost.
class volatile_store final : public durable_store {
public:
    [[nodiscard]] result<void> commit(std::span<const persist_record> records) noexcept override {
        (void)records;
        return {};
    }
};

// What a restart with state gives back to reliability_core::restore().
struct recovered_state {
    struct outbox_message {
        node_id peer;
        channel_id channel{};
        uint64_t seq = 0;
        uint64_t message = 0;
        std::vector<uint8_t> payload;
    };
    struct sender_position {
        node_id peer;
        channel_id channel{};
        uint64_t acked = 0;
    };
    struct receiver_position {
        node_id peer;
        channel_id channel{};
        uint64_t epoch = 0;
        uint64_t processed = 0;
    };
    uint64_t stream_epoch = 0; // 0: nothing was ever committed
    uint64_t next_message = 1;
    std::vector<outbox_message> outbox; // ascending (peer, channel, seq)
    std::vector<sender_position> senders;
    std::vector<receiver_position> receivers;
};

// Upper bounds decode_state() enforces on an untrusted blob.
inline constexpr size_t state_blob_size_max = size_t{1} << 31;

class memory_store final : public durable_store {
public:
    [[nodiscard]] result<void> commit(std::span<const persist_record> records) noexcept override;

    // Tests: the next `count` commits fail with store_failed (and apply nothing).
    void fail_next_commits(uint32_t count) noexcept { m_fail_count = count; }

    [[nodiscard]] recovered_state state() const;
    // The canonical blob of state() (what decode_state() reads back).
    [[nodiscard]] std::vector<uint8_t> encode() const;
    [[nodiscard]] size_t outbox_size() const noexcept { return m_outbox.size(); }
    [[nodiscard]] uint64_t commit_count() const noexcept { return m_commits; }

    // Loads a recovered state (e.g. decoded from a blob) so that later commits continue it.
    void load(const recovered_state& state);

private:
    using key = std::tuple<node_id, uint32_t, uint64_t>;
    using session_key = std::pair<node_id, uint32_t>;
    struct stored_message {
        uint64_t message;
        std::vector<uint8_t> payload;
    };
    std::map<key, stored_message> m_outbox;
    std::map<session_key, uint64_t> m_senders;
    std::map<session_key, std::pair<uint64_t, uint64_t>> m_receivers; // (epoch, processed)
    uint64_t m_epoch = 0;
    uint64_t m_next_message = 1;
    uint32_t m_fail_count = 0;
    uint64_t m_commits = 0;
};

// The blob format (version 1), canonical (one encoding per state):
//   version u8 (1), stream_epoch u64 LE, next_message varint,
//   outbox_count varint, each: peer (32), channel varint, seq varint (>= 1), message varint,
//     payload (varint length + bytes), strictly ascending by (peer, channel, seq)
//   sender_count varint, each: peer, channel varint, acked varint, strictly ascending
//   receiver_count varint, each: peer, channel varint, epoch u64 LE, processed varint, ascending
// Errors: truncated, trailing_bytes, non_canonical, field_too_long, bad_field, bad_state (not
// ascending, a hole in a session's outbox sequence numbers, or an outbox message at or below
// its session's acked position).
[[nodiscard]] std::vector<uint8_t> encode_state(const recovered_state& state);
[[nodiscard]] result<recovered_state> decode_state(bytes_view blob);

} // namespace ainet::reliability
