// Goal: bootstrap_manager (the sans-I/O bootstrap discovery core) starts from its static list,
// merges only verified lists (forged, garbage and expired input rejected and counted), limits
// recursion depth, backs off and prunes dead nodes but never the statics, falls back to the
// statics when its table runs dry, prefers netgroup diversity in its selected set, serves a
// verifiable bounded list, rate-limits clients, and restores what it persisted.
#include <ainet/discovery/bootstrap_manager.hpp>

#include "../support/rng.hpp"

#include <catch2/catch.hpp>

#include <set>

namespace ainet::discovery {

namespace {

constexpr unix_ms wall0{1'700'000'000'000};
constexpr instant t0{1'000'000'000};

crypto::key_pair key(uint32_t n) {
    crypto::seed s{};
    for (size_t i = 0; i < 4; ++i)
        s[i] = static_cast<uint8_t>(n >> (8 * i));
    s[31] = 0x5a;
    return crypto::key_pair::from_seed(s);
}

endpoint addr(uint8_t group, uint8_t host, uint16_t port = 8000) {
    return make_ipv4(10, group, 0, host, port);
}

node_record record_of(uint32_t n, uint8_t group, uint8_t host, unix_ms issued = wall0,
                      int64_t lifetime_ms = 3'600'000) {
    return make_node_record(key(n), addr(group, host, 7000), addr(group, host), issued,
                            unix_ms{static_cast<int64_t>(issued) + lifetime_ms});
}

bootstrap_manager_config config_with_statics(size_t count) {
    bootstrap_manager_config c;
    c.udp = addr(200, 1, 7000);
    c.http = addr(200, 1);
    c.seed = 42;
    for (uint32_t s = 0; s < count; ++s) {
        const auto r = record_of(1000 + s, static_cast<uint8_t>(100 + s), 1);
        c.statics.nodes.push_back(config::bootstrap_node{r.id, r.udp, r.http});
    }
    return c;
}

const fetch_request* request_to(const std::vector<fetch_request>& requests, const node_id& id) {
    for (const auto& r : requests)
        if (r.target == id)
            return &r;
    return nullptr;
}

} // namespace

TEST_CASE("bootstrap_manager: contacts the statics first and merges their verified lists",
          "[discovery][bootstrap_manager]") {
    const crypto::key_pair self = key(1);
    bootstrap_manager m(self, config_with_statics(2));
    m.start(t0, wall0);
    auto requests = m.take_requests();
    REQUIRE(requests.size() == 2);
    const crypto::key_pair s0 = key(1000);
    const auto* to_s0 = request_to(requests, s0.id());
    REQUIRE(to_s0 != nullptr);
    CHECK(to_s0->http == addr(100, 1));

    std::vector<node_record> records = {record_of(1000, 100, 1), record_of(2, 1, 1),
                                        record_of(3, 2, 1)};
    const std::string doc = make_document(s0, records, wall0);
    m.on_response(to_s0->id, doc, t0 + std::chrono::milliseconds(40), wall0);
    CHECK(m.known_count() == 3);
    CHECK(m.counters().fetches_ok == 1);
    const auto events = m.take_events();
    CHECK(events.size() == 3);
    for (const auto& p : m.peers(t0))
        if (p.id == key(2).id())
            CHECK(p.depth == 1);
    // An answer to no request is counted, nothing else.
    m.on_response(9999, doc, t0, wall0);
    CHECK(m.counters().responses_unknown == 1);
}

TEST_CASE("bootstrap_manager: forged, garbage, huge and expired input is rejected and counted",
          "[discovery][bootstrap_manager]") {
    const crypto::key_pair self = key(1);
    bootstrap_manager m(self, config_with_statics(1));
    m.start(t0, wall0);
    auto requests = m.take_requests();
    REQUIRE(requests.size() == 1);
    const crypto::key_pair s0 = key(1000);

    SECTION("a list signed by another key") {
        const std::string doc = make_document(key(77), std::vector{record_of(2, 1, 1)}, wall0);
        m.on_response(requests[0].id, doc, t0, wall0);
        CHECK(m.counters().documents.rejected(errc::wrong_signer) == 1);
    }
    SECTION("a list whose signature is damaged") {
        std::string doc = make_document(s0, std::vector{record_of(2, 1, 1)}, wall0);
        const size_t pos = doc.rfind("\"signature\":\"") + 14;
        doc[pos] = doc[pos] == 'a' ? 'b' : 'a';
        m.on_response(requests[0].id, doc, t0, wall0);
        CHECK(m.counters().documents.rejected(errc::bad_signature) == 1);
    }
    SECTION("garbage JSON") {
        m.on_response(requests[0].id, "{\"version\":1,[", t0, wall0);
        CHECK(m.counters().documents.rejected(errc::syntax) == 1);
    }
    SECTION("a huge list") {
        std::vector<node_record> many;
        for (uint32_t i = 0; i < 257; ++i)
            many.push_back(record_of(10 + i, 1, static_cast<uint8_t>(i % 250 + 1)));
        m.on_response(requests[0].id, make_document(s0, many, wall0), t0, wall0);
        CHECK(m.counters().documents.rejected(errc::too_many_records) == 1);
    }
    SECTION("a forged record and an expired record inside a valid list") {
        node_record forged = record_of(2, 1, 1);
        forged.http = addr(9, 9); // moved after signing
        const node_record expired = record_of(3, 2, 1, unix_ms{1'600'000'000'000});
        const node_record good = record_of(4, 3, 1);
        m.on_response(requests[0].id, make_document(s0, std::vector{forged, expired, good}, wall0),
                      t0, wall0);
        CHECK(m.counters().documents.records(record_verdict::bad_signature) == 1);
        CHECK(m.counters().documents.records(record_verdict::expired) == 1);
        CHECK(m.known_count() == 1);
        CHECK(m.known().find(key(4).id()) != nullptr);
        return;
    }
    // Whole-list rejections merge nothing and count as a failed contact.
    CHECK(m.known_count() == 0);
    CHECK(m.counters().fetches_rejected == 1);
}

TEST_CASE("bootstrap_manager: dead nodes back off and are pruned, statics never are",
          "[discovery][bootstrap_manager]") {
    const crypto::key_pair self = key(1);
    auto c = config_with_statics(1);
    c.failures_max = 3;
    bootstrap_manager m(self, c);
    m.start(t0, wall0);
    auto requests = m.take_requests();
    REQUIRE(requests.size() == 1);
    const crypto::key_pair s0 = key(1000);
    m.on_response(requests[0].id, make_document(s0, std::vector{record_of(2, 1, 1)}, wall0), t0,
                  wall0);
    REQUIRE(m.known_count() == 1);
    (void)m.take_events();

    // Node 2 never answers; the static does not either from now on.
    instant now = t0;
    size_t contacts_to_2 = 0;
    std::vector<instant> attempts;
    for (int step = 0; step < 2000 && m.known().find(key(2).id()) != nullptr; ++step) {
        now = now + std::chrono::milliseconds(100);
        m.tick(now, wall0);
        for (const auto& r : m.take_requests()) {
            if (r.target == key(2).id()) {
                ++contacts_to_2;
                attempts.push_back(now);
            }
            m.on_failure(r.id, now);
        }
    }
    CHECK(m.known().find(key(2).id()) == nullptr);
    CHECK(contacts_to_2 == 3);
    REQUIRE(attempts.size() == 3);
    // Exponential backoff: the second wait is at least twice the backoff base.
    CHECK(attempts[1] - attempts[0] >= c.backoff_base);
    CHECK(attempts[2] - attempts[1] >= 2 * c.backoff_base);
    const auto events = m.take_events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].what == discovery_event::kind::pruned);
    CHECK(m.counters().nodes_pruned == 1);

