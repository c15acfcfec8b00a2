#include <ainet/config/file.hpp>
#include <ainet/config/node_config.hpp>

#include "fault_config_json.hpp" // faults
#include "json_reader.hpp"

#include <algorithm>
#include <array>

namespace ainet::config {

using detail::json;

namespace {

struct limit_field {
    std::string_view name;
    uint32_t ainet::limits::*member;
};

// Every field of ainet::limits, by its JSON name (the same as the C++ name). A limit added to
// the struct must be added here and to docs/OPERATIONS.md; the unit test checks the count.
constexpr std::array<limit_field, 20> limit_fields{{
    {"datagram_size_max", &ainet::limits::datagram_size_max},
    {"shard_count_max", &ainet::limits::shard_count_max},
    {"recv_buffer_count", &ainet::limits::recv_buffer_count},
    {"io_batch_size_max", &ainet::limits::io_batch_size_max},
    {"send_queue_size_max", &ainet::limits::send_queue_size_max},
    {"cross_shard_queue_size_max", &ainet::limits::cross_shard_queue_size_max},
    {"peer_count_max", &ainet::limits::peer_count_max},
    {"known_node_count_max", &ainet::limits::known_node_count_max},
    {"bootstrap_records_per_source_max", &ainet::limits::bootstrap_records_per_source_max},
    {"http_request_size_max", &ainet::limits::http_request_size_max},
    {"http_threads", &ainet::limits::http_threads},
    {"http_pending_connection_count_max", &ainet::limits::http_pending_connection_count_max},
    {"http_requests_per_second", &ainet::limits::http_requests_per_second},
    {"http_read_timeout_ms", &ainet::limits::http_read_timeout_ms},
    {"http_request_deadline_ms", &ainet::limits::http_request_deadline_ms},
    {"http_write_timeout_ms", &ainet::limits::http_write_timeout_ms},
    {"http_keep_alive_timeout_ms", &ainet::limits::http_keep_alive_timeout_ms},
    {"http_keep_alive_request_count_max", &ainet::limits::http_keep_alive_request_count_max},
    {"http_long_poll_count_max", &ainet::limits::http_long_poll_count_max},
    {"timer_count_max", &ainet::limits::timer_count_max},
}};
static_assert(sizeof(ainet::limits) == limit_fields.size() * sizeof(uint32_t),
              "every field of ainet::limits needs an entry in limit_fields");

constexpr std::array<std::string_view, 5> log_level_names{"trace", "debug", "info", "warn",
                                                          "error"};

result<ainet::limits> read_limits(const json& value, const detail::source& src) {
    std::array<std::string_view, limit_fields.size()> names{};
    std::transform(limit_fields.begin(), limit_fields.end(), names.begin(),
                   [](const limit_field& f) { return f.name; });
    if (!value.is_object())
        return src.error(errc::wrong_type, "/limits",
                         "want an object, got " + std::string(detail::type_name(value)));
    for (const auto& [key, item] : value.items()) {
        (void)item;
        if (std::find(names.begin(), names.end(), key) == names.end())
            return src.error(errc::unknown_field, detail::pointer_append("/limits", key),
                             "unknown field (not a limit)");
    }

    ainet::limits l;
    for (const auto& f : limit_fields) {
        const std::string key(f.name);
        if (!value.contains(key))
            continue;
        auto v = detail::read_u32(value.at(key), detail::pointer_append("/limits", key), src);
        if (!v)
            return v.error();
        l.*f.member = *v;
    }
    const auto problems = validate(l);
    if (!problems.empty()) {
        // validate() names the field first ("recv_buffer_count: must be ..."); point at it.
        const std::string& first = problems.front();
        const size_t colon = first.find(':');
        const std::string field =
            colon == std::string::npos ? "/limits" : "/limits/" + first.substr(0, colon);
        std::string reason = colon == std::string::npos ? first : first.substr(colon + 2);
        if (problems.size() > 1)
            reason += " (and " + std::to_string(problems.size() - 1) + " more limit problem" +
                      (problems.size() > 2 ? "s" : "") + ")";
        return src.error(errc::bad_limits, field, reason);
    }
    return l;
}

result<std::filesystem::path> read_path(const json& value, std::string_view pointer,
                                        const std::filesystem::path& base_dir, bool allow_empty,
                                        const detail::source& src) {
    auto text = detail::read_string(value, pointer, src);
    if (!text)
        return text.error();
    if (text->empty()) {
        if (allow_empty)
            return std::filesystem::path();
        return src.error(errc::bad_value, std::string(pointer), "must not be empty");
    }
    const std::filesystem::path path(*text);
    return (path.is_absolute() ? path : base_dir / path).lexically_normal();
}

result<endpoint> read_endpoint(const json& value, std::string_view pointer,
                               const detail::source& src) {
    auto text = detail::read_string(value, pointer, src);
    if (!text)
        return text.error();
    auto parsed = parse_endpoint(*text);
    if (!parsed)
        return src.error(errc::bad_endpoint, std::string(pointer),
                         std::string(to_string(errc::bad_endpoint)));
    return *parsed;
}

bool is_wildcard(const endpoint& e) noexcept {
    return std::all_of(e.address.begin(), e.address.end(), [](uint8_t b) { return b == 0; });
}

// membership/discovery: {"advertise_udp": "host:port", "advertise_http": "host:port"}.
result<membership_config> read_membership(const json& value, const detail::source& src) {
    if (!value.is_object())
        return src.error(errc::wrong_type, "/membership",
                         "want an object, got " + std::string(detail::type_name(value)));
    if (auto e =
            detail::check_object(value, "/membership", {"advertise_udp", "advertise_http"}, src))
        return *e;
    membership_config m;
    for (const char* key : {"advertise_udp", "advertise_http"}) {
        if (!value.contains(key))
            continue;
        const std::string pointer = detail::pointer_append("/membership", key);
        auto e = read_endpoint(value.at(key), pointer, src);
        if (!e)
            return e.error();
        if (is_wildcard(*e))
            return src.error(errc::bad_endpoint, pointer,
                             "must be an address other nodes can reach, not a wildcard");
        (std::string_view(key) == "advertise_udp" ? m.advertise_udp : m.advertise_http) = *e;
    }
    return m;
}

} // namespace

std::optional<endpoint> announced_udp(const node_config& config) noexcept {
    if (config.membership.advertise_udp)
        return config.membership.advertise_udp;
    if (is_wildcard(config.udp_listen))
        return std::nullopt;
    return config.udp_listen;
}

std::optional<endpoint> announced_http(const node_config& config) noexcept {
    if (config.membership.advertise_http)
        return config.membership.advertise_http;
    const endpoint& listen =
        config.public_http_listen ? *config.public_http_listen : config.http_listen;
    if (is_wildcard(listen))
        return std::nullopt;
    return listen;
}

std::string_view to_string(log_level level) noexcept {
    const auto index = static_cast<size_t>(level);
    return index < log_level_names.size() ? log_level_names[index] : "unknown";
}

result<node_config> parse_node_config(std::string_view text, std::string_view source_name) {
    const detail::source src{source_name};
    auto parsed = detail::parse_strict(text, src);
    if (!parsed)
        return parsed.error();
    const json& doc = *parsed;
    if (auto e = detail::check_object(
            doc, "",
            {"key_file", "udp_listen", "http_listen", "public_http_listen", "data_dir",
             "shard_count", "bootstrap_file", "log_level", "limits", "faults", "membership"},
            src))
        return *e;

    const std::filesystem::path base_dir = std::filesystem::path(source_name).parent_path();
    node_config config;
    config.key_file = (base_dir / "node.key").lexically_normal();
    config.data_dir = (base_dir / "data").lexically_normal();

    // Limits first: shard_count is checked against limits.shard_count_max.
    if (doc.contains("limits")) {
        auto l = read_limits(doc.at("limits"), src);
        if (!l)
            return l.error();
        config.limits = *l;
    }
    if (doc.contains("key_file")) {
        auto p = read_path(doc.at("key_file"), "/key_file", base_dir, false, src);
        if (!p)
            return p.error();
        config.key_file = *p;
    }
    if (doc.contains("data_dir")) {
        auto p = read_path(doc.at("data_dir"), "/data_dir", base_dir, false, src);
        if (!p)
            return p.error();
        config.data_dir = *p;
    }
    if (doc.contains("bootstrap_file")) {
        auto p = read_path(doc.at("bootstrap_file"), "/bootstrap_file", base_dir, true, src);
        if (!p)
            return p.error();
        config.bootstrap_file = *p;
    }
    if (doc.contains("udp_listen")) {
        auto e = read_endpoint(doc.at("udp_listen"), "/udp_listen", src);
        if (!e)
            return e.error();
        config.udp_listen = *e;
    }
    if (doc.contains("http_listen")) {
        auto e = read_endpoint(doc.at("http_listen"), "/http_listen", src);
        if (!e)
            return e.error();
        config.http_listen = *e;
    }
    if (doc.contains("public_http_listen")) {
        auto e = read_endpoint(doc.at("public_http_listen"), "/public_http_listen", src);
        if (!e)
            return e.error();
        if (*e == config.http_listen)
            return src.error(errc::bad_value, "/public_http_listen",
                             "must differ from http_listen (the admin address)");
        config.public_http_listen = *e;
    }
    if (doc.contains("shard_count")) {
        auto count = detail::read_u32(doc.at("shard_count"), "/shard_count", src);
        if (!count)
            return count.error();
        if (*count > config.limits.shard_count_max)
            return src.error(errc::bad_value, "/shard_count",
                             "must be 0 (all cores) or 1.." +
                                 std::to_string(config.limits.shard_count_max) +
                                 " (limits.shard_count_max), got " + std::to_string(*count));
        config.shard_count = *count;
    }
    if (doc.contains("membership")) {
        auto m = read_membership(doc.at("membership"), src);
        if (!m)
            return m.error();
        config.membership = *m;
    }
    if (doc.contains("log_level")) {
        auto name = detail::read_string(doc.at("log_level"), "/log_level", src);
        if (!name)
            return name.error();
        const auto it = std::find(log_level_names.begin(), log_level_names.end(), *name);
        if (it == log_level_names.end())
            return src.error(errc::bad_value, "/log_level",
                             "must be one of trace, debug, info, warn, error");
        config.log = static_cast<log_level>(it - log_level_names.begin());
    }
    // faults
    if (doc.contains("faults")) {
        auto f = detail::read_fault_config(doc.at("faults"), "/faults", src);
        if (!f)
            return f.error();
        config.faults = *f;
    }
    // end faults
    return config;
}

result<node_config> load_node_config(const std::filesystem::path& path) {
    auto text = read_config_file(path);
    if (!text)
        return text.error();
    return parse_node_config(*text, path.string());
}

uint32_t effective_shard_count(const node_config& config, uint32_t core_count) noexcept {
    if (config.shard_count != 0)
        return config.shard_count;
    return std::clamp(core_count, uint32_t{1}, config.limits.shard_count_max);
}

} // namespace ainet::config
