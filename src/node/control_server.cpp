#include <ainet/node/control_server.hpp>

#include <ainet/runtime/metrics.hpp>

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace ainet::node {

namespace {

using steady = std::chrono::steady_clock;

int to_poll_ms(duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return static_cast<int>(std::clamp<int64_t>(ms, 0, 3600 * 1000));
}

// Token bucket per client address; the map is pruned when it grows past its cap so a spray of
// source addresses cannot grow it without bound.
class client_rate_limiter {
public:
    explicit client_rate_limiter(uint32_t per_second) : m_rate(per_second) {}

    bool allow(const std::string& client) {
        const auto now = steady::now();
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
        steady::time_point last;
    };
    uint32_t m_rate;
    std::mutex m_mutex;
    std::unordered_map<std::string, bucket> m_buckets;
};

// Why a connection was cut by the stream (not by the peer).
enum class cut_reason : uint8_t { none, read_timeout, deadline };

// A socket stream whose reads stop at a per-request deadline, so that a client dripping one
// byte per read_timeout cannot hold a thread for long: cpp-httplib's own stream only bounds
// each read, and it reads the request line and headers one byte per call.
class guarded_stream final : public httplib::Stream {
public:
    guarded_stream(int fd, duration read_timeout, duration write_timeout)
        : m_fd(fd), m_read_timeout(read_timeout), m_write_timeout(write_timeout) {}

    void arm(steady::time_point deadline) noexcept {
        m_deadline = deadline;
        m_cut = cut_reason::none;
    }
    [[nodiscard]] cut_reason cut() const noexcept { return m_cut; }

    bool is_readable() const override { return m_begin < m_end || wait_readable(); }
    bool is_writable() const override { return poll_for(POLLOUT, m_write_timeout) > 0; }

    ssize_t read(char* ptr, size_t size) override {
        if (m_begin == m_end) {
            if (!wait_readable())
                return -1;
            if (size >= sizeof m_buffer)
                return ::recv(m_fd, ptr, size, 0);
            const ssize_t got = ::recv(m_fd, m_buffer, sizeof m_buffer, 0);
            if (got <= 0)
                return got;
            m_begin = 0;
            m_end = static_cast<size_t>(got);
        }
        const size_t n = std::min(size, m_end - m_begin);
        std::memcpy(ptr, m_buffer + m_begin, n);
        m_begin += n;
        return static_cast<ssize_t>(n);
    }

    ssize_t write(const char* ptr, size_t size) override {
        if (poll_for(POLLOUT, m_write_timeout) <= 0)
            return -1;
        return ::send(m_fd, ptr, size, MSG_NOSIGNAL);
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        address_of(::getpeername, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        address_of(::getsockname, ip, port);
    }
    ::socket_t socket() const override { return m_fd; }

private:
    // Waits for input, at most read_timeout and never past the deadline; records why not.
    bool wait_readable() const {
        const auto now = steady::now();
        if (now >= m_deadline) {
            m_cut = cut_reason::deadline;
            return false;
        }
        const duration left = std::chrono::duration_cast<duration>(m_deadline - now);
        const bool deadline_first = left < m_read_timeout;
        const int ready = poll_for(POLLIN, deadline_first ? left : m_read_timeout);
        if (ready > 0)
            return true;
        if (ready == 0)
            m_cut = deadline_first ? cut_reason::deadline : cut_reason::read_timeout;
        return false;
    }

    int poll_for(short events, duration timeout) const {
        pollfd p{m_fd, events, 0};
        int ready;
        do {
            ready = ::poll(&p, 1, to_poll_ms(timeout));
        } while (ready < 0 && errno == EINTR);
        return ready;
    }

    template <class Getter>
    void address_of(Getter getter, std::string& ip, int& port) const {
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        ip.clear();
        port = 0;
        if (getter(m_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            return;
        char text[INET6_ADDRSTRLEN] = {};
        if (address.ss_family == AF_INET) {
            const auto* a = reinterpret_cast<const sockaddr_in*>(&address);
            ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
            port = ntohs(a->sin_port);
        } else if (address.ss_family == AF_INET6) {
            const auto* a = reinterpret_cast<const sockaddr_in6*>(&address);
            ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
            port = ntohs(a->sin6_port);
        }
        ip = text;
    }

    int m_fd;
    duration m_read_timeout;
    duration m_write_timeout;
    steady::time_point m_deadline = steady::time_point::max();
    mutable cut_reason m_cut = cut_reason::none;
    char m_buffer[4096];
    size_t m_begin = 0;
    size_t m_end = 0;
};

// What the thread serving a connection knows about its current request; the hooks cpp-httplib
// calls (pre-routing, handler, post-routing) run on that thread.
struct request_state {
    guarded_stream* stream = nullptr;
    bool handler_ran = false;
    // A 400-class answer written before any handler: where the next request starts in the
    // stream is unknown (cpp-httplib leaves the rest of a bad request unread), so the
    // connection is closed rather than parsed on from the middle.
    bool malformed = false;
};
thread_local request_state* t_request = nullptr;
// Set while the listener runs a connection inline because the queue is full.
thread_local bool t_refuse = false;

// A fixed pool with a bounded queue of accepted connections. When the queue is full the
// listener thread runs the job itself with t_refuse set: the connection is answered 503 and
// closed at once (dropping the job would leak its socket, which only the job closes).
class bounded_pool final : public httplib::TaskQueue {
public:
    bounded_pool(unsigned threads, size_t queue_max, control_server_counters& counters)
        : m_queue_max(queue_max), m_counters(counters) {
        for (unsigned i = 0; i < threads; ++i)
            m_threads.emplace_back([this] { work(); });
    }
    ~bounded_pool() override = default;

    void enqueue(std::function<void()> fn) override {
        {
            std::lock_guard lock(m_mutex);
            if (m_jobs.size() < m_queue_max) {
                m_jobs.push_back(std::move(fn));
                m_counters.connections_queued.store(m_jobs.size(), std::memory_order_relaxed);
                m_wake.notify_one();
                return;
            }
        }
        t_refuse = true;
        fn();
        t_refuse = false;
    }

    void shutdown() override {
        {
            std::lock_guard lock(m_mutex);
            m_shutdown = true;
        }
        m_wake.notify_all();
        for (auto& t : m_threads)
            t.join();
    }

private:
    void work() {
        for (;;) {
            std::function<void()> fn;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [this] { return !m_jobs.empty() || m_shutdown; });
                if (m_jobs.empty())
                    return;
                fn = std::move(m_jobs.front());
                m_jobs.pop_front();
                m_counters.connections_queued.store(m_jobs.size(), std::memory_order_relaxed);
            }
            m_counters.threads_busy.fetch_add(1, std::memory_order_relaxed);
            fn();
            m_counters.threads_busy.fetch_sub(1, std::memory_order_relaxed);
        }
    }

    size_t m_queue_max;
    control_server_counters& m_counters;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::function<void()>> m_jobs;
    bool m_shutdown = false;
    std::vector<std::thread> m_threads;
};

// cpp-httplib's server with our own connection loop: the guarded stream, keep-alive limits,
// the overload answer, and per-request state for the counting hooks.
class guarded_server final : public httplib::Server {
public:
    guarded_server(const control_server_options& options, control_server_counters& counters)
        : m_options(options), m_counters(counters) {}

private:
    bool process_and_close_socket(::socket_t sock) override {
        if (t_refuse) {
            refuse(sock);
            return true;
        }
        guarded_stream stream(sock, m_options.read_timeout, m_options.write_timeout);
        request_state state{&stream, false};
        t_request = &state;
        bool ok = false;
        const uint32_t count_max = std::max<uint32_t>(1, m_options.keep_alive_request_count_max);
        for (uint32_t served = 0; served < count_max; ++served) {
            // A connection's first request may take read_timeout to start; later ones
            // keep_alive_timeout (an idle keep-alive connection, closed without counting).
            const duration idle = served == 0 ? m_options.read_timeout : m_options.keep_alive_timeout;
            const wait_result waited = wait_for_request(sock, idle);
            if (waited != wait_result::request) {
                if (served == 0 && waited == wait_result::timed_out)
                    m_counters.read_timeout.fetch_add(1, std::memory_order_relaxed);
                break;
            }
            stream.arm(steady::now() + m_options.request_deadline);
            state.handler_ran = false;
            state.malformed = false;
            bool closed = false;
            ok = process_request(stream, served + 1 == count_max, closed, nullptr);
            if (stream.cut() == cut_reason::deadline)
                m_counters.slow_request.fetch_add(1, std::memory_order_relaxed);
            else if (stream.cut() == cut_reason::read_timeout)
                m_counters.read_timeout.fetch_add(1, std::memory_order_relaxed);
            if (!ok || closed || state.malformed || stream.cut() != cut_reason::none)
                break;
        }
        t_request = nullptr;
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
        return ok;
    }

    enum class wait_result : uint8_t { request, timed_out, closed };

    // Waits (bounded) for the next request's first byte (or the peer's close, which the
    // request read then sees).
    wait_result wait_for_request(::socket_t sock, duration idle) const {
        const auto deadline = steady::now() + idle;
        while (svr_sock_ != INVALID_SOCKET) {
            const auto now = steady::now();
            if (now >= deadline)
                return wait_result::timed_out;
            // Short slices, so stop() does not wait out an idle connection.
            pollfd p{sock, POLLIN, 0};
            const int ready = ::poll(&p, 1, std::min(50, to_poll_ms(deadline - now) + 1));
            if (ready > 0)
                return (p.revents & POLLIN) != 0 ? wait_result::request : wait_result::closed;
            if (ready < 0 && errno != EINTR)
                return wait_result::closed;
        }
        return wait_result::closed; // stopping
    }

    void refuse(::socket_t sock) {
        m_counters.overloaded.fetch_add(1, std::memory_order_relaxed);
        m_counters.answers_by_status[503].fetch_add(1, std::memory_order_relaxed);
        static constexpr char answer[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                         "Content-Type: text/plain\r\n"
                                         "Content-Length: 11\r\n"
                                         "Retry-After: 1\r\n"
                                         "Connection: close\r\n\r\n"
                                         "overloaded\n";
        (void)::send(sock, answer, sizeof answer - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(sock, SHUT_WR);
        ::close(sock);
    }

    const control_server_options& m_options;
    control_server_counters& m_counters;
};

} // namespace

struct control_server::impl {
    explicit impl(const control_server_options& o)
        : options(o), server(options, counters), limiter(o.requests_per_second) {}

    control_server_options options;
    control_server_counters counters;
    guarded_server server;
    client_rate_limiter limiter;
    std::thread thread;

    // Every answer cpp-httplib writes passes here: count it by status, and the refusals that
    // never reached a handler by reason.
    void count_answer(int status) {
        const size_t index = status > 0 && static_cast<size_t>(status) < counters.status_code_end
                                 ? static_cast<size_t>(status)
                                 : 0;
        counters.answers_by_status[index].fetch_add(1, std::memory_order_relaxed);
        if (t_request == nullptr || t_request->handler_ran || status < 400)
            return;
        // A read cut short ends in a 400 for the partial request: counted as the cut.
        if (t_request->stream != nullptr && t_request->stream->cut() != cut_reason::none)
            return;
        if (status != 429 && status != 404)
            t_request->malformed = true;
        std::atomic<uint64_t>* reason = &counters.bad_request;
        if (status == 404)
            reason = &counters.not_found;
        else if (status == 413 || status == 414 || status == 431)
            reason = &counters.too_large;
        else if (status == 429)
            reason = &counters.rate_limited;
        else if (status == 503)
            reason = &counters.overloaded;
        reason->fetch_add(1, std::memory_order_relaxed);
    }
};

control_server::control_server(control_server_options options)
    : m_impl(std::make_unique<impl>(options)) {
    auto& s = m_impl->server;
    impl* self = m_impl.get();
    const unsigned threads = std::max(1u, options.threads);
    const size_t queue_max = std::max<size_t>(1, options.pending_connection_count_max);
    s.new_task_queue = [self, threads, queue_max] {
        return new bounded_pool(threads, queue_max, self->counters);
    };
    s.set_payload_max_length(options.request_size_max);
    s.set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
        if (!self->limiter.allow(req.remote_addr)) {
            res.status = 429;
            res.set_header("Retry-After", "1");
            res.set_content("rate limited\n", "text/plain");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty())
            res.set_content(std::to_string(res.status) + "\n", "text/plain");
    });
    // The post-routing handler runs for every answer, just before it is written (the logger
    // runs after): a client that has its answer sees it counted.
    s.set_post_routing_handler([self](const httplib::Request&, httplib::Response& res) {
        self->count_answer(res.status);
    });
}

control_server::~control_server() { stop(); }

void control_server::handle(const std::string& method, const std::string& path, http_handler handler) {
    std::string pattern = path;
    if (!pattern.empty() && pattern.back() == '*')
        pattern = pattern.substr(0, pattern.size() - 1) + "(.*)";
    impl* self = m_impl.get();
    auto adapter = [self, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        if (t_request != nullptr)
            t_request->handler_ran = true;
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
        self->counters.served.fetch_add(1, std::memory_order_relaxed);
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

const control_server_options& control_server::options() const noexcept { return m_impl->options; }
const control_server_counters& control_server::counters() const noexcept { return m_impl->counters; }

void control_server::render_metrics(std::string& out) const {
    const auto& c = m_impl->counters;
    const std::string& prefix = m_impl->options.metric_prefix;
    const auto metric = [&](const char* name, const char* type, const char* help, uint64_t v) {
        runtime::render_metric(out, prefix + name, type, help, v);
    };
    metric("served_total", "counter", "HTTP requests a handler answered",
           c.served.load(std::memory_order_relaxed));
#define AINET_HTTP_RENDER(name, help)                                                              \
    metric("rejected_" #name "_total", "counter", help, c.name.load(std::memory_order_relaxed));
    AINET_HTTP_REJECT_REASONS(AINET_HTTP_RENDER)
#undef AINET_HTTP_RENDER
    const std::string answers = prefix + "answers_total";
    out.append("# HELP ").append(answers).append(" HTTP answers written, by status code\n");
    out.append("# TYPE ").append(answers).append(" counter\n");
    // The codes the node's endpoints use are always present, so a dashboard's series exist
    // from the start; any other code once it was seen.
    static constexpr int always[] = {200, 201, 202, 400, 404, 413, 429, 500, 503};
    for (size_t status = 0; status < c.status_code_end; ++status) {
        const uint64_t v = c.answers_by_status[status].load(std::memory_order_relaxed);
        const bool listed = std::find(std::begin(always), std::end(always), static_cast<int>(status)) !=
                            std::end(always);
        if (v == 0 && !listed)
            continue;
        out.append(answers)
            .append("{status=\"")
            .append(status == 0 ? std::string("other") : std::to_string(status))
            .append("\"} ")
            .append(std::to_string(v))
            .append("\n");
    }
    metric("threads_busy", "gauge", "control threads serving a connection",
           c.threads_busy.load(std::memory_order_relaxed));
    metric("threads", "gauge", "control threads", uint64_t{std::max(1u, m_impl->options.threads)});
    metric("connections_queued", "gauge", "accepted connections waiting for a control thread",
           c.connections_queued.load(std::memory_order_relaxed));
}

uint64_t control_server::rejected_too_large() const noexcept { return m_impl->counters.too_large.load(); }
uint64_t control_server::rejected_rate_limited() const noexcept {
    return m_impl->counters.rate_limited.load();
}
uint64_t control_server::served() const noexcept { return m_impl->counters.served.load(); }

} // namespace ainet::node
