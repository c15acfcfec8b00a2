// Goal: the HTTP control server refuses what it must, counts each refusal by reason, and keeps
// serving others meanwhile (issue #9 "Hostile input"): 429 past the per-client rate, 503 when
// every thread is busy and the accept queue is full, a client dripping its headers one byte per
// 100 ms is cut off by request_deadline, a silent client by read_timeout, and malformed, unknown
// and oversized requests are counted as bad_request, not_found and too_large.
//
// Each case runs its own control_server on 127.0.0.1 (port 0) with small limits, so it is
// deterministic: the overload case waits (bounded) for the busy/queued gauges before the next
// connection, and the only timed checks are upper bounds that follow from the configured
// timeouts plus a generous margin.

#include "raw_http.hpp"

#include <ainet/node/control_server.hpp>

#include <httplib.h>

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

using namespace ainet;
using namespace ainet::node;
using namespace std::chrono_literals;
using namespace ainet::test;

namespace {

using clock_type = std::chrono::steady_clock;

// Generous: scheduling under ASan on a loaded 2-core machine.
constexpr auto margin = 10s;

struct running_server {
    explicit running_server(control_server_options options) : server(with_loopback(options)) {
        server.handle("GET", "/healthz", [](const http_request&) {
            return http_response{200, "text/plain", "ok\n"};
        });
        server.handle("POST", "/echo", [](const http_request& r) {
            return http_response{200, "text/plain", r.body};
        });
        std::string error;
        REQUIRE(server.start(error));
        port = server.local_endpoint().port;
    }
    static control_server_options with_loopback(control_server_options o) {
        o.listen = make_ipv4(127, 0, 0, 1, 0);
        return o;
    }
    control_server server;
    uint16_t port = 0;
};

int healthz_status(uint16_t port) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    auto r = client.Get("/healthz");
    return r ? r->status : -1;
}

