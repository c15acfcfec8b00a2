#include <ainet/node/discovery_service.hpp>

#include <ainet/config/file.hpp>
#include <ainet/core/assert.hpp>
#include <ainet/core/encoding.hpp>
#include <ainet/node/relay_node.hpp>
#include <ainet/runtime/metrics.hpp>
#include <ainet/runtime/udp_socket.hpp>

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <iterator>
#include <map>

#include <sys/socket.h>

namespace ainet::node {

namespace {

instant monotonic_now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return instant{int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec};
}

unix_ms wall_now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return unix_ms{int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000};
}

// The netgroup the discovery scores diversity by: IPv4 /16, IPv6 /32.
std::string netgroup_text(const endpoint& e) {
    char text[64];
    if (e.family == address_family::ipv4) {
        std::snprintf(text, sizeof(text), "%u.%u.0.0/16", e.address[0], e.address[1]);
    } else {
        std::snprintf(text, sizeof(text), "%x:%x::/32", (e.address[0] << 8) | e.address[1],
                      (e.address[2] << 8) | e.address[3]);
    }
    return text;
}

std::string_view state_text(peer_state s) noexcept {
    switch (s) {
    case peer_state::alive: return "alive";
    case peer_state::suspect: return "suspect";
    case peer_state::unreachable: return "unreachable";
    case peer_state::dead: return "dead";
    case peer_state::left: return "left";
    }
    return "dead";
}

