#pragma once
// membership_core: sans-I/O SWIM failure detection with the Lifeguard refinements.
//
// What it implements. SWIM (Das, Gupta, Motivala, DSN 2002) as refined by Lifeguard (Dadgar,
// Phillips, Currey, "Lifeguard: Local Health Awareness for More Accurate Failure Detection",
// 2018) and shipped in HashiCorp memberlist, with signed alive claims and partition detection:
//
//   probe (every probe_interval * (awareness + 1), next member of a shuffled round-robin):
//     ping(seq, target) ---------------------------------------------> target
//        <------------------------------------------------------------ ack(seq)
//     no ack after probe_timeout * (awareness + 1): ping_req(seq, target) to k members, each
//     pings the target itself and relays the ack, or answers nack(seq) after 80% of
//     probe_timeout (Lifeguard: a missing nack means *we* are the slow one);
//     no ack by the end of the interval: suspect(target, incarnation, accuser = self).
//   local health (awareness 0..awareness_max): +1 per probe that failed without every expected
//     nack (+1 when none could be expected), +1 when we have to refute a suspicion about
//     ourselves, -1 per successful probe. It multiplies the probe interval and timeout, so a
//     starved or paused node slows down before it accuses anyone.
//   suspicion: a suspect member gets a timer; distinct accusers confirm it. With N the number
//     of members (self included), C the independent confirmations beyond the first accuser and
//     K = suspicion_mult - 2 (0 when N - 2 < K) the confirmations expected:
//         min = suspicion_mult * max(1, log10(N)) * probe_interval
//         max = suspicion_max_mult * min
//         timeout = max(min, max - (max - min) * log(C + 1) / log(K + 1))   (K = 0: min)
//     (memberlist's formula; at N = 1,000 with our defaults 3 and 6: 9 s .. 54 s, memberlist's
//     4 and 6 give 12 s .. 72 s). The subject
//     refutes by signing an alive claim with a higher incarnation (a member that acked our own
//     probe within the last probe_interval is not suspected on others' word, and a member of an
//     ongoing partition's unreachable set is not taken dead on others' word); when the timer runs
//     out the member is declared dead, unless partition detection (below) holds the death back, or
//     nobody confirmed the suspicion although K > 0 (then only we cannot reach it: it becomes
//     `unreachable` for us, nothing is gossiped, and it is the next member we probe).
//   corrections: a datagram carrying a claim older than what we hold (a node that missed a
//     refutation) gets our newer claims back, in the ack or in a gossip reply no larger than it;
//     an accusation against us also sends our alive claim straight to its accuser (a known
//     member; at most once per probe_timeout each), since the accuser's timer is the first to run
//     out and gossip alone may miss it.
//   gossip: every state change becomes a claim in a bounded broadcast queue, sent to
//     gossip_fanout random members every gossip_interval and piggybacked on pings and acks,
//     each claim retransmit_mult * ceil(log10(N + 1)) times, the least-sent first.
//   push-pull: every push_pull_interval one random member gets a push_pull request carrying a
//     window of our table (bounded to one datagram; the window rotates) and answers with one of
//     its own; add_seed() sends one to a seed endpoint to join.
//   partition detection: when a suspicion runs out while our own health is poor (awareness at
//     least half of awareness_max: we are the one cut off), or while a large share of them is
//     failing at once (suspect, or unreachable within partition_window: at least
//     partition_count_min members and partition_fraction of the live ones), or while every
//     known member of the subject's netgroup (IPv4 /16, IPv6 /32; at least netgroup_size_min)
//     is failing, nobody is declared dead: every failing member becomes `unreachable` and a
//     partition_suspected event lists them. Unreachable members stay in the probe rotation (our
//     pings carry their suspicion so they refute on contact); once heal_fraction of them is
//     alive again, the rest of the set is taken back as alive as well (a real death among them
//     is found again by our probes), every suspicion raised during the episode is dropped, and
//     partition_healed lists the members of the set alive now. For heal_grace after that,
//     suspicions across the healed cut (accuser on one side of it, subject on the other) are
//     ignored: they are what the cut made each side think of the other, and would otherwise run
//     out as deaths before the subjects' refutations crossed a congested network.
//
// Trust. A node's alive and left claims are Ed25519 signatures by that node (sig_domain::
// membership_alive over claim_signed_payload(), messages.hpp), checked in one batch per datagram
// (claim_verifier, default crypto::verify_batch) and only when they would change our table, so
// nobody can refute for another node, revive it, make it leave, or move its address. Suspect
// and dead claims name their accuser and are accepted only at the incarnation of the latest
// signed alive claim we hold (never a future one, so a forged accusation can never outrun
// refutation). Datagrams are not authenticated: a reply (ack, relayed ping, push_pull answer) is
// never larger than the datagram that caused it, and ping_req only makes us ping a known member
// at its known address, so the core cannot amplify or reflect floods.
//
// Driving it (sans-I/O). start(now, out), then on_datagram(now, d, out) for every datagram with
// a membership type (0x30..0x35) and tick(now, out) whenever now >= next_deadline(). Events
// (joins, suspicions, deaths, partitions) accumulate in events() until the caller drains them
// with clear_events(). Randomness comes from the seed given at construction; the core reads
// no clock, socket or global state, so a seed replays a run.
//
// Reaping. Dead and left members are removed dead_retention after their death (see the config);
// a tombstone (id, incarnation) keeps a stale alive claim from reviving them for
// tombstone_retention and answers it with their death, so the subject itself refutes.
//
// Limits. member_count_max members (a new member evicts the oldest dead or left one when the
// table is full, else it is refused and counted), tombstone_count_max tombstones,
// broadcast_queue_max queued claims (the most-sent is evicted), relay_count_max outstanding
// ping_req relays, event_count_max undrained events (older ones dropped and counted), every
// datagram <= datagram_size_max (1200) bytes. Memory: about 200 bytes per member, about 250 per
// tombstone (at most tombstone_count_max: ~1 MB), plus the queues; tables allocate as members
// join, nothing per datagram beyond decoding.
//
// Threads: one owner (a shard, or the simulator); not thread-safe. Counters are single-writer
// atomics another thread may read.

