#include <ainet/reliability/reliability_core.hpp>
#include <ainet/wire/header.hpp>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

namespace ainet::reliability {

namespace {

constexpr instant instant_max{std::numeric_limits<int64_t>::max()};
// Data frame overhead at most: type, channel (5), seq (10), base_delta (10), length (3).
constexpr size_t data_frame_overhead_max = 1 + 5 + 10 + 10 + 3;
constexpr double cwnd_reduction = 0.7;
constexpr duration round_min = std::chrono::milliseconds(10);
// RFC 6298's G: the floor of the variance term of a retransmission timeout.
constexpr duration rto_granularity = std::chrono::microseconds(500);

// RFC 6298 section 2: the first sample sets srtt = R, rttvar = R / 2; later ones
// rttvar = 3/4 rttvar + 1/4 |srtt - R|, then srtt = 7/8 srtt + 1/8 R.
void rtt_sample(duration& srtt, duration& rttvar, bool& valid, duration sample) noexcept {
    sample = std::max(sample, duration{0});
    if (!valid) {
        srtt = sample;
        rttvar = sample / 2;
        valid = true;
        return;
    }
    const duration error = srtt > sample ? srtt - sample : sample - srtt;
    rttvar = (rttvar * 3 + error) / 4;
    srtt = (srtt * 7 + sample) / 8;
}

} // namespace

size_t message_size_max(const reliability_config& config) noexcept {
    return config.datagram_size_max - wire::header_size - packet_head_size -
           data_frame_overhead_max;
}

uint32_t shard_for(const node_id& peer, uint32_t shard_count) noexcept {
    AINET_ASSERT(shard_count >= 1);
    // splitmix64's finalizer over the first 8 bytes: ids are public keys, but a mixed hash
    // keeps the mapping uniform even for test ids that differ in one byte.
    uint64_t h = 0;
    std::memcpy(&h, peer.bytes.data(), sizeof(h));
    uint64_t tail = 0;
    std::memcpy(&tail, peer.bytes.data() + 24, sizeof(tail));
    h ^= tail;
    h += 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    return static_cast<uint32_t>(h % shard_count);
}

std::string_view to_string(event_kind k) noexcept {
    switch (k) {
    case event_kind::accepted:
        return "accepted";
    case event_kind::delivered:
        return "delivered";
    case event_kind::acknowledged:
        return "acknowledged";
    case event_kind::undeliverable:
        return "undeliverable";
    case event_kind::peer_suspect:
        return "peer_suspect";
    case event_kind::expired:
        return "expired";
    }
    return "unknown";
}

namespace {

struct out_entry {
    uint64_t seq = 0;
    message_id id{};
    uint64_t payload_pos = 0; // in the session's payload_ring
    uint32_t payload_size = 0;
    uint32_t retries = 0;
    uint64_t datagram = 0; // the peer's datagram number it was last sent in
    instant accepted_at{};
    instant last_sent{};
    instant deadline = instant_max;
    bool durable = false;
    bool sent = false;
    bool sacked = false;
    bool queued = false; // in the session's retransmit list
    bool probe = false;  // queued as a probe of a held-but-unacknowledged head
    bool by_timeout = false;
    bool by_tail_probe = false;
    bool retransmitted = false;
    bool reported = false; // undeliverable reported since the last (re)start
};

// A session's outbox entries, oldest first: a power-of-two ring that only grows (doubling, so
// amortized O(1) and no allocation once it has reached the session's peak), popped in O(1).
class entry_ring {
public:
    [[nodiscard]] size_t size() const noexcept { return m_size; }
    [[nodiscard]] bool empty() const noexcept { return m_size == 0; }
    out_entry& operator[](size_t i) noexcept { return m_items[(m_head + i) & m_mask]; }
    const out_entry& operator[](size_t i) const noexcept { return m_items[(m_head + i) & m_mask]; }
    out_entry& front() noexcept { return m_items[m_head]; }
    const out_entry& front() const noexcept { return m_items[m_head]; }
    void pop_front() noexcept {
        AINET_ASSERT(m_size > 0);
        m_head = (m_head + 1) & m_mask;
        --m_size;
    }
    void push_back(const out_entry& e) {
        if (m_size == m_items.size())
            grow();
        m_items[(m_head + m_size) & m_mask] = e;
        ++m_size;
    }

private:
    void grow() {
        std::vector<out_entry> items(std::max<size_t>(16, m_items.size() * 2));
        for (size_t i = 0; i < m_size; ++i)
            items[i] = (*this)[i];
        m_items.swap(items);
        m_head = 0;
        m_mask = m_items.size() - 1;
    }

    std::vector<out_entry> m_items;
    size_t m_head = 0;
    size_t m_size = 0;
    size_t m_mask = 0;
};

// The payloads of a session's outbox, stored contiguously in send order in one byte ring:
// positions grow monotonically (a payload never straddles the ring's end: the gap before the
// end is skipped), and acknowledging the outbox head frees its bytes by moving `head` (O(1)).
// The ring doubles when full, re-packing the live payloads (amortized; none in steady state).
class payload_ring {
public:
    [[nodiscard]] bytes_view at(uint64_t pos, uint32_t size) const noexcept {
        return bytes_view(m_bytes.data() + (pos & m_mask), size);
    }
    // Stores payload after every live one; entries (the outbox) is re-pointed if the ring grows.
    uint64_t store(bytes_view payload, entry_ring& entries) {
        uint64_t pos = place(payload.size());
        if (pos == no_room) {
            grow(payload.size(), entries);
            pos = place(payload.size());
            AINET_ASSERT(pos != no_room);
        }
        if (!payload.empty())
            std::memcpy(m_bytes.data() + (pos & m_mask), payload.data(), payload.size());
        m_tail = pos + payload.size();
        return pos;
    }
    // Frees every byte before pos (the start of the new outbox head, or the tail when empty).
    void release_to(uint64_t pos) noexcept {
        AINET_ASSERT(pos >= m_head && pos <= m_tail);
        m_head = pos;
    }
    [[nodiscard]] uint64_t tail() const noexcept { return m_tail; }
    [[nodiscard]] size_t capacity() const noexcept { return m_bytes.size(); }

private:
    static constexpr uint64_t no_room = ~uint64_t{0};