// host and port for httplib (IPv6 without brackets).
std::pair<std::string, int> host_port(const endpoint& e) {
    std::string host = to_string(e);
    host = host.substr(0, host.rfind(':'));
    if (!host.empty() && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    return {host, e.port};
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

constexpr std::string_view record_header = "Ainet-Node-Record";

// Label values for /metrics: the enumerators' names (to_string gives prose).
constexpr std::string_view errc_labels[] = {
    "", "too_large", "syntax", "too_deep", "bad_utf8", "duplicate_key", "not_integer",
    "integer_out_of_range", "wrong_type", "unknown_field", "missing_field", "bad_value",
    "too_many_records", "wrong_signer", "not_yet_valid", "bad_signature"};
static_assert(std::size(errc_labels) == discovery::errc_count);
static_assert(static_cast<size_t>(discovery::errc::bad_signature) == 15);
constexpr std::string_view verdict_labels[] = {"accepted",     "bad_signature", "duplicate",
                                               "bad_lifetime", "not_yet_valid", "expired"};
static_assert(std::size(verdict_labels) == discovery::record_verdict_count);
static_assert(static_cast<size_t>(discovery::record_verdict::expired) == 5);

} // namespace

discovery_service::discovery_service(const crypto::key_pair& keys,
                                     discovery_service_options options,
                                     membership_service* membership)
    : m_options(std::move(options)), m_membership(membership),
      m_manager(keys, m_options.manager) {}

discovery_service::~discovery_service() { stop(); }

void discovery_service::attach(relay_node& node) {
    node.handle_public_http("GET", "/bootstrap/nodes", [this](const http_request& request) {
        std::string client_text = request.remote_address.find(':') != std::string::npos
                                      ? "[" + request.remote_address + "]"
                                      : request.remote_address;
        client_text += ":" + std::to_string(request.remote_port == 0 ? 1 : request.remote_port);
        auto client = parse_endpoint(client_text);
        if (!client)
            return http_response{400, "text/plain; charset=utf-8", "bad client address\n"};
        std::lock_guard lock(m_mutex);
        const instant now = monotonic_now();
        const unix_ms wall = wall_now();
        if (!m_manager.admit(*client, now))
            return http_response{429, "text/plain; charset=utf-8", ""};
        for (const auto& [name, value] : request.headers) {
            if (!iequals(name, record_header))
                continue;
            if (value.size() <= discovery::record_text_size_max &&
                m_manager.on_announce(value, *client, now, wall)) {
                m_poke = true;
                m_wake.notify_all();
            } // the discovery thread seeds membership with it
            break;
        }
        return http_response{200, "application/json", m_manager.serve(now, wall)};
    });
    node.handle_http("GET", "/peers", [this](const http_request&) {
        return http_response{200, "application/json", peers_json()};
    });
    node.add_metrics([this](std::string& out) { render_metrics(out); });
}

void discovery_service::start() {
    std::lock_guard lock(m_mutex);
    AINET_ASSERT(!m_started);
    m_started = true;
    if (!m_options.state_file.empty()) {
        auto text = config::read_config_file(m_options.state_file,
                                             m_options.manager.persisted_size_max);
        if (text) {
            const auto* data = reinterpret_cast<const uint8_t*>(text->data());
            // A damaged or foreign file is counted by the manager (restore_rejected).
            (void)m_manager.restore(bytes_view(data, text->size()), wall_now());
        }
    }
    m_thread = std::thread([this] { run(); });
    for (unsigned i = 0; i < std::max(1u, m_options.fetch_threads); ++i)
        m_workers.emplace_back([this] { fetch_worker(); });
}

void discovery_service::stop() noexcept {
    {
        std::lock_guard lock(m_mutex);
        if (!m_started || m_stopping)
            return;
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    for (auto& worker : m_workers)
        if (worker.joinable())
            worker.join();
    std::lock_guard lock(m_mutex);
    persist_locked(true);
}

void discovery_service::run() {
    std::vector<endpoint> seeds;
    std::unique_lock lock(m_mutex);
    for (const auto& node : m_options.manager.statics.nodes)
        seeds.push_back(node.udp);
    m_reseeded_at = monotonic_now();
    m_persisted_at = m_reseeded_at - m_options.persist_interval; // the first change: at once
    m_manager.start(monotonic_now(), wall_now());
    while (!m_stopping) {
        const instant now = monotonic_now();
        const unix_ms wall = wall_now();
        std::vector<fetch_result> results;
        results.swap(m_results);
        for (fetch_result& r : results) {
            if (r.ok)
                m_manager.on_response(r.id, r.body, now, wall);
            else
                m_manager.on_failure(r.id, now);
        }
        if (now >= m_manager.next_deadline())
            m_manager.tick(now, wall);
        bool jobs = false;
        for (auto& request : m_manager.take_requests()) {
            m_jobs.push_back(request);
            jobs = true;
        }
        if (jobs) {
            m_announcement = m_manager.announcement(wall);
            m_wake.notify_all();
        }
        drain_events_locked(seeds);
        if (m_membership && now - m_reseeded_at >= m_options.reseed_interval) {
            m_reseeded_at = now;
            const auto snapshot = m_membership->directory().snapshot();
            const bool none_alive = std::none_of(
                snapshot->peers.begin(), snapshot->peers.end(),
                [](const peer_info& p) { return p.state == peer_state::alive; });
            if (none_alive)
                for (const auto& node : m_options.manager.statics.nodes)
                    seeds.push_back(node.udp);
        }
        m_known.store(m_manager.known_count(), std::memory_order_relaxed);
        m_selected.store(m_manager.selected(now).size(), std::memory_order_relaxed);
        if (now - m_persisted_at >= m_options.persist_interval)
            persist_locked(false);
        if (!seeds.empty() && m_membership) {
            std::vector<endpoint> batch;
            batch.swap(seeds);
            lock.unlock();
            for (const endpoint& e : batch)
                (void)m_membership->seed(e);
            lock.lock();
            continue; // events or results may have arrived meanwhile
        }
        seeds.clear();
        const duration wait =
            std::clamp<duration>(m_manager.next_deadline() - monotonic_now(),
                                 std::chrono::milliseconds(1), std::chrono::seconds(1));
        m_wake.wait_for(lock, wait, [this] {
            return m_stopping || m_poke || !m_results.empty();
        });
        m_poke = false;
    }
}

void discovery_service::drain_events_locked(std::vector<endpoint>& seeds) {
    for (const discovery::discovery_event& e : m_manager.take_events()) {
        m_state_dirty = true;
        if (e.what == discovery::discovery_event::kind::discovered)
            seeds.push_back(e.record.udp);
    }
}

void discovery_service::persist_locked(bool force) {
    if (m_options.state_file.empty() || (!m_state_dirty && !force))
        return;
    m_persisted_at = monotonic_now();
    m_state_dirty = false;
    const std::vector<uint8_t> blob = m_manager.persist();
    // Blocking I/O under the control-side mutex: a few KiB at most every persist_interval.
    auto written = config::write_file_atomic(
        m_options.state_file,
        std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()));
    (written ? m_persist_writes : m_persist_failures).fetch_add(1, std::memory_order_relaxed);
}

void discovery_service::fetch_worker() {
    const size_t cap = m_options.manager.document.document_size_max;
    for (;;) {
        discovery::fetch_request job;
        std::string announcement;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
            if (m_stopping)
                return;
            job = m_jobs.front();
            m_jobs.pop_front();
            announcement = m_announcement;
        }
        const auto [host, port] = host_port(job.http);
        httplib::Client client(host, port);
        const auto to_timeval = [](duration d) {
            return std::pair<time_t, time_t>(
                static_cast<time_t>(d.count() / 1'000'000'000),
                static_cast<time_t>((d.count() % 1'000'000'000) / 1000));
        };
        const auto [cs, cus] = to_timeval(m_options.connect_timeout);
        const auto [rs, rus] = to_timeval(m_options.read_timeout);
        client.set_connection_timeout(cs, cus);
        client.set_read_timeout(rs, rus);
        client.set_write_timeout(rs, rus);
        // The server accepts our announcement only from the IP address our record names, so
        // connect from it (loopback would otherwise pick the destination's address).
        client.set_socket_options([source = m_options.manager.http](int sock) {
            endpoint local = source;
            local.port = 0;
            const auto address = runtime::to_sockaddr(local);
            (void)::bind(sock, reinterpret_cast<const sockaddr*>(&address.storage), address.size);
        });
        httplib::Headers headers;
        if (!announcement.empty())
            headers.emplace(std::string(record_header), announcement);
        std::string body;
        bool capped = false;
        int status = 0;
        auto result = client.Get(
            "/bootstrap/nodes", headers,
            [&](const httplib::Response& response) {
                status = response.status;
                return response.status == 200;
            },
            [&](const char* data, size_t size) {
                // One byte past the cap is enough for the parser to say too_large.
                const size_t room = cap + 1 - body.size();
                body.append(data, std::min(size, room));
                if (body.size() > cap) {
                    capped = true;
                    return false;
                }
                return true;
            });
        const bool ok = capped || (result && status == 200);
        if (capped)
            m_fetch_bodies_capped.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard lock(m_mutex);
            m_results.push_back({job.id, ok, ok ? std::move(body) : std::string()});
        }
        m_wake.notify_all();
    }
}

std::string discovery_service::peers_json() {
    struct row {
        peer_info member;
        bool in_membership = false;
        std::optional<discovery::peer_view> view;
    };
    std::map<node_id, row> rows;
    if (m_membership) {
        const auto snapshot = m_membership->directory().snapshot();
        for (const peer_info& p : snapshot->peers) {
            rows[p.id].member = p;
            rows[p.id].in_membership = true;
        }
    }
    {
        std::lock_guard lock(m_mutex);
        for (discovery::peer_view& v : m_manager.peers(monotonic_now())) {
            if (!v.has_record && !rows.contains(v.id))
                continue; // a static node we hold no record of (not verified yet)
            rows[v.id].view = v;
        }
    }
    std::string out = "[";
    bool first = true;
    for (const auto& [id, r] : rows) {
        endpoint udp = r.in_membership ? r.member.udp : r.view->udp;
        endpoint http = r.view ? r.view->http : endpoint{};
        out += first ? "\n" : ",\n";
        first = false;
        out += "{\"id\":\"" + to_hex(id.bytes) + "\"";
        out += ",\"udp\":\"" + to_string(udp) + "\"";
        out += ",\"http\":\"" + (http.port != 0 ? to_string(http) : std::string()) + "\"";
        out += ",\"state\":\"" +
               std::string(r.in_membership ? state_text(r.member.state) : "discovered") + "\"";
        out += ",\"incarnation\":" + std::to_string(r.in_membership ? r.member.incarnation : 0);
        out += ",\"rtt_us\":" + std::to_string(r.in_membership ? r.member.rtt_us : -1);
        out += ",\"score\":" + std::to_string(r.view ? r.view->score : 0);
        out += ",\"selected\":" + std::string(r.view && r.view->selected ? "true" : "false");
        out += ",\"discovery_rtt_us\":" + std::to_string(r.view ? r.view->rtt_ewma_us : -1);
        out += ",\"netgroup\":\"" + netgroup_text(http.port != 0 ? http : udp) + "\"}";
    }
    out += first ? "]\n" : "\n]\n";
    return out;
}

void discovery_service::render_metrics(std::string& out) const {
    const discovery::bootstrap_counters& c = m_manager.counters();
    const auto counter = [&out](std::string_view name, std::string_view help,
                                const std::atomic<uint64_t>& v) {
        runtime::render_metric(out, std::string("ainet_discovery_") + std::string(name) + "_total",
                               "counter", help, v.load(std::memory_order_relaxed));
    };
    counter("fetches_started", "bootstrap list fetches started", c.fetches_started);
    counter("feelers_started", "fetches to never-contacted nodes in maintenance", c.feelers_started);
    counter("fetches_ok", "fetches answered with an accepted list", c.fetches_ok);
    counter("fetches_failed", "fetches failed in transport", c.fetches_failed);
    counter("fetches_timed_out", "fetches without an answer in time", c.fetches_timed_out);
    counter("fetches_rejected", "fetches answered with a rejected list", c.fetches_rejected);
    counter("responses_unknown", "answers to no fetch in flight", c.responses_unknown);
    counter("records_added", "records added to the known table", c.records_added);
    counter("records_updated", "records replaced by a newer one", c.records_updated);
    counter("records_source_capped", "records refused: per-source cap", c.records_source_capped);
    counter("records_table_full", "records refused: table full", c.records_table_full);
    counter("records_too_deep", "lists from depth_max nodes, not merged", c.records_too_deep);
    counter("nodes_pruned", "learned nodes pruned after repeated failures", c.nodes_pruned);
    counter("records_pruned_before", "records pruned before, listed again", c.records_pruned_before);
    counter("static_fallbacks", "rounds that went back to the static list", c.static_fallbacks);
    counter("announces_accepted", "announced records accepted", c.announces_accepted);
    counter("announces_rejected", "announced records rejected", c.announces_rejected);
    counter("served", "GET /bootstrap/nodes answered", c.served);
    counter("serve_signatures", "served lists signed", c.serve_signatures);
    counter("rate_limited", "GET /bootstrap/nodes refused with 429", c.rate_limited);
    counter("rate_table_full", "requests refused: rate table full", c.rate_table_full);
    counter("events_dropped", "discovery events dropped", c.events_dropped);
    counter("restored_records", "records restored from the state file", c.restored_records);
    counter("restore_rejected", "state files refused whole", c.restore_rejected);
    counter("documents_accepted", "lists accepted", c.documents.documents_accepted);
    counter("state_writes", "state file writes", m_persist_writes);
    counter("state_write_failures", "state file writes that failed", m_persist_failures);
    counter("bodies_capped", "fetched bodies cut at document_size_max", m_fetch_bodies_capped);
    out.append("# HELP ainet_discovery_lists_rejected_total lists rejected whole, by reason\n"
               "# TYPE ainet_discovery_lists_rejected_total counter\n");
    for (size_t i = 1; i < discovery::errc_count; ++i)
        out.append("ainet_discovery_lists_rejected_total{reason=\"")
            .append(errc_labels[i])
            .append("\"} ")
            .append(std::to_string(c.documents.documents_rejected[i].load(std::memory_order_relaxed)))
            .append("\n");
    out.append("# HELP ainet_discovery_records_total records in accepted lists, by verdict\n"
               "# TYPE ainet_discovery_records_total counter\n");
    for (size_t i = 0; i < discovery::record_verdict_count; ++i)
        out.append("ainet_discovery_records_total{verdict=\"")
            .append(verdict_labels[i])
            .append("\"} ")
            .append(std::to_string(c.documents.records_by_verdict[i].load(std::memory_order_relaxed)))
            .append("\n");
    runtime::render_metric(out, "ainet_discovery_known_nodes", "gauge", "learned nodes known",
                           m_known.load(std::memory_order_relaxed));
    runtime::render_metric(out, "ainet_discovery_selected_nodes", "gauge", "nodes selected",
                           m_selected.load(std::memory_order_relaxed));
}

} // namespace ainet::node