#include <ainet/core/counter.hpp>
#include <ainet/core/datagram.hpp>
#include <ainet/core/endpoint.hpp>
#include <ainet/core/ids.hpp>
#include <ainet/core/time.hpp>
#include <ainet/crypto/ed25519.hpp>
#include <ainet/membership/messages.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ainet::membership {

// X(name, help): exported as ainet_membership_<name>_total.
#define AINET_MEMBERSHIP_COUNTERS(X)                                                               \
    X(pings_sent, "pings sent (probes and relayed probes)")                                        \
    X(pings_received, "pings received for this node")                                              \
    X(acks_sent, "acks sent")                                                                      \
    X(acks_received, "acks received")                                                              \
    X(ping_reqs_sent, "indirect probe requests sent")                                              \
    X(ping_reqs_received, "indirect probe requests received")                                      \
    X(nacks_sent, "nacks sent (indirect probe target silent)")                                     \
    X(nacks_received, "nacks received")                                                            \
    X(gossips_sent, "gossip datagrams sent")                                                       \
    X(gossips_received, "gossip datagrams received")                                               \
    X(push_pulls_sent, "push_pull datagrams sent (requests and replies)")                          \
    X(push_pulls_received, "push_pull datagrams received")                                         \
    X(bytes_sent, "bytes of membership datagrams sent")                                            \
    X(bytes_received, "bytes of membership datagrams received")                                    \
    X(claims_received, "claims received in any message")                                           \
    X(claims_applied, "claims that changed the member table")                                      \
    X(claims_stale, "claims ignored: nothing new (older or equal incarnation, or known state)")    \
    X(signatures_checked, "alive/left claim signatures verified")                                  \
    X(probes, "probes started")                                                                    \
    X(probes_failed, "probes that ended without an ack")                                           \
    X(refutations, "suspicions or deaths about this node refuted")                                 \
    X(suspicions, "members that became suspect")                                                   \
    X(deaths, "members declared or learned dead")                                                  \
    X(deaths_withheld, "suspicions that ran out during a partition: unreachable, not dead")        \
    X(partitions_suspected, "partition_suspected events")                                          \
    X(partitions_healed, "partition_healed events")                                                \
    X(drop_malformed, "dropped: datagram or message did not decode")                               \
    X(drop_wrong_target, "dropped: ping for another node id")                                      \
    X(drop_unknown_seq, "dropped: ack or nack for no outstanding probe or relay")                  \
    X(drop_unknown_target, "dropped: ping_req for a member we do not know at that address")        \
    X(drop_relay_table_full, "dropped: ping_req while relay_count_max relays are outstanding")     \
    X(drop_bad_signature, "claims dropped: alive/left signature does not verify")                  \
    X(drop_future_incarnation, "claims dropped: suspect/dead above the signed incarnation")        \
    X(drop_unknown_subject, "claims dropped: suspect/dead/left about a member we do not know")     \
    X(drop_member_table_full, "claims dropped: new member while member_count_max are known")       \
    X(drop_self_claim, "claims dropped: about this node and nothing to refute")                    \
    X(drop_accuser, "claims dropped: accuser is the subject")                                      \
    X(broadcasts_evicted, "queued claims evicted: broadcast queue full")                           \
    X(events_dropped, "events dropped: event_count_max undrained events")                          \
    X(corrections_sent, "datagrams answering stale claims with newer ones")                        \
    X(unconfirmed_withheld, "suspicions that ran out unconfirmed: unreachable to us, not dead")    \
    X(drop_tx_full, "datagrams not sent: the sink was full")                                       \
    X(members_reaped, "dead or left members removed from the table (retention or table full)")     \
    X(drop_reaped_alive, "claims dropped: alive claim of a reaped member at or below its death")   \
    X(drop_partition_artifact, "claims dropped: suspicion across a partition that just healed")