    // The table ran dry: the static is asked again, however often it failed.
    size_t static_contacts = 0;
    for (int step = 0; step < 1200; ++step) {
        now = now + std::chrono::milliseconds(100);
        m.tick(now, wall0);
        for (const auto& r : m.take_requests()) {
            static_contacts += r.target == s0.id() ? 1 : 0;
            m.on_failure(r.id, now);
        }
    }
    CHECK(static_contacts >= 3);
    bool static_listed = false;
    for (const auto& p : m.peers(now))
        static_listed = static_listed || (p.is_static && p.id == s0.id());
    CHECK(static_listed);
}

TEST_CASE("bootstrap_manager: timeouts count as failures", "[discovery][bootstrap_manager]") {
    bootstrap_manager m(key(1), config_with_statics(1));
    m.start(t0, wall0);
    REQUIRE(m.take_requests().size() == 1);
    CHECK(m.next_deadline() <= t0 + m.config().fetch_timeout);
    m.tick(t0 + m.config().fetch_timeout, wall0);
    CHECK(m.counters().fetches_timed_out == 1);
    CHECK(m.in_flight() == 0);
}

TEST_CASE("bootstrap_manager: lists from nodes at depth_max are not merged",
          "[discovery][bootstrap_manager]") {
    auto c = config_with_statics(1);
    c.depth_max = 1;
    bootstrap_manager m(key(1), c);
    m.start(t0, wall0);
    auto requests = m.take_requests();
    m.on_response(requests[0].id, make_document(key(1000), std::vector{record_of(2, 1, 1)}, wall0),
                  t0, wall0);
    REQUIRE(m.known_count() == 1);
    // Node 2 has depth 1 == depth_max: it is contacted, but what it lists is not merged.
    instant now = t0;
    bool asked = false;
    for (int step = 0; step < 20 && !asked; ++step) {
        now = now + std::chrono::milliseconds(500);
        m.tick(now, wall0);
        for (const auto& r : m.take_requests()) {
            if (r.target == key(2).id()) {
                asked = true;
                m.on_response(r.id, make_document(key(2), std::vector{record_of(3, 2, 1)}, wall0),
                              now, wall0);
            } else {
                m.on_failure(r.id, now);
            }
        }
    }
    CHECK(asked);
    CHECK(m.known().find(key(3).id()) == nullptr);
    CHECK(m.counters().records_too_deep == 1);
}

