#include <ainet/sim/membership_scenarios.hpp>

#include <ainet/sim/membership_node.hpp>
#include <ainet/sim/world.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <unordered_map>

namespace ainet::sim {

namespace {

using mevent = membership::event_kind;
using membership::member_state;

struct setup {
    std::unique_ptr<membership_world> shared;
    std::unique_ptr<world> w;
    uint32_t node_count = 0;

    setup(const membership_scenario& s, uint32_t extra_nodes) : node_count(s.node_count) {
        world_config config;
        config.seed = s.seed;
        config.default_link = s.link;
        config.addresses.netgroup_count = 64;
        config.datagram_size_max = 1472;
        shared = std::make_unique<membership_world>(s.node_count + extra_nodes, s.seed,
                                                    config.addresses, s.config);
        shared->preload_count = s.node_count;
        w = std::make_unique<world>(config, shared->factory());
        w->add_nodes(s.node_count);
    }

    [[nodiscard]] uint64_t bytes_sent() const {
        return shared->total(&membership::membership_counters::bytes_sent);
    }
    [[nodiscard]] uint64_t datagrams_sent() const {
        using C = membership::membership_counters;
        return shared->total(&C::pings_sent) + shared->total(&C::acks_sent) +
               shared->total(&C::ping_reqs_sent) + shared->total(&C::nacks_sent) +
               shared->total(&C::gossips_sent) + shared->total(&C::push_pulls_sent);
    }
    [[nodiscard]] membership::membership_core* core(uint32_t i) {
        auto* n = w->process_as<membership_node>(node_index{i});
        return n == nullptr ? nullptr : &n->core();
    }
};

membership_traffic traffic_between(uint64_t bytes_before, uint64_t bytes_after,
                                   uint64_t datagrams_before, uint64_t datagrams_after,
                                   uint32_t nodes, duration span) {
    const double seconds = std::chrono::duration<double>(span).count();
    membership_traffic t;
    t.bytes_per_node_per_second = static_cast<double>(bytes_after - bytes_before) / nodes / seconds;
    t.datagrams_per_node_per_second =
        static_cast<double>(datagrams_after - datagrams_before) / nodes / seconds;
    return t;
}

// The time by which `fraction` of `total` had it (times sorted ascending), or nullopt.
std::optional<duration> quantile(const std::vector<duration>& sorted, uint32_t total,
                                 double fraction) {
    const auto needed = static_cast<size_t>(std::ceil(fraction * total - 1e-9));
    if (needed == 0)
        return duration{0};
    if (sorted.size() < needed)
        return std::nullopt;
    return sorted[needed - 1];
}

} // namespace

dissemination_result run_dissemination(const membership_scenario& s, duration horizon) {
    setup env(s, 1);
    const uint32_t joiner = s.node_count;
    const node_id joiner_id = env.shared->keys[joiner].id();
    std::vector<std::optional<instant>> learned(s.node_count);
    instant joined_at{};
    env.shared->on_event = [&](node_index at, const membership::membership_event& e) {
        if (e.kind == mevent::joined && e.member == joiner_id && to_index(at) < s.node_count &&
            !learned[to_index(at)])
            learned[to_index(at)] = e.at;
    };
    env.w->run_for(std::chrono::seconds(1));
    const uint64_t b0 = env.bytes_sent();
    const uint64_t d0 = env.datagrams_sent();
    const duration window =
        std::max(s.settle - std::chrono::seconds(1), duration{std::chrono::seconds(1)});
    env.w->run_for(window);
    dissemination_result r;
    r.steady =
        traffic_between(b0, env.bytes_sent(), d0, env.datagrams_sent(), s.node_count, window);
    joined_at = env.w->now();
    env.w->add_node();
    env.w->run_for(horizon);
    std::vector<duration> times;
    for (const auto& t : learned) {
        if (t)
            times.push_back(*t - joined_at);
    }
    std::sort(times.begin(), times.end());
    r.reached = static_cast<uint32_t>(times.size());
    r.p50 = quantile(times, s.node_count, 0.5).value_or(horizon);
    r.p9999 = quantile(times, s.node_count, 0.9999).value_or(horizon);
    r.last = times.size() == s.node_count ? times.back() : horizon;
    return r;
}

detection_result run_crash_detection(const membership_scenario& s, duration horizon) {
    setup env(s, 0);
    const uint32_t victim = s.node_count - 1;
    const node_id victim_id = env.shared->keys[victim].id();
    std::vector<std::optional<instant>> dead_at(s.node_count);
    std::optional<instant> first_suspect;
    detection_result r;
    env.shared->on_event = [&](node_index at, const membership::membership_event& e) {
        if (e.member == victim_id && e.kind == mevent::suspect && !first_suspect)
            first_suspect = e.at;
        if (e.kind == mevent::dead) {
            if (e.member == victim_id) {
                if (!dead_at[to_index(at)])
                    dead_at[to_index(at)] = e.at;
            } else {
                ++r.false_deaths;
            }
        }
    };
    env.w->run_for(s.settle);
    const instant crashed_at = env.w->now();
    env.w->crash(node_index{victim});
    env.w->run_for(horizon);
    std::tie(r.suspicion_min, r.suspicion_max) =
        membership::membership_core::suspicion_bounds(s.config, s.node_count);
    r.live = s.node_count - 1;
    r.first_suspect = first_suspect ? *first_suspect - crashed_at : horizon;
    r.first_dead = horizon;
    for (uint32_t i = 0; i < victim; ++i) {
        auto m = env.core(i)->find(victim_id);
        if (m && m->state == member_state::dead && dead_at[i]) {
            ++r.declared;
            r.all_dead = std::max(r.all_dead, *dead_at[i] - crashed_at);
            r.first_dead = std::min(r.first_dead, *dead_at[i] - crashed_at);
        }
    }
    if (r.declared < r.live)
        r.all_dead = horizon;
    return r;
}

false_positive_result run_false_positives(const membership_scenario& s, duration span) {
    setup env(s, 0);
    false_positive_result r;
    env.shared->on_event = [&](node_index, const membership::membership_event& e) {
        r.deaths += e.kind == mevent::dead ? 1 : 0;
        r.suspicions += e.kind == mevent::suspect ? 1 : 0;
        r.refutations += e.kind == mevent::refuted ? 1 : 0;
        r.partitions += e.kind == mevent::partition_suspected ? 1 : 0;
    };
    env.w->run_for(std::chrono::seconds(1));
    const uint64_t b0 = env.bytes_sent();
    const uint64_t d0 = env.datagrams_sent();
    env.w->run_for(span);
    r.traffic = traffic_between(b0, env.bytes_sent(), d0, env.datagrams_sent(), s.node_count, span);
    return r;
}

stall_result run_stall(const membership_scenario& s, duration stall, duration after) {
    setup env(s, 0);
    const node_id stalled_id = env.shared->keys[0].id();
    stall_result r;
    std::optional<instant> woke;
    env.shared->on_event = [&](node_index at, const membership::membership_event& e) {
        r.deaths += e.kind == mevent::dead ? 1 : 0;
        if (e.kind == mevent::suspect && e.member == stalled_id)
            ++r.stalled_was_suspected;
        if (to_index(at) == 0 && woke) {
            if (e.kind == mevent::suspect || e.kind == mevent::dead ||
                e.kind == mevent::partition_suspected)
                ++r.accusations_after_wake;
            if (e.kind == mevent::refuted)
                ++r.stalled_refutations;
        }
    };
    env.w->run_for(s.settle);
    env.w->pause(node_index{0});
    env.w->run_for(stall);
    woke = env.w->local_now(node_index{0});
    env.w->resume(node_index{0});
    env.w->run_for(after);
    return r;
}

isolation_result run_isolation(const membership_scenario& s, duration cut, duration after) {
    setup env(s, 0);
    const node_id isolated_id = env.shared->keys[0].id();
    isolation_result r;
    env.shared->on_event = [&](node_index at, const membership::membership_event& e) {
        if (to_index(at) == 0) {
            r.isolated_declared_dead += e.kind == mevent::dead ? 1 : 0;
            r.isolated_partition_events += e.kind == mevent::partition_suspected ? 1 : 0;
        } else if (e.kind == mevent::dead && e.member != isolated_id) {
            ++r.others_declared_dead;
        }
    };
    env.w->run_for(s.settle);
    const node_index cut_off[] = {node_index{0}};
    const partition_id p = env.w->isolate(cut_off);
    env.w->run_for(cut);
    env.w->heal(p);
    env.w->run_for(after);
    r.live = s.node_count - 1;
    for (uint32_t i = 1; i < s.node_count; ++i) {
        auto m = env.core(i)->find(isolated_id);
        r.see_isolated_alive_at_end += (m && m->state == member_state::alive) ? 1 : 0;
    }
    return r;
}

rejoin_result run_rejoin(const membership_scenario& s, bool with_state, duration down,
                         duration horizon) {
    setup env(s, 0);
    const uint32_t victim = s.node_count - 1;
    const node_id victim_id = env.shared->keys[victim].id();
    rejoin_result r;
    r.live = s.node_count - 1;
    std::vector<std::optional<instant>> back_at(s.node_count);
    bool restarted = false;
    env.shared->on_event = [&](node_index at, const membership::membership_event& e) {
        if (e.kind == mevent::dead && e.member != victim_id)
            ++r.false_deaths;
        if (restarted && e.member == victim_id &&
            (e.kind == mevent::joined || e.kind == mevent::alive) && !back_at[to_index(at)])
            back_at[to_index(at)] = e.at;
    };
    env.w->run_for(s.settle);
    r.incarnation_before = env.core(victim)->incarnation();
    env.w->crash(node_index{victim});
    env.w->run_for(down);
    for (uint32_t i = 0; i < victim; ++i) {
        auto m = env.core(i)->find(victim_id);
        if (!m)
            ++r.reaped;
        else if (m->state == member_state::dead)
            ++r.declared_dead;
    }
    r.declared_dead += r.reaped;
    const instant restart_at = env.w->now();
    restarted = true;
    env.w->restart(node_index{victim}, with_state ? restart_mode::with_state : restart_mode::fresh);
    env.w->run_for(std::chrono::milliseconds(1)); // on_start
    r.incarnation_after = env.core(victim)->incarnation();
    env.w->run_for(horizon);
    for (uint32_t i = 0; i < victim; ++i) {
        auto m = env.core(i)->find(victim_id);
        if (m && m->state == member_state::alive && m->incarnation >= r.incarnation_after &&
            back_at[i]) {
            ++r.rejoined;
            r.rejoin_last = std::max(r.rejoin_last, *back_at[i] - restart_at);
        }
    }
    if (r.rejoined < r.live)
        r.rejoin_last = horizon;
    return r;
}

partition_result run_partition(const membership_scenario& s, duration cut, duration after,
                               bool crash_during) {
    const uint32_t victim = s.node_count - 1;
    setup env(s, 0);
    const uint32_t half = s.node_count / 2;
    const auto side_of = [half](uint32_t i) { return i < half ? 0 : 1; };
    std::vector<std::optional<instant>> suspected_at(s.node_count);
    std::vector<std::optional<instant>> healed_at(s.node_count);
    std::unordered_map<node_id, uint32_t> index_of_id;
    for (uint32_t i = 0; i < s.node_count; ++i)
        index_of_id.emplace(env.shared->keys[i].id(), i);
    partition_result r;
    r.nodes = s.node_count;
    const node_id victim_id = env.shared->keys[victim].id();
    bool after_heal = false;
    env.shared->on_event = [&](node_index at, const membership::membership_event& e) {
        const uint32_t i = to_index(at);
        r.deaths += e.kind == mevent::dead ? 1 : 0;
        r.deaths_after_heal += (e.kind == mevent::dead && after_heal) ? 1 : 0;
        r.false_deaths +=
            (e.kind == mevent::dead && !(crash_during && e.member == victim_id)) ? 1 : 0;
        if (e.kind == mevent::partition_suspected && !suspected_at[i]) {
            suspected_at[i] = e.at;
            bool other_side = !e.members.empty();
            for (const node_id& m : e.members)
                other_side = other_side && side_of(index_of_id.at(m)) != side_of(i);
            r.sets_on_other_side += other_side ? 1 : 0;
        }
        if (e.kind == mevent::partition_healed && !healed_at[i])
            healed_at[i] = e.at;
    };
    env.w->run_for(s.settle);
    std::vector<node_index> a;
    std::vector<node_index> b;
    for (uint32_t i = 0; i < s.node_count; ++i)
        (side_of(i) == 0 ? a : b).push_back(node_index{i});
    const instant split_at = env.w->now();
    const partition_id p = env.w->partition(a, b);
    if (crash_during) {
        env.w->run_for(cut / 2);
        env.w->crash(node_index{victim});
        env.w->run_for(cut - cut / 2);
    } else {
        env.w->run_for(cut);
    }
    const instant healed = env.w->now();
    env.w->heal(p);
    after_heal = true;
    // Whether node i holds every other member alive (the crashed one aside).
    const auto all_alive_at = [&](uint32_t i) {
        for (const auto& row : env.core(i)->snapshot()) {
            if (row.state != member_state::alive && !(crash_during && row.id == victim_id))
                return false;
        }
        return true;
    };
    const auto everyone_alive = [&] {
        for (uint32_t i = 0; i < s.node_count; ++i) {
            if (!(crash_during && i == victim) && !all_alive_at(i))
                return false;
        }
        return true;
    };
    r.all_alive_after = after;
    for (duration spent{0}; spent < after;) {
        const duration step = std::min<duration>(std::chrono::seconds(1), after - spent);
        env.w->run_for(step);
        spent += step;
        if (r.all_alive_after == after && everyone_alive()) {
            r.all_alive_after = spent;
            env.w->run_for(after - spent);
            break;
        }
    }
    for (uint32_t i = 0; crash_during && i < victim; ++i) {
        auto m = env.core(i)->find(victim_id);
        r.crashed_dead_at_end += (!m || m->state == member_state::dead) ? 1 : 0;
    }
    for (uint32_t i = 0; i < s.node_count; ++i) {
        if (crash_during && i == victim)
            continue;
        if (suspected_at[i]) {
            ++r.reported_partition;
            r.suspected_max = std::max(r.suspected_max, *suspected_at[i] - split_at);
        }
        if (healed_at[i] && *healed_at[i] >= healed) {
            ++r.healed;
            r.heal_max = std::max(r.heal_max, *healed_at[i] - healed);
        }
        r.all_alive_at_end += all_alive_at(i) ? 1 : 0;
    }
    if (r.healed < r.reported_partition)
        r.heal_max = after;
    return r;
}

} // namespace ainet::sim