struct membership_counters {
#define AINET_MEMBERSHIP_DECLARE(name, help) std::atomic<uint64_t> name{0};
    AINET_MEMBERSHIP_COUNTERS(AINET_MEMBERSHIP_DECLARE)
#undef AINET_MEMBERSHIP_DECLARE
};

struct membership_config {
    duration probe_interval = std::chrono::seconds(1);
    duration probe_timeout = std::chrono::milliseconds(500);
    uint32_t indirect_probes = 3;
    duration gossip_interval = std::chrono::milliseconds(200);
    uint32_t gossip_fanout = 3;
    uint32_t retransmit_mult = 4;
    // memberlist's LAN default is 4 (12..72 s at N = 1,000); 3 (9..54 s) keeps a crash detected
    // by every member within 15 s at N = 1,000 (docs/BENCHMARKS.md, "Membership (simulator)").
    uint32_t suspicion_mult = 3;
    uint32_t suspicion_max_mult = 6;
    uint32_t awareness_max = 8;
    duration push_pull_interval = std::chrono::seconds(30);
    // Dead and unreachable members still get gossip this long, so they can learn and refute.
    duration gossip_to_the_dead = std::chrono::seconds(30);
    // Partition detection (see the header comment).
    duration partition_window = std::chrono::seconds(60);
    // 10% (and at least partition_count_min): with 10% loss at N = 1,000 about 8 members are
    // suspect at any time, while a 50/50 split must be recognised before the first suspicion ends.
    double partition_fraction = 0.1;
    uint32_t partition_count_min = 3;
    uint32_t netgroup_size_min = 3;
    double heal_fraction = 0.5;
    // For this long after a partition heals, suspicions across the healed cut (accuser in the
    // set we could not reach and subject not, or the reverse) are old news from the cut and are
    // ignored (drop_partition_artifact); our own probes still suspect anyone who fails them, and
    // deaths (only ever declared after a confirmed suspicion) are believed.
    duration heal_grace = std::chrono::seconds(30);
    // Our first incarnation. A restarted node must pass one above any it used before: others may
    // hold it dead (or its tombstone) at its last one, and only a newer alive claim overrides a
    // death. With an old one it is ignored until it meets and refutes its own death, a round
    // trip or a push-pull interval later. node::membership_service persists a floor above every
    // incarnation it used (membership/state.hpp) and passes max(floor, wall-clock ms).
    uint64_t initial_incarnation = 0;
    // Dead and left members stay in the table this long (at least gossip_to_the_dead, so the
    // death is gossiped and the dead can still learn it and refute), then are reaped: removed
    // from the table and remembered as a tombstone (their id and the incarnation they died at)
    // for tombstone_retention, so a stale alive claim at that incarnation cannot revive them.
    // A reaped member that comes back rejoins like a new one, with a signed alive claim above
    // the tombstone's incarnation (a restart claims one above its persisted incarnation).
    duration dead_retention = std::chrono::seconds(60);
    duration tombstone_retention = std::chrono::minutes(10);
    // Limits.
    uint32_t member_count_max = 16384;
    // Tombstones kept (the oldest is forgotten first). A full member table also reaps its
    // oldest dead or left member early to admit a new alive one.
    uint32_t tombstone_count_max = 4096;
    uint32_t broadcast_queue_max = 2048;
    uint32_t relay_count_max = 256;
    uint32_t event_count_max = 65536;
};

