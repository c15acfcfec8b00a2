#include <ainet/core/limits.hpp>

#include <bit>

namespace ainet {

std::vector<std::string> validate(const limits& l) {
    std::vector<std::string> problems;
    auto check = [&](bool ok, const char* message) {
        if (!ok)
            problems.emplace_back(message);
    };
    check(l.datagram_size_max >= 512 && l.datagram_size_max <= 65507,
          "datagram_size_max: must be between 512 and 65507 bytes");
    check(l.shard_count_max >= 1 && l.shard_count_max <= 1024,
          "shard_count_max: must be between 1 and 1024");
    check(std::has_single_bit(l.recv_buffer_count) && l.recv_buffer_count >= 16 &&
              l.recv_buffer_count <= 32768,
          "recv_buffer_count: must be a power of two between 16 and 32768");
    check(l.io_batch_size_max >= 1 && l.io_batch_size_max <= 1024,
          "io_batch_size_max: must be between 1 and 1024");
    check(l.io_batch_size_max <= l.recv_buffer_count,
          "io_batch_size_max: must not exceed recv_buffer_count");
    check(l.send_queue_size_max >= l.io_batch_size_max && l.send_queue_size_max <= (1u << 24),
          "send_queue_size_max: must be between io_batch_size_max and 16777216");
    check(l.cross_shard_queue_size_max >= 64 && l.cross_shard_queue_size_max <= (1u << 24),
          "cross_shard_queue_size_max: must be between 64 and 16777216");
    check(l.peer_count_max >= 1 && l.peer_count_max <= (1u << 24),
          "peer_count_max: must be between 1 and 16777216");
    check(l.known_node_count_max >= 8 && l.known_node_count_max <= (1u << 20),
          "known_node_count_max: must be between 8 and 1048576");
    check(l.bootstrap_records_per_source_max >= 1 &&
              l.bootstrap_records_per_source_max <= l.known_node_count_max,
          "bootstrap_records_per_source_max: must be between 1 and known_node_count_max");
    check(l.http_request_size_max >= 1024 && l.http_request_size_max <= (16u << 20),
          "http_request_size_max: must be between 1024 and 16777216 bytes");
    check(l.http_threads >= 2 && l.http_threads <= 256, "http_threads: must be between 2 and 256");
    check(l.http_pending_connection_count_max >= 1 && l.http_pending_connection_count_max <= 65536,
          "http_pending_connection_count_max: must be between 1 and 65536");
    check(l.http_requests_per_second >= 1 && l.http_requests_per_second <= 1000000,
          "http_requests_per_second: must be between 1 and 1000000");
    check(l.http_read_timeout_ms >= 100 && l.http_read_timeout_ms <= 600000,
          "http_read_timeout_ms: must be between 100 and 600000");
    check(l.http_request_deadline_ms >= l.http_read_timeout_ms &&
              l.http_request_deadline_ms <= 600000,
          "http_request_deadline_ms: must be between http_read_timeout_ms and 600000");
    check(l.http_write_timeout_ms >= 100 && l.http_write_timeout_ms <= 600000,
          "http_write_timeout_ms: must be between 100 and 600000");
    check(l.http_keep_alive_timeout_ms >= 100 && l.http_keep_alive_timeout_ms <= 600000,
          "http_keep_alive_timeout_ms: must be between 100 and 600000");
    check(l.http_keep_alive_request_count_max >= 1 &&
              l.http_keep_alive_request_count_max <= 1000000,
          "http_keep_alive_request_count_max: must be between 1 and 1000000");
    check(l.http_long_poll_count_max < l.http_threads,
          "http_long_poll_count_max: must be below http_threads");
    check(l.timer_count_max >= 16 && l.timer_count_max <= (1u << 24),
          "timer_count_max: must be between 16 and 16777216");
    return problems;
}

} // namespace ainet
