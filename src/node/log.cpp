#include <ainet/node/log.hpp>

#include <ainet/core/encoding.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <unistd.h>

namespace ainet::node {

namespace {

std::atomic<uint8_t> g_level{static_cast<uint8_t>(log_level::info)};
// Written once at start-up, before other threads log (log.hpp).
char g_node[9] = "-";

std::string_view level_name(log_level level) noexcept {
    return config::to_string(level);
}

void append_time(std::string& out) {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    const size_t size = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    out.append(buffer, size);
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(ms % 1000));
    out.append(fraction);
}

void write_all(const std::string& line) noexcept {
    const char* data = line.data();
    size_t left = line.size();
    // Partial writes only happen on a full pipe or a signal; retry a bounded number of times
    // rather than block a shutdown on a stuck log reader.
    for (int attempt = 0; left > 0 && attempt < 16; ++attempt) {
        const ssize_t written = ::write(STDERR_FILENO, data, left);
        if (written < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return;
        }
        data += written;
        left -= static_cast<size_t>(written);
    }
}

} // namespace

void set_log_level(log_level level) noexcept {
    g_level.store(static_cast<uint8_t>(level), std::memory_order_relaxed);
}

log_level current_log_level() noexcept {
    return static_cast<log_level>(g_level.load(std::memory_order_relaxed));
}

bool log_enabled(log_level level) noexcept {
    return static_cast<uint8_t>(level) >= g_level.load(std::memory_order_relaxed);
}

void set_log_node(const node_id& id) {
    const std::string hex = to_hex(bytes_view(id.bytes.data(), id.bytes.size()));
    hex.copy(g_node, 8);
    g_node[8] = '\0';
}

void append_log_value(std::string& out, std::string_view value) {
    bool bare = !value.empty();
    for (const char c : value)
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ||
            c == 0x7f)
            bare = false;
    if (bare) {
        out.append(value);
        return;
    }
    out.push_back('"');
    for (const char c : value) {
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\t':
            out.append("\\t");
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
                out.append(escaped);
            } else {
                out.push_back(c);
            }
        }
    }
    out.push_back('"');
}

log_event::log_event(log_level level, std::string_view event) : m_enabled(log_enabled(level)) {
    if (m_enabled)
        begin(level, "-", event);
}

log_event::log_event(log_level level, shard_id shard, std::string_view event)
    : m_enabled(log_enabled(level)) {
    if (m_enabled)
        begin(level, std::to_string(to_index(shard)), event);
}

void log_event::begin(log_level level, std::string_view shard, std::string_view event) {
    m_line.reserve(256);
    append_time(m_line);
    m_line.append(" ").append(level_name(level));
    m_line.append(" node=").append(g_node);
    m_line.append(" shard=").append(shard);
    m_line.append(" ");
    append_log_value(m_line, event);
}

log_event& log_event::field(std::string_view key, std::string_view value) {
    if (m_enabled) {
        m_line.append(" ").append(key).append("=");
        append_log_value(m_line, value);
    }
    return *this;
}

log_event& log_event::field(std::string_view key, uint64_t value) {
    return field(key, std::string_view(std::to_string(value)));
}

log_event& log_event::field(std::string_view key, int64_t value) {
    return field(key, std::string_view(std::to_string(value)));
}

log_event::~log_event() {
    if (!m_enabled)
        return;
    if (m_line.size() > log_line_size_max - 1) {
        m_line.resize(log_line_size_max - 4);
        m_line.append("...");
    }
    m_line.push_back('\n');
    write_all(m_line);
}

} // namespace ainet::node
