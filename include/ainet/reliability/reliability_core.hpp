#pragma once
// reliability_core: at-least-once, in-order message delivery between nodes, end to end, as a
// sans-I/O state machine. One instance per shard; a peer's sessions live on shard
// shard_for(peer, shard_count).
//
// What it does. Sessions are per (peer node id, channel). The sender numbers each channel's
// messages 1, 2, 3, ... and keeps every accepted message in its outbox until the receiver's
// cumulative ack covers it. The receiver buffers up to receive_window messages beyond what it
// has processed, delivers in order, suppresses duplicates, and answers with one ack frame per
// session per loop turn (cumulative + up to ranges_max selective ranges) and, when it sees a
// gap, a NACK naming the missing ranges (a gap no NACK has named yet goes out once it has
// lasted reorder_delay; naming a gap again waits nack_interval since the last NACK); a NACK
// makes the sender retransmit the named messages at once, unless it re-sent one less than a
// smoothed RTT before: that repair may still be on its way, and resending it would be a repeat
// (a retransmission sent again is counted: retransmissions_repeat). A loss at the
// tail of a flight (the last message, or one ping in flight) leaves no later datagram to reveal
// a gap, so once per flight, when no ack has arrived for max(2 x smoothed RTT, tail_probe_min),
// the newest unacknowledged message is sent again (a tail-loss probe, as TCP's RACK-TLP does;
// it uses no retry and does not count as loss). RTT samples follow RFC 6298 (srtt, rttvar) and
// Karn: only from messages sent once, and never from an ack that also covers a retransmission
// (it was released by the repair; the first sends behind the gap waited, they were not slow).
// Without acks a message is resent after 100, 200, 400, 800 and 1600 ms (rto_initial doubling,
// retries_max = 5), or, where the RFC 6298 timeout srtt + max(0.5 ms, 4 rttvar) (backed off
// alike) is longer, after that: the schedule is a floor that a slow or jittery path raises. As
// TCP restarts its timer on an ack of new data (RFC 6298 5.3), each wait runs from the later of
// the message's send and the session's last ack that acknowledged anything new: while acks flow,
// holes are the NACKs' business and nothing is resent for its age alone; and only the
// session's oldest unacknowledged message runs this timer (TCP's single RTO timer), so a
// receiver whose durable commit stalls once gets one message again, not its whole window. When
// the oldest message's last wait ends the peer is suspect: each message in flight to it is
// reported `undeliverable` (event + counter), a `peer_suspect` event is raised (for
// membership), and nothing more is sent to it until on_peer_alive(peer) or any packet from it;
// then everything unacknowledged is sent again.
// Messages leave the outbox only by acknowledgement or by their TTL (`expired` event); nothing
// accepted is dropped silently. The packet format is reliability/packet.hpp.
//
// Congestion control (per peer; the window counts messages): slow start, then additive
// increase of one message per window's worth of acks. Random loss does not shrink the window:
// loss is measured per round (one smoothed RTT, at least 10 ms) as loss events over datagrams
// sent (a NACKed range counts one per distinct datagram its messages were last sent in, so a
// burst of consecutive losses weighs as many; a timeout scan counts one); at the end of a round
// the window is multiplied by 0.7 when the moving average of that rate exceeds loss_tolerance
// (10%), or when the round alone lost more than twice that over >= 16 datagrams; a message
// that times out three times in a row halves it at once. So 5% random loss keeps the window
// open, while queue overflow at a bottleneck (a burst of loss) and a dead path still back off.
// Flow control: the receiver accepts seq <= cumulative + window, and its cumulative ack only
// advances when the application has processed (and the store made durable) what it covers, so
// a slow receiver throttles the sender instead of being flooded.
//
// Durability (durability.hpp): send() returns a message_id at once, but the message is
// `accepted` (event) and sent only after the flush that committed it to the durable_store.
// Receivers commit their processed watermark the same way before acknowledging.
//
// Driving it, each loop turn: on_packet() for every reliable datagram received, tick(now),
// then flush(now, sink) once; drain events() and clear_events(); sleep until next_deadline().
// Messages are at most message_size_max(config) bytes (one datagram; no fragmentation: larger
// application messages are refused with message_too_large).
//
// Threads: none; one shard owns one instance. Counters are single-writer atomics for /metrics.
// Cost: flush() visits only peers with pending work; tick() and next_deadline() visit every
// peer's sessions (O(sessions) per call, cheap per session but not sublinear: a shard with very
// many idle peers should move them to a timer wheel, a known next step).
// Memory: per message in the outbox its payload plus ~80 bytes of metadata, both in per-session
// rings (an entry ring and a contiguous payload byte ring, each grown by doubling and freed from
// the head in O(1) as acks arrive, so steady-state sending allocates nothing; the payload ring
// holds at most about twice the session's live payload bytes); per receive session
// receive_window slots (each a reusable buffer); everything bounded by the config's limits.