// Waits (bounded) until value() == want.
template <class F>
bool wait_for(F value, uint64_t want) {
    const auto deadline = clock_type::now() + margin;
    while (clock_type::now() < deadline) {
        if (value() == want)
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

} // namespace

TEST_CASE("control server: past its rate a client gets 429, counted", "[control]") {
    control_server_options o;
    o.requests_per_second = 5; // burst 10
    running_server s(o);
    httplib::Client client("127.0.0.1", s.port);
    client.set_read_timeout(10);
    bool limited = false;
    std::string retry_after;
    // 10 tokens plus 5 a second: 200 requests on one keep-alive connection cannot all pass
    // unless they take 38 s.
    for (int i = 0; i < 200 && !limited; ++i) {
        auto r = client.Get("/healthz");
        REQUIRE(r);
        limited = r->status == 429;
        if (limited)
            retry_after = r->get_header_value("Retry-After");
    }
    CHECK(limited);
    CHECK(retry_after == "1");
    const auto& c = s.server.counters();
    CHECK(c.rate_limited.load() >= 1);
    CHECK(c.answers_by_status[429].load() == c.rate_limited.load());
    CHECK(c.bad_request.load() == 0);
    std::string text;
    s.server.render_metrics(text);
    CHECK(text.find("ainet_http_rejected_rate_limited_total ") != std::string::npos);
    CHECK(text.find("ainet_http_answers_total{status=\"429\"}") != std::string::npos);
}

TEST_CASE("control server: every thread busy and the queue full -> 503 at once, counted",
          "[control]") {
    control_server_options o;
    o.threads = 1;
    o.pending_connection_count_max = 1;
    o.read_timeout = 20s; // the silent connections below hold the thread and the queue slot
    running_server s(o);
    const auto& c = s.server.counters();

    const int busy = tcp_connect(s.port); // taken by the only thread, which waits for a request
    REQUIRE(wait_for([&] { return c.threads_busy.load(); }, 1));
    const int queued = tcp_connect(s.port);
    REQUIRE(wait_for([&] { return c.connections_queued.load(); }, 1));

    const int refused = tcp_connect(s.port);
    bool closed = false;
    const std::string answer = read_until_closed(refused, margin, &closed);
    CHECK(closed);
    CHECK(answer.rfind("HTTP/1.1 503 ", 0) == 0);
    CHECK(c.overloaded.load() == 1);
    CHECK(c.answers_by_status[503].load() == 1);
    ::close(refused);

    // Closing the silent clients frees the thread; the server serves again, counting neither
    // as a timeout (they closed first).
    ::close(busy);
    ::close(queued);
    REQUIRE(wait_for([&] { return c.threads_busy.load() + c.connections_queued.load(); }, 0));
    CHECK(healthz_status(s.port) == 200);
    CHECK(c.read_timeout.load() == 0);
    CHECK(c.overloaded.load() == 1);
}

TEST_CASE("control server: a client dripping one header byte per 100 ms is cut off by the "
          "request deadline while others are served",
          "[control]") {
    control_server_options o;
    o.threads = 2;
    o.read_timeout = 1s;
    o.request_deadline = 2s;
    running_server s(o);
    const auto& c = s.server.counters();

    const int drip = tcp_connect(s.port);
    const std::string request = "GET /healthz HTTP/1.1\r\nX-Slow: ";
    const auto started = clock_type::now();
    // The server must give up within request_deadline + read_timeout; allow a margin.
    const auto bound = o.request_deadline + o.read_timeout + margin;
    bool closed = false;
    bool others_served = true;
    std::string answer;
    for (size_t i = 0; !closed && clock_type::now() - started < bound; ++i) {
        const char byte = i < request.size() ? request[i] : 'a';
        if (::send(drip, &byte, 1, MSG_NOSIGNAL) != 1) {
            closed = true; // reset by the server
            break;
        }
        pollfd p{drip, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0)
            answer = read_until_closed(drip, margin, &closed);
        if (i % 5 == 4)
            others_served = others_served && healthz_status(s.port) == 200;
    }
    ::close(drip);
    CHECK(closed);
    CHECK(others_served);
    // Cut off, never served: at most the 400 cpp-httplib writes for the partial request.
    CHECK(answer.find(" 200 ") == std::string::npos);
    CHECK(c.slow_request.load() == 1);
    CHECK(c.bad_request.load() == 0);
}

TEST_CASE("control server: a silent client is closed after read_timeout, counted", "[control]") {
    control_server_options o;
    o.read_timeout = 1s;
    running_server s(o);
    const int silent = tcp_connect(s.port);
    const auto started = clock_type::now();
    bool closed = false;
    const std::string answer = read_until_closed(silent, o.read_timeout + margin, &closed);
    CHECK(closed);
    CHECK(clock_type::now() - started < o.read_timeout + margin);
    CHECK(answer.empty());
    ::close(silent);
    CHECK(wait_for([&] { return s.server.counters().read_timeout.load(); }, 1));
    CHECK(healthz_status(s.port) == 200);
}

TEST_CASE("control server: malformed, unknown and oversized requests are counted by reason",
          "[control]") {
    control_server_options o;
    o.request_size_max = 1024;
    running_server s(o);
    const auto& c = s.server.counters();
    auto exchange = [&](const std::string& request) { return raw_exchange(s.port, request); };
    CHECK(exchange("GARBAGE\r\n\r\n").rfind("HTTP/1.1 400 ", 0) == 0);
    CHECK(c.bad_request.load() == 1);
    CHECK(exchange("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 404 ", 0) == 0);
    CHECK(c.not_found.load() == 1);
    // A request line beyond cpp-httplib's 8 KiB: 414, counted as too large.
    CHECK(exchange("GET /" + std::string(16 * 1024, 'a') + " HTTP/1.1\r\n\r\n")
              .rfind("HTTP/1.1 414 ", 0) == 0);
    CHECK(c.too_large.load() == 1);
    // A header line beyond 8 KiB: 400, never served.
    CHECK(exchange("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(16 * 1024, 'h') +
                   "\r\n\r\n")
              .rfind("HTTP/1.1 400 ", 0) == 0);
    CHECK(c.bad_request.load() == 2);
    httplib::Client client("127.0.0.1", s.port);
    client.set_read_timeout(10);
    auto big = client.Post("/echo", std::string(4096, 'x'), "text/plain");
    REQUIRE(big);
    CHECK(big->status == 413);
    CHECK(c.too_large.load() == 2);
    auto fine = client.Post("/echo", "hello", "text/plain");
    REQUIRE(fine);
    CHECK(fine->status == 200);
    CHECK(fine->body == "hello");
    // Handlers' own answers are served, not rejections.
    CHECK(c.served.load() == 1);
    CHECK(c.bad_request.load() == 2);
    CHECK(c.answers_by_status[200].load() == 1);
    CHECK(c.answers_by_status[400].load() == 2);
}