TEST_CASE("bootstrap_manager: the selected set spreads over netgroups",
          "[discovery][bootstrap_manager]") {
    auto c = config_with_statics(1);
    c.selected_max = 8;
    c.table.per_source_max = 256;
    bootstrap_manager m(key(1), c);
    m.start(t0, wall0);
    auto requests = m.take_requests();
    // 40 nodes in netgroup 10.1/16, one each in 4 other netgroups.
    std::vector<node_record> records;
    for (uint32_t i = 0; i < 40; ++i)
        records.push_back(record_of(10 + i, 1, static_cast<uint8_t>(i + 1)));
    for (uint32_t g = 0; g < 4; ++g)
        records.push_back(record_of(100 + g, static_cast<uint8_t>(2 + g), 1));
    m.on_response(requests[0].id, make_document(key(1000), records, wall0), t0, wall0);
    const auto selected = m.selected(t0);
    REQUIRE(selected.size() == 8);
    std::set<uint64_t> groups;
    size_t from_big = 0;
    for (const auto& id : selected) {
        const auto* r = m.known().find(id);
        groups.insert(bootstrap_manager::netgroup(r->http));
        from_big += r->http.address[1] == 1 ? 1 : 0;
    }
    CHECK(groups.size() == 5);
    CHECK(from_big <= 4);
}

TEST_CASE("bootstrap_manager: serve() is a verifiable, bounded, cached list",
          "[discovery][bootstrap_manager]") {
    auto c = config_with_statics(1);
    c.served_max = 5;
    const crypto::key_pair self = key(1);
    bootstrap_manager m(self, c);
    m.start(t0, wall0);
    auto requests = m.take_requests();
    std::vector<node_record> records;
    for (uint32_t i = 0; i < 20; ++i)
        records.push_back(record_of(10 + i, static_cast<uint8_t>(i + 1), 1));
    m.on_response(requests[0].id, make_document(key(1000), records, wall0), t0, wall0);

    const std::string doc = m.serve(t0, wall0);
    discovery_counters counters;
    auto verified = parse_and_verify_document(doc, self.id(), wall0, {}, counters);
    REQUIRE(verified);
    CHECK(verified->records.size() == 5);
    CHECK(verified->accepted_count == 5);
    CHECK(verified->records[0].id == self.id());
    CHECK(m.serve(t0 + std::chrono::milliseconds(10), wall0) == doc);
    CHECK(m.counters().serve_signatures == 1);
}

