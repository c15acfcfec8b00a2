#pragma once
// Structured logging for the node and its tools: one line per event, on stderr, in a fixed
// shape that journald, `grep` and log shippers (Loki, Vector) read without a parser config:
//
//     2026-11-24T20:15:14.123Z info node=3fa2c1d0 shard=- started udp=127.0.0.1:7000 shards=2
//     <UTC time, ms>          <level> <node id, first 8 hex> <shard or -> <event> key=value...
//
// Values with spaces, quotes, '=' or control bytes are quoted and escaped (logfmt), so one
// event is always exactly one line. Every line is written with a single write(2) on fd 2, so
// lines from several threads never interleave; there is no lock and no background thread.
//
// What is logged: start-up, the io backend choice, configuration and bind errors, signals and
// shutdown steps -- events an operator acts on. The data path (receive, parse, verify, forward)
// never logs per packet: it counts drops by reason in /metrics instead, because a log line per
// hostile datagram would turn a flood into a disk-filling attack.
//
// Threads: set_log_level() may be called at any time (relaxed atomic); set_log_node() only
// before other threads log (start-up). log_event builds its line in a small owned buffer
// (allocates), writes it in its destructor, and does nothing at all when its level is off.
// Limits: a line is cut at log_line_size_max bytes (ending in "...").

#include <ainet/config/node_config.hpp>
#include <ainet/core/ids.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace ainet::node {

using config::log_level;

inline constexpr size_t log_line_size_max = 4096;

// Lines below level are skipped (the config's "log_level"; default info).
void set_log_level(log_level level) noexcept;
[[nodiscard]] log_level current_log_level() noexcept;
[[nodiscard]] bool log_enabled(log_level level) noexcept;
// The node id every line carries (first 8 hex characters); "-" until set.
void set_log_node(const node_id& id);

// One log line. Use as a temporary so the line is written at the end of the statement:
//     log_event(log_level::info, "started").field("udp", to_string(ep)).field("shards", 2);
class log_event {
public:
    log_event(log_level level, std::string_view event);
    log_event(log_level level, shard_id shard, std::string_view event);
    ~log_event();
    log_event(const log_event&) = delete;
    log_event& operator=(const log_event&) = delete;

    log_event& field(std::string_view key, std::string_view value);
    log_event& field(std::string_view key, const std::string& value) {
        return field(key, std::string_view(value));
    }
    log_event& field(std::string_view key, const char* value) {
        return field(key, std::string_view(value));
    }
    log_event& field(std::string_view key, uint64_t value);
    log_event& field(std::string_view key, int64_t value);
    log_event& field(std::string_view key, int value) { return field(key, int64_t{value}); }
    log_event& field(std::string_view key, unsigned value) { return field(key, uint64_t{value}); }

    // The line as it will be written (without the trailing newline); for tests.
    [[nodiscard]] const std::string& line() const noexcept { return m_line; }

private:
    void begin(log_level level, std::string_view shard, std::string_view event);
    bool m_enabled;
    std::string m_line;
};

// Appends value to out as a logfmt value: bare when it is non-empty and has no space, quote,
// '=' or control byte, otherwise in double quotes with \" \\ \n \t and \xNN escapes.
void append_log_value(std::string& out, std::string_view value);

} // namespace ainet::node
