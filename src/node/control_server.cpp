#include <ainet/node/control_server.hpp>

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace ainet::node {

namespace {

// Token bucket per client address; the map is pruned when it grows past its cap so a spray of
// source addresses cannot grow it without bound.
class client_rate_limiter {
public:
    explicit client_rate_limiter(uint32_t per_second) : m_rate(per_second) {}

    bool allow(const std::string& client) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(m_mutex);
        if (m_buckets.size() > clients_max)
            m_buckets.clear();
        auto [it, inserted] = m_buckets.try_emplace(client, bucket{2.0 * m_rate, now});
        bucket& b = it->second;
        if (!inserted) {
            const double elapsed = std::chrono::duration<double>(now - b.last).count();
            b.tokens = std::min(2.0 * m_rate, b.tokens + elapsed * m_rate);
            b.last = now;
        }
        if (b.tokens < 1.0)
            return false;
        b.tokens -= 1.0;
        return true;
    }

private:
    static constexpr size_t clients_max = 4096;
    struct bucket {
        double tokens;
        std::chrono::steady_clock::time_point last;
    };
    uint32_t m_rate;
    std::mutex m_mutex;
    std::unordered_map<std::string, bucket> m_buckets;
};

} // namespace

struct control_server::impl {
    explicit impl(const control_server_options& o) : options(o), limiter(o.requests_per_second) {}

    control_server_options options;
    httplib::Server server;
    client_rate_limiter limiter;
    std::thread thread;
    std::atomic<uint64_t> too_large{0};
    std::atomic<uint64_t> rate_limited{0};
    std::atomic<uint64_t> served{0};
};

control_server::control_server(control_server_options options)
    : m_impl(std::make_unique<impl>(options)) {
    auto& s = m_impl->server;
    const unsigned threads = std::max(1u, options.threads);
    s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    s.set_payload_max_length(options.request_size_max);
    const auto timeout_s = std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(options.read_timeout).count());
    s.set_read_timeout(timeout_s, 0);
    s.set_write_timeout(timeout_s, 0);
    s.set_keep_alive_max_count(100);
    impl* self = m_impl.get();
    s.set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
        if (!self->limiter.allow(req.remote_addr)) {
            self->rate_limited.fetch_add(1, std::memory_order_relaxed);
            res.status = 429;
            res.set_content("rate limited\n", "text/plain");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    s.set_error_handler([self](const httplib::Request&, httplib::Response& res) {
        if (res.status == 413)
            self->too_large.fetch_add(1, std::memory_order_relaxed);
        if (res.body.empty())
            res.set_content(std::to_string(res.status) + "\n", "text/plain");
    });
}

control_server::~control_server() { stop(); }

void control_server::handle(const std::string& method, const std::string& path, http_handler handler) {
    std::string pattern = path;
    if (!pattern.empty() && pattern.back() == '*')
        pattern = pattern.substr(0, pattern.size() - 1) + "(.*)";
    impl* self = m_impl.get();
    auto adapter = [self, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        http_request request{req.method, req.path, {}, req.body, req.remote_addr};
        for (const auto& [k, v] : req.params)
            request.query.emplace(k, v);
        // membership/discovery: headers and client port.
        for (const auto& [k, v] : req.headers)
            request.headers.emplace(k, v);
        request.remote_port = static_cast<uint16_t>(req.remote_port);
        http_response response = handler(request);
        res.status = response.status;
        res.set_content(std::move(response.body), response.content_type.c_str());
        self->served.fetch_add(1, std::memory_order_relaxed);
    };
    auto& s = m_impl->server;
    if (method == "GET")
        s.Get(pattern, adapter);
    else if (method == "POST")
        s.Post(pattern, adapter);
    else if (method == "PUT")
        s.Put(pattern, adapter);
    else if (method == "DELETE")
        s.Delete(pattern, adapter);
}

bool control_server::start(std::string& error) {
    auto& s = m_impl->server;
    std::string host = to_string(m_impl->options.listen);
    host = host.substr(0, host.rfind(':'));
    if (!host.empty() && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    int port = m_impl->options.listen.port;
    if (port == 0) {
        port = s.bind_to_any_port(host);
        if (port < 0) {
            error = "cannot bind the control address " + to_string(m_impl->options.listen);
            return false;
        }
    } else if (!s.bind_to_port(host, port)) {
        error = "cannot bind the control address " + to_string(m_impl->options.listen) +
                " (in use, or not a local address)";
        return false;
    }
    m_local = m_impl->options.listen;
    m_local.port = static_cast<uint16_t>(port);
    m_impl->thread = std::thread([this] { m_impl->server.listen_after_bind(); });
    // cpp-httplib's stop() is a no-op until the listen loop runs (upstream issues #1371,
    // #1645): wait for it, so a stop() right after start() cannot hang in join().
    for (int i = 0; i < 5000 && !s.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
}

void control_server::stop() noexcept {
    if (m_impl && m_impl->thread.joinable()) {
        m_impl->server.stop();
        m_impl->thread.join();
    }
}

uint64_t control_server::rejected_too_large() const noexcept { return m_impl->too_large.load(); }
uint64_t control_server::rejected_rate_limited() const noexcept { return m_impl->rate_limited.load(); }
uint64_t control_server::served() const noexcept { return m_impl->served.load(); }

} // namespace ainet::node