enum class member_state : uint8_t { alive, suspect, dead, left, unreachable };
[[nodiscard]] std::string_view to_string(member_state s) noexcept;

enum class event_kind : uint8_t {
    joined,              // a new member (alive)
    alive,               // a suspect, unreachable, dead or left member is alive again
    suspect,             // a member became suspect
    dead,                // a member was declared (by us) or learned dead
    left,                // a member announced it left
    unreachable,         // a member joined the current partition's unreachable set
    refuted,             // we refuted a suspicion or death about ourselves
    partition_suspected, // members = the unreachable set
    partition_healed,    // members = those of the set that are alive again
};
[[nodiscard]] std::string_view to_string(event_kind k) noexcept;

struct membership_event {
    event_kind kind = event_kind::joined;
    instant at{};
    node_id member{};             // zero for partition events
    uint64_t incarnation = 0;     // the member's, or ours for refuted
    std::vector<node_id> members; // partition events only
};

// One row of the member table, for `ainetctl peers` and tests.
struct member_info {
    node_id id;
    endpoint address;
    member_state state = member_state::alive;
    uint64_t incarnation = 0;
    instant state_since{};
    std::optional<instant> last_contact; // the last ack to one of our probes
    std::optional<duration> rtt;         // EWMA (1/8) of direct probe round trips
};

// Verifies alive/left claim signatures in batches. The default uses crypto::verify_batch;
// simulations of thousands of nodes may plug in one that shares verdicts across nodes.
class claim_verifier {
public:
    virtual void verify(std::span<const crypto::verify_request> requests,
                        std::span<bool> verdicts) noexcept = 0;

protected:
    ~claim_verifier() = default;
};
[[nodiscard]] claim_verifier& default_claim_verifier() noexcept;

class membership_core {
public:
    // identity and verifier (default_claim_verifier() if null) must outlive the core. address is
    // where other members reach us (the address our alive claims announce).
    membership_core(const membership_config& config, const crypto::key_pair& identity,
                    const endpoint& address, uint64_t seed, membership_counters& counters,
                    claim_verifier* verifier = nullptr);

    // Arms the first probe, gossip and push-pull rounds.
    void start(instant now);

    // Joins through a seed: sends it a padded push_pull request carrying our alive claim. The
    // seed's id is optional (the discovery manager may know only the endpoint).
    void add_seed(instant now, const endpoint& seed, datagram_sink& out);

    // Takes a claim as if a push_pull had carried it (e.g. from a verified discovery record);
    // signatures are checked all the same. With rebroadcast false a change is not gossiped
    // (for preloading a table every member already knows).
    void learn(instant now, const claim& c, bool rebroadcast = true);
    // The same for many claims (a restored member snapshot, state.hpp), verified in batches of
    // update_count_max.
    void learn(instant now, std::span<const claim> claims, bool rebroadcast);

    // Handles one membership datagram (types 0x30..0x35); anything else is counted and dropped.
    void on_datagram(instant now, const datagram_ref& d, datagram_sink& out);

    // Runs every timer due at now. Call when now >= next_deadline().
    void tick(instant now, datagram_sink& out);
    [[nodiscard]] instant next_deadline() const noexcept;

    // Announces that we leave (a signed left claim, gossiped to gossip_fanout members now and
    // piggybacked while the caller keeps ticking); the core then stops probing.
    void leave(instant now, datagram_sink& out);

    [[nodiscard]] std::span<const membership_event> events() const noexcept { return m_events; }
    void clear_events() noexcept { m_events.clear(); }