#include <ainet/core/bytes.hpp>
#include <ainet/core/counter.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>
#include <ainet/reliability/durability.hpp>
#include <ainet/reliability/errc.hpp>
#include <ainet/reliability/packet.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

namespace ainet::reliability {

// X(name, help): /metrics exports ainet_reliability_<name>_total{shard="i"}.
#define AINET_RELIABILITY_COUNTERS(X)                                                              \
    X(messages_sent, "messages accepted by send()")                                                \
    X(messages_accepted, "messages made durable and accepted")                                     \
    X(messages_acknowledged, "messages acknowledged by their receiver (left the outbox)")          \
    X(messages_delivered, "messages delivered in order to the application")                        \
    X(messages_undeliverable, "messages reported undeliverable (retries exhausted)")               \
    X(messages_expired, "messages removed from the outbox by their TTL")                           \
    X(send_refused, "send() calls refused (too large, outbox or table full)")                      \
    X(datagrams_sent, "reliable datagrams written to the sink")                                    \
    X(datagrams_received, "reliable datagrams received")                                           \
    X(data_frames_sent, "data frames sent (first sends and retransmissions)")                      \
    X(retransmissions, "data frames sent again")                                                   \
    X(retransmissions_nack, "retransmissions asked for by a NACK")                                 \
    X(retransmissions_timeout, "retransmissions after an ack timeout")                             \
    X(retransmissions_repeat, "retransmissions of a message already retransmitted before")         \
    X(tail_probes, "tail-loss probes: the newest message re-sent after 2 RTT without acks")        \
    X(acks_sent, "ack frames sent")                                                                \
    X(nacks_sent, "NACK frames sent")                                                              \
    X(nacks_received, "NACK frames received")                                                      \
    X(peer_suspect, "peers reported suspect (retries exhausted)")                                  \
    X(peer_restarts, "peer incarnation changes seen")                                              \
    X(congestion_reductions, "congestion window reductions")                                       \
    X(store_failures, "durable store commits that failed (retried)")                               \
    X(skipped_expired, "receiver: sequence numbers skipped because the sender gave them up")       \
    X(duplicates, "receiver: data frames already held or processed")                               \
    X(drop_malformed, "dropped: a datagram or frame that did not decode")                          \
    X(drop_stale_epoch, "dropped: data from an older stream epoch of the peer")                    \
    X(drop_beyond_window, "dropped: data beyond the advertised receive window")                    \
    X(drop_table_full, "dropped: data for a new session while the peer/channel table was full")    \
    X(ignored_acks, "acks or NACKs ignored (for another epoch or unsent sequence numbers)")        \
    X(sink_full, "flushes cut short because the datagram sink was full")

struct reliability_counters {
#define AINET_RELIABILITY_DECLARE(name, help) std::atomic<uint64_t> name{0};
    AINET_RELIABILITY_COUNTERS(AINET_RELIABILITY_DECLARE)
#undef AINET_RELIABILITY_DECLARE
};

struct reliability_config {
    // This node's outbox stream epoch when there is nothing to restore; must be larger than
    // any epoch an earlier outbox of this node used (e.g. wall-clock microseconds at creation),
    // so that receivers can tell a new stream from a late packet of the old one. Nonzero.
    uint64_t stream_epoch = 1;
    // New at every process start (nonzero; e.g. random): peers seeing it change resend what
    // the old incarnation held only in memory.
    uint64_t incarnation = 1;
    // Largest reliable datagram, wire header included (default fits any path MTU).
    size_t datagram_size_max = 1200;
    // Messages a receiver accepts beyond its processed watermark (the advertised window).
    uint32_t receive_window = 4096;
    duration rto_initial = std::chrono::milliseconds(100);
    uint32_t retries_max = 5;
    duration message_ttl = std::chrono::minutes(10);
    // Floor of the wait before a gap is NACKed again (the measured repair time sets it above).
    duration nack_interval = std::chrono::milliseconds(5);
    // A gap is NACKed only once it has lasted this long, so that mere reordering is not.
    duration reorder_delay = std::chrono::milliseconds(1);
    // An outbox head that the receiver holds but has not acknowledged is re-sent this often.
    duration probe_interval = std::chrono::seconds(1);
    // Floor of the tail-loss probe timeout (2 x smoothed RTT); no probe before an RTT sample.
    duration tail_probe_min = std::chrono::milliseconds(2);
    uint32_t cwnd_initial = 64;
    uint32_t cwnd_min = 8;
    uint32_t cwnd_max = 16384;
    double loss_tolerance = 0.10;
    uint32_t peer_count_max = 65536;
    uint32_t channels_per_peer_max = 64;
    uint32_t outbox_message_count_max = 1u << 20;
    uint64_t outbox_bytes_max = uint64_t{256} << 20;
    // True: a delivered message counts as processed at once. False: the application calls
    // processed() for what it has handled (the cumulative ack waits for it).
    bool auto_process = true;
    // Bounds one flush's work per peer.
    uint32_t datagrams_per_peer_per_flush_max = 1024;
};

// The largest message send() takes with this config (one data frame in one datagram).
[[nodiscard]] size_t message_size_max(const reliability_config& config) noexcept;

// The shard a peer's sessions live on: a hash of its id, uniform over shard_count (>= 1).
[[nodiscard]] uint32_t shard_for(const node_id& peer, uint32_t shard_count) noexcept;

// Where flush() writes datagrams: addressed by node id; the caller carries them directly over
// UDP to the peer's endpoint or inside relay_data through a relay. Same contract as
// datagram_sink: a non-empty prepare() is followed by exactly one commit() or abandon(). A
// non-empty buffer must hold at least config.datagram_size_max bytes (asserted); an empty one
// means "full": flush stops for that peer, counts sink_full, and resumes at the next flush.
class packet_sink {
public:
    [[nodiscard]] virtual mutable_bytes prepare(const node_id& peer) noexcept = 0;
    virtual void commit(size_t size) noexcept = 0;
    virtual void abandon() noexcept = 0;

protected:
    ~packet_sink() = default;
};

enum class event_kind : uint8_t {
    accepted,      // id is durable and will be delivered (send's promise now holds)
    delivered,     // a message from peer on channel, in order; payload_of(e) holds its bytes
    acknowledged,  // id was processed by its receiver and left the outbox
    undeliverable, // id exhausted its retries; it stays in the outbox and is retried later
    peer_suspect,  // peer did not answer the whole retry budget (tell membership)
    expired,       // id's TTL ended before it was acknowledged; removed from the outbox
};
[[nodiscard]] std::string_view to_string(event_kind k) noexcept;

struct event {
    event_kind kind = event_kind::accepted;
    node_id peer;
    channel_id channel{};
    message_id id{};  // sender-side events
    uint64_t seq = 0; // the message's sequence number in its session
    uint32_t payload_offset = 0;
    uint32_t payload_size = 0;
};

class reliability_core {
public:
    // store must outlive the core. The config is checked (a bad one asserts).
    reliability_core(const reliability_config& config, durable_store& store,
                     reliability_counters& counters);
    ~reliability_core();
    reliability_core(const reliability_core&) = delete;
    reliability_core& operator=(const reliability_core&) = delete;