    uint64_t place(size_t size) const noexcept {
        const uint64_t capacity = m_bytes.size();
        if (capacity == 0)
            return size == 0 ? m_tail : no_room;
        uint64_t pos = m_tail;
        const uint64_t offset = pos & m_mask;
        if (offset + size > capacity)
            pos += capacity - offset; // skip to the ring's start: payloads stay contiguous
        if (pos + size - m_head > capacity)
            return no_room;
        return pos;
    }
    void grow(size_t size, entry_ring& entries) {
        size_t capacity = std::max<size_t>(4096, m_bytes.size());
        // Live bytes without gaps, the new one, and one payload's worth of end gap.
        const uint64_t live = m_tail - m_head;
        while (capacity < 2 * (live + size) + 2 * size)
            capacity *= 2;
        std::vector<uint8_t> bytes(capacity);
        uint64_t tail = 0;
        for (size_t i = 0; i < entries.size(); ++i) {
            out_entry& e = entries[i];
            if (e.payload_size > 0)
                std::memcpy(bytes.data() + tail, m_bytes.data() + (e.payload_pos & m_mask),
                            e.payload_size);
            e.payload_pos = tail;
            tail += e.payload_size;
        }
        m_bytes.swap(bytes);
        m_mask = capacity - 1;
        m_head = 0;
        m_tail = tail;
    }

    std::vector<uint8_t> m_bytes;
    uint64_t m_mask = 0;
    uint64_t m_head = 0;
    uint64_t m_tail = 0;
};

struct send_session {
    channel_id channel{};
    uint64_t next_seq = 1;
    uint64_t acked = 0; // outbox holds acked+1 .. next_seq-1, in order
    uint32_t peer_window = 0;
    entry_ring outbox;
    payload_ring payloads;
    size_t unsent_index = 0; // entries before it have been sent at least once
    std::vector<uint64_t> retransmit;
    instant deadline_hint = instant_max; // a lower bound of the entries' deadlines
    bool acked_dirty = false;
    size_t staged = 0; // the outbox's tail that is not durable yet (never sent)
    // When the current flight's tail-loss probe is due (instant_max: none armed).
    instant tail_probe_at = instant_max;
    // The selective ranges the last ack applied (clamped to what was sent): every seq in them
    // is marked sacked, so the next ack, which repeats them and adds a little, only walks what
    // is new (an ack costs O(ranges + newly acked), not O(in flight)). Cleared whenever sacked
    // marks are reset.
    range_list sack_applied;
    // The last ack that acknowledged (cumulatively or selectively) something new. As TCP
    // restarts its retransmission timer on such an ack (RFC 6298 5.3), no message times out
    // while acks keep coming: holes are the NACKs' business then, and a message beyond what
    // the ack's ranges can name is not resent merely for being old.
    instant progress_at{std::numeric_limits<int64_t>::min()};

    [[nodiscard]] out_entry* entry(uint64_t seq) noexcept {
        if (seq <= acked || seq - acked > outbox.size())
            return nullptr;
        return &outbox[seq - acked - 1];
    }
    [[nodiscard]] bytes_view payload(const out_entry& e) const noexcept {
        return payloads.at(e.payload_pos, e.payload_size);
    }
    void push(out_entry e, bytes_view payload) {
        e.payload_size = static_cast<uint32_t>(payload.size());
        e.payload_pos = payloads.store(payload, outbox);
        outbox.push_back(e);
    }
    // Removes the head (acknowledged or expired); its payload bytes are free at once.
    void pop_front() noexcept {
        outbox.pop_front();
        payloads.release_to(outbox.empty() ? payloads.tail() : outbox.front().payload_pos);
        ++acked;
        acked_dirty = true;
    }
};

struct recv_slot {
    uint64_t seq = 0;
    bool present = false;
    std::vector<uint8_t> payload;
};

struct recv_session {
    channel_id channel{};
    uint64_t epoch = 0;
    bool started = false;
    uint64_t delivered = 0;  // delivered to the application through here
    uint64_t processed = 0;  // handled by the application (<= delivered)
    uint64_t durable = 0;    // processed and committed: the cumulative ack
    uint64_t committing = 0; // the watermark in the records of the current commit
    uint64_t highest = 0;    // highest seq held or delivered
    std::vector<recv_slot> ring;
    instant last_nack{std::numeric_limits<int64_t>::min()};
    // Reordering tolerance: a missing seq is NACKed only once data above it has been held for
    // reorder_delay. horizon is the highest seq held at least reorder_delay ago; pending_highest
    // (taken at pending_at) becomes the horizon once it is that old.
    uint64_t horizon = 0;
    uint64_t pending_highest = 0;
    instant pending_at{};
    instant nack_wait_until{}; // no gap old enough before then
    uint64_t nacked_through = 0; // the highest seq any NACK so far has named
    bool ack_pending = false;
    bool nack_pending = false;
    bool watermark_dirty = false;
};

} // namespace

struct reliability_core::peer_state {
    node_id id;
    uint32_t index = 0;
    uint64_t incarnation_seen = 0;
    uint64_t epoch_seen = 0; // the peer's stream epoch our receive sessions follow
    bool suspect = false;
    bool dirty = false;
    std::vector<std::unique_ptr<send_session>> sends;
    std::vector<std::unique_ptr<recv_session>> recvs;
    double cwnd = 0;
    double ssthresh = 0;
    uint32_t in_flight = 0; // sent, not acknowledged, not selectively acked
    uint64_t datagrams_opened = 0; // datagrams written to this peer so far (numbers them)
    // Sender side: RFC 6298 smoothed RTT and its mean deviation, from acks of messages sent
    // once (Karn), and the retransmission timeout srtt + max(granularity, 4 rttvar).
    duration srtt{0};
    duration rttvar{0};
    bool rtt_valid = false;
    instant round_end{};
    uint32_t round_sent = 0;
    uint32_t round_lost = 0;
    double lost_average = 0; // loss events per round, moving average
    double sent_average = 0; // datagrams per round, moving average
    bool reduced_in_round = false;

    send_session* find_send(channel_id c) noexcept {
        for (auto& s : sends)
            if (s->channel == c)
                return s.get();
        return nullptr;
    }
    [[nodiscard]] duration rto() const noexcept {
        return srtt + std::max<duration>(rto_granularity, rttvar * 4);
    }