TEST_CASE("bootstrap_manager: a token bucket per client address",
          "[discovery][bootstrap_manager]") {
    auto c = config_with_statics(0);
    c.rate_burst = 3;
    c.rate_refill_interval = std::chrono::milliseconds(100);
    c.rate_clients_max = 2;
    bootstrap_manager m(key(1), c);
    const endpoint a = addr(5, 1, 40000);
    const endpoint a_other_port = addr(5, 1, 40001);
    CHECK(m.admit(a, t0));
    CHECK(m.admit(a_other_port, t0));
    CHECK(m.admit(a, t0));
    CHECK_FALSE(m.admit(a, t0));
    CHECK(m.counters().rate_limited == 1);
    CHECK(m.admit(a, t0 + std::chrono::milliseconds(100)));
    CHECK(m.admit(addr(5, 2), t0));
    // The table holds 2 clients, both with drained buckets: a third is refused...
    CHECK(m.admit(addr(5, 2), t0));
    CHECK(m.admit(addr(5, 2), t0));
    CHECK_FALSE(m.admit(addr(5, 3), t0));
    CHECK(m.counters().rate_table_full == 1);
    // ...until one bucket has refilled completely (an idle client).
    CHECK(m.admit(addr(5, 3), t0 + std::chrono::seconds(1)));
}

TEST_CASE("bootstrap_manager: announcements are checked", "[discovery][bootstrap_manager]") {
    bootstrap_manager m(key(1), config_with_statics(0));
    m.start(t0, wall0);
    const node_record r = record_of(2, 1, 1);
    const std::string text = canonicalize(to_json(r));
    CHECK_FALSE(m.on_announce(text, addr(9, 9, 5555), t0, wall0)); // not from its address
    CHECK_FALSE(m.on_announce("{]", addr(1, 1, 5555), t0, wall0));
    node_record forged = r;
    forged.udp.port = 1;
    CHECK_FALSE(m.on_announce(canonicalize(to_json(forged)), addr(1, 1, 5555), t0, wall0));
    CHECK(m.known_count() == 0);
    CHECK(m.on_announce(text, addr(1, 1, 5555), t0, wall0));
    CHECK(m.known_count() == 1);
    CHECK(m.counters().announces_rejected == 3);
}

TEST_CASE("bootstrap_manager: persist and restore", "[discovery][bootstrap_manager]") {
    auto c = config_with_statics(1);
    bootstrap_manager m(key(1), c);
    m.start(t0, wall0);
    auto requests = m.take_requests();
    std::vector<node_record> records;
    for (uint32_t i = 0; i < 10; ++i)
        records.push_back(record_of(10 + i, static_cast<uint8_t>(i + 1), 1));
    records.push_back(record_of(30, 40, 1, wall0, 1000)); // expires 1 s after wall0
    m.on_response(requests[0].id, make_document(key(1000), records, wall0), t0, wall0);
    REQUIRE(m.known_count() == 11);
    const auto blob = m.persist();

    bootstrap_manager back(key(1), c);
    auto restored = back.restore(blob, unix_ms{static_cast<int64_t>(wall0) + 5000});
    REQUIRE(restored);
    CHECK(*restored == 10); // the expired one is dropped
    CHECK(back.known_ids().size() == 10);
    CHECK(back.known().find(key(15).id()) != nullptr);
    {
        // Every restored record is announced (the node seeds membership from these events), so
        // a restart whose static nodes are unreachable still reaches the nodes it knew.
        const auto events = back.take_events();
        REQUIRE(events.size() == 10);
        for (const auto& e : events) {
            CHECK(e.what == discovery_event::kind::discovered);
            CHECK(e.record.id == e.id);
            CHECK(back.known().find(e.id) != nullptr);
        }
    }

    SECTION("every truncation is rejected") {
        for (size_t size = 0; size < blob.size(); size += 7) {
            bootstrap_manager t(key(1), c);
            CHECK_FALSE(t.restore(bytes_view(blob.data(), size), wall0));
        }
    }
    SECTION("a damaged signature drops that record only") {
        auto damaged = blob;
        damaged[damaged.size() - 2] ^= 0x40; // inside the last record's signature
        bootstrap_manager t(key(1), c);
        auto r = t.restore(damaged, wall0);
        REQUIRE(r);
        CHECK(*r == 10);
    }
    SECTION("a wrong version is rejected") {
        auto other = blob;
        other[4] = 9;
        bootstrap_manager t(key(1), c);
        CHECK_FALSE(t.restore(other, wall0));
        CHECK(t.counters().restore_rejected == 1);
    }
}