    // Before any other call: takes back what a previous incarnation made durable. Outbox
    // messages are accepted already (no event) and are sent at the next flush; their TTL
    // starts again at `now`.
    void restore(instant now, const recovered_state& state);

    // Queues a message for peer. The id is final; the message is accepted (event) at the next
    // successful flush. Errors: message_too_large, outbox_full, peer_table_full,
    // channel_table_full.
    [[nodiscard]] result<message_id> send(instant now, const node_id& peer, channel_id channel,
                                          bytes_view payload);

    // A datagram (wire header included) that the caller received from node `from` (the
    // authenticated relay_data source, or the node behind a known endpoint).
    void on_packet(instant now, const node_id& from, bytes_view datagram);

    // auto_process == false: the application has handled every message from peer on channel
    // up to seq (at most what was delivered). The receiver acks it once durable.
    void processed(const node_id& peer, channel_id channel, uint64_t seq);

    // Membership (or anything else) saw peer alive: resend what it has not acknowledged.
    void on_peer_alive(instant now, const node_id& peer);

    // Retransmission timeouts, TTL expiry, probes, rate-limited NACKs that came due.
    void tick(instant now);

    // Once per loop turn: commits this turn's records to the store, then writes acks, NACKs,
    // retransmissions and new data, packed, into out.
    void flush(instant now, packet_sink& out);