    recv_session* find_recv(channel_id c) noexcept {
        for (auto& r : recvs)
            if (r->channel == c)
                return r.get();
        return nullptr;
    }
};

namespace {

using peer_state = reliability_core::peer_state;

// Arms the flight's tail-loss probe after something was sent or acknowledged. Only a true
// tail gets one: while messages wait for window, acks are merely late (a receiver's durable
// commit delays them), and a probe would be a spurious resend; the retry schedule covers loss
// there.
void arm_tail_probe(instant now, const peer_state& p, send_session& s, duration floor) noexcept {
    // Before an RTT sample the retry schedule alone decides.
    if (!p.rtt_valid || s.unsent_index == 0 || s.unsent_index < s.outbox.size()) {
        s.tail_probe_at = instant_max;
        return;
    }
    s.tail_probe_at = now + std::max(p.srtt * 2, floor);
    s.deadline_hint = std::min(s.deadline_hint, s.tail_probe_at);
}

send_session* get_send(peer_state& p, channel_id c, const reliability_config& config) {
    if (auto* s = p.find_send(c))
        return s;
    if (p.sends.size() >= config.channels_per_peer_max)
        return nullptr;
    auto s = std::make_unique<send_session>();
    s->channel = c;
    s->peer_window = config.receive_window;
    p.sends.push_back(std::move(s));
    return p.sends.back().get();
}

recv_session* get_recv(peer_state& p, channel_id c, const reliability_config& config) {
    if (auto* r = p.find_recv(c))
        return r;
    if (p.recvs.size() >= config.channels_per_peer_max)
        return nullptr;
    auto r = std::make_unique<recv_session>();
    r->channel = c;
    r->ring.resize(config.receive_window);
    p.recvs.push_back(std::move(r));
    return p.recvs.back().get();
}

// A gap is NACKed once it has lasted reorder_delay (plain reordering closes it sooner). Gaps
// above everything NACKed before go out then; naming an old gap again (its retransmission was
// lost too) waits for nack_interval since the last NACK. So a steady loss rate costs one NACK
// per new gap, not a stall of nack_interval per gap.
instant nack_due_at(const recv_session& r, duration renack_interval) noexcept {
    if (r.highest > std::max(r.nacked_through, r.delivered) + 1)
        return r.nack_wait_until;
    return std::max(r.last_nack + renack_interval, r.nack_wait_until);
}

void advance_horizon(recv_session& r, instant now, const reliability_config& config) noexcept {
    if (now >= r.pending_at + config.reorder_delay) {
        r.horizon = std::max(r.horizon, r.pending_highest);
        r.pending_highest = r.highest;
        r.pending_at = now;
    }
}

void reset_recv(recv_session& r) {
    r.started = false;
    r.delivered = r.processed = r.durable = r.committing = r.highest = 0;
    for (auto& slot : r.ring)
        slot.present = false;
    r.ack_pending = r.nack_pending = r.watermark_dirty = false;
    r.horizon = r.pending_highest = 0;
    r.nacked_through = 0;
}

} // namespace

reliability_core::reliability_core(const reliability_config& config, durable_store& store,
                                   reliability_counters& counters)
    : m_config(config), m_store(store), m_counters(counters), m_stream_epoch(config.stream_epoch) {
    AINET_ASSERT(config.stream_epoch != 0 && config.incarnation != 0);
    AINET_ASSERT(config.datagram_size_max >= 128 &&
                 config.datagram_size_max <= wire::datagram_size_max);
    AINET_ASSERT(config.receive_window >= 1 && config.receive_window <= (1u << 20));
    AINET_ASSERT(config.retries_max >= 1 && config.retries_max <= 16);
    AINET_ASSERT(config.cwnd_min >= 1 && config.cwnd_min <= config.cwnd_initial &&
                 config.cwnd_initial <= config.cwnd_max);
    AINET_ASSERT(config.channels_per_peer_max >= 1 && config.peer_count_max >= 1);
    AINET_ASSERT(config.datagrams_per_peer_per_flush_max >= 1);
    m_scratch.resize(config.datagram_size_max);
}

reliability_core::~reliability_core() = default;

reliability_core::peer_state* reliability_core::find_peer(const node_id& id) noexcept {
    // Consecutive sends and datagrams mostly concern one peer: skip the hash lookup then.
    if (m_last_peer < m_peers.size() && m_peers[m_last_peer]->id == id)
        return m_peers[m_last_peer].get();
    auto it = m_peer_index.find(id);
    if (it == m_peer_index.end())
        return nullptr;
    m_last_peer = it->second;
    return m_peers[it->second].get();
}

const reliability_core::peer_state* reliability_core::find_peer(const node_id& id) const noexcept {
    auto it = m_peer_index.find(id);
    return it == m_peer_index.end() ? nullptr : m_peers[it->second].get();
}

reliability_core::peer_state* reliability_core::get_peer(const node_id& id) {
    if (auto* p = find_peer(id))
        return p;
    if (m_peers.size() >= m_config.peer_count_max)
        return nullptr;
    auto p = std::make_unique<peer_state>();
    p->id = id;
    p->index = static_cast<uint32_t>(m_peers.size());
    p->cwnd = m_config.cwnd_initial;
    p->ssthresh = m_config.cwnd_max;
    m_peer_index.emplace(id, p->index);
    m_peers.push_back(std::move(p));
    return m_peers.back().get();
}

void reliability_core::mark_dirty(peer_state& p) {
    if (!p.dirty) {
        p.dirty = true;
        m_dirty.push_back(p.index);
    }
}

void reliability_core::push_event(event_kind kind, const peer_state& p, channel_id channel,
                                  message_id id, uint64_t seq, bytes_view payload) {
    event e;
    e.kind = kind;
    e.peer = p.id;
    e.channel = channel;
    e.id = id;
    e.seq = seq;
    e.payload_offset = static_cast<uint32_t>(m_arena.size());
    e.payload_size = static_cast<uint32_t>(payload.size());
    m_arena.insert(m_arena.end(), payload.begin(), payload.end());
    m_events.push_back(e);
}

bytes_view reliability_core::payload_of(const event& e) const noexcept {
    AINET_ASSERT(size_t{e.payload_offset} + e.payload_size <= m_arena.size());
    return bytes_view(m_arena.data() + e.payload_offset, e.payload_size);
}

void reliability_core::clear_events() noexcept {
    m_events.clear();
    m_arena.clear();
}

duration reliability_core::timeout_for(const peer_state& p, uint32_t retries) const noexcept {
    const uint32_t shift = std::min(retries, m_config.retries_max - 1);
    duration t = m_config.rto_initial * (int64_t{1} << shift);
    // The schedule is a floor: a path (or a receiver whose durable commits delay its acks)
    // slower or more variable than it gets the RFC 6298 timeout, backed off alike, instead of
    // a spurious resend of everything in flight.
    if (p.rtt_valid)
        t = std::max(t, p.rto() * (int64_t{1} << shift));
    return t;
}

void reliability_core::restore(instant now, const recovered_state& state) {
    AINET_ASSERT(m_peers.empty() && m_staged.empty());
    if (state.stream_epoch != 0)
        m_stream_epoch = state.stream_epoch;
    m_next_message = std::max(m_next_message, state.next_message);
    for (const auto& pos : state.senders) {
        peer_state* p = get_peer(pos.peer);
        send_session* s = p ? get_send(*p, pos.channel, m_config) : nullptr;
        if (!s)
            continue;
        s->acked = pos.acked;
        s->next_seq = pos.acked + 1;
    }
    for (const auto& m : state.outbox) {
        peer_state* p = get_peer(m.peer);
        send_session* s = p ? get_send(*p, m.channel, m_config) : nullptr;
        if (!s)
            continue;
        if (s->outbox.empty() && m.seq > s->next_seq) {
            // The store kept no position below this message: resume the stream here (the
            // receiver skips to it through base_delta).
            s->acked = m.seq - 1;
            s->next_seq = m.seq;
        }
        AINET_ASSERT(m.seq == s->next_seq); // decode_state() guarantees ascending order
        out_entry e;
        e.seq = m.seq;
        e.id = message_id{m.message};
        e.accepted_at = now;
        e.durable = true;
        s->push(e, m.payload);
        s->next_seq = m.seq + 1;
        ++m_outbox_count;
        m_outbox_bytes += m.payload.size();
        m_next_message = std::max(m_next_message, m.message + 1);
        mark_dirty(*p);
    }
    for (const auto& pos : state.receivers) {
        peer_state* p = get_peer(pos.peer);
        if (!p)
            continue;
        if (pos.epoch < p->epoch_seen)
            continue;
        if (pos.epoch > p->epoch_seen) {
            for (auto& r : p->recvs)
                reset_recv(*r);
            p->epoch_seen = pos.epoch;
        }
        recv_session* r = get_recv(*p, pos.channel, m_config);
        if (!r)
            continue;
        r->epoch = pos.epoch;
        r->started = true;
        r->delivered = r->processed = r->durable = r->committing = r->highest = pos.processed;
    }
}

result<message_id> reliability_core::send(instant now, const node_id& peer, channel_id channel,
                                          bytes_view payload) {
    (void)now;
    if (payload.size() > message_size_max(m_config)) {
        bump(m_counters.send_refused);
        return fail(errc::message_too_large);
    }
    if (m_outbox_count >= m_config.outbox_message_count_max ||
        m_outbox_bytes + payload.size() > m_config.outbox_bytes_max) {
        bump(m_counters.send_refused);
        return fail(errc::outbox_full);
    }
    peer_state* p = get_peer(peer);
    if (!p) {
        bump(m_counters.send_refused);
        return fail(errc::peer_table_full);
    }
    send_session* s = get_send(*p, channel, m_config);
    if (!s) {
        bump(m_counters.send_refused);
        return fail(errc::channel_table_full);
    }
    out_entry e;
    e.seq = s->next_seq++;
    e.id = message_id{m_next_message++};
    const message_id id = e.id;
    m_staged.push_back({p->index, channel, e.seq});
    ++s->staged;
    s->push(e, payload);
    ++m_outbox_count;
    m_outbox_bytes += payload.size();
    m_meta_dirty = true;
    bump(m_counters.messages_sent);
    mark_dirty(*p);
    return id;
}

void reliability_core::on_packet(instant now, const node_id& from, bytes_view datagram) {
    auto view = decode_reliable_datagram(datagram);
    if (!view) {
        bump(m_counters.drop_malformed);
        return;
    }
    bump(m_counters.datagrams_received);
    peer_state* p = get_peer(from);
    if (!p) {
        bump(m_counters.drop_table_full);
        return;
    }
    const packet_head& head = view->head;
    if (head.sender_incarnation != p->incarnation_seen) {
        if (p->incarnation_seen != 0)
            peer_restarted(*p);
        p->incarnation_seen = head.sender_incarnation;
    }
    if (p->suspect)
        make_alive(*p); // it answered: whatever membership thinks, the path works
    frame_reader reader(view->frames);
    while (!reader.at_end()) {
        auto f = reader.next();
        if (!f) {
            bump(m_counters.drop_malformed);
            break;
        }
        switch (f->type) {
        case frame_type::data:
            on_data(now, *p, head, f->data);
            break;
        case frame_type::ack:
            if (head.receiver_epoch != m_stream_epoch)
                bump(m_counters.ignored_acks);
            else
                on_ack(now, *p, f->ack);
            break;
        case frame_type::nack:
            if (head.receiver_epoch != m_stream_epoch)
                bump(m_counters.ignored_acks);
            else
                on_nack(now, *p, f->nack);
            break;
        }
    }
}

void reliability_core::on_data(instant now, peer_state& p, const packet_head& head,
                               const data_frame& f) {
    if (head.sender_epoch < p.epoch_seen) {
        bump(m_counters.drop_stale_epoch);
        return;
    }
    if (head.sender_epoch > p.epoch_seen) {
        // The peer lost its outbox (a new stream): what we tracked of the old one is moot.
        for (auto& r : p.recvs)
            reset_recv(*r);
        p.epoch_seen = head.sender_epoch;
    }
    recv_session* r = get_recv(p, f.channel, m_config);
    if (!r) {
        bump(m_counters.drop_table_full);
        return;
    }
    r->epoch = head.sender_epoch;
    const uint64_t lowest = f.seq - f.base_delta; // >= 1 (decoder)
    if (!r->started) {
        r->started = true;
        r->delivered = r->processed = r->durable = r->committing = r->highest = lowest - 1;
    } else if (lowest > r->delivered + 1) {
        // The sender no longer holds (delivered, lowest): expired, or acknowledged to a
        // previous incarnation of ours. Skip them.
        bump(m_counters.skipped_expired, lowest - 1 - r->delivered);
        for (auto& slot : r->ring)
            if (slot.present && slot.seq < lowest)
                slot.present = false;
        r->delivered = lowest - 1;
        r->processed = std::max(r->processed, r->delivered);
        r->highest = std::max(r->highest, r->delivered);
        r->watermark_dirty = true;
    }
    r->ack_pending = true;
    mark_dirty(p);
    if (f.seq <= r->delivered) {
        bump(m_counters.duplicates);
        return;
    }
    const uint64_t window = m_config.receive_window;
    if (f.seq > r->durable + window) {
        bump(m_counters.drop_beyond_window);
        return;
    }
    recv_slot& slot = r->ring[f.seq % window];
    if (slot.present) {
        AINET_ASSERT(slot.seq == f.seq);
        bump(m_counters.duplicates);
        return;
    }
    slot.seq = f.seq;
    slot.present = true;
    slot.payload.assign(f.payload.begin(), f.payload.end());
    r->highest = std::max(r->highest, f.seq);
    for (;;) {
        recv_slot& next = r->ring[(r->delivered + 1) % window];
        if (!next.present || next.seq != r->delivered + 1)
            break;
        next.present = false;
        ++r->delivered;
        push_event(event_kind::delivered, p, r->channel, message_id{0}, r->delivered, next.payload);
        bump(m_counters.messages_delivered);
    }
    if (m_config.auto_process && r->processed != r->delivered) {
        r->processed = r->delivered;
        r->watermark_dirty = true;
    }
    advance_horizon(*r, now, m_config);
    if (r->highest > r->delivered) {
        if (!r->nack_pending) {
            r->nack_pending = true;
            r->nack_wait_until = now + m_config.reorder_delay;
        }
    } else {
        r->nack_pending = false;
    }
}

void reliability_core::processed(const node_id& peer, channel_id channel, uint64_t seq) {
    peer_state* p = find_peer(peer);
    recv_session* r = p ? p->find_recv(channel) : nullptr;
    if (!r)
        return;
    seq = std::min(seq, r->delivered);
    if (seq > r->processed) {
        r->processed = seq;
        r->watermark_dirty = true;
        mark_dirty(*p);
    }
}

void reliability_core::on_ack(instant now, peer_state& p, const ack_frame& f) {
    send_session* s = p.find_send(f.channel);
    // An ack can only cover what was accepted (durable); one that claims more is forged or
    // broken and must not release messages the store has not even written.
    if (!s || f.cumulative >= s->next_seq - s->staged) {
        bump(m_counters.ignored_acks);
        return;
    }
    s->peer_window = f.window;
    uint32_t newly = 0;
    const out_entry* sample = nullptr;
    instant sample_sent{};
    bool repaired = false;
    while (s->acked < f.cumulative) {
        out_entry& e = s->outbox.front();
        if (e.sent) {
            if (!e.sacked) {
                AINET_ASSERT(p.in_flight > 0);
                --p.in_flight;
                ++newly;
                if (!e.retransmitted) {
                    sample = &e;
                    sample_sent = e.last_sent;
                } else {
                    repaired = true;
                }
            }
            --s->unsent_index;
        }
        push_event(event_kind::acknowledged, p, s->channel, e.id, e.seq);
        bump(m_counters.messages_acknowledged);
        --m_outbox_count;
        m_outbox_bytes -= e.payload_size;
        s->pop_front();
    }
    range_list applied;
    size_t known = 0; // index into the previous ack's ranges (both lists ascend)
    const auto previous = s->sack_applied.view();
    for (const seq_range& range : f.ranges.view()) {
        const uint64_t first = std::max(range.first, s->acked + 1);
        const uint64_t last = std::min(range.last, s->acked + s->unsent_index);
        if (first > last)
            continue;
        applied.push({first, last});
        for (uint64_t seq = first; seq <= last && seq >= first; ++seq) {
            while (known < previous.size() && previous[known].last < seq)
                ++known;
            if (known < previous.size() && previous[known].first <= seq) {
                seq = previous[known].last; // marked by an earlier ack already
                continue;
            }
            out_entry& e = *s->entry(seq);
            if (e.sacked)
                continue;
            e.sacked = true;
            AINET_ASSERT(p.in_flight > 0);
            --p.in_flight;
            ++newly;
            if (!e.retransmitted) {
                sample = &e;
                sample_sent = e.last_sent;
            } else {
                repaired = true;
            }
        }
    }
    s->sack_applied = applied;
    // Karn's rule, widened: an ack that covers a retransmission was released by that repair,
    // so the first sends it also covers (held behind the gap, or beyond what the ack ranges
    // could name) were acknowledged late, not slowly; their age is head-of-line wait, and as
    // an RTT sample it would inflate the timeouts and the NACK guard until NACKs were ignored.
    if (sample != nullptr && !repaired) {
        rtt_sample(p.srtt, p.rttvar, p.rtt_valid, now - sample_sent);
    }
    if (newly > 0) {
        s->progress_at = now;
        arm_tail_probe(now, p, *s, m_config.tail_probe_min);
    }
    if (newly > 0) {
        if (p.cwnd < p.ssthresh)
            p.cwnd += newly;
        else
            p.cwnd += double(newly) / p.cwnd;
        p.cwnd = std::min(p.cwnd, double(m_config.cwnd_max));
    }
    mark_dirty(p);
}

void reliability_core::on_nack(instant now, peer_state& p, const nack_frame& f) {
    bump(m_counters.nacks_received);
    send_session* s = p.find_send(f.channel);
    if (!s || p.suspect) {
        bump(m_counters.ignored_acks);
        return;
    }
    // A NACK sent before our last retransmission of a message could reach the receiver does
    // not ask for it again. (srtt comes only from acks no repair released, see on_ack, so a
    // head-of-line wait does not inflate this guard until NACKs go unanswered.)
    const duration guard = p.rtt_valid ? p.srtt : duration{0};
    bool queued = false;
    for (const seq_range& range : f.ranges.view()) {
        const uint64_t first = std::max(range.first, s->acked + 1);
        const uint64_t last = std::min(range.last, s->acked + s->unsent_index);
        // Loss is counted in datagrams, like what is sent, so that packing many messages per
        // datagram does not inflate it: a range costs one loss event per distinct datagram its
        // messages were last sent in. Random loss rarely takes neighbours, so a long range (a
        // burst: a queue or socket buffer that overflowed) weighs as what it is, congestion.
        uint32_t lost_datagrams = 0;
        uint64_t previous_datagram = ~uint64_t{0};
        for (uint64_t seq = first; seq <= last && seq >= first; ++seq) {
            out_entry& e = *s->entry(seq);
            if (e.sacked || e.queued)
                continue;
            if (now - e.last_sent < (e.retransmitted ? guard : guard / 2))
                continue;
            e.queued = true;
            e.by_timeout = false;
            s->retransmit.push_back(seq);
            if (e.datagram != previous_datagram)
                ++lost_datagrams;
            previous_datagram = e.datagram;
        }
        if (lost_datagrams > 0)
            on_loss(now, p, false, lost_datagrams);
        queued = queued || lost_datagrams > 0;
    }
    if (queued)
        mark_dirty(p);
}

void reliability_core::roll_round(instant now, peer_state& p) {
    if (now < p.round_end)
        return;
    // The round that ended: fold its loss rate (loss events per datagram sent) into a moving
    // average, and cut the window if loss is persistently (average) or sharply (this round,
    // twice the tolerance, over a meaningful sample) above what random loss explains.
    if (p.round_sent > 0) {
        // Averages of the counts, not of per-round rates: a round of 3 datagrams with one
        // loss must not weigh like a round of 300.
        p.lost_average = p.lost_average * 0.75 + double(p.round_lost) * 0.25;
        p.sent_average = p.sent_average * 0.75 + double(p.round_sent) * 0.25;
        const double rate = double(p.round_lost) / double(p.round_sent);
        const bool sharp = p.round_sent >= 16 && rate > 2 * m_config.loss_tolerance;
        const bool persistent =
            p.sent_average >= 8 && p.lost_average > m_config.loss_tolerance * p.sent_average;
        if (!p.reduced_in_round && (sharp || persistent)) {
            p.cwnd = std::max(double(m_config.cwnd_min), p.cwnd * cwnd_reduction);
            p.ssthresh = p.cwnd;
            bump(m_counters.congestion_reductions);
        }
    }
    p.round_sent = 0;
    p.round_lost = 0;
    p.reduced_in_round = false;
    p.round_end = now + std::max(p.srtt, round_min);
}

void reliability_core::on_loss(instant now, peer_state& p, bool severe, uint32_t datagrams) {
    roll_round(now, p);
    p.round_lost += datagrams;
    if (!severe || p.reduced_in_round)
        return;
    p.cwnd = std::max(double(m_config.cwnd_min), p.cwnd * 0.5);
    p.ssthresh = p.cwnd;
    p.reduced_in_round = true;
    bump(m_counters.congestion_reductions);
}

void reliability_core::peer_restarted(peer_state& p) {
    bump(m_counters.peer_restarts);
    // What the old incarnation held only in memory (selectively acked, not yet processed)
    // is gone: send everything unacknowledged again.
    for (auto& s : p.sends) {
        s->sack_applied = {};
        for (size_t i = 0; i < s->unsent_index; ++i) {
            out_entry& e = s->outbox[i];
            if (e.sacked) {
                e.sacked = false;
                ++p.in_flight;
            }
            e.retries = 0;
            e.reported = false;
            if (!e.queued) {
                e.queued = true;
                e.by_timeout = false;
                s->retransmit.push_back(e.seq);
            }
        }
    }
    mark_dirty(p);
}

void reliability_core::make_alive(peer_state& p) {
    if (!p.suspect)
        return;
    p.suspect = false;
    p.cwnd = std::max(double(m_config.cwnd_min), std::min(p.cwnd, double(m_config.cwnd_initial)));
    for (auto& s : p.sends) {
        for (size_t i = 0; i < s->unsent_index; ++i) {
            out_entry& e = s->outbox[i];
            e.retries = 0;
            e.reported = false;
            if (!e.sacked && !e.queued) {
                e.queued = true;
                e.by_timeout = false;
                s->retransmit.push_back(e.seq);
            }
        }
    }
    mark_dirty(p);
}

void reliability_core::on_peer_alive(instant now, const node_id& peer) {
    (void)now;
    if (peer_state* p = find_peer(peer))
        make_alive(*p);
}

void reliability_core::make_suspect(instant now, peer_state& p) {
    (void)now;
    p.suspect = true;
    bump(m_counters.peer_suspect);
    push_event(event_kind::peer_suspect, p, channel_id{0}, message_id{0}, 0);
    for (auto& s : p.sends) {
        for (size_t i = 0; i < s->unsent_index; ++i) {
            out_entry& e = s->outbox[i];
            e.queued = false;
            e.probe = false;
            if (!e.sacked && !e.reported) {
                e.reported = true;
                push_event(event_kind::undeliverable, p, s->channel, e.id, e.seq);
                bump(m_counters.messages_undeliverable);
            }
        }
        s->retransmit.clear();
        s->deadline_hint = instant_max;
    }
}

bool reliability_core::is_suspect(const node_id& peer) const noexcept {
    const peer_state* p = find_peer(peer);
    return p != nullptr && p->suspect;
}

double reliability_core::congestion_window(const node_id& peer) const noexcept {
    const peer_state* p = find_peer(peer);
    return p ? p->cwnd : 0.0;
}

uint32_t reliability_core::in_flight(const node_id& peer) const noexcept {
    const peer_state* p = find_peer(peer);
    return p ? p->in_flight : 0;
}

size_t reliability_core::buffered_bytes() const noexcept {
    size_t total = m_outbox_bytes;
    for (const auto& p : m_peers)
        for (const auto& r : p->recvs)
            for (const auto& slot : r->ring)
                total += slot.present ? slot.payload.size() : 0;
    return total;
}

void reliability_core::tick(instant now) {
    for (auto& pp : m_peers) {
        peer_state& p = *pp;
        for (auto& sp : p.sends) {
            send_session& s = *sp;
            // TTL: acceptance times ascend along the outbox, so expiry only ever takes its head.
            while (!s.outbox.empty() && s.outbox.front().durable &&
                   now >= s.outbox.front().accepted_at + m_config.message_ttl) {
                out_entry& e = s.outbox.front();
                if (e.sent) {
                    if (!e.sacked)
                        --p.in_flight;
                    --s.unsent_index;
                }
                push_event(event_kind::expired, p, s.channel, e.id, e.seq);
                bump(m_counters.messages_expired);
                --m_outbox_count;
                m_outbox_bytes -= e.payload_size;
                s.pop_front();
                mark_dirty(p);
            }
            if (p.suspect || now < s.deadline_hint)
                continue;
            instant hint = instant_max;
            if (now >= s.tail_probe_at) {
                s.tail_probe_at = instant_max;
                // The newest message sent and not known to be held by the receiver.
                for (size_t i = s.unsent_index; i-- > 0;) {
                    out_entry& e = s.outbox[i];
                    if (e.sacked)
                        continue;
                    if (!e.queued) {
                        e.queued = true;
                        e.by_timeout = false;
                        e.by_tail_probe = true;
                        s.retransmit.push_back(e.seq);
                        bump(m_counters.tail_probes);
                        mark_dirty(p);
                    }
                    break;
                }
            } else {
                hint = s.tail_probe_at;
            }
            bool timed_out = false;
            bool repeated = false;
            // As TCP runs one retransmission timer for its first unacknowledged segment, only
            // the oldest unacknowledged message here times out: a receiver stalled in a long
            // commit then gets one message again, not its whole window, and a dead peer makes
            // that one exhaust the schedule (suspect, and every message reported). When it is
            // acknowledged the next one's wait starts at that ack (progress_at); while acks
            // flow, the others are the NACKs' and the tail probe's business.
            bool oldest_seen = false;
            for (size_t i = 0; i < s.unsent_index; ++i) {
                out_entry& e = s.outbox[i];
                if (e.queued) {
                    oldest_seen = oldest_seen || !e.sacked;
                    continue;
                }
                if (e.sacked) {
                    if (i == 0) {
                        const instant probe_at = e.last_sent + m_config.probe_interval;
                        if (now >= probe_at) {
                            e.queued = true;
                            e.probe = true;
                            s.retransmit.push_back(e.seq);
                            mark_dirty(p);
                        } else {
                            hint = std::min(hint, probe_at);
                        }
                    }
                    continue;
                }
                if (oldest_seen)
                    continue;
                oldest_seen = true;
                const instant due = std::max(e.deadline, s.progress_at + timeout_for(p, e.retries));
                if (now < due) {
                    hint = std::min(hint, due);
                    continue;
                }
                if (e.retries >= m_config.retries_max) {
                    make_suspect(now, p);
                    break;
                }
                ++e.retries;
                e.queued = true;
                e.by_timeout = true;
                s.retransmit.push_back(e.seq);
                timed_out = true;
                repeated = repeated || e.retries >= 3;
                mark_dirty(p);
            }
            if (p.suspect)
                break;
            // One loss event per timeout scan; a message timing out a third time in a row
            // (100 + 200 + 400 ms without an ack: not random loss, at 5% loss each way that is
            // ~0.1% of tails, but a path that stays bad) halves the window.
            if (timed_out)
                on_loss(now, p, repeated);
            s.deadline_hint = hint;
        }
        for (auto& r : p.recvs)
            if (r->nack_pending && now >= nack_due_at(*r, m_config.nack_interval))
                mark_dirty(p);
    }
}

instant reliability_core::next_deadline() const noexcept {
    instant next = instant_max;
    for (const auto& p : m_peers) {
        for (const auto& s : p->sends) {
            if (!p->suspect)
                next = std::min(next, s->deadline_hint);
            if (!s->outbox.empty() && s->outbox.front().durable)
                next = std::min(next, s->outbox.front().accepted_at + m_config.message_ttl);
        }
        for (const auto& r : p->recvs)
            if (r->nack_pending)
                next = std::min(next, nack_due_at(*r, m_config.nack_interval));
    }
    return next;
}

bool reliability_core::commit(instant now) {
    m_records.clear();
    if (m_meta_dirty) {
        persist_record rec;
        rec.kind = record_kind::meta;
        rec.epoch = m_stream_epoch;
        rec.message = m_next_message;
        m_records.push_back(rec);
    }
    for (const staged_message& st : m_staged) {
        peer_state& p = *m_peers[st.peer];
        send_session* s = p.find_send(st.channel);
        AINET_ASSERT(s != nullptr);
        out_entry* e = s->entry(st.seq);
        AINET_ASSERT(e != nullptr && !e->durable);
        persist_record rec;
        rec.kind = record_kind::outbox_put;
        rec.peer = p.id;
        rec.channel = st.channel;
        rec.seq = e->seq;
        rec.message = static_cast<uint64_t>(e->id);
        rec.payload = s->payload(*e);
        m_records.push_back(rec);
    }
    for (uint32_t index : m_dirty) {
        peer_state& p = *m_peers[index];
        for (auto& s : p.sends) {
            if (!s->acked_dirty)
                continue;
            persist_record rec;
            rec.kind = record_kind::sender_acked;
            rec.peer = p.id;
            rec.channel = s->channel;
            rec.seq = s->acked;
            m_records.push_back(rec);
        }
        for (auto& r : p.recvs) {
            if (!r->watermark_dirty)
                continue;
            r->committing = r->processed;
            persist_record rec;
            rec.kind = record_kind::receiver_watermark;
            rec.peer = p.id;
            rec.channel = r->channel;
            rec.seq = r->processed;
            rec.epoch = r->epoch;
            m_records.push_back(rec);
        }
    }
    if (m_records.empty())
        return true;
    if (!m_store.commit(m_records)) {
        bump(m_counters.store_failures);
        m_records.clear();
        return false; // every dirty flag stays set: the next flush builds the records again
    }
    m_records.clear();
    m_meta_dirty = false;
    for (const staged_message& st : m_staged) {
        peer_state& p = *m_peers[st.peer];
        out_entry* e = p.find_send(st.channel)->entry(st.seq);
        e->durable = true;
        --p.find_send(st.channel)->staged;
        e->accepted_at = now;
        push_event(event_kind::accepted, p, st.channel, e->id, e->seq);
        bump(m_counters.messages_accepted);
    }
    m_staged.clear();
    for (uint32_t index : m_dirty) {
        peer_state& p = *m_peers[index];
        for (auto& s : p.sends)
            s->acked_dirty = false;
        for (auto& r : p.recvs) {
            if (!r->watermark_dirty)
                continue;
            r->watermark_dirty = false;
            if (r->committing > r->durable) {
                r->durable = r->committing;
                r->ack_pending = true;
            }
        }
    }
    return true;
}

void reliability_core::flush(instant now, packet_sink& out) {
    const bool committed = commit(now);
    std::vector<uint32_t> dirty;
    dirty.swap(m_dirty);
    for (uint32_t index : dirty) {
        peer_state& p = *m_peers[index];
        p.dirty = false;
        write_peer(now, p, out);
        if (!committed)
            mark_dirty(p); // its records are still owed to the store
    }
    // m_dirty now holds the peers write_peer() left work for; keep the vector's capacity.
    dirty.clear();
    if (m_dirty.empty())
        m_dirty.swap(dirty);
}

namespace {

// Builds a peer's datagrams one after another in the sink's buffers.
class datagram_builder {
public:
    datagram_builder(packet_sink& out, const node_id& peer, const packet_head& head,
                     size_t size_max, uint32_t count_max, reliability_counters& counters)
        : m_out(out), m_peer(peer), m_head(head), m_size_max(size_max), m_count_max(count_max),
          m_counters(counters) {}
    ~datagram_builder() { finish(); }