TEST_CASE("bootstrap_manager: random responses never break the invariants",
          "[discovery][bootstrap_manager]") {
    auto rng = test::seeded_rng(5);
    auto c = config_with_statics(3);
    c.table.nodes_max = 50;
    c.table.per_source_max = 20;
    c.concurrency_max = 3;
    bootstrap_manager m(key(1), c);
    m.start(t0, wall0);
    std::vector<node_record> pool;
    for (uint32_t i = 0; i < 80; ++i)
        pool.push_back(
            record_of(10 + i, static_cast<uint8_t>(i % 30 + 1), static_cast<uint8_t>(i / 30 + 1)));
    instant now = t0;
    for (int step = 0; step < 600; ++step) {
        now = now + std::chrono::milliseconds(rng() % 700);
        m.tick(now, wall0);
        for (const auto& r : m.take_requests()) {
            switch (rng() % 4) {
            case 0:
                m.on_failure(r.id, now);
                break;
            case 1:
                break; // times out
            default: {
                std::vector<node_record> list;
                for (size_t k = rng() % 30; k > 0; --k)
                    list.push_back(pool[rng() % pool.size()]);
                std::sort(list.begin(), list.end(),
                          [](const auto& a, const auto& b) { return a.id < b.id; });
                list.erase(std::unique(list.begin(), list.end(),
                                       [](const auto& a, const auto& b) { return a.id == b.id; }),
                           list.end());
                uint32_t signer = 0;
                for (uint32_t i = 0; i < 80; ++i)
                    signer = key(10 + i).id() == r.target ? 10 + i : signer;
                for (uint32_t s = 0; s < 3; ++s)
                    signer = key(1000 + s).id() == r.target ? 1000 + s : signer;
                REQUIRE(signer != 0);
                m.on_response(r.id, make_document(key(signer), list, wall0), now, wall0);
            }
            }
        }
        REQUIRE(m.in_flight() <= c.concurrency_max);
        REQUIRE(m.known_count() <= c.table.nodes_max);
        REQUIRE(m.selected(now).size() <= c.selected_max);
    }
    CHECK(m.counters().fetches_ok > 0);
}

} // namespace ainet::discovery

namespace ainet::discovery {

namespace {

// Claims to hold exactly one record.
struct holds_one final : verified_records {
    node_record held;
    bool contains(const node_record& r) const noexcept override { return r == held; }
};

} // namespace

TEST_CASE("parse_and_verify_document: records already held skip verification, same verdicts",
          "[discovery][bootstrap_manager]") {
    const node_record good = record_of(2, 1, 1);
    node_record forged = record_of(3, 2, 1);
    forged.http = addr(9, 9); // moved after signing: its signature fails
    const std::string doc = make_document(key(1000), std::vector{good, forged}, wall0);
    discovery_counters fresh_counters;
    auto fresh = parse_and_verify_document(doc, key(1000).id(), wall0, {}, fresh_counters);
    REQUIRE(fresh);

    holds_one cache;
    cache.held = good;
    discovery_counters cached_counters;
    auto cached =
        parse_and_verify_document(doc, key(1000).id(), wall0, {}, cached_counters, &cache);
    REQUIRE(cached);
    CHECK(cached->verdicts == fresh->verdicts);
    CHECK(cached->verdicts[0] == record_verdict::accepted);
    CHECK(cached->verdicts[1] == record_verdict::bad_signature);

    // A cache claiming the forged record's id with other bytes does not make it pass.
    cache.held = record_of(3, 2, 1);
    discovery_counters other_counters;
    auto other = parse_and_verify_document(doc, key(1000).id(), wall0, {}, other_counters, &cache);
    REQUIRE(other);
    CHECK(other->verdicts[1] == record_verdict::bad_signature);
}

} // namespace ainet::discovery
