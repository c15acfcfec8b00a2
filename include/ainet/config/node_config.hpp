#pragma once
// A node's configuration file (config/node.example.json), read once by ainetd at start-up.
//
//     {"key_file": "node.key", "udp_listen": "0.0.0.0:7000", "http_listen": "127.0.0.1:8000",
//      "data_dir": "data", "shard_count": 0, "bootstrap_file": "bootstrap_nodes.json",
//      "log_level": "info", "limits": {"recv_buffer_count": 4096, ...},
//      "membership": {"advertise_udp": "203.0.113.7:7000", "advertise_http": "203.0.113.7:8000"}}
//
// Every field is optional and has a documented default (docs/OPERATIONS.md, "Configuration");
// the "limits" object maps field by field onto ainet::limits (absent fields keep their
// defaults) and the result must pass validate(limits). Parsing is strict: unknown fields,
// wrong JSON types and out-of-range values are rejected with an error naming the field as a
// JSON pointer ("/limits/recv_buffer_count"). Relative paths resolve against the directory of
// the config file, so a config works from any working directory.
// Start-up only (before shards start); allocates; any thread; never throws.

#include <ainet/config/errc.hpp>
#include <ainet/config/fault_config.hpp> // faults
#include <ainet/core/endpoint.hpp>
#include <ainet/core/limits.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace ainet::config {

enum class log_level : uint8_t { trace, debug, info, warn, error };
[[nodiscard]] std::string_view to_string(log_level level) noexcept;

// membership/discovery: the addresses this node announces to others (its signed alive claims
// and bootstrap records). Needed when udp_listen or http_listen is a wildcard (0.0.0.0, ::),
// which others cannot reach; unset (nullopt) means "announce the listen address". A set
// address must be specific (not a wildcard) with a non-zero port.
struct membership_config {
    std::optional<endpoint> advertise_udp;
    std::optional<endpoint> advertise_http;
};

struct node_config {
    // Ed25519 key file (ainetctl keygen); mode 0600.
    std::filesystem::path key_file;
    // UDP address the node's protocol traffic arrives on.
    endpoint udp_listen = make_ipv4(0, 0, 0, 0, 7000);
    // HTTP control address (admin API, /metrics, /bootstrap/nodes). Loopback by default: only
    // expose it on purpose.
    endpoint http_listen = make_ipv4(127, 0, 0, 1, 8000);
    // The public HTTP address: serves only GET /bootstrap/nodes and GET /healthz (what other
    // nodes need to discover this one), so http_listen can stay on loopback in a multi-host
    // network. Unset: no public listener (others then need http_listen itself). Announced in
    // bootstrap records unless membership.advertise_http says otherwise.
    std::optional<endpoint> public_http_listen;
    // Directory for the node's persistent state.
    std::filesystem::path data_dir;
    // Shards (threads) to run: 0 means one per available core (capped at
    // limits.shard_count_max), otherwise 1..limits.shard_count_max.
    uint32_t shard_count = 0;
    // Bootstrap list to load; empty means none (the node starts alone and waits to be contacted).
    std::filesystem::path bootstrap_file;
    log_level log = log_level::info;
    ainet::limits limits;
    // faults: injected loss/delay/partition (fault_config.hpp); inactive by default.
    fault_config faults;
    membership_config membership; // membership/discovery
};

// membership/discovery: the address announced for UDP (advertise_udp, else udp_listen) and
// HTTP (advertise_http, else public_http_listen, else http_listen); nullopt when that is a
// wildcard nobody can reach.
[[nodiscard]] std::optional<endpoint> announced_udp(const node_config& config) noexcept;
[[nodiscard]] std::optional<endpoint> announced_http(const node_config& config) noexcept;

// Parses node config text. source_name names the file in error messages and its directory
// (source_name's parent path) is the base of relative paths; the default key_file and data_dir
// are "node.key" and "data" in that directory.
[[nodiscard]] result<node_config> parse_node_config(std::string_view text,
                                                    std::string_view source_name);
// Reads (size-capped, see file.hpp) and parses a node config file.
[[nodiscard]] result<node_config> load_node_config(const std::filesystem::path& path);

// The number of shards a node with this config runs on a machine with core_count cores
// (core_count 0, "unknown", counts as 1): shard_count if set, else core_count capped at
// limits.shard_count_max.
[[nodiscard]] uint32_t effective_shard_count(const node_config& config,
                                             uint32_t core_count) noexcept;

} // namespace ainet::config