    // Adds a frame through add(writer) -> bool, opening a new datagram when the current one is
    // full. False when no datagram can be opened (sink full or per-flush cap).
    template <class Add>
    bool add(Add&& add_frame) {
        if (m_writer && add_frame(*m_writer))
            return true;
        finish();
        if (!open())
            return false;
        const bool added = add_frame(*m_writer);
        AINET_ASSERT(added); // every frame fits an empty datagram (message_size_max)
        return true;
    }

    [[nodiscard]] bool blocked() const noexcept { return m_blocked; }
    [[nodiscard]] uint32_t count() const noexcept { return m_count; }

    void finish() {
        if (!m_writer)
            return;
        if (m_writer->frame_count() == 0) {
            m_out.abandon();
        } else {
            m_out.commit(m_writer->finish());
            bump(m_counters.datagrams_sent);
        }
        m_writer.reset();
    }

private:
    bool open() {
        if (m_blocked || m_count >= m_count_max) {
            m_blocked = true;
            return false;
        }
        mutable_bytes buffer = m_out.prepare(m_peer);
        if (buffer.empty()) {
            bump(m_counters.sink_full);
            m_blocked = true;
            return false;
        }
        if (buffer.size() < m_size_max) {
            m_out.abandon(); // a sink smaller than the configured datagram: a setup bug
            AINET_ASSERT(false);
        }
        m_writer.emplace(buffer.first(m_size_max), m_head);
        ++m_count;
        return true;
    }