    [[nodiscard]] std::vector<member_info> snapshot() const;
    // The signed alive claims of the members alive, suspect or unreachable (what a member
    // snapshot persists; learn() takes them back).
    [[nodiscard]] std::vector<claim> alive_claims() const;
    [[nodiscard]] std::optional<member_info> find(const node_id& id) const;
    // Members in the table (self excluded), and those alive or suspect.
    [[nodiscard]] size_t member_count() const noexcept { return m_members.size(); }
    [[nodiscard]] size_t live_count() const noexcept;
    [[nodiscard]] uint32_t awareness() const noexcept { return m_awareness; }
    [[nodiscard]] uint64_t incarnation() const noexcept { return m_self_claim.incarnation; }
    [[nodiscard]] const node_id& id() const noexcept { return m_self_claim.subject; }
    [[nodiscard]] const claim& self_claim() const noexcept { return m_self_claim; }
    [[nodiscard]] bool in_partition() const noexcept { return m_partition_active; }
    [[nodiscard]] size_t broadcast_queue_size() const noexcept { return m_live.size(); }
    [[nodiscard]] size_t tombstone_count() const noexcept { return m_tombstones.size(); }
    [[nodiscard]] const membership_config& config() const noexcept { return m_config; }

    // The suspicion timeout bounds (min, max) for a table of member_count N (formula above).
    [[nodiscard]] static std::pair<duration, duration>
    suspicion_bounds(const membership_config& config, size_t member_count) noexcept;
    // Times a claim is retransmitted at member_count N.
    [[nodiscard]] static uint32_t retransmit_limit(const membership_config& config,
                                                   size_t member_count) noexcept;

private:
    static constexpr uint32_t none = UINT32_MAX;

    struct member {
        node_id id;
        endpoint address;
        crypto::signature signature{}; // of the alive (or left) claim at `incarnation`
        uint64_t incarnation = 0;
        node_id accuser{}; // suspect, dead, unreachable
        member_state state = member_state::alive;
        bool in_episode = false;        // in the current partition's set
        bool episode_resolved = false;  // ... and since alive, dead or left
        uint32_t suspicion_slot = none; // its index in m_suspicions
        instant state_since{};
        instant last_contact{};
        bool contacted = false;
        duration rtt{0};
    };
    struct suspicion {
        uint32_t member;
        instant start;
        duration min;
        duration max;
        uint32_t expected;             // K
        std::vector<node_id> accusers; // the first accuser, then confirmations (<= K + 1)
        instant deadline;
    };
    struct broadcast {
        claim c;
        uint32_t transmits;
        uint64_t order; // newer claims first among equal transmit counts
    };
    struct relay {
        uint32_t seq;        // the seq of our ping to the target
        uint32_t origin_seq; // the seq to answer the origin with
        endpoint origin;
        size_t size_max; // the ping_req's size: no answer is larger
        instant nack_at;
    };
    struct probe {
        bool active = false;
        bool acked = false;
        bool indirect_sent = false;
        uint32_t seq = 0;
        uint32_t member = none;
        node_id target{};
        instant sent{};
        instant timeout_at{};
        instant end_at{};
        uint32_t expected_nacks = 0;
        uint32_t nacks = 0;
    };

    uint64_t next_random() noexcept;
    uint32_t random_below(uint32_t bound) noexcept;
    duration scaled(duration d) const noexcept;
    void emit(membership_event e);
    bool send(const endpoint& to, const message& m, datagram_sink& out);

    // Claims.
    void apply_claims(instant now, std::vector<claim>& claims);
    bool would_change(const claim& c) const noexcept;
    void apply(instant now, const claim& c);
    void apply_alive(instant now, const claim& c);
    void apply_accusation(instant now, const claim& c);
    void apply_left(instant now, const claim& c);
    void refute(instant now, uint64_t accused_incarnation);
    void enqueue(const claim& c);
    claim claim_of(const member& m) const;
    // Fills updates from the broadcast queue (the buddy claim first) within size_budget bytes.
    void piggyback(std::vector<claim>& updates, size_t size_budget, const claim* buddy);

