// Goal: reliability_core keeps its promises end to end in the simulator, unchanged: over lossy
// (5%, 20%), reordering, duplicating links; through a partition longer than the whole retry
// budget (undeliverable, suspect, then delivered once membership reports the peer alive);
// across receiver and sender crashes with and without state; through the production relay
// (relay_core forwarding relay_data); and against a slow receiver. Each run checks that the
// receiving application saw exactly the accepted messages, in order, each once (or, where a
// node lost its state, every accepted message at least once and in order after the restart).

#include <ainet/sim/reliability_node.hpp>
#include "sim_support.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace ainet;
using namespace ainet::sim;
using namespace std::chrono_literals;

namespace {

struct scenario {
    world_config config;
    std::shared_ptr<reliable::options> sender = std::make_shared<reliable::options>();
    std::shared_ptr<reliable::options> receiver = std::make_shared<reliable::options>();
    std::shared_ptr<reliable::app_log> log = std::make_shared<reliable::app_log>();
    bool with_relay = false;
    std::unique_ptr<world> w;

    // Nodes: 0 sender, 1 receiver, 2 relay (when with_relay).
    void build(uint64_t seed) {
        REQUIRE(crypto::init());
        config.seed = seed;
        std::vector<node_id> ids{reliable::keys_of(0).id(), reliable::keys_of(1).id()};
        sender->ids = receiver->ids = ids;
        sender->peer = 1;
        receiver->peer = 0;
        if (with_relay) {
            const endpoint relay_at = config.addresses.endpoint_of(node_index{2});
            sender->relay = receiver->relay = relay_at;
        }
        auto s = sender;
        auto r = receiver;
        auto l = log;
        w = std::make_unique<world>(
            config, [s, r, l](const node_spec& spec) -> std::unique_ptr<sim::node> {
                switch (to_index(spec.index)) {
                case 0:
                    return std::make_unique<reliable::reliable_node>(spec, s, l);
                case 1:
                    return std::make_unique<reliable::reliable_node>(spec, r, l);
                default:
                    return std::make_unique<reliable::relay_sim_node>();
                }
            });
        w->add_nodes(with_relay ? 3 : 2);
    }

    reliable::reliable_node* at(uint32_t i) {
        return w->process_as<reliable::reliable_node>(node_index{i});
    }

    bool all_acknowledged() {
        auto* s = at(0);
        return s && s->sent() == sender->send_count && s->core().outbox_count() == 0 &&
               log->accepted.size() == sender->send_count;
    }

    bool run_until_done(duration limit) {
        const instant end = w->now() + limit;
        while (w->now() < end) {
            w->run_for(100ms);
            if (all_acknowledged() && log->delivered.size() >= log->accepted.size())
                return true;
        }
        return false;
    }
};

// Exactly the accepted tags, in order, each once.
void check_exact(const reliable::app_log& log) {
    REQUIRE(log.delivered.size() == log.accepted.size());
    for (size_t i = 0; i < log.accepted.size(); ++i)
        REQUIRE(log.delivered[i] == log.accepted[i]);
}

} // namespace

TEST_CASE("reliable delivery over lossy, reordering, duplicating links", "[sim][reliability]") {
    for (double loss : {0.0, 0.05, 0.20}) {
        const uint64_t seed = test::run_seed(static_cast<uint64_t>(loss * 100) + 800);
        CAPTURE(seed, loss);
        scenario s;
        s.config.default_link.latency_base = 10ms;
        s.config.default_link.jitter = 3ms;
        s.config.default_link.loss = loss;
        s.config.default_link.duplicate = 0.02;
        s.config.default_link.reorder = 0.05;
        s.sender->send_count = loss > 0.1 ? 1000 : 3000;
        s.build(seed);
        REQUIRE(s.run_until_done(120s));
        check_exact(*s.log);
        CHECK(s.log->undeliverable == 0);
        auto& c = s.at(0)->counters();
        if (loss > 0)
            CHECK(c.retransmissions.load() > 0);
        // Packing: 64-byte messages in 1200-byte datagrams, plus retransmissions.
        CHECK(c.datagrams_sent.load() < s.sender->send_count / 4);
    }
}

TEST_CASE("a partition longer than the retry budget: undeliverable, then delivered when alive",
          "[sim][reliability]") {
    const uint64_t seed = test::run_seed(810);
    CAPTURE(seed);
    scenario s;
    s.sender->send_count = 400;
    s.sender->batch = 20;
    s.sender->interval = 20ms;
    bool healed = false;
    s.sender->peer_alive = [&healed] { return healed; };
    s.build(seed);
    s.w->run_for(100ms);
    const std::array<node_index, 1> a{node_index{0}};
    const std::array<node_index, 1> b{node_index{1}};
    const auto cut = s.w->partition(a, b);
    s.w->run_for(12s); // far beyond 100+200+400+800+1600+1600 ms
    CHECK(s.log->suspect >= 1);
    CHECK(s.log->undeliverable > 0);
    CHECK(s.at(0)->core().is_suspect(reliable::keys_of(1).id()));
    CHECK(s.at(0)->core().outbox_count() > 0); // kept, not dropped
    s.w->heal(cut);
    healed = true;
    REQUIRE(s.run_until_done(30s));
    check_exact(*s.log);
    CHECK(s.log->expired == 0);
}