    packet_sink& m_out;
    const node_id& m_peer;
    packet_head m_head;
    size_t m_size_max;
    uint32_t m_count_max;
    uint32_t m_count = 0;
    bool m_blocked = false;
    reliability_counters& m_counters;
    std::optional<packet_writer> m_writer;
};

} // namespace

void reliability_core::write_peer(instant now, peer_state& p, packet_sink& out) {
    const packet_head head{m_stream_epoch, m_config.incarnation, p.epoch_seen};
    datagram_builder builder(out, p.id, head, m_config.datagram_size_max,
                             m_config.datagrams_per_peer_per_flush_max, m_counters);
    const uint64_t window = m_config.receive_window;
    const size_t frame_budget = m_config.datagram_size_max - wire::header_size - packet_head_size;

    // Acks and NACKs first: they are small and unblock the other side.
    for (auto& rp : p.recvs) {
        recv_session& r = *rp;
        if (r.ack_pending && r.started) {
            ack_frame a;
            a.channel = r.channel;
            a.cumulative = r.durable;
            a.window = m_config.receive_window;
            if (r.delivered > r.durable)
                a.ranges.push({r.durable + 1, r.delivered});
            uint64_t seq = r.delivered + 1;
            while (seq <= r.highest && a.ranges.count < ranges_max) {
                const recv_slot& slot = r.ring[seq % window];
                if (!(slot.present && slot.seq == seq)) {
                    ++seq;
                    continue;
                }
                const uint64_t first = seq;
                while (seq + 1 <= r.highest && r.ring[(seq + 1) % window].present &&
                       r.ring[(seq + 1) % window].seq == seq + 1)
                    ++seq;
                a.ranges.push({first, seq});
                ++seq;
            }
            // Up to ranges_max ranges; a small datagram_size_max takes fewer (the frame must fit
            // an empty datagram). Within a window (<= 2^20) each varint is <= 3 bytes, so the
            // full 64 fit the default 1,200-byte datagram.
            while (a.ranges.count > 0 && ack_frame_size(a) > frame_budget)
                --a.ranges.count;
            if (!builder.add([&](packet_writer& w) { return w.add_ack(a); }))
                break;
            r.ack_pending = false;
            bump(m_counters.acks_sent);
        }
        const duration renack_interval = m_config.nack_interval;
        if (r.nack_pending && now >= nack_due_at(r, renack_interval)) {
            advance_horizon(r, now, m_config);
            nack_frame n;
            n.channel = r.channel;
            n.base = r.delivered;
            // Before nack_interval has passed only gaps no NACK has named yet.
            const bool renack = now >= r.last_nack + renack_interval;
            uint64_t seq = renack ? r.delivered + 1
                                  : std::max(r.delivered, r.nacked_through) + 1;
            const uint64_t limit = std::min(r.highest, r.horizon); // missing long enough
            while (seq < limit && n.ranges.count < ranges_max) {
                const recv_slot& slot = r.ring[seq % window];
                if (slot.present && slot.seq == seq) {
                    ++seq;
                    continue;
                }
                const uint64_t first = seq;
                while (seq + 1 < limit && !(r.ring[(seq + 1) % window].present &&
                                            r.ring[(seq + 1) % window].seq == seq + 1))
                    ++seq;
                n.ranges.push({first, seq});
                ++seq;
            }
            r.nack_pending = r.highest > r.delivered; // newer gaps wait for their turn
            r.nack_wait_until = r.pending_at + m_config.reorder_delay;
            while (n.ranges.count > 1 && nack_frame_size(n) > frame_budget)
                --n.ranges.count; // the trimmed gaps are named at the next NACK
            if (n.ranges.count > 0) {
                if (!builder.add([&](packet_writer& w) { return w.add_nack(n); })) {
                    r.nack_pending = true;
                    break;
                }
                r.last_nack = now;
                r.nacked_through = std::max(r.nacked_through, n.ranges.view().back().last);
                bump(m_counters.nacks_sent);
            }
        }
    }

    if (!p.suspect && !builder.blocked()) {
        roll_round(now, p);
        for (auto& sp : p.sends) {
            send_session& s = *sp;
            // Retransmissions.
            size_t done = 0;
            for (; done < s.retransmit.size(); ++done) {
                out_entry* e = s.entry(s.retransmit[done]);
                if (e == nullptr || !e->queued)
                    continue;
                if (e->sacked && !e->probe) {
                    e->queued = false;
                    continue;
                }
                const data_frame f{s.channel, e->seq, e->seq - s.acked - 1, s.payload(*e)};
                if (!builder.add([&](packet_writer& w) { return w.add_data(f); }))
                    break;
                if (e->retransmitted && !e->probe && !e->by_tail_probe)
                    bump(m_counters.retransmissions_repeat);
                e->queued = false;
                e->probe = false;
                e->retransmitted = true;
                e->last_sent = now;
                e->datagram = p.datagrams_opened + builder.count();
                e->deadline = now + timeout_for(p, e->retries);
                s.deadline_hint = std::min(s.deadline_hint,
                                           e->sacked ? now + m_config.probe_interval : e->deadline);
                bump(m_counters.data_frames_sent);
                bump(m_counters.retransmissions);
                if (e->by_timeout)
                    bump(m_counters.retransmissions_timeout);
                else if (!e->by_tail_probe)
                    bump(m_counters.retransmissions_nack);
                e->by_tail_probe = false;
            }
            s.retransmit.erase(s.retransmit.begin(),
                               s.retransmit.begin() + static_cast<ptrdiff_t>(done));
            if (builder.blocked())
                break;
            // New data, within the congestion and flow-control windows.
            while (s.unsent_index < s.outbox.size() && double(p.in_flight) < p.cwnd) {
                out_entry& e = s.outbox[s.unsent_index];
                if (!e.durable || e.seq > s.acked + s.peer_window)
                    break;
                const data_frame f{s.channel, e.seq, e.seq - s.acked - 1, s.payload(e)};
                if (!builder.add([&](packet_writer& w) { return w.add_data(f); }))
                    break;
                e.sent = true;
                e.last_sent = now;
                e.datagram = p.datagrams_opened + builder.count();
                e.deadline = now + timeout_for(p, 0);
                s.deadline_hint = std::min(s.deadline_hint, e.deadline);
                ++s.unsent_index;
                ++p.in_flight;
                bump(m_counters.data_frames_sent);
                arm_tail_probe(now, p, s, m_config.tail_probe_min);
            }
            if (builder.blocked())
                break;
        }
    }
    builder.finish();
    p.round_sent += builder.count();
    p.datagrams_opened += builder.count();
    if (builder.blocked())
        mark_dirty(p);
}

} // namespace ainet::reliability