    // Member table.
    uint32_t index_of(const node_id& id) const noexcept;
    void set_state(instant now, member& m, member_state s);
    void start_suspicion(instant now, uint32_t index, const node_id& accuser);
    void confirm_suspicion(instant now, suspicion& s, const node_id& accuser);
    void end_suspicion(uint32_t index);
    void suspicion_expired(instant now, uint32_t index, bool confirmed);
    // Claims newer than stale ones a datagram carried, for a reply to its sender.
    void note_correction(const claim& stale);
    void send_corrections(const endpoint& to, size_t size_max, datagram_sink& out);
    // An accusation against us (current or stale): the accuser hears our alive claim directly.
    void notice_accuser(instant now, const node_id& accuser);
    bool partition_anomaly(instant now, const member& subject) const;
    // An accusation across a cut that healed within heal_grace (see the config).
    bool partition_artifact(const claim& c) const;
    // Reaping: removes dead or left members past dead_retention, expires tombstones.
    void reap(instant now);
    void remove_member(instant now, uint32_t index);
    void trim_tombstones(instant now);
    // The oldest dead or left member that may be evicted for a new one, or none.
    uint32_t eviction_candidate() const noexcept;
    const claim* tombstone_of(const node_id& id) const noexcept;
    void member_back(instant now, member& m);

    // Timers.
    void start_probe(instant now, datagram_sink& out);
    void probe_timeout(instant now, datagram_sink& out);
    void probe_end(instant now);
    void gossip_round(instant now, datagram_sink& out);
    void push_pull_round(instant now, datagram_sink& out);
    // first: a claim to lead the window (what the requester most needs to hear about itself).
    void send_push_pull(const endpoint& to, bool reply_wanted, size_t size_max, datagram_sink& out,
                        const claim* first = nullptr);
    uint32_t pick_member(bool include_recently_failed, instant now, uint32_t exclude);

    // Datagrams.
    void on_ping(instant now, const datagram_ref& d, ping& m, datagram_sink& out);
    void on_ack(instant now, const datagram_ref& d, ack& m, datagram_sink& out);
    void on_ping_req(instant now, const datagram_ref& d, ping_req& m, datagram_sink& out);
    void on_nack(instant now, nack& m);

    membership_config m_config;
    const crypto::key_pair& m_identity;
    membership_counters& m_counters;
    claim_verifier& m_verifier;
    uint64_t m_random_state;

    claim m_self_claim;
    bool m_started = false;
    bool m_left = false;
    uint32_t m_awareness = 0;
    bool m_quiet = false; // learn(..., rebroadcast = false) in progress
    instant m_now{};      // of the call being handled

    std::vector<member> m_members;
    std::unordered_map<node_id, uint32_t> m_index;
    std::vector<suspicion> m_suspicions; // member.suspicion_slot indexes it
    // The broadcast queue: bucket t holds claims sent t times (newest at the back); a claim is
    // live while m_live maps its subject to its order, so replacing or evicting one is O(1) and
    // stale entries are dropped when a scan meets them.
    std::vector<std::vector<broadcast>> m_buckets;
    std::unordered_map<node_id, uint64_t> m_live;
    uint64_t m_broadcast_order = 0;
    std::vector<relay> m_relays;
    std::vector<uint32_t> m_probe_order;
    size_t m_probe_cursor = 0;
    probe m_probe;
    size_t m_push_pull_cursor = 0;

    instant m_next_probe{};
    instant m_next_gossip{};
    instant m_next_push_pull{};
    instant m_next_heal_push_pull{};
    instant m_next_reap{};

    bool m_partition_active = false;
    std::vector<node_id> m_episode;
    size_t m_episode_back = 0;     // episode members alive again
    size_t m_episode_resolved = 0; // ... alive, dead or left
    instant m_episode_start{};
    // The last healed episode's set, until m_healed_until (heal_grace after the heal).
    std::unordered_set<node_id> m_healed;
    instant m_healed_until{};

    // Reaped members: the dead (or left) claim they were reaped with, oldest first in
    // m_tombstone_order (reaped_at, subject); bounded by tombstone_count_max.
    struct tombstone {
        claim c;
        instant reaped_at;
    };
    std::unordered_map<node_id, tombstone> m_tombstones;
    // Entries whose tombstone was since dropped (the member came back) or renewed are skipped.
    std::deque<std::pair<instant, node_id>> m_tombstone_order;

    std::vector<claim> m_corrections; // for the datagram being handled (<= update_count_max)
    std::vector<endpoint> m_notices;  // accusers to answer after this datagram (<= 4)
    struct notified {
        node_id accuser;
        instant at;
    };
    std::vector<notified> m_notified; // recent direct answers, at most one per probe_timeout
    std::vector<membership_event> m_events;
    std::vector<uint8_t> m_buffer; // one datagram being encoded
};

} // namespace ainet::membership