TEST_CASE("receiver crash: with state no loss and no duplicate; without state at least once",
          "[sim][reliability]") {
    for (const bool with_state : {true, false}) {
        const uint64_t seed = test::run_seed(with_state ? 820 : 821);
        CAPTURE(seed, with_state);
        scenario s;
        s.config.default_link.loss = 0.05;
        s.sender->send_count = 2000;
        s.sender->batch = 20;
        s.build(seed);
        s.w->run_for(150ms);
        s.w->crash(node_index{1});
        const size_t before = s.log->delivered.size();
        s.w->run_for(2s);
        s.w->restart(node_index{1}, with_state ? restart_mode::with_state : restart_mode::fresh);
        REQUIRE(s.run_until_done(60s));
        if (with_state) {
            check_exact(*s.log);
        } else {
            // Everything accepted arrived; after the restart, in order; and the messages it
            // saw again are only those its lost state had not acknowledged.
            std::vector<uint32_t> sorted = s.log->delivered;
            std::sort(sorted.begin(), sorted.end());
            sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
            CHECK(sorted.size() == s.log->accepted.size());
            for (size_t i = before + 1; i < s.log->delivered.size(); ++i)
                if (s.log->delivered[i] <= s.log->delivered[i - 1])
                    REQUIRE(i == before); // only the restart point may go back
            CHECK(s.log->delivered.back() == s.log->accepted.back());
        }
    }
}

TEST_CASE("sender crash with state: every accepted message is delivered, in order, once",
          "[sim][reliability]") {
    const uint64_t seed = test::run_seed(830);
    CAPTURE(seed);
    scenario s;
    s.config.default_link.loss = 0.05;
    s.sender->send_count = 2000;
    s.sender->batch = 20;
    s.build(seed);
    s.w->run_for(200ms);
    s.w->crash(node_index{0});
    s.w->run_for(500ms);
    s.w->restart(node_index{0}, restart_mode::with_state);
    REQUIRE(s.run_until_done(60s));
    check_exact(*s.log);
    CHECK(s.at(1)->counters().peer_restarts.load() == 1); // it saw the new incarnation
}

TEST_CASE("end to end through the production relay over lossy links", "[sim][reliability][relay]") {
    const uint64_t seed = test::run_seed(840);
    CAPTURE(seed);
    scenario s;
    s.with_relay = true;
    s.config.default_link.latency_base = 8ms;
    s.config.default_link.loss = 0.05;
    s.config.default_link.duplicate = 0.01;
    s.sender->send_count = 1500;
    s.build(seed);
    REQUIRE(s.run_until_done(60s));
    check_exact(*s.log);
    auto* relay = s.w->process_as<reliable::relay_sim_node>(node_index{2});
    REQUIRE(relay != nullptr);
    CHECK(relay->counters.forwarded.load() > 0);
    CHECK(relay->core.session_count() == 2);
}

TEST_CASE("a slow receiver is not flooded", "[sim][reliability]") {
    const uint64_t seed = test::run_seed(850);
    CAPTURE(seed);
    scenario s;
    s.sender->config.receive_window = 128;
    s.receiver->config.receive_window = 128;
    s.receiver->config.auto_process = false;
    s.receiver->process_per_ms = 1; // 1000 messages per second
    s.sender->send_count = 3000;
    s.sender->batch = 200;
    s.build(seed);
    REQUIRE(s.run_until_done(30s));
    check_exact(*s.log);
    auto& rc = s.at(1)->counters();
    CHECK(rc.drop_beyond_window.load() == 0);
    CHECK(s.log->undeliverable == 0);
    // Paced by the application: about 3 s for 3000 messages.
    CHECK(s.w->now() - s.w->config().start >= 2900ms);
}

TEST_CASE("reliability scenarios replay from their seed", "[sim][reliability]") {
    auto run = [](uint64_t seed) {
        scenario s;
        s.config.default_link.loss = 0.1;
        s.config.default_link.reorder = 0.1;
        s.sender->send_count = 300;
        s.build(seed);
        s.w->run_for(5s);
        return s.w->trace_hash();
    };
    CHECK(run(42) == run(42));
    CHECK(run(42) != run(43));
}