    // The earliest instant at which tick() has work (instant max when none).
    [[nodiscard]] instant next_deadline() const noexcept;

    [[nodiscard]] std::span<const event> events() const noexcept { return m_events; }
    // The delivered bytes of a `delivered` event; valid until clear_events().
    [[nodiscard]] bytes_view payload_of(const event& e) const noexcept;
    void clear_events() noexcept;

    // Observability and tests.
    [[nodiscard]] size_t outbox_count() const noexcept { return m_outbox_count; }
    [[nodiscard]] uint64_t outbox_bytes() const noexcept { return m_outbox_bytes; }
    [[nodiscard]] size_t peer_count() const noexcept { return m_peers.size(); }
    [[nodiscard]] bool is_suspect(const node_id& peer) const noexcept;
    [[nodiscard]] double congestion_window(const node_id& peer) const noexcept;
    [[nodiscard]] uint32_t in_flight(const node_id& peer) const noexcept;
    [[nodiscard]] uint64_t stream_epoch() const noexcept { return m_stream_epoch; }
    [[nodiscard]] const reliability_config& config() const noexcept { return m_config; }
    // Memory held by receive buffers and the outbox, for bounded-memory checks.
    [[nodiscard]] size_t buffered_bytes() const noexcept;

    struct peer_state; // private; named here so the implementation can use it freely

private:
    peer_state* find_peer(const node_id& id) noexcept;
    const peer_state* find_peer(const node_id& id) const noexcept;
    peer_state* get_peer(const node_id& id);
    void mark_dirty(peer_state& p);
    void on_data(instant now, peer_state& p, const packet_head& head, const data_frame& f);
    void on_ack(instant now, peer_state& p, const ack_frame& f);
    void on_nack(instant now, peer_state& p, const nack_frame& f);
    void peer_restarted(peer_state& p);
    void make_alive(peer_state& p);
    void make_suspect(instant now, peer_state& p);
    bool commit(instant now);
    void write_peer(instant now, peer_state& p, packet_sink& out);
    void push_event(event_kind kind, const peer_state& p, channel_id channel, message_id id,
                    uint64_t seq, bytes_view payload = {});
    void on_loss(instant now, peer_state& p, bool severe, uint32_t datagrams = 1);
    void roll_round(instant now, peer_state& p);
    [[nodiscard]] duration timeout_for(const peer_state& p, uint32_t retries) const noexcept;

    reliability_config m_config;
    durable_store& m_store;
    reliability_counters& m_counters;
    uint64_t m_stream_epoch;
    uint64_t m_next_message = 1;
    bool m_meta_dirty = true;

    std::vector<std::unique_ptr<peer_state>> m_peers;
    std::unordered_map<node_id, uint32_t> m_peer_index;
    uint32_t m_last_peer = 0; // the peer find_peer() found last
    std::vector<uint32_t> m_dirty; // peers with something to write at the next flush

    struct staged_message {
        uint32_t peer;
        channel_id channel;
        uint64_t seq;
    };
    std::vector<staged_message> m_staged;
    std::vector<persist_record> m_records;
    size_t m_outbox_count = 0;
    uint64_t m_outbox_bytes = 0;

    std::vector<event> m_events;
    std::vector<uint8_t> m_arena; // delivered payloads of the events

    std::vector<uint8_t> m_scratch; // one datagram being built (for sinks that prepare small)
};

} // namespace ainet::reliability
